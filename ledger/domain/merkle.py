"""The Merkle tree over the events, exactly as RFC 9162 section 2.1 (standard library only).

The leaves are the events in position order: leaf ``i`` (0-based) is the event at
position ``i + 1`` and its hash is ``SHA-256(0x00 || canonical event)``, the canonical
form the hash chain uses (``ledger.domain.hashing``). A node is
``SHA-256(0x01 || left || right)``. A tree of size ``n`` covers positions 1..n.

Node ``(level, index)`` is the *complete* subtree of the ``2**level`` leaves from
``index * 2**level``. Storage keeps only the complete subtrees of ``STORED_FROM_LEVEL``
and up (blocks of 16 leaves and their ancestors: one row per 8 events on average); an
append adds the ones it completes (``append_leaves``; most appends complete none) and
moves the *frontier*, the complete subtrees a tree of the new size splits into (one per
set bit of the size, the small ones included). A subtree below that level is rehashed
from the leaves of its block (``block_nodes``): the events themselves hold them.

Any subtree the RFC's proofs name, complete or not, is a fold of at most log2 n
complete subtrees, and the ones below ``STORED_FROM_LEVEL`` lie in at most a few
blocks, so a root or a proof is one read of O(log n) stored nodes and the events of
those blocks (``proof_nodes``), then pure arithmetic (``subtree_hash``).

The proof generators (2.1.3.1 and 2.1.4.1, written iteratively) and the verifiers
(2.1.3.2 and 2.1.4.2, followed step by step) are checked against the RFC 6962
reference tree's published vectors and by a property for random sizes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence

HASH_SIZE = 32
Node = tuple[int, int]  # (level, index): the 2**level leaves from index * 2**level
Range = tuple[int, int]  # leaves [start, end)

# The lowest level of the complete subtrees kept in storage. Rows per event are
# 1/2**(level - 1) (2 when every leaf and node is kept; 1/8 at 4), and a proof or a
# root rehashes at most 2**level leaves in each block it touches: a root one block (its
# size's last), a proof two (the leaf's or the old size's last, and the size's last;
# ``tests/unit/test_merkle.py``). At 4 the rows an append writes fall 16 times, to one
# per 8 events beside 8 event rows, and a proof rehashes at most 32 events; each level
# more would halve rows that are already few and double the rehashing.
STORED_FROM_LEVEL = 4
BLOCK = 1 << STORED_FROM_LEVEL  # leaves per block: the leaves of a stored level-L node


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


EMPTY_ROOT = hashlib.sha256(b"").digest()


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def root_of(leaves: Sequence[bytes]) -> bytes:
    """MTH(D[n]) of leaf hashes, by the RFC's recursive definition (tests, small trees)."""
    if not leaves:
        return EMPTY_ROOT
    if len(leaves) == 1:
        return leaves[0]
    k = _split(len(leaves))
    return node_hash(root_of(leaves[:k]), root_of(leaves[k:]))


# --- complete subtrees ------------------------------------------------------------------


def range_nodes(start: int, end: int) -> list[Node]:
    """The complete subtrees, left to right, whose fold is MTH(D[start:end]) for a
    range the RFC's recursion produces (``start`` aligned to a power of two at least
    ``end - start``): one per set bit of the range's size, largest first."""
    out: list[Node] = []
    pos, size = start, end - start
    for level in range(size.bit_length() - 1, -1, -1):
        if size >> level & 1:
            out.append((level, pos >> level))
            pos += 1 << level
    return out


def frontier_nodes(size: int) -> list[Node]:
    """The complete subtrees a tree of ``size`` leaves splits into (its frontier)."""
    return range_nodes(0, size)


def fold(hashes: Sequence[bytes]) -> bytes:
    """The hash of consecutive complete subtrees of decreasing size, right to left."""
    h = hashes[-1]
    for left in reversed(hashes[:-1]):
        h = node_hash(left, h)
    return h


def subtree_hash(r: Range, nodes: Mapping[Node, bytes]) -> bytes:
    return fold([nodes[n] for n in range_nodes(*r)])


def append_leaves(
    size: int, frontier: Sequence[bytes], leaves: Iterable[bytes], from_level: int = 0
) -> tuple[list[tuple[Node, bytes]], list[bytes]]:
    """Append leaf hashes to a tree of ``size`` leaves whose frontier is ``frontier``:
    the complete subtrees this creates at ``from_level`` and up (from 0: each leaf and
    the nodes it completes) and the new frontier (every level)."""
    stack = list(frontier)
    created: list[tuple[Node, bytes]] = []
    for h in leaves:
        if not from_level:
            created.append(((0, size), h))
        level, index = 0, size
        while index & 1:  # the leaf completes its parent: fold the left sibling in
            h = node_hash(stack.pop(), h)
            level, index = level + 1, index >> 1
            if level >= from_level:
                created.append(((level, index), h))
        stack.append(h)
        size += 1
    return created, stack


def is_stored(node: Node) -> bool:
    """Is ``node`` one storage keeps (``STORED_FROM_LEVEL`` and up)?"""
    return node[0] >= STORED_FROM_LEVEL


def block_of(node: Node) -> int:
    """The block (of ``BLOCK`` leaves) holding a node below ``STORED_FROM_LEVEL``."""
    level, index = node
    return (index << level) >> STORED_FROM_LEVEL


def leaves_end(node: Node) -> int:
    """One past the last leaf ``node`` covers."""
    level, index = node
    return (index + 1) << level


def block_nodes(block: int, leaves: Sequence[bytes]) -> dict[Node, bytes]:
    """Every complete subtree over the first ``len(leaves)`` leaves (at most ``BLOCK``)
    of ``block``, from the leaves themselves up."""
    if len(leaves) > BLOCK:
        raise ValueError(f"a block has {BLOCK} leaves, not {len(leaves)}")
    created, _ = append_leaves(0, [], leaves)  # the block's own tree, then placed
    start = block << STORED_FROM_LEVEL
    return {(lv, (start >> lv) + i): h for (lv, i), h in created}


# --- proofs (RFC 9162 2.1.3.1 and 2.1.4.1) ------------------------------------------------


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """The subtrees whose hashes make PATH(index, D[size]), in proof order (leaf up)."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size}")
    out: list[Range] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = _split(hi - lo)
        if index < lo + k:
            out.append((lo + k, hi))
            hi = lo + k
        else:
            out.append((lo, lo + k))
            lo += k
    return out[::-1]


def consistency_ranges(first: int, second: int) -> list[Range]:
    """The subtrees whose hashes make PROOF(first, D[second]), in proof order."""
    if not 0 < first <= second:
        raise ValueError(f"no consistency proof from {first} to {second}")
    out: list[Range] = []
    lo, hi, m, whole = 0, second, first, True
    while m != hi - lo:
        k = _split(hi - lo)
        if m <= k:
            out.append((lo + k, hi))
            hi = lo + k
        else:
            out.append((lo, lo + k))
            lo, m, whole = lo + k, m - k, False
    if not whole:
        out.append((lo, hi))
    return out[::-1]


def proof_nodes(ranges: Iterable[Range]) -> set[Node]:
    return {n for r in ranges for n in range_nodes(*r)}


def prove(ranges: Sequence[Range], get: Callable[[set[Node]], Mapping[Node, bytes]]) -> list[bytes]:
    """The hashes of ``ranges``, reading the complete subtrees they need in one call."""
    nodes = get(proof_nodes(ranges))
    return [subtree_hash(r, nodes) for r in ranges]


def root_from(size: int, nodes: Mapping[Node, bytes]) -> bytes:
    return EMPTY_ROOT if size == 0 else subtree_hash((0, size), nodes)


# --- verifiers (RFC 9162 2.1.3.2 and 2.1.4.2) ---------------------------------------------


def _ok_hash(h: bytes) -> bool:
    return len(h) == HASH_SIZE


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> bool:
    """RFC 9162 2.1.3.2: does ``proof`` show leaf hash ``leaf`` at ``index`` in the tree
    of ``size`` leaves with root hash ``root``?"""
    if not 0 <= index < size or not _ok_hash(leaf) or not _ok_hash(root):
        return False
    if not all(_ok_hash(p) for p in proof):
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 2.1.4.2: does ``proof`` show that the tree of ``second`` leaves with root
    ``second_root`` extends the tree of ``first`` leaves with root ``first_root``? Equal
    sizes need an empty proof and equal roots; size 0 is consistent with anything (an
    empty proof)."""
    if not _ok_hash(first_root) or not _ok_hash(second_root):
        return False
    if not all(_ok_hash(p) for p in proof) or not 0 <= first <= second:
        return False
    if first == second:
        return not proof and first_root == second_root
    if first == 0:
        return not proof
    if not proof:
        return False
    path = list(proof)
    if first & (first - 1) == 0:  # an exact power of two: the old root starts the path
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return fr == first_root and sr == second_root and sn == 0

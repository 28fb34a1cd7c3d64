"""The Merkle tree over the events, exactly as RFC 9162 section 2.1 (standard library only).

The leaves are the events in position order: leaf ``i`` (0-based) is the event at
position ``i + 1`` and its hash is ``SHA-256(0x00 || canonical event)``, the canonical
form the hash chain uses (``ledger.domain.hashing``). A node is
``SHA-256(0x01 || left || right)``. A tree of size ``n`` covers positions 1..n.

Storage keeps the hashes of *complete* subtrees only: node ``(level, index)`` covers the
``2**level`` leaves from ``index * 2**level``. Each append adds its leaf and the nodes it
completes (one on average, at most log2 n) and moves the *frontier*, the complete
subtrees a tree of the new size splits into (one per set bit of the size). Any subtree
the RFC's proofs name, complete or not, is a fold of at most log2 n stored nodes, so a
root or a proof is one read of O(log n) nodes (``proof_nodes``) and then pure
arithmetic (``subtree_hash``).

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
    size: int, frontier: Sequence[bytes], leaves: Iterable[bytes]
) -> tuple[list[tuple[Node, bytes]], list[bytes]]:
    """Append leaf hashes to a tree of ``size`` leaves whose frontier is ``frontier``:
    the complete subtrees this creates (each leaf and the nodes it completes) and the
    new frontier."""
    stack = list(frontier)
    created: list[tuple[Node, bytes]] = []
    for h in leaves:
        created.append(((0, size), h))
        level, index = 0, size
        while index & 1:  # the leaf completes its parent: fold the left sibling in
            h = node_hash(stack.pop(), h)
            level, index = level + 1, index >> 1
            created.append(((level, index), h))
        stack.append(h)
        size += 1
    return created, stack


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

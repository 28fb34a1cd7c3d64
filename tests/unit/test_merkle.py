"""The Merkle tree (RFC 9162 2.1): the RFC 6962 reference tree's roots and the published
proof vectors (tests/vectors/rfc9162), and a property over random sizes."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.domain import merkle as m

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "rfc9162"

# The RFC 6962 reference tree's eight leaf inputs (hex) and its roots at each size, as
# Certificate Transparency's tests publish them.
LEAVES = [
    bytes.fromhex(x)
    for x in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
ROOTS = {
    1: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    2: "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    3: "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    4: "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    5: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    6: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    7: "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    8: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
}


def b64(s: str) -> bytes:
    return base64.b64decode(s)


# Where we are stricter than the vectors' library: a "root" that is not a 32-byte
# SHA-256 value never verifies, even against itself.
STRICTER = {"consistency/additional/sizes-are-equal-one-and-proof-is-empty.json"}


def cases(kind: str) -> list[tuple[str, dict[str, object]]]:
    return [
        (str(p.relative_to(VECTORS)), json.loads(p.read_text()))
        for p in sorted((VECTORS / kind).rglob("*.json"))
    ]


def stored_tree(leaves: list[bytes]) -> dict[m.Node, bytes]:
    """Every complete subtree, built the way appends build them (one leaf at a time)."""
    nodes: dict[m.Node, bytes] = {}
    frontier: list[bytes] = []
    for i, leaf in enumerate(leaves):
        created, frontier = m.append_leaves(i, frontier, [m.leaf_hash(leaf)])
        nodes.update(created)
    return nodes


def test_the_reference_trees_roots_at_every_size() -> None:
    leaves = [m.leaf_hash(x) for x in LEAVES]
    nodes = stored_tree(LEAVES)
    for size, want in ROOTS.items():
        assert m.root_of(leaves[:size]).hex() == want
        assert m.root_from(size, nodes).hex() == want
    assert m.root_from(0, nodes) == m.EMPTY_ROOT


def test_the_published_happy_path_roots_are_the_reference_trees() -> None:
    for _, c in cases("consistency"):
        if c["desc"] == "happy path":
            assert b64(str(c["root2"])).hex() == ROOTS[int(str(c["size2"]))]


@pytest.mark.parametrize(("name", "case"), cases("inclusion"))
def test_published_inclusion_vectors(name: str, case: dict[str, object]) -> None:
    proof = proof_of(case)
    ok = m.verify_inclusion(
        int(str(case["leafIdx"])),
        int(str(case["treeSize"])),
        b64(str(case["leafHash"])),
        proof,
        b64(str(case["root"])),
    )
    assert ok is not case["wantErr"], name


def proof_of(case: dict[str, object]) -> list[bytes]:
    return [b64(str(p)) for p in case["proof"] or []]  # type: ignore[attr-defined]


@pytest.mark.parametrize(("name", "case"), cases("consistency"))
def test_published_consistency_vectors(name: str, case: dict[str, object]) -> None:
    proof = proof_of(case)
    ok = m.verify_consistency(
        int(str(case["size1"])),
        int(str(case["size2"])),
        b64(str(case["root1"])),
        b64(str(case["root2"])),
        proof,
    )
    assert ok is (not case["wantErr"] and name not in STRICTER), name


def test_our_proofs_are_the_published_happy_paths() -> None:
    nodes = stored_tree(LEAVES)
    got = 0
    for _, c in cases("inclusion"):
        if c["desc"] == "happy path":
            idx, size = int(str(c["leafIdx"])), int(str(c["treeSize"]))
            proof = m.prove(m.inclusion_ranges(idx, size), lambda ns: nodes)
            assert proof == proof_of(c), c
            got += 1
    for _, c in cases("consistency"):
        if c["desc"] == "happy path":
            a, b = int(str(c["size1"])), int(str(c["size2"]))
            proof = m.prove(m.consistency_ranges(a, b), lambda ns: nodes)
            assert proof == proof_of(c), c
            got += 1
    assert got == 10


def test_a_proof_reads_only_log_n_stored_nodes() -> None:
    size = 1_000_000
    assert len(m.proof_nodes(m.inclusion_ranges(size - 1, size))) <= 2 * 20
    assert len(m.proof_nodes(m.consistency_ranges(1, size))) <= 2 * 20


def flip(b: bytes, i: int) -> bytes:
    i %= len(b)
    return b[:i] + bytes([b[i] ^ 0x01]) + b[i + 1 :]


@given(
    st.integers(min_value=1, max_value=300).flatmap(
        lambda m_: st.tuples(
            st.integers(min_value=1, max_value=m_),
            st.just(m_),
            st.integers(min_value=0, max_value=m_ - 1),
            st.integers(min_value=0, max_value=10_000),
        )
    )
)
def test_every_proof_verifies_and_any_flipped_byte_fails(
    sizes: tuple[int, int, int, int],
) -> None:
    n, size, index, at = sizes
    data = [i.to_bytes(4, "big") for i in range(size)]
    leaves = [m.leaf_hash(x) for x in data]
    nodes = stored_tree(data)
    root_n, root_m = m.root_of(leaves[:n]), m.root_of(leaves)
    assert m.root_from(n, nodes) == root_n and m.root_from(size, nodes) == root_m

    incl = m.prove(m.inclusion_ranges(index, size), lambda ns: nodes)
    assert m.verify_inclusion(index, size, leaves[index], incl, root_m)
    assert not m.verify_inclusion(index, size, leaves[index], incl, flip(root_m, at))
    assert not m.verify_inclusion(index, size, flip(leaves[index], at), incl, root_m)
    if incl:
        k = at % len(incl)
        bad = [*incl[:k], flip(incl[k], at // 7), *incl[k + 1 :]]
        assert not m.verify_inclusion(index, size, leaves[index], bad, root_m)

    cons = m.prove(m.consistency_ranges(n, size), lambda ns: nodes)
    assert m.verify_consistency(n, size, root_n, root_m, cons)
    assert not m.verify_consistency(n, size, flip(root_n, at), root_m, cons)
    assert not m.verify_consistency(n, size, root_n, flip(root_m, at), cons)
    if cons:
        k = at % len(cons)
        bad = [*cons[:k], flip(cons[k], at // 7), *cons[k + 1 :]]
        assert not m.verify_consistency(n, size, root_n, root_m, bad)


# --- storage from level 4 up ---------------------------------------------------------------


def test_a_batch_of_64_leaves_from_empty_stores_the_seven_nodes_of_16_leaves_and_up() -> None:
    leaves = [m.leaf_hash(i.to_bytes(4, "big")) for i in range(64)]
    created, frontier = m.append_leaves(0, [], leaves, m.STORED_FROM_LEVEL)
    # levels 4, 5 and 6 of a 64-leaf tree: 4 + 2 + 1, in the order they complete
    assert [n for n, _ in created] == [(4, 0), (4, 1), (5, 0), (4, 2), (4, 3), (5, 1), (6, 0)]
    assert created[-1][1] == m.root_of(leaves) and frontier == [m.root_of(leaves)]
    assert dict(created)[(4, 1)] == m.root_of(leaves[16:32])


def test_a_thousand_leaves_store_119_nodes_where_every_node_was_1994() -> None:
    leaves = [m.leaf_hash(i.to_bytes(4, "big")) for i in range(1000)]
    every, _ = m.append_leaves(0, [], leaves)
    stored, _ = m.append_leaves(0, [], leaves, m.STORED_FROM_LEVEL)
    # 1000 + 500 + 250 + 125 + 62 + 31 + 15 + 7 + 3 + 1 against 62 + 31 + 15 + 7 + 3 + 1
    assert (len(every), len(stored)) == (1994, 119)


@given(st.integers(0, 200), st.integers(0, 70), st.integers(0, 6))
def test_appending_from_a_level_keeps_those_nodes_and_the_same_frontier(
    size: int, more: int, level: int
) -> None:
    old = [m.leaf_hash(i.to_bytes(4, "big")) for i in range(size)]
    new = [m.leaf_hash(i.to_bytes(4, "big")) for i in range(size, size + more)]
    _, frontier = m.append_leaves(0, [], old)
    every, after = m.append_leaves(size, frontier, new)
    kept, after_kept = m.append_leaves(size, frontier, new, level)
    assert kept == [(n, h) for n, h in every if n[0] >= level]
    assert after_kept == after


def sparse_tree(leaves: list[bytes]) -> Callable[[set[m.Node]], dict[m.Node, bytes]]:
    """What storage answers: the stored nodes (level 4 up, as appends keep them), the
    ones below rehashed from the leaves of their blocks (``block_nodes``)."""
    stored = dict(m.append_leaves(0, [], leaves, m.STORED_FROM_LEVEL)[0])

    def get(nodes: set[m.Node]) -> dict[m.Node, bytes]:
        out = {n: stored[n] for n in nodes if m.is_stored(n)}
        for b in {m.block_of(n) for n in nodes if not m.is_stored(n)}:
            start = b * m.BLOCK
            built = m.block_nodes(b, leaves[start : start + m.BLOCK])
            out.update((n, built[n]) for n in nodes if n in built and not m.is_stored(n))
        return out

    return get


@given(
    st.integers(min_value=1, max_value=300).flatmap(
        lambda n: st.tuples(
            st.integers(min_value=1, max_value=n),
            st.just(n),
            st.integers(min_value=0, max_value=n - 1),
        )
    )
)
def test_proofs_from_the_sparse_store_are_the_proofs_from_every_node(
    sizes: tuple[int, int, int],
) -> None:
    first, size, index = sizes
    data = [i.to_bytes(4, "big") for i in range(size)]
    leaves = [m.leaf_hash(x) for x in data]
    every, sparse = stored_tree(data), sparse_tree(leaves)
    assert m.root_from(first, sparse(set(m.frontier_nodes(first)))) == m.root_of(leaves[:first])
    for ranges in (m.inclusion_ranges(index, size), m.consistency_ranges(first, size)):
        assert m.prove(ranges, sparse) == m.prove(ranges, lambda ns: every)


@given(st.integers(min_value=1, max_value=5000), st.data())
def test_a_root_rehashes_one_block_and_a_proof_at_most_two(size: int, data: st.DataObject) -> None:
    index = data.draw(st.integers(0, size - 1))
    first = data.draw(st.integers(1, size))

    def blocks(nodes: set[m.Node]) -> set[int]:
        return {m.block_of(n) for n in nodes if not m.is_stored(n)}

    last = (size - 1) // m.BLOCK
    assert blocks(set(m.frontier_nodes(size))) <= {last}
    assert blocks(m.proof_nodes(m.inclusion_ranges(index, size))) <= {index // m.BLOCK, last}
    assert blocks(m.proof_nodes(m.consistency_ranges(first, size))) <= {
        (first - 1) // m.BLOCK,
        last,
    }


def test_a_block_holds_at_most_16_leaves() -> None:
    with pytest.raises(ValueError, match="16 leaves"):
        m.block_nodes(0, [m.leaf_hash(b"")] * 17)

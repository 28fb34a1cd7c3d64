"""The verify pass split into ranges (``ledger.store.scan_ranges``) finds what one pass
from position 1 finds: the same events checked, last hash, recorded chain heads, tree
frontier and roots, and the same first problem, however the positions are split."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from ledger.domain import merkle
from ledger.domain.hashing import HASHED_COLUMNS, ZERO_HASH, canonical_row, chain_hash
from ledger.store.scan import KEYS, Part, Scan, combine, scan_rows


def stored_rows(n: int, returns: frozenset[int] = frozenset()) -> list[dict[str, Any]]:
    """``n`` chained events; those at ``returns`` are filed returns naming a chain head."""
    rows: list[dict[str, Any]] = []
    prev = ZERO_HASH
    for p in range(1, n + 1):
        row: dict[str, Any] = dict.fromkeys(HASHED_COLUMNS)
        kind = "return_generated" if p in returns else "contribution_posted"
        payload = (
            {"as_at_position": p - 1, "chain_head": prev, "quarter": "2025-26-Q1"}
            if p in returns
            else {"amount": 1000 * p, "reference": f"BACS {p}"}
        )
        row.update(
            position=p,
            event_id=f"e{p}",
            stream_id="pool:eq",
            stream_version=p,
            type=kind,
            schema_version=1,
            recorded_at="2026-12-03T09:00:00.000000Z",
            actor="Pat",
            actor_role="finance_officer",
            payload=json.dumps(payload, sort_keys=True, separators=(",", ":")),
        )
        row["hash"] = prev = chain_hash(prev, row)
        rows.append(row)
    return rows


def as_selected(row: dict[str, Any]) -> tuple[Any, ...]:
    return (*(row[k] for k in KEYS), row["type"], row["hash"])


def in_ranges(rows: list[dict[str, Any]], chunk: int, wanted: set[int]) -> Scan:
    """The pass as the workers run it: ranges of ``chunk`` positions, each chained onto
    the stored hash before it."""
    parts: list[Part] = []
    for start in range(0, len(rows), chunk):
        prev = rows[start - 1]["hash"] if start else ZERO_HASH
        part_rows = [as_selected(r) for r in rows[start : start + chunk]]
        parts.append(scan_rows(part_rows, wanted, start, prev))
    return combine(parts, chunk)


def whole(rows: list[dict[str, Any]], wanted: set[int]) -> Scan:
    return combine([scan_rows([as_selected(r) for r in rows], wanted)])


def leaves(rows: list[dict[str, Any]]) -> list[bytes]:
    return [merkle.leaf_hash(canonical_row(r).encode("utf-8")) for r in rows]


@given(
    n=st.integers(0, 80),
    chunk=st.sampled_from([1, 2, 4, 8, 16, 32]),
    picks=st.sets(st.integers(1, 80), max_size=6),
    returns=st.frozensets(st.integers(1, 80), max_size=3),
)
def test_ranges_of_any_power_of_two_find_what_one_pass_finds(
    n: int, chunk: int, picks: set[int], returns: frozenset[int]
) -> None:
    # given a chain of n events, some of them filed returns
    rows = stored_rows(n, returns)
    wanted = {p for p in picks if p <= n}
    # when it is checked in ranges of `chunk` positions and in one pass
    split, one = in_ranges(rows, chunk, wanted), whole(rows, wanted)
    # then both found the same, and the tree is RFC 9162's tree of the events
    assert split.checked == n and split.problem is None
    nodes = sorted(split.nodes)
    assert nodes == sorted(one.nodes)
    split.nodes = one.nodes = []  # (in the order the ranges' merges made them)
    assert split == one
    assert split.prev == (rows[-1]["hash"] if rows else ZERO_HASH)
    assert split.heads == [
        (p - 1, rows[p - 2]["hash"] if p > 1 else ZERO_HASH, p) for p in sorted(returns) if p <= n
    ]
    hashes = leaves(rows)
    assert merkle.fold(split.frontier) == merkle.root_of(hashes) if n else split.frontier == []
    assert split.roots == {0: merkle.EMPTY_ROOT} | {p: merkle.root_of(hashes[:p]) for p in wanted}
    # and the nodes it found are the ones appends store
    stored, _ = merkle.append_leaves(0, [], hashes, merkle.STORED_FROM_LEVEL)
    assert nodes == sorted((i << 6 | lv, h) for (lv, i), h in stored)


@given(n=st.integers(2, 60), chunk=st.sampled_from([1, 2, 4, 8, 16]), data=st.data())
def test_ranges_name_the_same_first_bad_event_as_one_pass(
    n: int, chunk: int, data: st.DataObject
) -> None:
    # given a chain whose event at `bad` (and maybe a later one) no longer hashes
    rows = stored_rows(n)
    bad = data.draw(st.integers(1, n))
    for p in {bad, data.draw(st.integers(bad, n))}:
        rows[p - 1]["payload"] = rows[p - 1]["payload"].replace('"amount":', '"amount":9')
    # when it is checked in ranges and in one pass
    split, one = in_ranges(rows, chunk, set()), whole(rows, set())
    # then both stop at the first bad event with the same words
    assert sorted(split.nodes) == sorted(one.nodes)
    split.nodes = one.nodes = []
    assert split == one
    assert split.bad_position == bad and split.checked == bad - 1
    assert split.problem == f"event at position {bad} does not match its hash"


def test_a_full_range_is_one_complete_subtree_merged_as_leaves_are() -> None:
    # given 12 events in ranges of 4: three complete subtrees of 4 leaves
    rows = stored_rows(12)
    hashes = leaves(rows)
    # when they are combined
    found = in_ranges(rows, 4, {6, 12})
    # then the frontier is the 8-leaf subtree and the 4-leaf one (12 = 8 + 4)
    assert found.frontier == [merkle.root_of(hashes[:8]), merkle.root_of(hashes[8:12])]
    assert found.roots[6] == merkle.node_hash(
        merkle.root_of(hashes[:4]), merkle.root_of(hashes[4:6])
    )
    assert found.roots[12] == merkle.root_of(hashes)

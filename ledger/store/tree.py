"""The Merkle tree's nodes as storage holds them: roots and proofs in one round trip each
(the tree itself: ``ledger.domain.merkle``; its nodes are written by
``eventstore.insert_rows``).

``merkle_nodes`` keeps the complete subtrees of ``merkle.STORED_FROM_LEVEL`` and up; the
ones below are rehashed from the events of their block (leaf = SHA-256(0x00 ||
canonical event), the chain's canonical form). ``read_nodes`` answers for any complete
subtree of the tree at the head with one query of the stored nodes and one of the
events of the (at most two) blocks a root or proof needs, sent together to PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from contextlib import nullcontext
from typing import Any

from sqlalchemy import Connection

from ledger.domain import merkle
from ledger.domain.hashing import canonical_row
from ledger.store.reads import StoredEvent
from ledger.store.scan import KEYS, canonical_of
from ledger.store.sql import one_round_trip, run_sql

_POSITION = KEYS.index("position")
_ONE_STATEMENT = nullcontext()  # a pipeline costs more than it saves for one statement


def _key(node: merkle.Node) -> int:
    level, index = node
    return index << 6 | level


def read_nodes(conn: Connection, nodes: Iterable[merkle.Node]) -> Mapping[merkle.Node, bytes]:
    """The hashes of complete subtrees: the stored ones read, the ones below
    ``STORED_FROM_LEVEL`` rehashed from the events of their blocks (two queries, one
    round trip). LookupError when the tree lacks one (a subtree beyond the head)."""
    wanted = set(nodes)
    high = [n for n in wanted if merkle.is_stored(n)]
    ends: dict[int, int] = {}  # block -> one past the last leaf wanted in it
    for n in wanted:
        if not merkle.is_stored(n):
            b = merkle.block_of(n)
            ends[b] = max(ends.get(b, 0), merkle.leaves_end(n))
    blocks = sorted(ends)
    spans: list[int] = []  # positions are leaf index + 1
    for b in blocks:
        spans += [(b << merkle.STORED_FROM_LEVEL) + 1, ends[b]]
    with one_round_trip(conn) if high and blocks else _ONE_STATEMENT:
        stored = _query_nodes(conn, high)
        events = run_sql(conn, _events_sql(len(blocks)), spans) if blocks else None
    found = _found(stored, high)
    if events is not None:
        found.update(_rehashed(events.fetchall(), ends, wanted))
    missing = wanted - found.keys()
    if missing:
        raise LookupError(f"the Merkle tree lacks nodes {sorted(missing)[:3]}")
    return found


def _query_nodes(conn: Connection, nodes: list[merkle.Node]) -> Any:
    if not nodes:
        return None
    sql = f"SELECT node, hash FROM merkle_nodes WHERE node IN ({', '.join('?' * len(nodes))})"  # noqa: S608
    return run_sql(conn, sql, [_key(n) for n in nodes])


def _found(cursor: Any, nodes: list[merkle.Node]) -> dict[merkle.Node, bytes]:
    if cursor is None:
        return {}
    by_key = {_key(n): n for n in nodes}
    return {by_key[int(k)]: bytes(h) for k, h in cursor.fetchall()}


def _events_sql(blocks: int) -> str:
    spans = " OR ".join("position BETWEEN ? AND ?" for _ in range(blocks))
    return f"SELECT {', '.join(KEYS)} FROM events WHERE {spans} ORDER BY position"  # noqa: S608


def _rehashed(
    rows: Sequence[Sequence[Any]], ends: Mapping[int, int], wanted: set[merkle.Node]
) -> dict[merkle.Node, bytes]:
    """The wanted subtrees below ``STORED_FROM_LEVEL`` from the events of their blocks
    (``ends``: block -> one past the last leaf read), in position order. A block whose
    events are not all there gives none."""
    leaves: dict[int, list[bytes]] = {b: [] for b in ends}
    for row in rows:
        b = (row[_POSITION] - 1) >> merkle.STORED_FROM_LEVEL
        leaves[b].append(merkle.leaf_hash(canonical_of(row)))
    out: dict[merkle.Node, bytes] = {}
    for b, end in ends.items():
        if len(leaves[b]) == end - (b << merkle.STORED_FROM_LEVEL):
            built = merkle.block_nodes(b, leaves[b])
            out.update((n, built[n]) for n in wanted if n in built and not merkle.is_stored(n))
    return out


def root_at(conn: Connection, size: int) -> bytes:
    """The tree's root hash over positions 1..size."""
    if size == 0:
        return merkle.EMPTY_ROOT
    return merkle.root_from(size, read_nodes(conn, merkle.frontier_nodes(size)))


def inclusion_proof(conn: Connection, position: int, size: int) -> list[bytes]:
    """RFC 9162 2.1.3.1: the audit path of the event at ``position`` in the tree of
    ``size`` (positions 1..size)."""
    ranges = merkle.inclusion_ranges(position - 1, size)
    return merkle.prove(ranges, lambda ns: read_nodes(conn, ns))


def consistency_proof(conn: Connection, first: int, second: int) -> list[bytes]:
    """RFC 9162 2.1.4.1: that the tree of ``second`` extends the tree of ``first``."""
    if first == second:
        return []
    return merkle.prove(merkle.consistency_ranges(first, second), lambda ns: read_nodes(conn, ns))


def leaf_of(event: StoredEvent) -> bytes:
    return merkle.leaf_hash(canonical_row(event.as_row()).encode("utf-8"))

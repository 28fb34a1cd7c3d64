"""The Merkle tree's stored nodes: roots and proofs read in one query each (the tree
itself: ``ledger.domain.merkle``; its nodes are written by ``eventstore.insert_rows``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy import Connection

from ledger.domain import merkle
from ledger.domain.hashing import canonical_row
from ledger.store.reads import StoredEvent
from ledger.store.sql import run_sql


def _key(node: merkle.Node) -> int:
    level, index = node
    return index << 6 | level


def read_nodes(conn: Connection, nodes: Iterable[merkle.Node]) -> Mapping[merkle.Node, bytes]:
    wanted = {_key(n): n for n in nodes}
    if not wanted:
        return {}
    sql = f"SELECT node, hash FROM merkle_nodes WHERE node IN ({', '.join('?' for _ in wanted)})"  # noqa: S608
    found = {wanted[int(k)]: bytes(h) for k, h in run_sql(conn, sql, list(wanted)).fetchall()}
    missing = set(wanted.values()) - found.keys()
    if missing:
        raise LookupError(f"the Merkle tree lacks nodes {sorted(missing)[:3]}")
    return found


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

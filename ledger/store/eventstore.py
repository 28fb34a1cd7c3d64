"""The event store's append: envelopes, pending events, building the chained rows, and
the append under the head lock (stored events and the reads are in ``ledger.store.reads``;
chain verification in ``ledger.store.verify``).

Appends run inside a write transaction that holds the single ``ledger_head`` row
(``SELECT ... FOR UPDATE`` on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite), so positions
are gap-free and commit in order however many processes write. The database refuses
UPDATE and DELETE on events (triggers, see the migration); a stream's optimistic
version is a unique key.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, NoReturn

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError

from ledger.domain import events as ev
from ledger.domain import merkle
from ledger.domain.periods import FinancialYear, Quarter, parse_period, year_of
from ledger.store.constraints import refusal
from ledger.store.engine import is_sqlite
from ledger.store.reads import (
    COLUMNS,
    Head,
    StoredEvent,
)
from ledger.store.serialization import chain_and_leaf_of, encode_payload
from ledger.store.sql import driver_sql, is_sqlite_conn, one_round_trip, run_sql


@dataclass(frozen=True)
class Envelope:
    """Who and what request: stored in columns beside each event."""

    actor: str
    actor_role: str
    actor_partner_id: str | None = None
    token_id: str | None = None
    request_id: str | None = None
    request_meta: dict[str, Any] | None = None


_EFFECTIVE = COLUMNS.index("effective_date")
_make_stored = StoredEvent._make


def index_columns(event: ev.Event) -> dict[str, Any]:
    """What an event concerns, for the indexed columns."""
    f = event.__dict__  # plain field values: no pydantic attribute fallback per miss
    d: dict[str, Any] = {
        "pool_id": f.get("pool_id"),
        "partner_id": f.get("partner_id"),
        "counterparty_id": None,
        "scheme_id": f.get("scheme_id"),
        "funding_stream": f.get("funding_stream"),
        "year": f.get("year"),
        "period": f.get("quarter") or f.get("period"),
        "effective_date": ev.effective_date_of(event),
    }
    if isinstance(event, ev.PoolEstablished):
        d["partner_id"] = event.host_partner_id
    if isinstance(event, ev.TransferPosted):
        d["partner_id"] = event.from_party.partner_id
        d["counterparty_id"] = event.to_party.partner_id
    if d["period"] is None and d["effective_date"] is not None:
        d["period"] = Quarter.of(d["effective_date"]).label
    if d["year"] is None:
        if isinstance(
            event,
            ev.ReturnGenerated
            | ev.ReturnRefiled
            | ev.ReturnApproved
            | ev.ReturnSubmitted
            | ev.PeriodClosed,
        ):
            d["year"] = year_of(parse_period(event.quarter)).label
        elif d["effective_date"] is not None:
            d["year"] = FinancialYear.of(d["effective_date"]).label
    return d


def new_event_id() -> str:
    """A UUID version 7 (RFC 9562): milliseconds since the epoch, then random bits. New
    ids sort after older ones, so the unique index on event ids grows at one end
    instead of taking each insert at a random page."""
    value = (time.time_ns() // 1_000_000) << 80 | int.from_bytes(os.urandom(10), "big")
    value = value & ~(0xF << 76) | 0x7 << 76  # version 7
    value = value & ~(0x3 << 62) | 0x2 << 62  # the RFC's variant
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


@dataclass
class PendingEvent:
    """An event decided but not yet stored. Its id is made with it, before the
    write-side state is evolved, so the state and the stored event name the same id."""

    event: ev.Event
    stream_id: str
    stream_version: int
    reverses_event_id: str | None = None
    envelope: Envelope | None = None  # who asked, when it differs from the batch's
    event_id: str = field(default_factory=new_event_id)


_INSERT_EVENT = (
    f"INSERT INTO events ({', '.join(COLUMNS)}) VALUES ({', '.join('?' for _ in COLUMNS)})"  # noqa: S608 - fixed column names
)


_POOL_VERSIONS = (
    "SELECT p.pool_id, p.version, (SELECT MAX(e.stream_version) FROM events e "
    "WHERE e.stream_id = 'pool:' || p.pool_id) FROM ws_pools p WHERE p.pool_id IN "
)


def pool_versions(conn: Connection, pools: Sequence[str]) -> dict[str, tuple[int, int] | None]:
    """Each pool's (state row version, stream version), or None for no such pool."""
    versions: dict[str, tuple[int, int] | None] = dict.fromkeys(pools)
    sql = _POOL_VERSIONS + f"({', '.join('?' for _ in pools)})"
    for pool_id, written, version in run_sql(conn, sql, pools).fetchall():
        versions[pool_id] = (int(written), int(version))
    return versions


def lock_head(conn: Connection, pools: Sequence[str] = (), check_at: int | None = None) -> Head:
    """Take the append lock and read the head; with ``pools``, also their versions as
    they stand under the lock, and with ``check_at`` the hash of the event at that
    position (on PostgreSQL in the same round trip as ``BEGIN`` and the lock)."""
    sql = "SELECT position, hash, recorded_at, generation, frontier FROM ledger_head WHERE id = 1"
    then = None
    with one_round_trip(conn):
        head = run_sql(conn, sql if is_sqlite_conn(conn) else sql + " FOR UPDATE")
        versions = pool_versions(conn, pools) if pools else {}
        if check_at is not None:
            then = run_sql(conn, "SELECT hash FROM events WHERE position = ?", (check_at,))
        row = head.fetchone()
    hash_then = None
    if then is not None and check_at is not None:
        found = then.fetchone()
        hash_then = (check_at, found[0] if found else None)
    return Head(
        int(row[0]),
        row[1],
        row[2],
        int(row[3]),
        hash_then=hash_then,
        pools=versions,
        frontier=row[4],
    )


def count_event_ids(conn: Connection, event_ids: Sequence[str]) -> int:
    """How many of these event ids are stored (is a transaction's append kept?)."""
    n = 0
    for i in range(0, len(event_ids), 500):
        chunk = event_ids[i : i + 500]
        sql = f"SELECT COUNT(*) FROM events WHERE event_id IN ({', '.join('?' for _ in chunk)})"  # noqa: S608
        n += int(run_sql(conn, sql, chunk).fetchone()[0])
    return n


def new_generation(conn: Connection) -> None:
    """Move the head's generation on (after rebuilding state or read models), so every
    process's caches, keyed on it, are dropped at its next append."""
    run_sql(conn, "UPDATE ledger_head SET generation = generation + 1 WHERE id = 1")


@contextmanager
def pipelined(conn: Connection) -> Iterator[None]:
    """The writes of an append in one round trip to PostgreSQL (psycopg's pipeline
    mode: statements are sent without waiting; a statement whose result is read, and
    the end of the block, wait for what was sent). Unique-key refusals, which may then
    surface at the end of the block, become the ledger's errors (``one_round_trip``
    with the translation)."""
    try:
        with one_round_trip(conn):
            yield
    except (conn.dialect.loaded_dbapi.IntegrityError, IntegrityError) as e:
        raise_refusal(e)


def raise_refusal(e: Exception) -> NoReturn:
    """Raise what a unique key's refusal means, by the constraint's name
    (``ledger.store.constraints``); a key that is none of the ledger's is re-raised."""
    mapped = refusal(e)
    if mapped is None:
        raise e
    raise mapped from e


@contextmanager
def write_transaction(
    engine: Engine,
    pools: Sequence[str] = (),
    check_at: int | None = None,
    on_locked: Callable[[Connection, Head], None] | None = None,
) -> Iterator[tuple[Connection, Head]]:
    """A transaction holding the append lock; yields the connection and the head
    (with ``pools``' versions and the hash at ``check_at`` read under the lock, see
    ``lock_head``), after ``on_locked`` has seen them."""
    with engine.connect() as conn:
        if is_sqlite(engine):  # the write lock at BEGIN (the begin hook sees it is taken)
            conn.connection.dbapi_connection.execute("BEGIN IMMEDIATE")  # type: ignore[union-attr]
        with conn.begin():
            head = lock_head(conn, pools, check_at)
            if on_locked is not None:
                on_locked(conn, head)
            yield conn, head


class ChainedRows(list[StoredEvent]):
    """The rows an append writes, chained from the head, and the Merkle tree's complete
    subtrees they create that storage keeps (``merkle.STORED_FROM_LEVEL`` and up: none
    for most appends) and its new frontier (``ledger.domain.merkle``)."""

    nodes: list[tuple[merkle.Node, bytes]]
    frontier: str


def build_rows(
    head: Head, pending: Sequence[PendingEvent], envelope: Envelope, recorded_at: str
) -> ChainedRows:
    """The stored events for the pending ones, chained from ``head``, and the tree's
    nodes over them. ``recorded_at`` is never earlier than the head's."""
    recorded = max(recorded_at, head.recorded_at)
    out = ChainedRows()
    leaves: list[bytes] = []
    prev, pos = head.hash, head.position
    metas: dict[int, str | None] = {}
    for p in pending:
        env = p.envelope or envelope
        if id(env) not in metas:
            metas[id(env)] = (
                json.dumps(env.request_meta, sort_keys=True) if env.request_meta else None
            )
        event = p.event
        ix = index_columns(event)
        effective = ix["effective_date"]
        pos += 1
        columns: dict[str, Any] = {
            "position": pos,
            "event_id": p.event_id,
            "stream_id": p.stream_id,
            "stream_version": p.stream_version,
            "type": event.type,
            "schema_version": event.schema_version,
            "effective_date": effective.isoformat() if effective is not None else None,
            "recorded_at": recorded,
            "actor": env.actor,
            "actor_role": env.actor_role,
            "actor_partner_id": env.actor_partner_id,
            "token_id": env.token_id,
            "request_id": env.request_id,
            "request_meta": metas[id(env)],
            "pool_id": ix["pool_id"],
            "partner_id": ix["partner_id"],
            "counterparty_id": ix["counterparty_id"],
            "scheme_id": ix["scheme_id"],
            "funding_stream": ix["funding_stream"],
            "year": ix["year"],
            "period": ix["period"],
            "reverses_event_id": p.reverses_event_id,
        }
        payload = encode_payload(event)
        prev, leaf = chain_and_leaf_of(prev, columns, payload)
        leaves.append(leaf)
        columns["payload"] = payload
        columns["effective_date"] = effective
        columns["hash"] = prev
        out.append(_make_stored(columns[c] for c in COLUMNS))
    out.nodes, frontier = merkle.append_leaves(
        head.position, _split_frontier(head.frontier), leaves, merkle.STORED_FROM_LEVEL
    )
    out.frontier = b"".join(frontier).hex()
    global _LAST_FRONTIER
    _LAST_FRONTIER = (out.frontier, tuple(frontier))
    return out


# the frontier the last append made, as text and as hashes: the next append's head
# holds the same text unless another writer came between (then it is split anew)
_LAST_FRONTIER: tuple[str, tuple[bytes, ...]] = ("", ())


def _split_frontier(text: str) -> tuple[bytes, ...]:
    last = _LAST_FRONTIER
    if text == last[0]:
        return last[1]
    front = bytes.fromhex(text)
    return tuple(front[i : i + 32] for i in range(0, len(front), 32))


_INSERT_NODE = "INSERT INTO merkle_nodes (node, hash) VALUES (?, ?)"


def insert_rows(conn: Connection, rows: ChainedRows) -> None:
    """Insert chained rows and their tree nodes and move the head, translating
    unique-key clashes. The tree adds a column to the head's UPDATE and, when the
    append completes a stored subtree (one event in 16 completes at least one), one
    statement (the nodes, one executemany): on PostgreSQL no round trip of its own."""
    if not rows:
        return
    params: list[Any] = list(rows)
    if is_sqlite_conn(conn):  # sqlite3 takes dates as ISO text (no deprecated adapter)
        e = _EFFECTIVE
        params = [
            (*r[:e], r.effective_date.isoformat(), *r[e + 1 :]) if r.effective_date else r
            for r in rows
        ]
    cur = conn.connection.cursor()
    try:
        if len(params) == 1:
            cur.execute(driver_sql(conn, _INSERT_EVENT), params[0])
        else:
            cur.executemany(driver_sql(conn, _INSERT_EVENT), params)
    except conn.dialect.loaded_dbapi.IntegrityError as e:
        raise_refusal(e)
    if rows.nodes:
        nodes = [(i << 6 | lv, h) for (lv, i), h in rows.nodes]
        cur.executemany(driver_sql(conn, _INSERT_NODE), nodes)
    last = rows[-1]
    cur.execute(
        driver_sql(
            conn,
            "UPDATE ledger_head SET position = ?, hash = ?, recorded_at = ?, frontier = ? "
            "WHERE id = 1",
        ),
        (last.position, last.hash, last.recorded_at, rows.frontier),
    )

"""Stored events and the ledger head, and the reads: by position range, stream, event
id, position or instant (the append: ``ledger.store.eventstore``)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, NamedTuple

from sqlalchemy import Connection, Engine, func, select

from ledger.domain import events as ev
from ledger.store import tables as t
from ledger.store.serialization import ZERO_HASH, decode_event

EPOCH = "1970-01-01T00:00:00.000000Z"


@dataclass(frozen=True)
class Head:
    position: int
    hash: str
    recorded_at: str
    generation: int = 0  # see tables.ledger_head
    # (position, its event's hash) when the lock was asked to read one (``lock_head``)
    hash_then: tuple[int, str | None] | None = None
    # pool -> (state row version, stream version), or None for no such pool: read under
    # the lock for the pools asked for
    pools: Mapping[str, tuple[int, int] | None] = field(default_factory=dict)
    # the Merkle tree's frontier at ``position`` (hex; ``ledger.domain.merkle``)
    frontier: str = ""


class StoredEvent(NamedTuple):
    """A stored event: its columns, in the table's order (a tuple, cheap to build)."""

    position: int
    event_id: str
    stream_id: str
    stream_version: int
    type: str
    schema_version: int
    payload: str
    effective_date: date | None
    recorded_at: str
    actor: str
    actor_role: str
    actor_partner_id: str | None
    token_id: str | None
    request_id: str | None
    request_meta: str | None
    pool_id: str | None
    partner_id: str | None
    counterparty_id: str | None
    scheme_id: str | None
    funding_stream: str | None
    year: str | None
    period: str | None
    reverses_event_id: str | None
    hash: str

    @property
    def event(self) -> ev.Event:
        return decode_event(self.type, self.schema_version, self.payload)

    def as_row(self) -> dict[str, Any]:
        return self._asdict()


COLUMNS = tuple(c.name for c in t.events.columns)
assert StoredEvent._fields == COLUMNS, "StoredEvent must list the events table's columns"


def row_to_stored(row: Any) -> StoredEvent:
    m = row._mapping
    return StoredEvent._make(m[c] for c in COLUMNS)


def read_head(conn: Connection) -> Head:
    row = conn.execute(select(t.ledger_head).where(t.ledger_head.c.id == 1)).one()
    return Head(
        int(row.position), row.hash, row.recorded_at, int(row.generation), frontier=row.frontier
    )


def read_range(
    conn: Connection,
    after: int = 0,
    limit: int | None = None,
    *,
    pool_id: str | None = None,
    upto: int | None = None,
) -> list[StoredEvent]:
    q = select(t.events).where(t.events.c.position > after).order_by(t.events.c.position)
    if pool_id is not None:
        q = q.where(t.events.c.pool_id == pool_id)
    if upto is not None:
        q = q.where(t.events.c.position <= upto)
    if limit is not None:
        q = q.limit(limit)
    return [row_to_stored(r) for r in conn.execute(q)]


def iter_events(
    engine: Engine, after: int = 0, upto: int | None = None, batch: int = 5000
) -> Iterator[StoredEvent]:
    """Stream events in position order in bounded batches (memory stays flat)."""
    last = after
    while True:
        with engine.connect() as conn:
            rows = read_range(conn, last, batch, upto=upto)
        if not rows:
            return
        yield from rows
        last = rows[-1].position


def read_stream(conn: Connection, stream_id: str) -> list[StoredEvent]:
    q = (
        select(t.events)
        .where(t.events.c.stream_id == stream_id)
        .order_by(t.events.c.stream_version)
    )
    return [row_to_stored(r) for r in conn.execute(q)]


def get_event(conn: Connection, event_id: str) -> StoredEvent | None:
    row = conn.execute(select(t.events).where(t.events.c.event_id == event_id)).first()
    return row_to_stored(row) if row else None


def get_by_positions(conn: Connection, positions: Sequence[int]) -> list[StoredEvent]:
    q = (
        select(t.events)
        .where(t.events.c.position.in_(list(positions)))
        .order_by(t.events.c.position)
    )
    return [row_to_stored(r) for r in conn.execute(q)]


def is_reversed(conn: Connection, event_id: str, upto: int | None = None) -> bool:
    q = select(t.events.c.position).where(t.events.c.reverses_event_id == event_id)
    if upto is not None:
        q = q.where(t.events.c.position <= upto)
    return conn.execute(q).first() is not None


def position_at(conn: Connection, instant: str) -> int:
    """The last position recorded at or before ``instant`` (0 if none)."""
    v = conn.execute(
        select(func.max(t.events.c.position)).where(t.events.c.recorded_at <= instant)
    ).scalar()
    return int(v or 0)


def recorded_at_of(conn: Connection, position: int) -> str | None:
    return conn.execute(
        select(t.events.c.recorded_at).where(t.events.c.position == position)
    ).scalar()


def hash_at(conn: Connection, position: int) -> str:
    if position == 0:
        return ZERO_HASH
    v = conn.execute(select(t.events.c.hash).where(t.events.c.position == position)).scalar()
    return str(v) if v else ZERO_HASH

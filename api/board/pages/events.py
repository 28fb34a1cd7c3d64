"""Events as the board pages show them: a row per event (what it concerns, whether
it was reversed), a pool's event log a page at a time, and one event in detail."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, select

from api.board.pages.shared import names_of
from api.board.web import AsAt, Links
from ledger.domain.errors import NotFound
from ledger.store import tables as lt
from ledger.store.reads import StoredEvent, get_by_positions, get_event, hash_at, read_range
from projections.parties import pool_at

PAGE_SIZE = 50


@dataclass(frozen=True)
class EventRow:
    e: StoredEvent
    data: dict[str, Any]
    reversed_at: int | None  # the position of its reversal, as at the page's position
    href: str
    names: dict[str, str] = field(default_factory=dict)  # partner id -> name

    @property
    def amount(self) -> int | None:
        v = self.data.get("amount")
        return int(v) if isinstance(v, int) else None

    @property
    def direction(self) -> str:
        """How the event moves the figure: ``+``, ``−`` or blank."""
        t = self.e.type
        if t in ("contribution_refunded", "expenditure_credited"):
            return "out" if t == "contribution_refunded" else "credit"
        return ""

    @property
    def concerns(self) -> str:
        """What the event is about, in words: the partner's name, the scheme, ..."""

        def name(party: dict[str, Any]) -> str:
            pid = party.get("partner_id")
            return self.names.get(pid, pid) if pid else f"pool {party.get('pool_id')}"

        if self.e.type == "transfer_posted":
            frm = self.data.get("from_party") or {}
            to = self.data.get("to_party") or {}
            return f"{name(frm)} → {name(to)} ({self.data.get('purpose', '')})"
        parts = []
        pid = self.data.get("partner_id")
        if pid:
            parts.append(self.names.get(pid, pid))
        for label, k in (
            ("scheme", "scheme_id"),
            ("stream", "funding_stream"),
            ("metric", "metric_id"),
            ("unit", "unit_id"),
            ("service", "service_id"),
            ("period", "period"),
        ):
            v = self.data.get(k)
            if v:
                parts.append(f"{label} {v}")
        return ", ".join(parts)

    @property
    def reference(self) -> str:
        for k in ("reference", "reason", "note", "name"):
            v = self.data.get(k)
            if v:
                return str(v)
        return ""


def event_rows(
    conn: Connection, events: Sequence[StoredEvent], at: int, links: Links
) -> list[EventRow]:
    names = names_of(conn, at)
    ids = [e.event_id for e in events]
    reversals: dict[str, int] = {}
    if ids:
        c = lt.events.c
        for row in conn.execute(
            select(c.reverses_event_id, c.position).where(
                c.reverses_event_id.in_(ids), c.position <= at
            )
        ):
            reversals[str(row.reverses_event_id)] = int(row.position)
    return [
        EventRow(
            e,
            json.loads(e.payload),
            reversals.get(e.event_id),
            links.to("board_event", position=e.position),
            names,
        )
        for e in events
    ]


def event_log(conn: Connection, at: AsAt, links: Links, pool_id: str, after: int) -> dict[str, Any]:
    pos = at.position
    pool = pool_at(conn, pool_id, pos)
    if pool is None:
        raise NotFound(f"there is no pool '{pool_id}' as at ledger position {pos}")
    events = read_range(conn, after, PAGE_SIZE + 1, pool_id=pool_id, upto=pos)
    more = len(events) > PAGE_SIZE
    events = events[:PAGE_SIZE]
    return {
        "pool": pool,
        "rows": event_rows(conn, events, pos, links),
        "after": after,
        "next_after": events[-1].position if more and events else None,
    }


def event_detail(conn: Connection, at: AsAt, links: Links, position: int) -> dict[str, Any]:
    found = get_by_positions(conn, [position])
    if not found or position > at.head:
        raise NotFound(f"there is no event at ledger position {position}")
    e = found[0]
    previous = hash_at(conn, position - 1)
    row = event_rows(conn, found, at.head, links)[0]
    reversal = None
    if row.reversed_at is not None:
        reversal = links.to("board_event", position=row.reversed_at)
    target = None
    if e.reverses_event_id:
        t = get_event(conn, e.reverses_event_id)
        if t is not None:
            target = (t.position, links.to("board_event", position=t.position))
    return {
        "e": e,
        "row": row,
        "previous_hash": previous,
        "payload": json.dumps(json.loads(e.payload), indent=2, sort_keys=True),
        "meta": json.loads(e.request_meta) if e.request_meta else None,
        "reversal": reversal,
        "target": target,
        "known_then": position <= at.position,
    }

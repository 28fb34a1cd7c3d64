"""Events as the board pages show them: a row per event (what it concerns, whether
it was reversed), a pool's event log a page at a time, and one event in detail."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, or_, select

from api.board import officers
from api.board.auth import BoardUser
from api.board.names import Names, as_id, names_at
from api.board.pages.shared import names_of, unit_name
from api.board.web import AsAt, Links
from ledger.domain.errors import NotFound
from ledger.store import tables as lt
from ledger.store.reads import (
    StoredEvent,
    get_by_positions,
    get_event,
    hash_at,
    read_range,
    row_to_stored,
)
from projections.parties import pool_at

PAGE_SIZE = 50


@dataclass(frozen=True)
class EventRow:
    e: StoredEvent
    data: dict[str, Any]
    reversed_at: int | None  # the position of its reversal, as at the page's position
    href: str | None  # None: outside an officer's scope, not opened from the board
    names: Names = field(default_factory=Names)

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
        """What the event is about, in words: the partner's name, the scheme's, ..."""
        n = self.names

        def name(party: dict[str, Any]) -> str:
            pid = party.get("partner_id")
            return n.partner(pid) if pid else n.pool(str(party.get("pool_id")))

        if self.e.type == "transfer_posted":
            frm = self.data.get("from_party") or {}
            to = self.data.get("to_party") or {}
            return f"{name(frm)} → {name(to)} ({self.data.get('purpose', '')})"
        parts = []
        pid = self.data.get("partner_id")
        if pid:
            parts.append(n.partner(pid))
        named = (
            ("scheme_id", n.scheme),
            ("funding_stream", n.stream),
            ("metric_id", n.metric),
        )
        for k, label in named:
            v = self.data.get(k)
            if v:
                parts.append(label(str(v)))
        for k, word in (("unit_id", "unit"), ("service_id", "service"), ("period", "period")):
            v = self.data.get(k)
            if v:
                if k == "unit_id":
                    parts.append(f"{word} {unit_name(str(v))}")
                elif k == "service_id":  # services have no name in the ledger
                    parts.append(f"{word} {as_id(str(v))}")
                else:
                    parts.append(f"{word} {v}")
        return ", ".join(parts)

    @property
    def reference(self) -> str:
        """The posting's reference ("BACS 4471"), as the postings search finds it."""
        v = self.data.get("reference")
        return str(v) if v else ""

    @property
    def note(self) -> str:
        """A reversal's reason, or a note or name the event carries."""
        for k in ("reason", "note", "name"):
            v = self.data.get(k)
            if v:
                return str(v)
        return ""


def event_rows(
    conn: Connection,
    events: Sequence[StoredEvent],
    at: int,
    links: Links,
    partner: str | None = None,
) -> list[EventRow]:
    """``partner``: an officer's scope (:func:`api.board.officers.partner_scope`);
    events outside it are listed without a link to their detail."""
    pools = {e.pool_id for e in events}
    names = names_at(conn, at, pools.pop() if len(pools) == 1 else None)
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
            links.to("board_event", position=e.position) if officers.may_see(e, partner) else None,
            names,
        )
        for e in events
    ]


def event_log(
    conn: Connection,
    at: AsAt,
    links: Links,
    pool_id: str,
    after: int,
    partner: str | None = None,
) -> dict[str, Any]:
    """A page of the pool's events; ``partner``: only those in an officer's scope."""
    pos = at.position
    pool = pool_at(conn, pool_id, pos)
    if pool is None:
        raise NotFound(f"there is no pool '{pool_id}' as at ledger position {pos}")
    if partner is None:
        events = read_range(conn, after, PAGE_SIZE + 1, pool_id=pool_id, upto=pos)
    else:
        events = _scoped_range(conn, after, PAGE_SIZE + 1, pool_id, pos, partner)
    more = len(events) > PAGE_SIZE
    events = events[:PAGE_SIZE]
    return {
        "pool": pool,
        "rows": event_rows(conn, events, pos, links),
        "after": after,
        "next_after": events[-1].position if more and events else None,
        "scoped_to": names_of(conn, pos).get(partner, partner) if partner else None,
    }


def _scoped_range(
    conn: Connection, after: int, limit: int, pool_id: str, upto: int, partner: str
) -> list[StoredEvent]:
    c = lt.events.c
    query = (
        select(lt.events)
        .where(
            c.pool_id == pool_id,
            c.position > after,
            c.position <= upto,
            or_(
                c.partner_id == partner, c.counterparty_id == partner, c.actor_partner_id == partner
            ),
        )
        .order_by(c.position)
        .limit(limit)
    )
    return [row_to_stored(r) for r in conn.execute(query)]


def event_detail(
    conn: Connection, at: AsAt, links: Links, position: int, user: BoardUser | None = None
) -> dict[str, Any]:
    found = get_by_positions(conn, [position])
    if not found or position > at.head:
        raise NotFound(f"there is no event at ledger position {position}")
    e = found[0]
    if user is not None and officers.is_officer(user):
        if e.pool_id is None:
            raise officers.OfficerRefused(
                "You cannot see this page",
                "This event is not about a pool: finance officers see only their "
                "partner's pools' events.",
            )
        officers.check_pool(conn, user, e.pool_id)
        if not officers.may_see(e, officers.partner_scope(conn, user, e.pool_id)):
            raise officers.OfficerRefused(
                "You cannot see this page",
                f"A finance officer of {user.partner_id} sees the events naming its "
                "partner or recorded by its officers; this event is neither.",
            )
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
        "pool_name": row.names.pool(e.pool_id) if e.pool_id else "",
        "actor_partner": row.names.partner(e.actor_partner_id) if e.actor_partner_id else "",
    }

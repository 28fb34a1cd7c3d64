"""A pool's postings as at a position, filtered and paged: what a finance officer
searches to find the posting it must correct.

A posting is a contribution, refund, expenditure, credit or transfer event of the
pool (opening balances, forecasts and facts are not postings). The list reads the
event log itself (its indexed columns, and the payload for the reference and
amount), so each posting carries what was recorded: its reference, its actor, its
recorded time. "Reversed" means a reversal of it exists at or before the position
asked about; the reversal itself is not listed (it is not a posting).

``visible_to`` limits the list to what one partner's finance officer may see: the
postings naming its partner (the contributor or refund's partner, either party of a
transfer) and the postings its partner's officers recorded. The host's officers see
the whole pool's (they post for every member), and the route passes None for them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import JSON, BigInteger, Connection, and_, cast, func, or_, select
from sqlalchemy.orm import aliased

from ledger.store import tables as lt

KIND_OF_TYPE = {
    "contribution_posted": "contribution",
    "contribution_refunded": "refund",
    "expenditure_recorded": "expenditure",
    "expenditure_credited": "credit",
    "transfer_posted": "transfer",
}
TYPE_OF_KIND = {kind: type_ for type_, kind in KIND_OF_TYPE.items()}
KINDS = tuple(TYPE_OF_KIND)


@dataclass(frozen=True)
class PostingFilter:
    kinds: tuple[str, ...] = ()  # empty: every kind
    partner: str | None = None  # the contributor, refund's partner or a party of a transfer
    scheme: str | None = None
    stream: str | None = None
    year: str | None = None
    effective_from: date | None = None
    effective_to: date | None = None
    recorded_from: str | None = None  # stored form, inclusive
    recorded_to: str | None = None  # stored form, inclusive
    reference: str | None = None  # a case-insensitive part of the reference
    amount_min: int | None = None  # pence, inclusive
    amount_max: int | None = None
    reversed: bool | None = None  # None: both
    visible_to: str | None = None  # a partner whose officer asks (None: the whole pool)


@dataclass(frozen=True)
class Posting:
    position: int
    event_id: str
    kind: str
    type: str
    year: str | None
    effective_date: date | None
    recorded_at: str
    actor: str
    actor_role: str
    actor_partner_id: str | None
    partner_id: str | None  # the contributor or refund's partner; a transfer's payer
    counterparty_id: str | None  # a transfer's payee partner
    scheme_id: str | None
    funding_stream: str | None
    amount: int  # pence, as posted
    reference: str
    prior_period_adjustment: bool
    payload: dict[str, Any]
    reversed_by_position: int | None
    reversed_by_event_id: str | None


@dataclass(frozen=True)
class PostingsPage:
    postings: list[Posting]
    next_after: int | None  # the cursor of the next page; None on the last


def postings_at(
    conn: Connection,
    pool_id: str,
    at: int,
    flt: PostingFilter,
    *,
    after: int = 0,
    limit: int | None = 100,
) -> PostingsPage:
    """The pool's postings as at ``at`` matching ``flt``, in position order, from the
    first position after ``after``; at most ``limit`` (None: all)."""
    e = lt.events.c
    r = aliased(lt.events, name="r")
    reference = _payload_text(conn, "reference")
    amount = cast(_payload_text(conn, "amount"), BigInteger)
    types = [TYPE_OF_KIND[k] for k in flt.kinds] if flt.kinds else list(KIND_OF_TYPE)
    q = (
        select(
            e.position,
            e.event_id,
            e.type,
            e.year,
            e.effective_date,
            e.recorded_at,
            e.actor,
            e.actor_role,
            e.actor_partner_id,
            e.partner_id,
            e.counterparty_id,
            e.scheme_id,
            e.funding_stream,
            e.payload,
            r.c.position.label("reversed_by_position"),
            r.c.event_id.label("reversed_by_event_id"),
        )
        .select_from(
            lt.events.outerjoin(r, and_(r.c.reverses_event_id == e.event_id, r.c.position <= at))
        )
        .where(
            e.pool_id == pool_id,
            e.type.in_(types),
            e.position <= at,
            e.position > after,
        )
    )
    if flt.partner is not None:
        q = q.where(or_(e.partner_id == flt.partner, e.counterparty_id == flt.partner))
    if flt.visible_to is not None:
        me = flt.visible_to
        q = q.where(or_(e.partner_id == me, e.counterparty_id == me, e.actor_partner_id == me))
    for col, value in (
        (e.scheme_id, flt.scheme),
        (e.funding_stream, flt.stream),
        (e.year, flt.year),
    ):
        if value is not None:
            q = q.where(col == value)
    if flt.effective_from is not None:
        q = q.where(e.effective_date >= flt.effective_from)
    if flt.effective_to is not None:
        q = q.where(e.effective_date <= flt.effective_to)
    if flt.recorded_from is not None:
        q = q.where(e.recorded_at >= flt.recorded_from)
    if flt.recorded_to is not None:
        q = q.where(e.recorded_at <= flt.recorded_to)
    if flt.reference:
        q = q.where(func.lower(reference).contains(flt.reference.lower(), autoescape=True))
    if flt.amount_min is not None:
        q = q.where(amount >= flt.amount_min)
    if flt.amount_max is not None:
        q = q.where(amount <= flt.amount_max)
    if flt.reversed is True:
        q = q.where(r.c.position.is_not(None))
    elif flt.reversed is False:
        q = q.where(r.c.position.is_(None))
    q = q.order_by(e.position)
    if limit is not None:
        q = q.limit(limit + 1)
    rows = conn.execute(q).all()
    more = limit is not None and len(rows) > limit
    found = [_posting(x) for x in (rows[:limit] if limit is not None else rows)]
    return PostingsPage(found, found[-1].position if more and found else None)


def _payload_text(conn: Connection, key: str) -> Any:
    """A top-level payload field as text, in the dialect's JSON functions (SQLite's
    ``CAST(... AS JSON)`` would give the text numeric affinity, so no generic form)."""
    if conn.dialect.name == "sqlite":
        return func.json_extract(lt.events.c.payload, f"$.{key}")
    return func.json_extract_path_text(cast(lt.events.c.payload, JSON), key)


def _posting(x: Any) -> Posting:
    data = json.loads(x.payload)
    return Posting(
        position=int(x.position),
        event_id=x.event_id,
        kind=KIND_OF_TYPE[x.type],
        type=x.type,
        year=x.year,
        effective_date=x.effective_date,
        recorded_at=x.recorded_at,
        actor=x.actor,
        actor_role=x.actor_role,
        actor_partner_id=x.actor_partner_id,
        partner_id=x.partner_id,
        counterparty_id=x.counterparty_id,
        scheme_id=x.scheme_id,
        funding_stream=x.funding_stream,
        amount=int(data["amount"]),
        reference=str(data.get("reference", "")),
        prior_period_adjustment=bool(data.get("prior_period_adjustment", False)),
        payload=data,
        reversed_by_position=(
            int(x.reversed_by_position) if x.reversed_by_position is not None else None
        ),
        reversed_by_event_id=x.reversed_by_event_id,
    )

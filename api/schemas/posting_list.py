"""The postings list (``GET /v1/pools/{pool}/postings``) and its CSV export."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel

from api.schemas.fields import response_config
from ledger.domain.money import format_pence
from projections.postings import Posting, PostingsPage

_POSTING_EXAMPLE = {
    "position": 42,
    "event_id": "0b7a1f66-3c55-4a37-9a4e-2f1d6f0f8a11",
    "kind": "contribution",
    "type": "contribution_posted",
    "year": "2025-26",
    "effective_date": "2025-07-01",
    "recorded_at": "2025-07-01T09:47:50.123456Z",
    "recorded_by": "Pat Officer (finance_officer)",
    "recorded_by_partner_id": "city",
    "partner_id": "city",
    "counterparty_id": None,
    "from_pool_id": None,
    "to_pool_id": None,
    "scheme_id": None,
    "funding_stream": "contribution",
    "amount": "250000.00",
    "reference": "BACS 4471",
    "prior_period_adjustment": False,
    "reversed": False,
    "reversed_by_position": None,
    "reversed_by_event_id": None,
}


class PostingPublic(BaseModel):
    """One posting as recorded, with whether it has been reversed (as at the read)."""

    model_config = response_config(_POSTING_EXAMPLE)
    position: int
    event_id: str
    kind: str
    type: str
    year: str | None
    effective_date: date | None
    recorded_at: str
    recorded_by: str
    recorded_by_partner_id: str | None
    partner_id: str | None
    counterparty_id: str | None
    from_pool_id: str | None
    to_pool_id: str | None
    scheme_id: str | None
    funding_stream: str | None
    amount: str
    reference: str
    prior_period_adjustment: bool
    reversed: bool
    reversed_by_position: int | None
    reversed_by_event_id: str | None


class PostingsPagePublic(BaseModel):
    model_config = response_config(
        {
            "pool_id": "eq",
            "as_at_position": 1200,
            "after": 0,
            "limit": 100,
            "next_after": None,
            "postings": [_POSTING_EXAMPLE],
        }
    )
    pool_id: str
    as_at_position: int
    after: int
    limit: int
    next_after: int | None
    postings: list[PostingPublic]


def _party(p: Posting, side: str) -> str | None:
    party = p.payload.get(side)
    if isinstance(party, dict):
        pool = party.get("pool_id")
        return pool if isinstance(pool, str) else None
    return None


def posting_public(p: Posting) -> PostingPublic:
    return PostingPublic(
        position=p.position,
        event_id=p.event_id,
        kind=p.kind,
        type=p.type,
        year=p.year,
        effective_date=p.effective_date,
        recorded_at=p.recorded_at,
        recorded_by=p.actor,
        recorded_by_partner_id=p.actor_partner_id,
        partner_id=p.partner_id,
        counterparty_id=p.counterparty_id,
        from_pool_id=_party(p, "from_party"),
        to_pool_id=_party(p, "to_party"),
        scheme_id=p.scheme_id,
        funding_stream=p.funding_stream,
        amount=format_pence(p.amount),
        reference=p.reference,
        prior_period_adjustment=p.prior_period_adjustment,
        reversed=p.reversed_by_position is not None,
        reversed_by_position=p.reversed_by_position,
        reversed_by_event_id=p.reversed_by_event_id,
    )


def postings_page_public(
    pool: str, at: int, after: int, limit: int, page: PostingsPage
) -> PostingsPagePublic:
    return PostingsPagePublic(
        pool_id=pool,
        as_at_position=at,
        after=after,
        limit=limit,
        next_after=page.next_after,
        postings=[posting_public(p) for p in page.postings],
    )


CSV_COLUMNS = tuple(PostingPublic.model_fields)
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """A cell's text, with a leading ``'`` on text a spreadsheet would read as a formula
    (starting with = + - @, a tab or a carriage return). Amounts are written by the
    ledger, not a client, and are never prefixed (a negative amount stays a number)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def postings_csv_rows(postings: list[PostingPublic]) -> list[list[str]]:
    rows = [list(CSV_COLUMNS)]
    for p in postings:
        d = p.model_dump(mode="json")
        rows.append([d["amount"] if k == "amount" else safe_cell(d[k]) for k in CSV_COLUMNS])
    return rows

"""A pool's postings (searched, paged, exported) and a year's plan, as at any moment.

Who sees which postings: board, auditor and admin every posting of the pool; the
host partner's finance officers too (they post for every member); any other member's
officers only the postings naming their partner or recorded by its officers
(``projections.postings``)."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import Depends, Path, Query, Request, Response
from sqlalchemy import Connection, select

from api.deps import AsAt, PoolRead, PoolReadDep
from api.routes import new_router
from api.schemas.fields import AmountOrZero, Slug, Year
from api.schemas.plan_public import PlanPublic, plan_public
from api.schemas.posting_list import (
    PostingsPagePublic,
    postings_csv_rows,
    postings_page_public,
)
from api.schemas.receivables import ReceivablesPublic, receivables_public
from ledger.clock import (
    LONDON,
    Clock,
    format_instant,
    london_today,
)
from ledger.domain.errors import ValidationFailed
from ledger.store import tables as lt
from projections.asat import WHEN_PATTERN, as_at_london_date, parse_as_at
from projections.base import pool_row
from projections.postings import KINDS, PostingFilter, PostingsPage, postings_at
from projections.receivables import ReceivablesView, receivables_at

router = new_router(tags=["figures"])

_MAX_PAGE = 1000


def _recorded(field: str, text: str | None, *, end: bool) -> str | None:
    """A recorded-time bound in the stored form: an RFC 3339 instant, or a date (its
    London day's first instant for ``recorded_from``, its last for ``recorded_to``),
    read and range-checked by the one as-at parser."""
    if text is None or text == "":
        return None
    t = text.strip()
    parsed = parse_as_at(t, field)
    if isinstance(parsed, int):
        raise ValidationFailed.field(field, "must be an RFC 3339 instant or a date (YYYY-MM-DD)")
    if len(t) == 10 and not end:
        d = date.fromisoformat(t)
        return format_instant(datetime(d.year, d.month, d.day, tzinfo=LONDON))
    return parsed


_KIND_DOC = "only these kinds (repeat for several): " + ", ".join(KINDS)


def _filter(
    read: PoolRead,
    kind: list[str] | None,
    partner: str | None,
    scheme: str | None,
    funding_stream: str | None,
    year: str | None,
    effective_from: date | None,
    effective_to: date | None,
    recorded_from: str | None,
    recorded_to: str | None,
    reference: str | None,
    amount_min: int | None,
    amount_max: int | None,
    reversed: bool | None,
) -> PostingFilter:
    kinds = tuple(kind or ())
    for k in kinds:
        if k not in KINDS:
            raise ValidationFailed.field(
                "kind", f"'{k[:30]}' is not a kind: use {', '.join(KINDS)}"
            )
    visible_to = None
    actor = read.actor
    if actor.role == "finance_officer":
        host = pool_row(read.conn, read.pool, read.head).host_partner_id
        if actor.partner_id != host:
            visible_to = actor.partner_id
    return PostingFilter(
        kinds=kinds,
        partner=partner,
        scheme=scheme,
        stream=funding_stream,
        year=year,
        effective_from=effective_from,
        effective_to=effective_to,
        recorded_from=_recorded("recorded_from", recorded_from, end=False),
        recorded_to=_recorded("recorded_to", recorded_to, end=True),
        reference=reference,
        amount_min=amount_min,
        amount_max=amount_max,
        reversed=reversed,
        visible_to=visible_to,
    )


KindQuery = Annotated[
    list[str] | None,
    Query(
        description=_KIND_DOC,
        examples=["contribution"],
        json_schema_extra={"items": {"enum": list(KINDS)}},  # checked by _filter
    ),
]
PartnerQuery = Annotated[
    Slug | None,
    Query(description="postings naming this partner (contributor, or either party of a transfer)"),
]
SchemeQuery = Annotated[Slug | None, Query(description="only this scheme's spend and credits")]
StreamQuery = Annotated[
    str | None,
    Query(max_length=60, description="only this funding stream", examples=["contribution"]),
]
YearFilter = Annotated[
    Year | None, Query(description="only this financial year", examples=["2025-26"])
]
DateQuery = Annotated[date | None, Query(description="effective date bound, inclusive")]
RecordedQuery = Annotated[
    str | None,
    Query(
        max_length=40,
        description="recorded time bound, inclusive: an RFC 3339 instant or a date "
        "(from: the start of that London day; to: its end), in 1900-2999",
        json_schema_extra={"pattern": WHEN_PATTERN},  # checked by the as-at parser
    ),
]
ReferenceQuery = Annotated[
    str | None,
    Query(max_length=120, description="a part of the reference, any case", examples=["BACS 4471"]),
]
AmountQuery = Annotated[AmountOrZero | None, Query(description="amount bound in pounds, inclusive")]
ReversedQuery = Annotated[
    bool | None, Query(description="true: only reversed postings; false: only standing ones")
]
AfterQuery = Annotated[
    int,
    Query(ge=0, le=10**18, description="the cursor: next_after of the previous page (0: first)"),
]
LimitQuery = Annotated[int, Query(ge=1, le=_MAX_PAGE, description="at most 1000 per page")]


def _csv(request_pool: str, at: int, rows: list[list[str]]) -> Response:
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    return Response(
        buf.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{request_pool}-postings.csv"',
            "X-As-At-Position": str(at),
        },
    )


_CSV_DOC: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {
            "text/csv": {"example": "position,event_id,kind,...\r\n42,0b7a...,contribution,...\r\n"}
        },
        "description": "JSON, or CSV of every matching posting (no paging) with Accept: text/csv",
    }
}


def _wants_csv(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "text/csv" in accept and "application/json" not in accept


def postings_filter(
    pool: PoolReadDep,
    kind: KindQuery = None,
    partner: PartnerQuery = None,
    scheme: SchemeQuery = None,
    funding_stream: StreamQuery = None,
    year: YearFilter = None,
    effective_from: DateQuery = None,
    effective_to: DateQuery = None,
    recorded_from: RecordedQuery = None,
    recorded_to: RecordedQuery = None,
    reference: ReferenceQuery = None,
    amount_min: AmountQuery = None,
    amount_max: AmountQuery = None,
    reversed: ReversedQuery = None,
) -> PostingFilter:
    """The postings filters of a request, checked, with an officer's scope: one
    dependency for the JSON and the CSV routes, so both take exactly the same query."""
    return _filter(
        pool, kind, partner, scheme, funding_stream, year, effective_from, effective_to,
        recorded_from, recorded_to, reference, amount_min, amount_max, reversed,
    )  # fmt: skip


FilterDep = Annotated[PostingFilter, Depends(postings_filter)]


@router.get(
    "/v1/pools/{pool}/postings",
    response_model=PostingsPagePublic,
    responses=_CSV_DOC,
    summary="The pool's postings, searched and paged (officers: their partner's; host's "
    "officers, board, auditor: all); CSV with Accept: text/csv",
)
def list_postings(
    request: Request,
    pool: PoolReadDep,
    flt: FilterDep,
    as_at: AsAt = None,
    after: AfterQuery = 0,
    limit: LimitQuery = 100,
) -> Response:
    as_csv = _wants_csv(request)

    def ask(conn: Connection, at: int) -> tuple[int, PostingsPage]:
        return at, postings_at(
            conn, pool.pool, at, flt, after=after, limit=None if as_csv else limit
        )

    at, page = pool.answer(as_at, ask)
    out = postings_page_public(pool.pool, at, after, limit, page)
    if as_csv:
        return _csv(pool.pool, at, postings_csv_rows(out.postings))
    return Response(out.model_dump_json(), media_type="application/json")


@router.get(
    "/v1/pools/{pool}/postings.csv",
    response_class=Response,
    responses=_CSV_DOC,
    summary="The pool's postings as CSV (every matching posting; same filters and scope)",
)
def postings_csv(
    pool: PoolReadDep,
    flt: FilterDep,
    as_at: AsAt = None,
) -> Response:
    at, page = pool.answer(
        as_at, lambda conn, at: (at, postings_at(conn, pool.pool, at, flt, limit=None))
    )
    out = postings_page_public(pool.pool, at, 0, len(page.postings), page)
    return _csv(pool.pool, at, postings_csv_rows(out.postings))


@router.get(
    "/v1/pools/{pool}/years/{year}/plan",
    summary="The year's plan in force, in the shape it is agreed with (any role; officers: "
    "own pools)",
)
def read_plan(
    pool: PoolReadDep,
    year: Annotated[Year, Path(description="a financial year", examples=["2025-26"])],
    as_at: AsAt = None,
) -> PlanPublic:
    return pool.answer(as_at, lambda conn, at: plan_public(conn, pool.pool, year, at))


def through_date(conn: Connection, as_at: str | None, at: int, clock: Clock) -> date:
    """The London date the as-at counts to (``as_at_london_date``), reading the recorded
    time of its position; today's for position 0."""
    recorded = conn.execute(
        select(lt.events.c.recorded_at).where(lt.events.c.position == at)
    ).scalar()
    today = london_today(clock)
    return as_at_london_date(as_at, today, recorded) or today


@router.get(
    "/v1/pools/{pool}/receivables",
    summary="Who owes what: each partner's instalments due, received, overdue and aged, "
    "to the as-at's London date or `through` (any role; officers: own pools)",
)
def receivables(
    request: Request,
    pool: PoolReadDep,
    year: Annotated[Year, Query(description="a financial year", examples=["2025-26"])],
    as_at: AsAt = None,
    through: Annotated[
        date | None,
        Query(description="the date to count to (default: the as-at's London date)"),
    ] = None,
) -> ReceivablesPublic:
    clock: Clock = request.app.state.clock

    def ask(conn: Connection, at: int) -> ReceivablesView:
        to = through or through_date(conn, as_at, at, clock)
        return receivables_at(conn, pool.pool, year, at, to)

    return receivables_public(pool.answer(as_at, ask))

"""The BCF return's further parts: post each (the host's finance officer; the HWB's
sign-off by an admin) and read a pool-quarter's parts, with what is still missing, as
at any position."""

from __future__ import annotations

from typing import Annotated, Protocol

from fastapi import Path

from api.deps import AsAt, LedgerDep, PoolReadDep, WriterDep
from api.routes import new_router
from api.schemas.events import WriteResult
from api.schemas.fields import QuarterLabel, Slug, Year, parse_quarter_label
from api.schemas.return_parts import (
    AssuranceCreate,
    ContactsCreate,
    FeeRatesCreate,
    IncomeCommentaryCreate,
    MetricAssessmentCreate,
    PartsPublic,
    SchemeActivityCreate,
    SignOffCreate,
    YearEndFeedbackCreate,
    parts_public,
)
from ledger.domain import commands as c
from ledger.domain.return_parts import describe
from projections.returns.parts_status import parts_status

router = new_router(tags=["returns"], write=True)

PoolPath = Annotated[Slug, Path(description="the pool's id", examples=["bcf"])]
QuarterPath = Annotated[QuarterLabel, Path(description="a quarter", examples=["2025-26-Q2"])]
YearPath = Annotated[Year, Path(description="a financial year", examples=["2025-26"])]
BASE = "/v1/pools/{pool}/returns/{quarter}"


class QuarterPart(Protocol):
    """A quarter's return part as posted: it makes its command for the pool-quarter."""

    def command(self, pool: str, quarter: str) -> c.Command: ...


# (the route's name, its path under BASE, the body, its summary): one POST route each,
# written by the host's finance officer (the sign-off by an admin)
QUARTER_PARTS: tuple[tuple[str, str, type[QuarterPart], str], ...] = (
    (
        "assure",
        "national-conditions",
        AssuranceCreate,
        "Assure a national condition for a quarter's return: Yes, or No with why (host's officer)",
    ),
    (
        "assess",
        "metric-assessments",
        MetricAssessmentCreate,
        "Assess a metric's progress for the quarter, with narrative (host's officer)",
    ),
    (
        "activity",
        "scheme-activity",
        SchemeActivityCreate,
        "Record a scheme's planned and delivered outputs to the quarter (host's officer)",
    ),
    (
        "contacts",
        "contacts",
        ContactsCreate,
        "Record who completed the return and their contact (host's officer)",
    ),
    (
        "sign_off",
        "sign-off",
        SignOffCreate,
        "Record the Health and Wellbeing Board's sign-off of the return (admin)",
    ),
)


def _add_quarter_part(name: str, segment: str, body_type: type[QuarterPart], summary: str) -> None:
    def post_part(
        pool: PoolPath, quarter: QuarterPath, body: QuarterPart, write: WriterDep
    ) -> WriteResult:
        return write.one(body.command(pool, parse_quarter_label(quarter)))

    # FastAPI reads the body's model from the annotation: this route's own
    post_part.__annotations__ = {
        "pool": PoolPath,
        "quarter": QuarterPath,
        "body": body_type,
        "write": WriterDep,
        "return": WriteResult,
    }
    router.add_api_route(
        f"{BASE}/{segment}",
        post_part,
        methods=["POST"],
        name=name,  # FastAPI's operationId is made of it: the same as a function's name
        status_code=201,
        summary=summary,
    )


for _part in QUARTER_PARTS:
    _add_quarter_part(*_part)


@router.post(
    "/v1/pools/{pool}/years/{year}/fee-rates",
    status_code=201,
    summary="Record the year's average adult social care fee rates, before and after the "
    "uplift (host's officer; carried by the end-of-year return)",
)
def fee_rates(
    pool: PoolPath, year: YearPath, body: FeeRatesCreate, write: WriterDep
) -> WriteResult:
    return write.one(body.command(pool, year))


@router.post(
    "/v1/pools/{pool}/years/{year}/income-commentary",
    status_code=201,
    summary="Explain where the year's income differs from the plan (host's officer; "
    "carried by the end-of-year return)",
)
def income_commentary(
    pool: PoolPath, year: YearPath, body: IncomeCommentaryCreate, write: WriterDep
) -> WriteResult:
    return write.one(body.command(pool, year))


@router.post(
    "/v1/pools/{pool}/years/{year}/year-end-feedback",
    status_code=201,
    summary="Answer one of the year's end-of-year feedback statements, with a comment "
    "(host's officer; carried by the end-of-year return)",
)
def year_end_feedback(
    pool: PoolPath, year: YearPath, body: YearEndFeedbackCreate, write: WriterDep
) -> WriteResult:
    return write.one(body.command(pool, year))


@router.get(
    f"{BASE}/parts",
    summary="A quarter's return parts and what is still missing, as at any moment (any role)",
)
def parts(
    pool: PoolReadDep, quarter: QuarterPath, ledger: LedgerDep, as_at: AsAt = None
) -> PartsPublic:
    label = parse_quarter_label(quarter)
    view, missing = pool.answer(
        as_at, lambda conn, at: parts_status(conn, pool.pool, label, at, ledger.reference)
    )
    return parts_public(view, missing, [describe(k) for k in missing])

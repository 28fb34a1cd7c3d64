"""The BCF return's further parts: post each (the host's finance officer; the HWB's
sign-off by an admin) and read a pool-quarter's parts, with what is still missing, as
at any position."""

from __future__ import annotations

from typing import Annotated

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
from ledger.domain.return_parts import describe
from projections.returns.parts_status import parts_status

router = new_router(tags=["returns"], write=True)

PoolPath = Annotated[Slug, Path(description="the pool's id", examples=["bcf"])]
QuarterPath = Annotated[QuarterLabel, Path(description="a quarter", examples=["2025-26-Q2"])]
YearPath = Annotated[Year, Path(description="a financial year", examples=["2025-26"])]
BASE = "/v1/pools/{pool}/returns/{quarter}"


@router.post(
    f"{BASE}/national-conditions",
    status_code=201,
    summary="Assure a national condition for a quarter's return: Yes, or No with why "
    "(host's officer)",
)
def assure(
    pool: PoolPath, quarter: QuarterPath, body: AssuranceCreate, write: WriterDep
) -> WriteResult:
    return write.one(body.command(pool, parse_quarter_label(quarter)))


@router.post(
    f"{BASE}/metric-assessments",
    status_code=201,
    summary="Assess a metric's progress for the quarter, with narrative (host's officer)",
)
def assess(
    pool: PoolPath, quarter: QuarterPath, body: MetricAssessmentCreate, write: WriterDep
) -> WriteResult:
    return write.one(body.command(pool, parse_quarter_label(quarter)))


@router.post(
    f"{BASE}/scheme-activity",
    status_code=201,
    summary="Record a scheme's planned and delivered outputs to the quarter (host's officer)",
)
def activity(
    pool: PoolPath, quarter: QuarterPath, body: SchemeActivityCreate, write: WriterDep
) -> WriteResult:
    return write.one(body.command(pool, parse_quarter_label(quarter)))


@router.post(
    f"{BASE}/contacts",
    status_code=201,
    summary="Record who completed the return and their contact (host's officer)",
)
def contacts(
    pool: PoolPath, quarter: QuarterPath, body: ContactsCreate, write: WriterDep
) -> WriteResult:
    return write.one(body.command(pool, parse_quarter_label(quarter)))


@router.post(
    f"{BASE}/sign-off",
    status_code=201,
    summary="Record the Health and Wellbeing Board's sign-off of the return (admin)",
)
def sign_off(
    pool: PoolPath, quarter: QuarterPath, body: SignOffCreate, write: WriterDep
) -> WriteResult:
    return write.one(body.command(pool, parse_quarter_label(quarter)))


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

"""Money and facts: opening balance, contributions, refunds, spend, credits, transfers,
forecasts, alliance results, corrections, closing and settlement."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

from api.deps import ReaderDep, WriterDep
from api.routes import new_router
from api.schemas.events import WriteResult
from api.schemas.fields import EventId, QuarterLabel, Slug, Year, parse_quarter_label
from api.schemas.postings import (
    ContributionCreate,
    CreditCreate,
    ExpenditureCreate,
    ForecastCreate,
    MetricCreate,
    OpeningBalanceCreate,
    OutcomeAssessmentCreate,
    PopulationCreate,
    RefundCreate,
    ReversalCreate,
    RiskRewardResultCreate,
    TransferCreate,
)
from filing.settlement import settlement_command
from ledger.domain import commands as c

router = new_router(tags=["postings"], write=True)

PoolPath = Annotated[Slug, Path(description="the pool's id", examples=["eq"])]


@router.post(
    "/v1/pools/{pool}/opening-balance",
    status_code=201,
    summary="Record the balance brought in (admin; first year only; may be negative)",
)
def opening_balance(pool: PoolPath, body: OpeningBalanceCreate, write: WriterDep) -> WriteResult:
    return write.one(body.command(pool))


@router.post(
    "/v1/pools/{pool}/contributions",
    status_code=201,
    summary="Post a contribution received (officer of the payer, or of the host)",
)
def post_contribution(pool: PoolPath, body: ContributionCreate, write: WriterDep) -> WriteResult:
    return write.one(body.command(pool))


@router.post(
    "/v1/pools/{pool}/refunds",
    status_code=201,
    summary="Refund a contribution to a partner (host's officer)",
)
def refund_contribution(pool: PoolPath, body: RefundCreate, write: WriterDep) -> WriteResult:
    return write.one(body.command(pool))


@router.post(
    "/v1/pools/{pool}/expenditures",
    status_code=201,
    summary="Record spend against a scheme (host's officer)",
)
def record_expenditure(pool: PoolPath, body: ExpenditureCreate, write: WriterDep) -> WriteResult:
    return write.one(body.command(pool))


@router.post(
    "/v1/pools/{pool}/credits",
    status_code=201,
    summary="Record a credit note against a scheme (host's officer)",
)
def credit_expenditure(pool: PoolPath, body: CreditCreate, write: WriterDep) -> WriteResult:
    return write.one(body.command(pool))


@router.post(
    "/v1/transfers",
    status_code=201,
    summary="Post a transfer between partners or a partner and a pool (officer of the payer)",
)
def post_transfer(body: TransferCreate, write: WriterDep) -> WriteResult:
    return write.one(body.command())


@router.post(
    "/v1/pools/{pool}/forecasts",
    status_code=201,
    summary="Record a forecast outturn, whole pool or one scheme (host's officer)",
)
def record_forecast(pool: PoolPath, body: ForecastCreate, write: WriterDep) -> WriteResult:
    return write.one(body.command(pool))


@router.post(
    "/v1/pools/{pool}/risk-reward-results",
    status_code=201,
    summary="Record an alliance scheme's costs and savings for a period (host's officer)",
)
def record_risk_reward(
    pool: PoolPath, body: RiskRewardResultCreate, write: WriterDep
) -> WriteResult:
    return write.one(body.command(pool))


@router.post(
    "/v1/pools/{pool}/populations",
    status_code=201,
    summary="Record a unit's population in a cohort from a date (host's officer)",
)
def record_population(pool: PoolPath, body: PopulationCreate, write: WriterDep) -> WriteResult:
    return write.one(body.command(pool))


@router.post(
    "/v1/pools/{pool}/outcome-assessments",
    status_code=201,
    summary="Record whether a commissioned outcome was met (host's officer)",
)
def assess_outcome(pool: PoolPath, body: OutcomeAssessmentCreate, write: WriterDep) -> WriteResult:
    return write.one(body.command(pool))


@router.post(
    "/v1/pools/{pool}/metrics",
    status_code=201,
    summary="Record a metric's target and actual for a period (host's officer)",
)
def record_metric(pool: PoolPath, body: MetricCreate, write: WriterDep) -> WriteResult:
    return write.one(body.command(pool))


@router.post(
    "/v1/events/{event_id}/reversal",
    status_code=201,
    summary="Reverse an event (officer of the poster's partner, or admin)",
)
def reverse_event(
    event_id: Annotated[EventId, Path(description="the event to reverse")],
    body: ReversalCreate,
    write: WriterDep,
) -> WriteResult:
    return write.one(body.command(event_id))


QuarterPath = Annotated[QuarterLabel, Path(description="a quarter", examples=["2025-26-Q1"])]


@router.post(
    "/v1/pools/{pool}/periods/{quarter}/close",
    status_code=201,
    summary="Close a quarter (admin; quarters close in order)",
)
def close_period(pool: PoolPath, quarter: QuarterPath, write: WriterDep) -> WriteResult:
    return write.one(c.ClosePeriod(pool_id=pool, quarter=parse_quarter_label(quarter)))


@router.post(
    "/v1/pools/{pool}/years/{year}/settle",
    status_code=201,
    summary="Fix each partner's risk share for the year (admin; after Q4 is closed)",
)
def settle_year(
    pool: PoolPath,
    year: Annotated[Year, Path(description="a financial year", examples=["2025-26"])],
    reader: ReaderDep,
    write: WriterDep,
) -> WriteResult:
    return write.one(settlement_command(reader.engine, pool, year))

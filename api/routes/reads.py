"""What the ledger answers (domain.md section 6), each as at any moment."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import Query, Request, Response

from api.deps import AsAt, PoolRead, PoolReadDep, ReaderDep
from api.routes import new_router
from api.schemas.alliance import (
    CapitationPublic,
    MetricsPublic,
    OutcomePaymentsPublic,
    RiskRewardPublic,
    capitation_public,
    metrics_public,
    outcome_payments_public,
    risk_reward_public,
)
from api.schemas.balances import (
    BalancesPublic,
    RiskSharePublic,
    balances_csv_rows,
    balances_figure,
    balances_public,
    risk_share_public,
)
from api.schemas.fields import Day, PeriodLabel, Year
from api.schemas.trace import TracePublic, traced_event
from ledger.clock import SystemClock, london_today
from ledger.domain.money import format_pence
from ledger.store.reads import get_by_positions
from projections.alliance import capitation_at, outcome_payments_at, risk_reward_at
from projections.asat import as_at_london_date
from projections.balances import balances_at, risk_share_at
from projections.metrics import metrics_at
from projections.queries import Reader
from projections.trace import FIGURE_PATTERN

router = new_router(tags=["figures"])

YearQuery = Annotated[Year, Query(description="a financial year", examples=["2025-26"])]
PeriodQuery = Annotated[
    PeriodLabel, Query(description="a year, quarter or month", examples=["2025-26-Q2"])
]
TraceQuery = Annotated[
    str | None,
    Query(
        max_length=120,
        description="name a figure to list the positions of the events behind it: "
        "partner:ID:FIELD (planned, share, received, transfers_in, transfers_out, "
        "risk_share, net_obligation, outstanding), pool:FIELD (planned, opening_balance, "
        "income, spend, transfers_in, transfers_out, balance, outturn, variance, "
        "risk_share), scheme:ID:FIELD (planned, actual, forecast, outturn), "
        "stream:ID:FIELD (planned, received) or quarter:Qn:FIELD (income, spend, "
        "transfers_in, transfers_out)",
        examples=["partner:ncc:received", "pool:spend", "scheme:equipment:actual"],
        # stated, not enforced here: the trace names the field in its own words
        json_schema_extra={"pattern": FIGURE_PATTERN},
    ),
]
Through = Annotated[
    Day | None,
    Query(
        description="only facts effective on or before this date count (domain.md 6.1, "
        "as at and through); default: no limit",
        examples=["2025-06-30"],
    ),
]


def as_at_date(request: Request, as_at: str | None) -> date | None:
    """The London date an as-at names, for the plan to date (6.1): today (by the app's
    clock) for none; None for a position (the projection reads its recorded time);
    ``projections.asat.as_at_london_date`` says the rest."""
    clock = getattr(request.app.state, "clock", None)
    return as_at_london_date(as_at, london_today(clock if clock is not None else SystemClock()))


CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {
            "text/csv": {
                "example": "partner_id,planned,received,...\r\nncc,2000000.00,1500000.00,...\r\n"
            }
        },
        "description": "JSON, or CSV with format=csv",
    }
}


def _csv(rows: list[list[str]], filename: str, position: int) -> Response:
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    return Response(
        buf.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "X-As-At-Position": str(position),
        },
    )


def trace_public(
    reader: Reader,
    pool: str,
    year: str,
    figure: str,
    at: int,
    value: str | None,
    through: date | None = None,
) -> TracePublic:
    """The positions behind ``figure`` as at ``at`` (and through ``through``, as the
    figure was read), each with the signed amount by which it counts in the figure."""
    traced = reader.traced(pool, year, figure, at, through=through)
    positions = traced.positions
    with reader.engine.connect() as conn:
        found = get_by_positions(conn, positions) if positions else []
    return TracePublic(
        figure=figure,
        value=value,
        positions=positions,
        events=[traced_event(e, traced.amounts[e.position]) for e in found],
        by_rule=format_pence(traced.by_rule) if traced.by_rule is not None else None,
    )


def _balances(
    read: PoolRead,
    year: str,
    as_at: str | None,
    trace: str | None,
    reader: Reader,
    through: date | None,
    on: date | None,
) -> BalancesPublic:
    """6.1 on the request's read connection (where the pool was checked): the head and
    the members are read once."""
    out = balances_public(
        read.answer(
            as_at,
            lambda conn, at: balances_at(
                conn, read.pool, year, at, read.members_at(at), through=through, on=on
            ),
        )
    )
    if trace is not None:
        value = balances_figure(out, trace)
        out.trace = trace_public(reader, read.pool, year, trace, out.as_at_position, value, through)
    return out


def _json(model: BalancesPublic) -> Response:
    """The model as FastAPI would send it for ``response_model``, without validating
    again what was just built from the same model (nor a thread hop to do so)."""
    return Response(model.model_dump_json(by_alias=True), media_type="application/json")


@router.get(
    "/v1/pools/{pool}/balances",
    response_model=BalancesPublic,
    responses=CSV_RESPONSE,
    summary="6.1 partner and pool balances for a year (any role; officers: own pools)",
)
def balances(
    request: Request,
    pool: PoolReadDep,
    year: YearQuery,
    reader: ReaderDep,
    as_at: AsAt = None,
    through: Through = None,
    trace: TraceQuery = None,
    format: Annotated[
        Literal["json", "csv"], Query(description="json or csv", examples=["csv"])
    ] = "json",
) -> Response:
    out = _balances(pool, year, as_at, trace, reader, through, as_at_date(request, as_at))
    if format == "csv":
        return _csv(balances_csv_rows(out), f"{pool.pool}-balances-{year}.csv", out.as_at_position)
    return _json(out)


@router.get(
    "/v1/pools/{pool}/balances.csv",
    response_class=Response,
    responses=CSV_RESPONSE,
    summary="6.1 balances as CSV (one row per partner, then the pool's figures)",
)
def balances_csv(
    request: Request,
    pool: PoolReadDep,
    year: YearQuery,
    reader: ReaderDep,
    as_at: AsAt = None,
    through: Through = None,
) -> Response:
    out = _balances(pool, year, as_at, None, reader, through, as_at_date(request, as_at))
    return _csv(balances_csv_rows(out), f"{pool.pool}-balances-{year}.csv", out.as_at_position)


@router.get(
    "/v1/pools/{pool}/risk-share",
    summary="6.2 the variance, the rule and each partner's risk share (any role)",
)
def risk_share(
    pool: PoolReadDep,
    year: YearQuery,
    reader: ReaderDep,
    as_at: AsAt = None,
    through: Through = None,
    trace: TraceQuery = None,
) -> RiskSharePublic:
    out = risk_share_public(
        pool.answer(
            as_at,
            lambda conn, at: risk_share_at(conn, pool.pool, year, at, through=through),
        )
    )
    if trace is not None:
        out.trace = trace_public(reader, pool.pool, year, trace, out.as_at_position, None)
    return out


@router.get(
    "/v1/pools/{pool}/risk-reward",
    summary="6.3 alliance gain/loss shares and settlements for a period (any role)",
)
def risk_reward(
    pool: PoolReadDep, period: PeriodQuery, as_at: AsAt = None, through: Through = None
) -> RiskRewardPublic:
    return risk_reward_public(
        pool.answer(
            as_at,
            lambda conn, at: risk_reward_at(conn, pool.pool, period, at, through=through),
        )
    )


@router.get(
    "/v1/pools/{pool}/capitation",
    summary="6.4 capitated allocations, annual and per quarter (any role)",
)
def capitation(
    pool: PoolReadDep, year: YearQuery, as_at: AsAt = None, through: Through = None
) -> CapitationPublic:
    return capitation_public(
        pool.answer(
            as_at,
            lambda conn, at: capitation_at(conn, pool.pool, year, at, through=through),
        )
    )


@router.get(
    "/v1/pools/{pool}/outcome-payments",
    summary="6.5 outcome-based payments per provider for a period (any role)",
)
def outcome_payments(
    pool: PoolReadDep, period: PeriodQuery, as_at: AsAt = None, through: Through = None
) -> OutcomePaymentsPublic:
    return outcome_payments_public(
        pool.answer(
            as_at,
            lambda conn, at: outcome_payments_at(conn, pool.pool, period, at, through=through),
        )
    )


@router.get(
    "/v1/pools/{pool}/metrics",
    summary="6.6 metrics with their status for a period (any role)",
)
def metrics(
    pool: PoolReadDep, period: PeriodQuery, as_at: AsAt = None, through: Through = None
) -> MetricsPublic:
    return metrics_public(
        pool.answer(
            as_at, lambda conn, at: metrics_at(conn, pool.pool, period, at, through=through)
        )
    )

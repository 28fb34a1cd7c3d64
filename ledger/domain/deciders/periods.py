"""Deciders for the year's course: forecasts, closing quarters, settling the risk share."""

from __future__ import annotations

from ledger.domain import commands as c
from ledger.domain import events as ev
from ledger.domain.deciders.checks import (
    Problems,
    check_in_life,
    pool_in_context,
    scheme_in_plan,
)
from ledger.domain.deciders.context import Context
from ledger.domain.errors import AlreadyExists, RuleViolation, ValidationFailed
from ledger.domain.periods import parse_quarter, parse_year


def decide_forecast(cmd: c.RecordForecast, ctx: Context) -> list[ev.Event]:
    pool = pool_in_context(ctx, cmd.pool_id)
    year = parse_year(cmd.year).label
    problems = Problems(ctx.refused)
    with problems.check("amount"):
        if cmd.amount < 0:
            raise ValidationFailed.field("amount", "a forecast outturn cannot be negative")
    with problems.check("year"):
        check_in_life(pool, year, "year")
    if cmd.scheme_id is not None:
        with problems.check("scheme_id", "year"):
            scheme_in_plan(pool, year, cmd.scheme_id)
    problems.raise_any()
    if year in pool.settled_years:
        raise RuleViolation(f"{year} is settled for pool '{pool.pool_id}'; forecasts are closed")
    return [
        ev.ForecastRecorded(
            pool_id=pool.pool_id,
            year=year,
            amount=cmd.amount,
            scheme_id=cmd.scheme_id,
            as_of_date=cmd.as_of_date,
        )
    ]


def decide_close(cmd: c.ClosePeriod, ctx: Context) -> list[ev.Event]:
    pool = pool_in_context(ctx, cmd.pool_id)
    q = parse_quarter(cmd.quarter)
    if pool.is_closed(q.label):
        raise AlreadyExists(f"{q.label} is already closed for pool '{pool.pool_id}'")
    if q.end >= ctx.today:
        raise RuleViolation(f"{q.label} has not ended yet (it ends {q.end.isoformat()})")
    if pool.closed_quarters:
        expected = parse_quarter(pool.closed_quarters[-1]).next()
        if q != expected:
            raise RuleViolation(
                f"quarters close in order: the next to close for pool "
                f"'{pool.pool_id}' is {expected.label}"
            )
    return [ev.PeriodClosed(pool_id=pool.pool_id, quarter=q.label, automatic=cmd.automatic)]


def decide_settle(cmd: c.SettleRiskShare, ctx: Context) -> list[ev.Event]:
    pool = pool_in_context(ctx, cmd.pool_id)
    fy = parse_year(cmd.year)
    if not pool.is_closed(fy.quarters[3].label):
        raise RuleViolation(
            f"{fy.label} can be settled only after {fy.quarters[3].label} is closed"
        )
    if fy.label in pool.settled_years:
        raise AlreadyExists(f"{fy.label} is already settled for pool '{pool.pool_id}'")
    return [ev.RiskShareSettled(**cmd.model_dump(exclude={"as_at_position"}))]

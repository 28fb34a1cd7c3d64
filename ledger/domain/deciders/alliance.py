"""Deciders for alliance facts: risk/reward results, populations, outcome assessments
and metrics."""

from __future__ import annotations

from ledger.domain import commands as c
from ledger.domain import events as ev
from ledger.domain.deciders.checks import (
    check_in_life,
    check_member,
    check_open_or_adjustment,
    check_slug,
    pool_in_context,
)
from ledger.domain.deciders.context import Context
from ledger.domain.errors import RuleViolation, ValidationFailed
from ledger.domain.periods import FinancialYear, parse_period, year_of


def decide_risk_reward(cmd: c.RecordRiskRewardResult, ctx: Context) -> list[ev.Event]:
    pool = pool_in_context(ctx, cmd.pool_id)
    period = parse_period(cmd.period)
    check_in_life(pool, year_of(period).label, "period")
    plan = pool.plan(year_of(period).label)
    if plan is None or all(s.id != cmd.scheme_id for s in plan.risk_reward_schemes):
        raise RuleViolation.field(
            "scheme_id",
            f"'{cmd.scheme_id}' is not a risk/reward scheme of the "
            f"plan for {year_of(period).label}",
        )
    for name, items in (("costs", cmd.costs), ("savings", cmd.savings)):
        seen: set[str] = set()
        for pa in items:
            check_member(pool, pa.partner_id, f"{name}.{pa.partner_id}")
            if pa.amount < 0:
                raise ValidationFailed.field(f"{name}.{pa.partner_id}", "must not be negative")
            if pa.partner_id in seen:
                raise ValidationFailed.field(f"{name}.{pa.partner_id}", "is given twice")
            seen.add(pa.partner_id)
    check_open_or_adjustment(pool, period.end, cmd.prior_period_adjustment, "period")
    return [
        ev.RiskRewardResultRecorded(
            pool_id=pool.pool_id,
            scheme_id=cmd.scheme_id,
            period=period.label,
            costs=cmd.costs,
            savings=cmd.savings,
            effective_date=period.end,
            prior_period_adjustment=cmd.prior_period_adjustment,
        )
    ]


def decide_population(cmd: c.RecordPopulation, ctx: Context) -> list[ev.Event]:
    pool = pool_in_context(ctx, cmd.pool_id)
    check_slug(cmd.unit_id, "unit_id")
    if cmd.count < 0:
        raise ValidationFailed.field("count", "must not be negative")
    year = FinancialYear.of(cmd.effective_date).label
    plan = pool.plan(year)
    if plan is None or plan.capitation is None:
        raise RuleViolation.field("effective_date", f"the plan for {year} has no capitated budget")
    if cmd.cohort not in {w.cohort for w in plan.capitation.weights}:
        raise RuleViolation.field(
            "cohort", f"'{cmd.cohort}' is not a cohort of the {year} capitation"
        )
    check_open_or_adjustment(pool, cmd.effective_date, cmd.prior_period_adjustment)
    return [
        ev.PopulationRecorded(
            pool_id=pool.pool_id,
            unit_id=cmd.unit_id,
            cohort=cmd.cohort,
            count=cmd.count,
            effective_date=cmd.effective_date,
            prior_period_adjustment=cmd.prior_period_adjustment,
        )
    ]


def decide_outcome(cmd: c.AssessOutcome, ctx: Context) -> list[ev.Event]:
    pool = pool_in_context(ctx, cmd.pool_id)
    period = parse_period(cmd.period)
    check_in_life(pool, year_of(period).label, "period")
    plan = pool.plan(year_of(period).label)
    service = (
        next((s for s in plan.commissioned_services if s.id == cmd.service_id), None)
        if plan
        else None
    )
    if service is None:
        raise RuleViolation.field(
            "service_id",
            f"'{cmd.service_id}' is not a commissioned service of "
            f"the plan for {year_of(period).label}",
        )
    if service.period != period.label:
        raise RuleViolation.field(
            "period", f"service '{service.id}' is commissioned for {service.period}"
        )
    if cmd.outcome_id not in service.outcomes:
        raise RuleViolation.field(
            "outcome_id", f"'{cmd.outcome_id}' is not an outcome of '{service.id}'"
        )
    check_open_or_adjustment(pool, period.end, cmd.prior_period_adjustment, "period")
    return [
        ev.OutcomeAssessed(
            pool_id=pool.pool_id,
            service_id=cmd.service_id,
            outcome_id=cmd.outcome_id,
            period=period.label,
            met=cmd.met,
            assessed_on=cmd.assessed_on,
            effective_date=period.end,
            prior_period_adjustment=cmd.prior_period_adjustment,
        )
    ]


def decide_metric(cmd: c.RecordMetric, ctx: Context) -> list[ev.Event]:
    pool = pool_in_context(ctx, cmd.pool_id)
    period = parse_period(cmd.period)
    year = year_of(period).label
    check_in_life(pool, year, "period")
    plan = pool.plan(year)
    ref = ctx.reference.for_year(year)
    known = {m.id for m in plan.metrics} if plan else set()
    known |= {m.id for m in ref.metrics} if ref else set()
    if cmd.metric_id not in known:
        raise RuleViolation.field(
            "metric_id", f"'{cmd.metric_id}' is not a metric defined for {year}"
        )
    check_open_or_adjustment(pool, period.end, cmd.prior_period_adjustment, "period")
    return [
        ev.MetricRecorded(
            pool_id=pool.pool_id,
            metric_id=cmd.metric_id,
            period=period.label,
            target=cmd.target,
            actual=cmd.actual,
            effective_date=period.end,
            prior_period_adjustment=cmd.prior_period_adjustment,
        )
    ]

"""Deciders for alliance facts: risk/reward results, populations, outcome assessments
and metrics.

Each independent check runs under ``Problems`` naming the fields it reads, so a body
with several bad fields is answered with each (and one refused for its shape at the
edge skips the checks that read it); a check that needs the period's year runs only
once the period is known to be in the pool's life."""

from __future__ import annotations

from ledger.domain import commands as c
from ledger.domain import events as ev
from ledger.domain.deciders.checks import (
    Problems,
    check_in_life,
    check_member,
    check_open_or_adjustment,
    check_slug,
    pool_in_context,
)
from ledger.domain.deciders.context import Context
from ledger.domain.errors import RuleViolation, ValidationFailed
from ledger.domain.periods import FinancialYear, Period, parse_period, year_of
from ledger.domain.state import PoolState


def _period_in_life(pool: PoolState, label: str) -> tuple[Period, str]:
    """The period and its year, which must be in the pool's life (naming ``period``)."""
    period = parse_period(label)
    year = year_of(period).label
    check_in_life(pool, year, "period")
    return period, year


def decide_risk_reward(cmd: c.RecordRiskRewardResult, ctx: Context) -> list[ev.Event]:
    pool = pool_in_context(ctx, cmd.pool_id)
    problems = Problems(ctx.refused)
    found: tuple[Period, str] | None = None
    with problems.check("period"):
        found = _period_in_life(pool, cmd.period)
    if found is not None:
        year = found[1]
        with problems.check("scheme_id", "period"):
            plan = pool.plan(year)
            if plan is None or all(s.id != cmd.scheme_id for s in plan.risk_reward_schemes):
                raise RuleViolation.field(
                    "scheme_id",
                    f"'{cmd.scheme_id}' is not a risk/reward scheme of the plan for {year}",
                )
    for name, items in (("costs", cmd.costs), ("savings", cmd.savings)):
        seen: set[str] = set()
        for pa in items:
            with problems.check(name):
                check_member(pool, pa.partner_id, f"{name}.{pa.partner_id}")
            with problems.check(name):
                if pa.amount < 0:
                    raise ValidationFailed.field(f"{name}.{pa.partner_id}", "must not be negative")
                if pa.partner_id in seen:
                    raise ValidationFailed.field(f"{name}.{pa.partner_id}", "is given twice")
            seen.add(pa.partner_id)
    problems.raise_any()
    assert found is not None
    period = found[0]
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
    problems = Problems(ctx.refused)
    with problems.check("unit_id"):
        check_slug(cmd.unit_id, "unit_id")
    with problems.check("count"):
        if cmd.count < 0:
            raise ValidationFailed.field("count", "must not be negative")
    year = FinancialYear.of(cmd.effective_date).label
    cohorts: set[str] | None = None
    with problems.check("effective_date"):
        plan = pool.plan(year)
        if plan is None or plan.capitation is None:
            raise RuleViolation.field(
                "effective_date", f"the plan for {year} has no capitated budget"
            )
        cohorts = {w.cohort for w in plan.capitation.weights}
    if cohorts is not None:
        with problems.check("cohort", "effective_date"):
            if cmd.cohort not in cohorts:
                raise RuleViolation.field(
                    "cohort", f"'{cmd.cohort}' is not a cohort of the {year} capitation"
                )
    problems.raise_any()
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
    problems = Problems(ctx.refused)
    found: tuple[Period, str] | None = None
    with problems.check("period"):
        found = _period_in_life(pool, cmd.period)
    if found is not None:
        period, year = found
        plan = pool.plan(year)
        services = plan.commissioned_services if plan else ()
        service = next((s for s in services if s.id == cmd.service_id), None)
        with problems.check("service_id", "period"):
            if service is None:
                raise RuleViolation.field(
                    "service_id",
                    f"'{cmd.service_id}' is not a commissioned service of the plan for {year}",
                )
        if service is not None:
            with problems.check("period", "service_id"):
                if service.period != period.label:
                    raise RuleViolation.field(
                        "period", f"service '{service.id}' is commissioned for {service.period}"
                    )
            with problems.check("outcome_id", "service_id", "period"):
                if cmd.outcome_id not in service.outcomes:
                    raise RuleViolation.field(
                        "outcome_id", f"'{cmd.outcome_id}' is not an outcome of '{service.id}'"
                    )
    problems.raise_any()
    assert found is not None
    period = found[0]
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
    problems = Problems(ctx.refused)
    found: tuple[Period, str] | None = None
    with problems.check("period"):
        found = _period_in_life(pool, cmd.period)
    if found is not None:
        year = found[1]
        plan = pool.plan(year)
        ref = ctx.reference.for_year(year)
        known = {m.id for m in plan.metrics} if plan else set()
        known |= {m.id for m in ref.metrics} if ref else set()
        with problems.check("metric_id", "period"):
            if cmd.metric_id not in known:
                raise RuleViolation.field(
                    "metric_id", f"'{cmd.metric_id}' is not a metric defined for {year}"
                )
    problems.raise_any()
    assert found is not None
    period = found[0]
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

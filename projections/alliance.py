"""Alliance answers as at a position: risk/reward (6.3), capitated allocations (6.4)
and outcome-based payments (6.5). The arithmetic is the domain's pure calculations;
this module picks the facts in force and the plan of the year.

Rules as implemented:

- Risk/reward: for each risk/reward scheme of the plan of the period's year, the
  results recorded for it in the period or in any period inside it; for one
  (scheme, period) the latest in force (by position) supersedes earlier ones; the
  rest add up; then the plan's gain or loss shares split the net benefit.
- Capitation: for each quarter, per (unit, cohort), the population whose effective
  date is the latest on or before the quarter's first day (ties: the later
  position), reversed ones excluded. Cohorts the year's plan gives no weight are left
  out (a plan may change its cohorts).
- Outcome payments: the plan's commissioned services whose period is the period or
  inside it; per (service, outcome) the latest assessment in force (by position).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from fractions import Fraction

from sqlalchemy import Connection

from ledger.domain.calc.capitation import capitated_allocations
from ledger.domain.calc.outcomes import outcome_payment
from ledger.domain.calc.riskreward import gain_loss_share
from ledger.domain.periods import parse_period, parse_year, year_of
from ledger.domain.plan import Plan
from projections.base import Fact, effective_by, facts, periods_within, plan_at, pool_row
from projections.views import (
    CapitationView,
    OutcomePaymentsView,
    ProviderPayment,
    RiskRewardPartner,
    RiskRewardSchemeView,
    RiskRewardView,
    ServicePayment,
    UnitCapitation,
)


def _latest_by(found: list[Fact], key: tuple[str, ...]) -> dict[tuple[str, ...], Fact]:
    """The latest fact (by position) for each value of ``key`` (payload fields)."""
    out: dict[tuple[str, ...], Fact] = {}
    for f in found:  # in position order: later ones replace earlier ones
        out[tuple(str(f.data.get(k)) for k in key)] = f
    return out


def risk_reward_at(
    conn: Connection, pool_id: str, period: str, at: int, *, through: date | None = None
) -> RiskRewardView:
    p = parse_period(period)
    year = year_of(p).label
    pool_row(conn, pool_id, at)
    plan = plan_at(conn, pool_id, year, at) or Plan()
    within = periods_within(p)
    results = [
        f
        for f in effective_by(
            facts(conn, pool_id, "risk_reward_result_recorded", at, year=year), through
        )
        if f.data["period"] in within
    ]
    latest = _latest_by(results, ("scheme_id", "period"))
    schemes = []
    for rr in plan.risk_reward_schemes:
        costs: dict[str, int] = defaultdict(int)
        savings: dict[str, int] = defaultdict(int)
        for (sid, _), f in sorted(latest.items()):
            if sid != rr.id:
                continue
            for c in f.data["costs"]:
                costs[c["partner_id"]] += int(c["amount"])
            for s in f.data["savings"]:
                savings[s["partner_id"]] += int(s["amount"])
        out = gain_loss_share(
            costs,
            savings,
            {s.partner_id: s.pct for s in rr.gain_shares},
            {s.partner_id: s.pct for s in rr.loss_shares},
        )
        schemes.append(
            RiskRewardSchemeView(
                rr.id,
                rr.name,
                out.net_benefit,
                tuple(
                    RiskRewardPartner(x.partner_id, x.costs, x.savings, x.outcome, x.transfer)
                    for x in out.partners
                ),
                tuple((s.from_partner, s.to_partner, s.amount) for s in out.settlements),
            )
        )
    return RiskRewardView(pool_id, p.label, at, tuple(schemes))


def capitation_at(
    conn: Connection, pool_id: str, year: str, at: int, *, through: date | None = None
) -> CapitationView:
    fy = parse_year(year)
    pool_row(conn, pool_id, at)
    plan = plan_at(conn, pool_id, fy.label, at)
    labels = [f"Q{q.number}" for q in fy.quarters]
    if plan is None or plan.capitation is None:
        why = (
            f"there is no plan for {fy.label}"
            if plan is None
            else f"the plan for {fy.label} has no capitated budget"
        )
        return CapitationView(pool_id, fy.label, at, 0, 0, (), dict.fromkeys(labels, why))
    cap = plan.capitation
    weights = {w.cohort: w.weight for w in cap.weights}
    recorded = [
        f
        for f in effective_by(facts(conn, pool_id, "population_recorded", at), through)
        if f.data["cohort"] in weights and f.effective_date is not None
    ]
    populations: dict[int, dict[str, dict[str, int]]] = {}
    for q in fy.quarters:
        in_force: dict[tuple[str, str], tuple[date, int, int]] = {}
        for f in recorded:
            when = f.effective_date
            assert when is not None
            if when > q.start:
                continue
            k = (f.data["unit_id"], f.data["cohort"])
            candidate = (when, f.position, int(f.data["count"]))
            if k not in in_force or candidate[:2] > in_force[k][:2]:
                in_force[k] = candidate
        by_unit: dict[str, dict[str, int]] = {}
        for (unit, cohort), (_, _, count) in sorted(in_force.items()):
            by_unit.setdefault(unit, {})[cohort] = count
        if by_unit:
            populations[q.number] = by_unit
    result = capitated_allocations(cap.budget, weights, populations)
    units = tuple(
        UnitCapitation(
            u.unit_id,
            {f"Q{n}": Fraction(w) for n, w in sorted(u.weighted_population.items())},
            u.annual,
            {f"Q{n}": v for n, v in sorted(u.quarters.items())},
        )
        for u in result.units
    )
    return CapitationView(
        pool_id,
        fy.label,
        at,
        cap.budget,
        cap.excluded_personal_budgets,
        units,
        {f"Q{n}": why for n, why in sorted(result.unallocated.items())},
    )


def outcome_payments_at(
    conn: Connection, pool_id: str, period: str, at: int, *, through: date | None = None
) -> OutcomePaymentsView:
    p = parse_period(period)
    year = year_of(p).label
    pool_row(conn, pool_id, at)
    plan = plan_at(conn, pool_id, year, at) or Plan()
    within = periods_within(p)
    services = [s for s in plan.commissioned_services if s.period in within]
    latest = _latest_by(
        effective_by(facts(conn, pool_id, "outcome_assessed", at, year=year), through),
        ("service_id", "outcome_id"),
    )
    by_provider: dict[str, list[ServicePayment]] = defaultdict(list)
    for s in services:
        met_flags: dict[str, bool | None] = {}
        for o in s.outcomes:
            f = latest.get((s.id, o))
            met_flags[o] = bool(f.data["met"]) if f is not None else None
        pay = outcome_payment(
            Decimal(s.hours),
            s.rate,
            Decimal(s.base_pct),
            s.outcomes,
            {o for o, met in met_flags.items() if met},
        )
        by_provider[s.provider_id].append(
            ServicePayment(
                s.id,
                s.provider_id,
                s.period,
                pay.commissioned_value,
                pay.base,
                pay.released,
                pay.total,
                tuple((o, pay.parts[o], met_flags[o]) for o in s.outcomes),
            )
        )
    providers = tuple(
        ProviderPayment(
            pid,
            sum(x.commissioned_value for x in items),
            sum(x.base for x in items),
            sum(x.released for x in items),
            sum(x.total for x in items),
            tuple(items),
        )
        for pid, items in sorted(by_provider.items())
    )
    return OutcomePaymentsView(pool_id, p.label, at, providers)

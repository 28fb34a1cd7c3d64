"""Checks of a pool-year's agreement before it is recorded (``plan agreed``).

Returns every problem found as (field path, message), so a finance officer sees the
whole list at once rather than one error per attempt.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from ledger.domain.calc.riskshare import commissioner_weights, validate_rules
from ledger.domain.errors import ValidationFailed
from ledger.domain.periods import parse_period, year_of
from ledger.domain.plan import Plan, Share
from ledger.domain.reference import ReferenceData

HUNDRED = Decimal(100)


def _period_in_year(period: str, year: str) -> bool:
    try:
        return year_of(parse_period(period)).label == year
    except ValidationFailed:
        return False


def _shares_ok(
    shares: tuple[Share, ...], members: Mapping[str, str], path: str
) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for s in shares:
        if s.partner_id not in members:
            out.append((f"{path}.{s.partner_id}", f"'{s.partner_id}' is not a member of the pool"))
        if s.pct < 0:
            out.append((f"{path}.{s.partner_id}", "must not be negative"))
    if shares and sum((s.pct for s in shares), Decimal(0)) != HUNDRED:
        out.append((path, "must sum to exactly 100"))
    return out


def _profile_ok(
    quarters: tuple[int, ...] | None, annual: int, path: str, name: str
) -> list[tuple[str, str]]:
    """A quarterly profile: four amounts, none negative, summing to the annual figure."""
    if quarters is None:
        return []
    if len(quarters) != 4:
        return [(path, "give four quarters (Q1 to Q4)")]
    if any(q < 0 for q in quarters):
        return [(path, "no quarter may be negative")]
    if sum(quarters) != annual:
        return [(path, f"the quarters must sum to the {name} exactly")]
    return []


def validate_plan(
    plan: Plan,
    *,
    pool_kind: str,
    host: str,
    member_kinds: Mapping[str, str],
    reference: ReferenceData | None,
    year: str | None = None,
) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    streams = reference.stream_ids() if reference is not None else frozenset()
    for i, pc in enumerate(plan.contributions):
        path = f"contributions[{i}]"
        if pc.partner_id not in member_kinds:
            problems.append(
                (f"{path}.partner_id", f"'{pc.partner_id}' is not a member of the pool")
            )
        if pc.amount < 0:
            problems.append((f"{path}.amount", "must not be negative"))
        problems += _profile_ok(pc.quarters, pc.amount, f"{path}.quarters", "amount")
        if pool_kind == "bcf" and pc.funding_stream not in streams:
            problems.append(
                (
                    f"{path}.funding_stream",
                    f"'{pc.funding_stream}' is not a BCF funding stream of the year",
                )
            )
    planned = plan.planned_by_partner()
    seen: set[str] = set()
    for i, sc in enumerate(plan.schemes):
        path = f"schemes[{i}]"
        if sc.id in seen:
            problems.append((f"{path}.id", f"scheme id '{sc.id}' is used twice"))
        seen.add(sc.id)
        if sc.planned < 0:
            problems.append((f"{path}.planned", "must not be negative"))
        problems += _profile_ok(sc.quarters, sc.planned, f"{path}.quarters", "planned")
        if reference is not None and pool_kind == "bcf":
            if sc.scheme_type not in reference.scheme_types:
                problems.append(
                    (f"{path}.scheme_type", f"'{sc.scheme_type}' is not a BCF scheme type")
                )
            if sc.provider_type not in reference.provider_types:
                problems.append(
                    (f"{path}.provider_type", f"'{sc.provider_type}' is not a BCF provider type")
                )
            if sc.funding_stream not in streams:
                problems.append(
                    (
                        f"{path}.funding_stream",
                        f"'{sc.funding_stream}' is not a BCF funding stream of the year",
                    )
                )
        if sc.commissioner == "joint":
            if sc.joint_split is None:
                problems.append((f"{path}.joint_split", "a joint scheme needs its la/icb split"))
            elif sc.joint_split.la + sc.joint_split.icb != HUNDRED:
                problems.append((f"{path}.joint_split", "la and icb must sum to exactly 100"))
        elif sc.joint_split is not None:
            problems.append((f"{path}.joint_split", "only a joint scheme has a split"))
        split_bad = sc.commissioner == "joint" and (
            sc.joint_split is None or sc.joint_split.la + sc.joint_split.icb != HUNDRED
        )
        if not split_bad:  # a bad split is reported once, above
            try:
                commissioner_weights(sc.commissioner, sc.joint_split, member_kinds, planned)
            except ValueError as e:
                problems.append((f"{path}.commissioner", str(e)))
    problems += [
        (f, m) for f, m in validate_rules(plan.risk_share, host=host, members=member_kinds.keys())
    ]
    rr_ids: set[str] = set()
    for i, rr in enumerate(plan.risk_reward_schemes):
        path = f"risk_reward_schemes[{i}]"
        if rr.id in rr_ids:
            problems.append((f"{path}.id", f"risk/reward scheme id '{rr.id}' is used twice"))
        rr_ids.add(rr.id)
        problems += _shares_ok(rr.gain_shares, member_kinds, f"{path}.gain_shares")
        problems += _shares_ok(rr.loss_shares, member_kinds, f"{path}.loss_shares")
        if not rr.gain_shares or not rr.loss_shares:
            problems.append((path, "needs both gain_shares and loss_shares"))
    if plan.capitation is not None:
        cap = plan.capitation
        if cap.budget < 0 or cap.excluded_personal_budgets < 0:
            problems.append(("capitation.budget", "must not be negative"))
        cohorts = [w.cohort for w in cap.weights]
        if len(set(cohorts)) != len(cohorts):
            problems.append(("capitation.weights", "a cohort is named twice"))
        if not cap.weights:
            problems.append(("capitation.weights", "name at least one cohort"))
        for w in cap.weights:
            if w.weight < 0:
                problems.append((f"capitation.weights.{w.cohort}", "must not be negative"))
    svc_ids: set[str] = set()
    for i, cs in enumerate(plan.commissioned_services):
        path = f"commissioned_services[{i}]"
        if cs.id in svc_ids:
            problems.append((f"{path}.id", f"service id '{cs.id}' is used twice"))
        svc_ids.add(cs.id)
        exp = cs.hours.as_tuple().exponent
        if cs.hours <= 0 or (isinstance(exp, int) and exp < -2):
            problems.append((f"{path}.hours", "must be more than zero with at most two decimals"))
        if year is not None and not _period_in_year(cs.period, year):
            problems.append((f"{path}.period", f"'{cs.period}' is not a period of {year}"))
        if cs.rate <= 0:
            problems.append((f"{path}.rate", "must be more than zero"))
        if not Decimal(0) <= cs.base_pct <= HUNDRED:
            problems.append((f"{path}.base_pct", "must be between 0 and 100"))
        if len(set(cs.outcomes)) != len(cs.outcomes):
            problems.append((f"{path}.outcomes", "an outcome is named twice"))
        if cs.base_pct < HUNDRED and not cs.outcomes:
            problems.append(
                (f"{path}.outcomes", "a base below 100% needs outcomes to release the rest")
            )
    scheduled: set[str] = set()
    for i, sched in enumerate(plan.contribution_schedules):
        path = f"contribution_schedules[{i}]"
        if sched.partner_id in scheduled:
            problems.append((f"{path}.partner_id", f"'{sched.partner_id}' has two schedules"))
        scheduled.add(sched.partner_id)
        if sched.partner_id not in planned:
            problems.append(
                (f"{path}.partner_id", f"'{sched.partner_id}' has no planned contribution")
            )
        if not 1 <= sched.day_of_month <= 28:
            problems.append((f"{path}.day_of_month", "must be 1 to 28"))
    metric_ids = [m.id for m in plan.metrics]
    if len(set(metric_ids)) != len(metric_ids):
        problems.append(("metrics", "a metric id is used twice"))
    return problems

"""``decide(command, context) -> events``: every rule check of the ledger, pure.

The handler loads the context (pool state, partners, the event a reversal names,
today's date, reference data) and appends what this returns; nothing here touches
a database or a clock.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from ledger.domain import commands as c
from ledger.domain import events as ev
from ledger.domain.errors import (
    AlreadyExists,
    AlreadyReversed,
    FieldError,
    NotFound,
    PeriodClosed,
    RuleViolation,
    ValidationFailed,
)
from ledger.domain.periods import (
    FinancialYear,
    Quarter,
    parse_period,
    parse_quarter,
    parse_year,
    year_of,
)
from ledger.domain.permissions import authorize
from ledger.domain.plan_rules import validate_plan
from ledger.domain.reference import ReferenceData
from ledger.domain.state import PartnerInfo, PoolState, TargetEvent

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,39}$")


class ReferenceSource(Protocol):
    def for_year(self, year: str) -> ReferenceData | None: ...


@dataclass
class Context:
    actor: c.Actor
    today: date
    reference: ReferenceSource
    partners: Mapping[str, PartnerInfo]
    pool: PoolState | None = None
    target: TargetEvent | None = None
    recorded_reference: frozenset[str] = frozenset()
    extra: dict[str, Any] = field(default_factory=dict)


def decide(command: c.Command, ctx: Context) -> list[ev.Event]:
    handler = _DECIDERS.get(type(command))
    if handler is None:  # pragma: no cover - a programming error
        raise TypeError(f"no decider for {type(command).__name__}")
    if isinstance(command, c.ReverseEvent) and ctx.target is None:
        raise NotFound(f"event '{command.event_id}' does not exist")
    pool_id = getattr(command, "pool_id", None)
    if pool_id is not None and not isinstance(command, c.EstablishPool):
        _pool(ctx, pool_id)
    authorize(ctx.actor, command, ctx.pool, ctx.target)
    return handler(command, ctx)


# --- helpers -------------------------------------------------------------------------


def _slug(value: str, name: str) -> None:
    if not SLUG.match(value):
        raise ValidationFailed.field(
            name, f"'{value}' is not an id: use 2-40 lower-case letters, digits and hyphens"
        )


def _pool(ctx: Context, pool_id: str) -> PoolState:
    if ctx.pool is None or ctx.pool.pool_id != pool_id:
        raise NotFound(f"pool '{pool_id}' does not exist")
    return ctx.pool


def _member(pool: PoolState, partner_id: str, name: str = "partner_id") -> None:
    if partner_id not in pool.members:
        raise ValidationFailed.field(
            name, f"'{partner_id}' is not a member of pool '{pool.pool_id}'"
        )


def _open_or_adjustment(
    pool: PoolState, when: date, ppa: bool, name: str = "effective_date"
) -> None:
    q = Quarter.of(when).label
    if pool.is_closed(q):
        if not ppa:
            raise PeriodClosed(
                f"{q} is closed for pool '{pool.pool_id}'; post it as a prior-period "
                "adjustment (prior_period_adjustment: true) to have it reported in the next return",
                errors=(FieldError(name, f"falls in closed quarter {q}"),),
            )
    elif ppa:
        raise ValidationFailed.field(
            "prior_period_adjustment", f"{q} is not closed for pool '{pool.pool_id}'; post normally"
        )


def _year_for(effective: date, year: str | None, name: str = "year") -> str:
    natural = FinancialYear.of(effective)
    if year is None:
        return natural.label
    fy = parse_year(year, name)
    if abs(fy.start_year - natural.start_year) > 1:
        raise ValidationFailed.field(
            name, f"{fy.label} is too far from the effective date's year {natural.label}"
        )
    return fy.label


def _stream_ok(pool: PoolState, ctx: Context, year: str, stream: str, name: str) -> None:
    if pool.kind == "bcf":
        ref = ctx.reference.for_year(year)
        if ref is None:
            raise ValidationFailed.field("year", f"no BCF reference data for {year}")
        if stream not in ref.stream_ids():
            raise ValidationFailed.field(
                name,
                f"'{stream}' is not a BCF funding stream in {year} "
                f"(one of: {', '.join(sorted(ref.stream_ids()))})",
            )
        return
    plan = pool.plan(year)
    allowed = {p.funding_stream for p in plan.contributions} if plan else set()
    allowed |= {s.funding_stream for s in plan.schemes} if plan else set()
    allowed.add("contribution")
    if stream not in allowed:
        raise ValidationFailed.field(
            name, f"'{stream}' is not a funding stream of pool '{pool.pool_id}' in {year}"
        )


def _scheme(pool: PoolState, year: str, scheme_id: str, name: str = "scheme_id") -> Any:
    plan = pool.plan(year)
    scheme = plan.scheme(scheme_id) if plan else None
    if scheme is None:
        raise ValidationFailed.field(
            name, f"'{scheme_id}' is not a scheme in pool '{pool.pool_id}''s plan for {year}"
        )
    return scheme


def _positive(amount: int, name: str = "amount") -> None:
    if amount <= 0:
        raise ValidationFailed.field(name, "must be more than zero")


def _text(value: str, name: str, *, max_len: int = 500, required: bool = True) -> None:
    if required and not value.strip():
        raise ValidationFailed.field(name, "must not be empty")
    if len(value) > max_len:
        raise ValidationFailed.field(name, f"must be at most {max_len} characters")


# --- deciders ------------------------------------------------------------------------


def _register_partner(cmd: c.RegisterPartner, ctx: Context) -> list[ev.Event]:
    _slug(cmd.partner_id, "id")
    _text(cmd.name, "name", max_len=200)
    if cmd.partner_id in ctx.partners:
        raise AlreadyExists(f"partner '{cmd.partner_id}' is already registered")
    return [ev.PartnerRegistered(**cmd.model_dump())]


def _establish_pool(cmd: c.EstablishPool, ctx: Context) -> list[ev.Event]:
    _slug(cmd.pool_id, "id")
    _text(cmd.name, "name", max_len=200)
    if ctx.pool is not None:
        raise AlreadyExists(f"pool '{cmd.pool_id}' already exists")
    members = tuple(dict.fromkeys((cmd.host_partner_id, *cmd.members)))
    for i, m in enumerate(members):
        if m not in ctx.partners:
            name = "host_partner_id" if m == cmd.host_partner_id else f"members[{i}]"
            raise ValidationFailed.field(name, f"partner '{m}' is not registered")
    if cmd.kind == "bcf" and cmd.hwb_area is None:
        raise ValidationFailed.field(
            "hwb_area", "a BCF pool needs its Health and Wellbeing Board area"
        )
    return [
        ev.PoolEstablished(
            pool_id=cmd.pool_id,
            name=cmd.name,
            kind=cmd.kind,
            host_partner_id=cmd.host_partner_id,
            members=members,
            hwb_area=cmd.hwb_area,
        )
    ]


def _join_pool(cmd: c.JoinPool, ctx: Context) -> list[ev.Event]:
    pool = _pool(ctx, cmd.pool_id)
    if cmd.partner_id not in ctx.partners:
        raise ValidationFailed.field("partner_id", f"partner '{cmd.partner_id}' is not registered")
    if cmd.partner_id in pool.members:
        raise AlreadyExists(f"'{cmd.partner_id}' is already a member of pool '{pool.pool_id}'")
    return [ev.PartnerJoined(pool_id=pool.pool_id, partner_id=cmd.partner_id)]


def _agree_plan(cmd: c.AgreePlan, ctx: Context) -> list[ev.Event]:
    pool = _pool(ctx, cmd.pool_id)
    year = parse_year(cmd.year).label
    if year in pool.settled_years:
        raise RuleViolation(f"{year} is settled for pool '{pool.pool_id}'; its plan is fixed")
    ref = ctx.reference.for_year(year)
    if pool.kind == "bcf" and ref is None:
        raise ValidationFailed.field("year", f"no BCF reference data is shipped for {year}")
    kinds = {m: ctx.partners[m].kind for m in pool.members if m in ctx.partners}
    problems = validate_plan(
        cmd.plan,
        pool_kind=pool.kind,
        host=pool.host_partner_id,
        member_kinds=kinds,
        reference=ref,
        year=year,
    )
    if problems:
        raise ValidationFailed(
            f"the plan for {year} has {len(problems)} problem(s); "
            f"first: {problems[0][0]}: {problems[0][1]}",
            errors=tuple(FieldError(f, m) for f, m in problems),
        )
    out: list[ev.Event] = []
    ref_hash = None
    if ref is not None:
        ref_hash = ref.content_hash()
        if ref_hash not in ctx.recorded_reference:
            out.append(
                ev.ReferenceDataRecorded(
                    year=year, content_hash=ref_hash, content=ref.canonical_json()
                )
            )
    out.append(
        ev.PlanAgreed(pool_id=pool.pool_id, year=year, plan=cmd.plan, reference_hash=ref_hash)
    )
    return out


def _opening_balance(cmd: c.RecordOpeningBalance, ctx: Context) -> list[ev.Event]:
    pool = _pool(ctx, cmd.pool_id)
    fy = parse_year(cmd.year)
    first = pool.first_plan_year()
    if pool.opening_balance is not None:
        raise AlreadyExists(
            f"pool '{pool.pool_id}' already has an opening balance; reverse it first"
        )
    if first is not None and fy.label > first:
        raise ValidationFailed.field(
            "year", f"an opening balance is for the pool's first year ({first})"
        )
    if cmd.amount == 0:
        raise ValidationFailed.field("amount", "an opening balance of zero needs no posting")
    _text(cmd.note, "note", required=False)
    _open_or_adjustment(pool, fy.start, False, "year")
    return [
        ev.OpeningBalanceRecorded(
            pool_id=pool.pool_id,
            year=fy.label,
            amount=cmd.amount,
            note=cmd.note,
            effective_date=fy.start,
        )
    ]


def _contribution(cmd: c.PostContribution | c.RefundContribution, ctx: Context) -> list[ev.Event]:
    pool = _pool(ctx, cmd.pool_id)
    _positive(cmd.amount)
    _text(cmd.reference, "reference", max_len=200)
    _member(pool, cmd.partner_id)
    year = _year_for(cmd.effective_date, cmd.year)
    _stream_ok(pool, ctx, year, cmd.funding_stream, "funding_stream")
    _open_or_adjustment(pool, cmd.effective_date, cmd.prior_period_adjustment)
    common = dict(
        pool_id=pool.pool_id,
        partner_id=cmd.partner_id,
        funding_stream=cmd.funding_stream,
        amount=cmd.amount,
        effective_date=cmd.effective_date,
        year=year,
        reference=cmd.reference,
        prior_period_adjustment=cmd.prior_period_adjustment,
    )
    if isinstance(cmd, c.RefundContribution):
        return [ev.ContributionRefunded(**common, refunds_event_id=cmd.refunds_event_id)]
    return [ev.ContributionPosted(**common)]


def _expenditure(cmd: c.RecordExpenditure | c.CreditExpenditure, ctx: Context) -> list[ev.Event]:
    pool = _pool(ctx, cmd.pool_id)
    _positive(cmd.amount)
    _text(cmd.reference, "reference", max_len=200)
    year = FinancialYear.of(cmd.effective_date).label
    scheme = _scheme(pool, year, cmd.scheme_id)
    _open_or_adjustment(pool, cmd.effective_date, cmd.prior_period_adjustment)
    common = dict(
        pool_id=pool.pool_id,
        scheme_id=cmd.scheme_id,
        funding_stream=scheme.funding_stream,
        amount=cmd.amount,
        effective_date=cmd.effective_date,
        year=year,
        reference=cmd.reference,
        prior_period_adjustment=cmd.prior_period_adjustment,
    )
    if isinstance(cmd, c.CreditExpenditure):
        return [ev.ExpenditureCredited(**common, credits_event_id=cmd.credits_event_id)]
    return [ev.ExpenditureRecorded(**common)]


def _transfer(cmd: c.PostTransfer, ctx: Context) -> list[ev.Event]:
    pool = _pool(ctx, cmd.pool_id)
    _positive(cmd.amount)
    _text(cmd.reference, "reference", max_len=200)
    for side, party in (("from", cmd.from_party), ("to", cmd.to_party)):
        if (party.partner_id is None) == (party.pool_id is None):
            raise ValidationFailed.field(side, "name exactly one of partner_id or pool_id")
        if party.pool_id is not None and party.pool_id != pool.pool_id:
            raise ValidationFailed.field(
                f"{side}.pool_id", f"must be this transfer's pool '{pool.pool_id}'"
            )
        if party.partner_id is not None:
            _member(pool, party.partner_id, f"{side}.partner_id")
    if cmd.from_party.pool_id and cmd.to_party.pool_id:
        raise ValidationFailed.field("to", "a transfer between a pool and itself moves nothing")
    if cmd.from_party == cmd.to_party:
        raise ValidationFailed.field("to", "a partner cannot transfer to itself")
    if cmd.purpose == "s256":
        src = ctx.partners.get(cmd.from_party.partner_id or "")
        dst = ctx.partners.get(cmd.to_party.partner_id or "")
        if src is None or src.kind not in ("icb", "nhs_trust"):
            raise ValidationFailed.field(
                "from.partner_id", "an s256 transfer comes from an ICB or NHS trust"
            )
        if dst is None or dst.kind != "local_authority":
            raise ValidationFailed.field(
                "to.partner_id", "an s256 transfer goes to a local authority"
            )
    _open_or_adjustment(pool, cmd.effective_date, cmd.prior_period_adjustment)
    return [
        ev.TransferPosted(
            pool_id=pool.pool_id,
            from_party=cmd.from_party,
            to_party=cmd.to_party,
            purpose=cmd.purpose,
            amount=cmd.amount,
            effective_date=cmd.effective_date,
            year=FinancialYear.of(cmd.effective_date).label,
            reference=cmd.reference,
            prior_period_adjustment=cmd.prior_period_adjustment,
        )
    ]


def _forecast(cmd: c.RecordForecast, ctx: Context) -> list[ev.Event]:
    pool = _pool(ctx, cmd.pool_id)
    year = parse_year(cmd.year).label
    if cmd.amount < 0:
        raise ValidationFailed.field("amount", "a forecast outturn cannot be negative")
    if year in pool.settled_years:
        raise RuleViolation(f"{year} is settled for pool '{pool.pool_id}'; forecasts are closed")
    if cmd.scheme_id is not None:
        _scheme(pool, year, cmd.scheme_id)
    return [
        ev.ForecastRecorded(
            pool_id=pool.pool_id,
            year=year,
            amount=cmd.amount,
            scheme_id=cmd.scheme_id,
            as_of_date=cmd.as_of_date,
        )
    ]


def _risk_reward(cmd: c.RecordRiskRewardResult, ctx: Context) -> list[ev.Event]:
    pool = _pool(ctx, cmd.pool_id)
    period = parse_period(cmd.period)
    plan = pool.plan(year_of(period).label)
    if plan is None or all(s.id != cmd.scheme_id for s in plan.risk_reward_schemes):
        raise ValidationFailed.field(
            "scheme_id",
            f"'{cmd.scheme_id}' is not a risk/reward scheme of the "
            f"plan for {year_of(period).label}",
        )
    for name, items in (("costs", cmd.costs), ("savings", cmd.savings)):
        seen: set[str] = set()
        for pa in items:
            _member(pool, pa.partner_id, f"{name}.{pa.partner_id}")
            if pa.amount < 0:
                raise ValidationFailed.field(f"{name}.{pa.partner_id}", "must not be negative")
            if pa.partner_id in seen:
                raise ValidationFailed.field(f"{name}.{pa.partner_id}", "is given twice")
            seen.add(pa.partner_id)
    _open_or_adjustment(pool, period.end, cmd.prior_period_adjustment, "period")
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


def _population(cmd: c.RecordPopulation, ctx: Context) -> list[ev.Event]:
    pool = _pool(ctx, cmd.pool_id)
    _slug(cmd.unit_id, "unit_id")
    if cmd.count < 0:
        raise ValidationFailed.field("count", "must not be negative")
    year = FinancialYear.of(cmd.effective_date).label
    plan = pool.plan(year)
    if plan is None or plan.capitation is None:
        raise ValidationFailed.field(
            "effective_date", f"the plan for {year} has no capitated budget"
        )
    if cmd.cohort not in {w.cohort for w in plan.capitation.weights}:
        raise ValidationFailed.field(
            "cohort", f"'{cmd.cohort}' is not a cohort of the {year} capitation"
        )
    _open_or_adjustment(pool, cmd.effective_date, cmd.prior_period_adjustment)
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


def _outcome(cmd: c.AssessOutcome, ctx: Context) -> list[ev.Event]:
    pool = _pool(ctx, cmd.pool_id)
    period = parse_period(cmd.period)
    plan = pool.plan(year_of(period).label)
    service = (
        next((s for s in plan.commissioned_services if s.id == cmd.service_id), None)
        if plan
        else None
    )
    if service is None:
        raise ValidationFailed.field(
            "service_id",
            f"'{cmd.service_id}' is not a commissioned service of "
            f"the plan for {year_of(period).label}",
        )
    if service.period != period.label:
        raise ValidationFailed.field(
            "period", f"service '{service.id}' is commissioned for {service.period}"
        )
    if cmd.outcome_id not in service.outcomes:
        raise ValidationFailed.field(
            "outcome_id", f"'{cmd.outcome_id}' is not an outcome of '{service.id}'"
        )
    _open_or_adjustment(pool, period.end, cmd.prior_period_adjustment, "period")
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


def _metric(cmd: c.RecordMetric, ctx: Context) -> list[ev.Event]:
    pool = _pool(ctx, cmd.pool_id)
    period = parse_period(cmd.period)
    year = year_of(period).label
    plan = pool.plan(year)
    ref = ctx.reference.for_year(year)
    known = {m.id for m in plan.metrics} if plan else set()
    known |= {m.id for m in ref.metrics} if ref else set()
    if cmd.metric_id not in known:
        raise ValidationFailed.field(
            "metric_id", f"'{cmd.metric_id}' is not a metric defined for {year}"
        )
    _open_or_adjustment(pool, period.end, cmd.prior_period_adjustment, "period")
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


def _reverse(cmd: c.ReverseEvent, ctx: Context) -> list[ev.Event]:
    target = ctx.target
    if target is None:
        raise NotFound(f"event '{cmd.event_id}' does not exist")
    _text(cmd.reason, "reason")
    cls = ev.EVENT_TYPES.get(target.type)
    if cls is None or not cls.reversible:
        raise RuleViolation(
            f"a '{target.type}' event cannot be reversed"
            + ("; post the fact again instead" if target.type == ev.EventReversed.type else "")
        )
    if target.reversed:
        raise AlreadyReversed(
            f"event '{target.event_id}' (position {target.position}) is already reversed"
        )
    # a forecast's date is an as-of date, not an accounting date: forecasts may change
    # while the year is open, so reversing one is never a closed-period matter
    dated = target.effective_date is not None and target.type != ev.ForecastRecorded.type
    if ctx.pool is not None and dated and target.effective_date is not None:
        _open_or_adjustment(ctx.pool, target.effective_date, cmd.prior_period_adjustment)
    return [
        ev.EventReversed(
            reversed_event_id=target.event_id,
            reversed_type=target.type,
            reversed_position=target.position,
            pool_id=target.pool_id,
            reason=cmd.reason,
            effective_date=target.effective_date,
            prior_period_adjustment=cmd.prior_period_adjustment,
        )
    ]


def _close(cmd: c.ClosePeriod, ctx: Context) -> list[ev.Event]:
    pool = _pool(ctx, cmd.pool_id)
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


def _settle(cmd: c.SettleRiskShare, ctx: Context) -> list[ev.Event]:
    pool = _pool(ctx, cmd.pool_id)
    fy = parse_year(cmd.year)
    if not pool.is_closed(fy.quarters[3].label):
        raise RuleViolation(
            f"{fy.label} can be settled only after {fy.quarters[3].label} is closed"
        )
    if fy.label in pool.settled_years:
        raise AlreadyExists(f"{fy.label} is already settled for pool '{pool.pool_id}'")
    return [ev.RiskShareSettled(**cmd.model_dump(exclude={"as_at_position"}))]


def _generate_return(cmd: c.GenerateReturn, ctx: Context) -> list[ev.Event]:
    pool = _pool(ctx, cmd.pool_id)
    if pool.filed(cmd.quarter) is not None:
        raise AlreadyExists(
            f"the return for {cmd.quarter} is already filed for pool '{pool.pool_id}'"
        )
    out: list[ev.Event] = [
        ev.ReturnGenerated(
            pool_id=pool.pool_id,
            quarter=cmd.quarter,
            kind=cmd.kind,
            as_at_position=cmd.as_at_position,
            data_as_at=cmd.data_as_at,
            chain_head=cmd.chain_head,
            content_hash=cmd.content_hash,
            documents=cmd.documents,
        )
    ]
    if cmd.kind == "bcf_quarterly" and cmd.close_quarter and not pool.is_closed(cmd.quarter):
        q = parse_quarter(cmd.quarter)
        nxt = parse_quarter(pool.closed_quarters[-1]).next() if pool.closed_quarters else q
        if q == nxt and q.end < ctx.today:
            out.append(ev.PeriodClosed(pool_id=pool.pool_id, quarter=q.label, automatic=True))
    return out


def _approve(cmd: c.ApproveReturn, ctx: Context) -> list[ev.Event]:
    pool = _pool(ctx, cmd.pool_id)
    r = pool.filed(cmd.quarter)
    if r is None:
        raise NotFound(f"no filed return for {cmd.quarter} in pool '{pool.pool_id}'")
    if r.approved:
        raise AlreadyExists(f"the {cmd.quarter} return is already approved")
    return [
        ev.ReturnApproved(
            pool_id=pool.pool_id, quarter=cmd.quarter, approved_by=ctx.actor.name, note=cmd.note
        )
    ]


def _submit(cmd: c.SubmitReturn, ctx: Context) -> list[ev.Event]:
    pool = _pool(ctx, cmd.pool_id)
    r = pool.filed(cmd.quarter)
    if r is None:
        raise NotFound(f"no filed return for {cmd.quarter} in pool '{pool.pool_id}'")
    if not r.approved:
        raise RuleViolation(f"the {cmd.quarter} return must be approved before it is submitted")
    if r.submitted:
        raise AlreadyExists(f"the {cmd.quarter} return is already submitted")
    return [
        ev.ReturnSubmitted(
            pool_id=pool.pool_id,
            quarter=cmd.quarter,
            submitted_by=ctx.actor.name,
            reference=cmd.reference,
        )
    ]


_DECIDERS: dict[type[c.Command], Callable[[Any, Context], list[ev.Event]]] = {
    c.RegisterPartner: _register_partner,
    c.EstablishPool: _establish_pool,
    c.JoinPool: _join_pool,
    c.AgreePlan: _agree_plan,
    c.RecordOpeningBalance: _opening_balance,
    c.PostContribution: _contribution,
    c.RefundContribution: _contribution,
    c.RecordExpenditure: _expenditure,
    c.CreditExpenditure: _expenditure,
    c.PostTransfer: _transfer,
    c.RecordForecast: _forecast,
    c.RecordRiskRewardResult: _risk_reward,
    c.RecordPopulation: _population,
    c.AssessOutcome: _outcome,
    c.RecordMetric: _metric,
    c.ReverseEvent: _reverse,
    c.ClosePeriod: _close,
    c.SettleRiskShare: _settle,
    c.GenerateReturn: _generate_return,
    c.ApproveReturn: _approve,
    c.SubmitReturn: _submit,
}

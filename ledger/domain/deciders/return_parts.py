"""Deciders for the BCF return's further parts: national-condition assurances, metric
assessments, scheme activity, fee rates, contacts and the HWB sign-off; and for the
end-of-year return, the income variance commentary and the year-end feedback.

Each is a fact about a quarter's return, not about money: it is not dated, so a closed
quarter does not refuse it (its return is filed when the quarter closes, and the parts
are often completed in the month after). A later fact of the same part supersedes the
earlier one (the return shows the latest recorded by its as-at position).

Each check of a body's field runs under ``Problems`` naming the fields it reads, so
every bad field is answered at once; the pool's kind and the year's template lists
(from the path) are checked first.
"""

from __future__ import annotations

from decimal import Decimal

from ledger.domain import commands as c
from ledger.domain import events as ev
from ledger.domain.bcf_reference import BcfReturnReference
from ledger.domain.deciders.checks import Problems, check_text, pool_in_context
from ledger.domain.deciders.context import Context
from ledger.domain.errors import RuleViolation, ValidationFailed
from ledger.domain.periods import Quarter, parse_quarter, parse_year
from ledger.domain.state import PoolState

TEXT = 2000  # narrative fields: a few paragraphs
MAX_FEE = 1_000_000_00  # £1m: a fee per hour or week beyond this is a keying slip


def _bcf_quarter(ctx: Context, pool_id: str, quarter: str) -> tuple[PoolState, Quarter]:
    pool = pool_in_context(ctx, pool_id)
    if pool.kind != "bcf":
        raise RuleViolation(
            f"pool '{pool.pool_id}' is a {pool.kind} pool; return parts are for BCF pools"
        )
    return pool, parse_quarter(quarter)


def _lists(ctx: Context, year: str) -> BcfReturnReference:
    ref = ctx.reference.for_year(year)
    if ref is None or ref.bcf_return is None:
        raise RuleViolation(f"no BCF template lists are known for {year}; ship the year's lists")
    return ref.bcf_return


def _one_of(value: str, allowed: tuple[str, ...], field: str, what: str) -> None:
    if value not in allowed:
        raise RuleViolation.field(
            field, f"'{value}' is not {what}; use one of: {', '.join(allowed)}"
        )


def decide_assurance(cmd: c.AssureNationalCondition, ctx: Context) -> list[ev.Event]:
    pool, q = _bcf_quarter(ctx, cmd.pool_id, cmd.quarter)
    lists = _lists(ctx, q.year.label)
    problems = Problems(ctx.refused)
    with problems.check("condition_id"):
        if lists.condition(cmd.condition_id) is None:
            ids = ", ".join(x.id for x in lists.national_conditions)
            raise RuleViolation.field(
                "condition_id",
                f"'{cmd.condition_id}' is not a national condition of {q.year.label} ({ids})",
            )
    with problems.check("explanation", "answer"):
        check_text(cmd.explanation, "explanation", max_len=TEXT, required=not cmd.answer)
    problems.raise_any()
    return [
        ev.NationalConditionAssured(
            pool_id=pool.pool_id,
            year=q.year.label,
            quarter=q.label,
            condition_id=cmd.condition_id,
            answer=cmd.answer,
            explanation=cmd.explanation.strip(),
        )
    ]


def decide_metric_assessment(cmd: c.AssessMetric, ctx: Context) -> list[ev.Event]:
    pool, q = _bcf_quarter(ctx, cmd.pool_id, cmd.quarter)
    year = q.year.label
    lists = _lists(ctx, year)
    ref = ctx.reference.for_year(year)
    plan = pool.plan(year)
    known = {m.id for m in plan.metrics} if plan else set()
    known |= {m.id for m in ref.metrics} if ref else set()
    problems = Problems(ctx.refused)
    with problems.check("metric_id"):
        if cmd.metric_id not in known:
            raise RuleViolation.field(
                "metric_id", f"'{cmd.metric_id}' is not a metric defined for {year}"
            )
    with problems.check("assessment"):
        _one_of(cmd.assessment, lists.metric_assessments, "assessment", "an assessment of progress")
    for name in ("challenges", "achievements", "support_needs"):
        with problems.check(name):
            check_text(getattr(cmd, name), name, max_len=TEXT, required=False)
    problems.raise_any()
    return [
        ev.MetricAssessed(
            pool_id=pool.pool_id,
            year=year,
            period=q.label,
            metric_id=cmd.metric_id,
            assessment=cmd.assessment,
            challenges=cmd.challenges.strip(),
            achievements=cmd.achievements.strip(),
            support_needs=cmd.support_needs.strip(),
        )
    ]


def _output(value: Decimal, field: str) -> None:
    if not value.is_finite() or value < 0:
        raise ValidationFailed.field(field, "must be a number of zero or more")


def decide_scheme_activity(cmd: c.RecordSchemeActivity, ctx: Context) -> list[ev.Event]:
    pool, q = _bcf_quarter(ctx, cmd.pool_id, cmd.quarter)
    year = q.year.label
    lists = _lists(ctx, year)
    plan = pool.plan(year)
    problems = Problems(ctx.refused)
    with problems.check("scheme_id"):
        if plan is None or all(s.id != cmd.scheme_id for s in plan.schemes):
            raise RuleViolation.field(
                "scheme_id", f"'{cmd.scheme_id}' is not a scheme of the plan for {year}"
            )
    with problems.check("planned_output"):
        _output(cmd.planned_output, "planned_output")
    with problems.check("output_delivered"):
        _output(cmd.output_delivered, "output_delivered")
    with problems.check("unit"):
        _one_of(cmd.unit, lists.output_units, "unit", "an output unit of the template")
    if cmd.area_of_spend is not None:
        with problems.check("area_of_spend"):
            _one_of(cmd.area_of_spend, lists.areas_of_spend, "area_of_spend", "an area of spend")
    with problems.check("scheme_sub_type"):
        check_text(cmd.scheme_sub_type, "scheme_sub_type", max_len=200, required=False)
    problems.raise_any()
    return [
        ev.SchemeActivityRecorded(
            pool_id=pool.pool_id,
            year=year,
            period=q.label,
            scheme_id=cmd.scheme_id,
            planned_output=cmd.planned_output,
            output_delivered=cmd.output_delivered,
            unit=cmd.unit,
            scheme_sub_type=cmd.scheme_sub_type.strip(),
            area_of_spend=cmd.area_of_spend,
            new_scheme=cmd.new_scheme,
        )
    ]


_FEES = (
    "home_care_per_hour_before",
    "home_care_per_hour_after",
    "residential_per_week_before",
    "residential_per_week_after",
    "nursing_per_week_before",
    "nursing_per_week_after",
)


def decide_fee_rates(cmd: c.RecordFeeRates, ctx: Context) -> list[ev.Event]:
    fy = parse_year(cmd.year)
    pool, q = _bcf_quarter(ctx, cmd.pool_id, fy.quarters[3].label)
    problems = Problems(ctx.refused)
    for name in _FEES:
        value = getattr(cmd, name)
        with problems.check(name):
            if not 0 < value <= MAX_FEE:
                raise ValidationFailed.field(name, "must be more than zero and at most 1000000.00")
    problems.raise_any()
    return [
        ev.FeeRatesRecorded(
            pool_id=pool.pool_id,
            year=fy.label,
            quarter=q.label,
            **{name: getattr(cmd, name) for name in _FEES},
        )
    ]


def decide_income_variance(cmd: c.ExplainIncomeVariance, ctx: Context) -> list[ev.Event]:
    fy = parse_year(cmd.year)
    pool, q = _bcf_quarter(ctx, cmd.pool_id, fy.quarters[3].label)
    problems = Problems(ctx.refused)
    with problems.check("commentary"):
        check_text(cmd.commentary, "commentary", max_len=TEXT)
    problems.raise_any()
    return [
        ev.IncomeVarianceExplained(
            pool_id=pool.pool_id, year=fy.label, quarter=q.label, commentary=cmd.commentary.strip()
        )
    ]


def decide_year_end_feedback(cmd: c.GiveYearEndFeedback, ctx: Context) -> list[ev.Event]:
    fy = parse_year(cmd.year)
    pool, q = _bcf_quarter(ctx, cmd.pool_id, fy.quarters[3].label)
    lists = _lists(ctx, fy.label)
    problems = Problems(ctx.refused)
    with problems.check("statement_id"):
        if lists.statement(cmd.statement_id) is None:
            ids = ", ".join(x.id for x in lists.year_end_statements) or "none"
            raise ValidationFailed.field(
                "statement_id",
                f"'{cmd.statement_id}' is not a year-end feedback statement of {fy.label} ({ids})",
            )
    with problems.check("answer"):
        _one_of(cmd.answer, lists.feedback_answers, "answer", "an answer of the template")
    with problems.check("comment"):
        check_text(cmd.comment, "comment", max_len=TEXT)
    problems.raise_any()
    return [
        ev.YearEndFeedbackGiven(
            pool_id=pool.pool_id,
            year=fy.label,
            quarter=q.label,
            statement_id=cmd.statement_id,
            answer=cmd.answer,
            comment=cmd.comment.strip(),
        )
    ]


def decide_contacts(cmd: c.RecordReturnContacts, ctx: Context) -> list[ev.Event]:
    pool, q = _bcf_quarter(ctx, cmd.pool_id, cmd.quarter)
    problems = Problems(ctx.refused)
    with problems.check("completed_by"):
        check_text(cmd.completed_by, "completed_by", max_len=200)
    with problems.check("role"):
        check_text(cmd.role, "role", max_len=200, required=False)
    with problems.check("telephone"):
        check_text(cmd.telephone, "telephone", max_len=40, required=False)
    email = cmd.email.strip()
    local, at, domain = email.partition("@")
    with problems.check("email"):
        if not (local and at and "." in domain) or " " in email or len(email) > 254:
            raise ValidationFailed.field("email", f"'{cmd.email}' is not an email address")
    problems.raise_any()
    return [
        ev.ReturnContactsRecorded(
            pool_id=pool.pool_id,
            year=q.year.label,
            quarter=q.label,
            completed_by=cmd.completed_by.strip(),
            role=cmd.role.strip(),
            email=email,
            telephone=cmd.telephone.strip(),
        )
    ]


def decide_sign_off(cmd: c.SignOffReturn, ctx: Context) -> list[ev.Event]:
    pool, q = _bcf_quarter(ctx, cmd.pool_id, cmd.quarter)
    problems = Problems(ctx.refused)
    with problems.check("signed_off_by"):
        check_text(cmd.signed_off_by, "signed_off_by", max_len=200)
    with problems.check("role"):
        check_text(cmd.role, "role", max_len=200)
    with problems.check("signed_off_on"):
        if cmd.signed_off_on < q.start:
            raise RuleViolation.field(
                "signed_off_on", f"is before {q.label} begins ({q.start.isoformat()})"
            )
        if cmd.signed_off_on > ctx.today:
            raise RuleViolation.field("signed_off_on", "is in the future")
    problems.raise_any()
    return [
        ev.ReturnSignedOff(
            pool_id=pool.pool_id,
            year=q.year.label,
            quarter=q.label,
            signed_off_by=cmd.signed_off_by.strip(),
            role=cmd.role.strip(),
            signed_off_on=cmd.signed_off_on,
        )
    ]

"""The BCF return's further parts in its content: the filing status (due, late), the
contacts and the HWB's sign-off, the checklist of parts, the national-condition
assurances, metric assessments, spend and activity (commissioners in the template's
terms), the ring-fence checks and, at year end, the adult social care fee rates, the
year's income by source against plan with the host's commentary, and the year-end
feedback.

Built from the facts as at the return's position and the year's reference lists the
ledger recorded; a new part of ``ReturnContent`` (``parts``), rendered by
``filing.render.part_sheets``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import Connection

from ledger.domain.bcf_reference import (
    OPTIONAL_PART_SHEET_KEYS,
    YEAR_END_PARTS,
    BcfReturnReference,
)
from ledger.domain.calc.ring_fence import (
    RingFenceScheme,
    adult_social_care,
    out_of_hospital,
)
from ledger.domain.periods import Quarter
from ledger.domain.reference import ReferenceData
from ledger.domain.return_parts import describe, missing_parts
from projections.base import plan_at
from projections.parties import partners_at
from projections.return_parts import PartsView, RecordedPart, parts_at
from projections.returns.lateness import is_late
from projections.returns.return_document import MetricLine, SchemeLine, SheetLayout
from projections.returns.shared import money
from projections.views import IncomeByStreamView

LA_KINDS = frozenset({"local_authority", "district_council"})
NHS_KINDS = frozenset({"icb", "nhs_trust"})


@dataclass(frozen=True)
class Filing:
    due_date: str
    late: bool  # the return's data date (its filing, for a filed one) is after the due date
    complete: bool
    missing: tuple[str, ...]  # part keys


@dataclass(frozen=True)
class Contacts:
    completed_by: str
    role: str
    email: str
    telephone: str
    position: int


@dataclass(frozen=True)
class SignOff:
    signed_off_by: str
    role: str
    signed_off_on: str
    position: int


@dataclass(frozen=True)
class ChecklistLine:
    part: str
    sheet: str
    complete: bool
    missing: tuple[str, ...]  # in words


@dataclass(frozen=True)
class ConditionLine:
    condition_id: str
    title: str
    statement: str
    answer: bool | None  # None: not answered yet
    explanation: str
    position: int | None


@dataclass(frozen=True)
class AssessmentLine:
    metric_id: str
    name: str
    assessment: str
    challenges: str
    achievements: str
    support_needs: str
    position: int | None


@dataclass(frozen=True)
class ActivityLine:
    scheme_id: str
    name: str
    scheme_type: str
    scheme_sub_type: str
    area_of_spend: str
    new_scheme: bool | None
    commissioner: str  # Local Authority, NHS or Joint
    nhs_pct: str  # "" unless joint
    la_pct: str
    funding_stream_name: str
    planned_output: str
    output_delivered: str
    unit: str
    position: int | None
    planned: int = money()
    actual_year_to_date: int = money()


@dataclass(frozen=True)
class RingFenceLine:
    key: str  # adult_social_care | out_of_hospital
    label: str
    floor_verified: bool
    meets_floor: bool | None  # planned against the floor; None without a floor
    floor: int | None = money(default=None)
    planned: int = money(default=0)
    actual_year_to_date: int = money(default=0)


@dataclass(frozen=True)
class FeeRateLine:
    service: str
    unit: str
    before: int = money()
    after: int = money()
    uplift: int = money()


@dataclass(frozen=True)
class IncomeActualLine:
    """A source of income (funding stream and partner) for the year against its plan."""

    funding_stream: str
    stream_name: str
    partner_id: str
    partner_name: str
    planned: int = money()
    actual: int = money()
    variance: int = money()  # actual less planned


@dataclass(frozen=True)
class IncomeActual:
    lines: tuple[IncomeActualLine, ...]
    total: IncomeActualLine
    commentary: str
    position: int | None  # of the commentary


@dataclass(frozen=True)
class FeedbackLine:
    statement_id: str
    statement: str
    verified: bool
    answer: str  # "" until answered
    comment: str
    position: int | None


@dataclass(frozen=True)
class ReturnParts:
    filing: Filing
    contacts: Contacts | None
    sign_off: SignOff | None
    checklist: tuple[ChecklistLine, ...]
    national_conditions: tuple[ConditionLine, ...]
    metric_assessments: tuple[AssessmentLine, ...]
    spend_and_activity: tuple[ActivityLine, ...]
    ring_fence: tuple[RingFenceLine, ...]
    fee_rates: tuple[FeeRateLine, ...]
    year_end: bool
    sheet_order: tuple[str, ...]
    sheets: tuple[SheetLayout, ...]  # the part sheets' titles and columns
    # the end-of-year return's (None and () before Q4, or with lists recorded before them)
    income_actual: IncomeActual | None = field(default=None, metadata={"omit_none": True})
    year_end_feedback: tuple[FeedbackLine, ...] | None = field(
        default=None, metadata={"omit_none": True}
    )


def _text(p: RecordedPart | None, key: str) -> str:
    return str(p.data.get(key) or "") if p is not None else ""


def _pct(d: Decimal) -> str:
    return format(d.normalize(), "f")


def _commissioner(
    commissioner: str, split: tuple[Decimal, Decimal] | None, kinds: dict[str, str]
) -> tuple[str, Decimal | None, Decimal | None]:
    """(la | nhs | joint, NHS %, LA %): the plan's commissioner in the template's sense;
    a member partner named as commissioner counts as its kind (a council: LA)."""
    if commissioner == "joint":
        return "joint", (split[1] if split else None), (split[0] if split else None)
    if commissioner == "icb" or kinds.get(commissioner) in NHS_KINDS:
        return "nhs", None, None
    return "la", None, None


def build_parts(
    conn: Connection,
    pool_id: str,
    hwb_ons_code: str,
    q: Quarter,
    at: int,
    ref: ReferenceData,
    *,
    schemes: tuple[SchemeLine, ...],
    metrics: tuple[MetricLine, ...],
    joint: dict[str, tuple[Decimal, Decimal]],
    data_as_at: str,
    income: IncomeByStreamView | None = None,
) -> ReturnParts | None:
    """The parts of ``pool_id``'s return of ``q`` as at ``at``; None when the year's
    recorded lists predate the template parts (a return filed before them)."""
    lists = ref.bcf_return
    if lists is None:
        return None
    view = parts_at(conn, pool_id, q.label, at)
    plan = plan_at(conn, pool_id, q.year.label, at)
    missing = missing_parts(q.label, plan, ref, view.recorded_keys())
    due = ref.due_date(q)
    partners = partners_at(conn, at)
    kinds = {p.partner_id: p.kind for p in partners}
    activity = _activity(view, lists, schemes, joint, kinds)
    year_end = q.number == 4
    eoy = year_end and bool(lists.year_end_statements)  # lists that ask the year-end parts
    names = {p.partner_id: p.name for p in partners}
    return ReturnParts(
        filing=Filing(due.isoformat(), is_late(data_as_at, due, None), not missing, missing),
        contacts=_contacts(view),
        sign_off=_sign_off(view),
        checklist=_checklist(lists, missing, year_end),
        national_conditions=tuple(
            ConditionLine(
                c.id,
                c.title,
                c.statement,
                bool(p.data["answer"]) if (p := view.conditions.get(c.id)) else None,
                _text(p, "explanation"),
                p.position if p else None,
            )
            for c in lists.national_conditions
        ),
        metric_assessments=tuple(
            AssessmentLine(
                m.metric_id,
                m.name,
                _text(p, "assessment"),
                _text(p, "challenges"),
                _text(p, "achievements"),
                _text(p, "support_needs"),
                p.position if p else None,
            )
            for m in metrics
            for p in (view.assessments.get(m.metric_id),)
        ),
        spend_and_activity=activity,
        ring_fence=_ring_fence(lists, hwb_ons_code, schemes, activity),
        fee_rates=_fee_rates(view) if year_end else (),
        year_end=year_end,
        sheet_order=tuple(k for k in lists.sheet_order if year_end or k not in YEAR_END_PARTS),
        sheets=tuple(SheetLayout(s.key, s.title, s.columns) for s in lists.part_sheets),
        income_actual=_income_actual(view, ref, income, names) if eoy else None,
        year_end_feedback=_feedback(view, lists) if eoy else None,
    )


def _income_actual(
    view: PartsView,
    ref: ReferenceData,
    income: IncomeByStreamView | None,
    names: dict[str, str],
) -> IncomeActual:
    """The year's income by source (funding stream, then partner, in the reference
    order) against the plan: at year end, received for the year less planned."""
    streams = {s.funding_stream: s for s in income.streams} if income is not None else {}
    order = [s.id for s in ref.funding_streams if s.id in streams]
    order += sorted(set(streams) - set(order))
    lines = []
    for sid in order:
        stream = ref.stream(sid)
        for p in streams[sid].partners:
            lines.append(
                IncomeActualLine(
                    funding_stream=sid,
                    stream_name=stream.name if stream else sid,
                    partner_id=p.partner_id,
                    partner_name=names.get(p.partner_id, p.partner_id),
                    planned=p.planned,
                    actual=p.received,
                    variance=p.received - p.planned,
                )
            )
    planned, actual = sum(x.planned for x in lines), sum(x.actual for x in lines)
    total = IncomeActualLine("total", "Total", "", "", planned, actual, actual - planned)
    c = view.income_commentary
    return IncomeActual(tuple(lines), total, _text(c, "commentary"), c.position if c else None)


def _feedback(view: PartsView, lists: BcfReturnReference) -> tuple[FeedbackLine, ...]:
    return tuple(
        FeedbackLine(
            x.id,
            x.statement,
            x.verified,
            _text(p, "answer"),
            _text(p, "comment"),
            p.position if p else None,
        )
        for x in lists.year_end_statements
        for p in (view.feedback.get(x.id),)
    )


def _contacts(view: PartsView) -> Contacts | None:
    p = view.contacts
    if p is None:
        return None
    return Contacts(
        _text(p, "completed_by"),
        _text(p, "role"),
        _text(p, "email"),
        _text(p, "telephone"),
        p.position,
    )


def _sign_off(view: PartsView) -> SignOff | None:
    p = view.sign_off
    if p is None:
        return None
    return SignOff(
        _text(p, "signed_off_by"), _text(p, "role"), _text(p, "signed_off_on"), p.position
    )


_CHECKLIST: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("Cover: who completed the return and their contact", "cover", ("contacts",)),
    ("Cover: Health and Wellbeing Board sign-off", "cover", ("sign_off",)),
    ("National conditions", "national_conditions", ("national_condition",)),
    ("Metric assessments", "metric_assessments", ("metric_assessment",)),
    ("Spend and activity", "spend_and_activity", ("scheme_activity",)),
    ("Adult social care fee rates", "fee_rates", ("fee_rates",)),
    ("Income against plan: variance commentary", "income_actual", ("income_commentary",)),
    ("Year-end feedback", "year_end_feedback", ("year_end_feedback",)),
)


def _checklist(
    lists: BcfReturnReference, missing: tuple[str, ...], year_end: bool
) -> tuple[ChecklistLine, ...]:
    titles = {s.key: s.title for s in lists.part_sheets} | {"cover": "Cover"}
    out = []
    for label, sheet, kinds in _CHECKLIST:
        if sheet in YEAR_END_PARTS and not year_end:
            continue
        if sheet in OPTIONAL_PART_SHEET_KEYS and not lists.year_end_statements:
            continue  # lists recorded before the end-of-year parts do not ask them
        lacking = tuple(describe(k) for k in missing if k.partition(":")[0] in kinds)
        out.append(ChecklistLine(label, titles.get(sheet, sheet), not lacking, lacking))
    return tuple(out)


def _activity(
    view: PartsView,
    lists: BcfReturnReference,
    schemes: tuple[SchemeLine, ...],
    joint: dict[str, tuple[Decimal, Decimal]],
    kinds: dict[str, str],
) -> tuple[ActivityLine, ...]:
    out = []
    for s in schemes:
        if not s.scheme_id or s.scheme_id == "total":
            continue
        p = view.activity.get(s.scheme_id)
        kind, nhs, la = _commissioner(s.commissioner, joint.get(s.scheme_id), kinds)
        new = p.data.get("new_scheme") if p is not None else None
        out.append(
            ActivityLine(
                scheme_id=s.scheme_id,
                name=s.name,
                scheme_type=s.scheme_type,
                scheme_sub_type=_text(p, "scheme_sub_type"),
                area_of_spend=_text(p, "area_of_spend"),
                new_scheme=bool(new) if new is not None else None,
                commissioner=lists.commissioner_term(
                    {"la": "la", "nhs": "icb", "joint": "joint"}[kind]
                ),
                nhs_pct=_pct(nhs) if nhs is not None else "",
                la_pct=_pct(la) if la is not None else "",
                funding_stream_name=s.funding_stream_name,
                planned_output=_text(p, "planned_output"),
                output_delivered=_text(p, "output_delivered"),
                unit=_text(p, "unit"),
                position=p.position if p else None,
                planned=s.planned,
                actual_year_to_date=s.actual_year_to_date,
            )
        )
    return tuple(out)


def _ring_fence(
    lists: BcfReturnReference,
    hwb_ons_code: str,
    schemes: tuple[SchemeLine, ...],
    activity: tuple[ActivityLine, ...],
) -> tuple[RingFenceLine, ...]:
    by_id = {a.scheme_id: a for a in activity}
    terms = {
        lists.commissioner_term(k): v for k, v in (("la", "la"), ("icb", "nhs"), ("joint", "joint"))
    }

    def rows(amount: str) -> list[RingFenceScheme]:
        return [
            RingFenceScheme(
                scheme_id=a.scheme_id,
                funding_stream=s.funding_stream,
                commissioner=terms.get(a.commissioner, "la"),
                area_of_spend=a.area_of_spend or None,
                amount=getattr(s, amount),
                nhs_pct=Decimal(a.nhs_pct) if a.nhs_pct else None,
                la_pct=Decimal(a.la_pct) if a.la_pct else None,
            )
            for s in schemes
            if (a := by_id.get(s.scheme_id)) is not None
        ]

    planned, actual = rows("planned"), rows("actual_year_to_date")
    floor = lists.floor(hwb_ons_code)
    out = []
    for key, label, calc in (
        (
            "adult_social_care",
            "NHS minimum contribution spent on adult social care",
            adult_social_care,
        ),
        (
            "out_of_hospital",
            "NHS minimum contribution spent on NHS-commissioned out-of-hospital services",
            out_of_hospital,
        ),
    ):
        least = getattr(floor, key) if floor is not None else None
        p = calc(planned)
        out.append(
            RingFenceLine(
                key=key,
                label=label,
                floor_verified=bool(floor and floor.verified),
                meets_floor=(p >= least) if least is not None else None,
                floor=least,
                planned=p,
                actual_year_to_date=calc(actual),
            )
        )
    return tuple(out)


_FEES = (
    ("Home care", "per hour", "home_care_per_hour"),
    ("Residential care", "per week", "residential_per_week"),
    ("Nursing care", "per week", "nursing_per_week"),
)


def _fee_rates(view: PartsView) -> tuple[FeeRateLine, ...]:
    p = view.fee_rates
    if p is None:
        return ()
    out = []
    for service, unit, key in _FEES:
        before, after = int(p.data[f"{key}_before"]), int(p.data[f"{key}_after"])
        out.append(FeeRateLine(service, unit, before, after, after - before))
    return tuple(out)

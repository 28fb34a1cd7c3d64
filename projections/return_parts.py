"""The BCF return's further parts of a pool-quarter as at a position: the latest
recorded of each (an assurance per condition, an assessment per metric, activity per
scheme, the year's fee rates, the contacts and the sign-off; at year end the income
commentary and an answer per feedback statement), and every part key
recorded (``ledger.domain.return_parts``), for the checklist and the missing list."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection

from ledger.domain import events as ev
from ledger.domain.periods import parse_quarter
from projections.base import Fact, facts

PART_TYPES = tuple(cls.type for cls in ev.RETURN_PART_TYPES)


@dataclass(frozen=True)
class RecordedPart:
    position: int
    data: dict[str, Any]


@dataclass(frozen=True)
class PartsView:
    pool_id: str
    quarter: str
    as_at_position: int
    conditions: dict[str, RecordedPart] = field(default_factory=dict)
    assessments: dict[str, RecordedPart] = field(default_factory=dict)
    activity: dict[str, RecordedPart] = field(default_factory=dict)
    fee_rates: RecordedPart | None = None
    contacts: RecordedPart | None = None
    sign_off: RecordedPart | None = None
    metrics_recorded: tuple[str, ...] = ()
    income_commentary: RecordedPart | None = None  # the end-of-year return's
    feedback: dict[str, RecordedPart] = field(default_factory=dict)  # by statement id

    def recorded_keys(self) -> frozenset[str]:
        keys = {f"national_condition:{k}" for k in self.conditions}
        keys |= {f"metric_assessment:{k}" for k in self.assessments}
        keys |= {f"scheme_activity:{k}" for k in self.activity}
        keys |= {f"metric:{k}" for k in self.metrics_recorded}
        keys |= {f"year_end_feedback:{k}" for k in self.feedback}
        for name in ("fee_rates", "contacts", "sign_off", "income_commentary"):
            if getattr(self, name) is not None:
                keys.add(name)
        return frozenset(keys)


def _latest(found: list[Fact], key: str) -> dict[str, RecordedPart]:
    out: dict[str, RecordedPart] = {}
    for f in found:  # position order: the latest wins
        out[str(f.data[key])] = RecordedPart(f.position, f.data)
    return dict(sorted(out.items()))


def parts_at(conn: Connection, pool_id: str, quarter: str, at: int) -> PartsView:
    q = parse_quarter(quarter)
    found = facts(conn, pool_id, PART_TYPES, at, period=q.label)
    by_type: dict[str, list[Fact]] = {}
    for f in found:
        by_type.setdefault(f.type, []).append(f)

    def last(type_: str) -> RecordedPart | None:
        items = by_type.get(type_, [])
        return RecordedPart(items[-1].position, items[-1].data) if items else None

    metrics = facts(conn, pool_id, ev.MetricRecorded.type, at, period=q.label)
    return PartsView(
        pool_id=pool_id,
        quarter=q.label,
        as_at_position=at,
        conditions=_latest(by_type.get(ev.NationalConditionAssured.type, []), "condition_id"),
        assessments=_latest(by_type.get(ev.MetricAssessed.type, []), "metric_id"),
        activity=_latest(by_type.get(ev.SchemeActivityRecorded.type, []), "scheme_id"),
        fee_rates=last(ev.FeeRatesRecorded.type),
        contacts=last(ev.ReturnContactsRecorded.type),
        sign_off=last(ev.ReturnSignedOff.type),
        metrics_recorded=tuple(sorted({str(f.data["metric_id"]) for f in metrics})),
        income_commentary=last(ev.IncomeVarianceExplained.type),
        feedback=_latest(by_type.get(ev.YearEndFeedbackGiven.type, []), "statement_id"),
    )

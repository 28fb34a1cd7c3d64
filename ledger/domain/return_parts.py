"""Which parts a pool-quarter's BCF return needs, and which of them are still missing.

A part is named by a key: ``contacts``, ``sign_off``, ``national_condition:<id>`` (each
condition of the year), ``metric_assessment:<metric>`` (each metric recorded for the
quarter), ``scheme_activity:<scheme>`` (each scheme of the year's plan) and, in the
end-of-year (Q4) return, ``fee_rates``, ``income_commentary`` and
``year_end_feedback:<id>`` (each of the year's feedback statements, when its lists
have them). What has been recorded is a set of the same
keys, plus ``metric:<metric>`` for each metric recorded for the quarter (the metrics
whose assessment is then required). Pure: the write side keeps the set in the pool's
state, the read side builds it from the facts as at a position.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from ledger.domain import events as ev
from ledger.domain.periods import parse_quarter
from ledger.domain.plan import Plan
from ledger.domain.reference import ReferenceData

PART_EVENTS = (
    ev.NationalConditionAssured,
    ev.MetricAssessed,
    ev.SchemeActivityRecorded,
    ev.FeeRatesRecorded,
    ev.ReturnContactsRecorded,
    ev.ReturnSignedOff,
    ev.IncomeVarianceExplained,
    ev.YearEndFeedbackGiven,
    ev.MetricRecorded,
)  # every class ``part_keys_of`` matches below
_NO_PART: set[type] = set()  # event types that are none of them (postings, ...)


def part_keys_of(event: ev.Event) -> tuple[str, str] | None:
    """``(quarter, part key)`` that a fact records, or None. Every fact's state update
    asks (``ledger.domain.state.evolve``), so a type known to be no part event skips
    the nine class patterns."""
    kind = type(event)
    if kind in _NO_PART:
        return None
    if not issubclass(kind, PART_EVENTS):
        _NO_PART.add(kind)
        return None
    match event:
        case ev.NationalConditionAssured(quarter=q, condition_id=cid):
            return q, f"national_condition:{cid}"
        case ev.MetricAssessed(period=q, metric_id=m):
            return q, f"metric_assessment:{m}"
        case ev.SchemeActivityRecorded(period=q, scheme_id=s):
            return q, f"scheme_activity:{s}"
        case ev.FeeRatesRecorded(quarter=q):
            return q, "fee_rates"
        case ev.ReturnContactsRecorded(quarter=q):
            return q, "contacts"
        case ev.ReturnSignedOff(quarter=q):
            return q, "sign_off"
        case ev.IncomeVarianceExplained(quarter=q):
            return q, "income_commentary"
        case ev.YearEndFeedbackGiven(quarter=q, statement_id=sid):
            return q, f"year_end_feedback:{sid}"
        case ev.MetricRecorded(period=p, metric_id=m) if "-Q" in p:
            return p, f"metric:{m}"
    return None


def required_parts(
    quarter: str, plan: Plan | None, ref: ReferenceData | None, recorded: Collection[str]
) -> tuple[str, ...]:
    """The parts the return of ``quarter`` needs, in the template's order."""
    q = parse_quarter(quarter)
    out = ["contacts", "sign_off"]
    if ref is not None and ref.bcf_return is not None:
        out += [f"national_condition:{c.id}" for c in ref.bcf_return.national_conditions]
    metrics = sorted(k.split(":", 1)[1] for k in recorded if k.startswith("metric:"))
    out += [f"metric_assessment:{m}" for m in metrics]
    out += [f"scheme_activity:{s.id}" for s in (plan.schemes if plan else ())]
    if q.number == 4:
        out.append("fee_rates")
        if ref is not None and ref.bcf_return is not None and ref.bcf_return.year_end_statements:
            # the end-of-year parts, asked by lists that carry them
            out.append("income_commentary")
            out += [f"year_end_feedback:{x.id}" for x in ref.bcf_return.year_end_statements]
    return tuple(out)


def missing_parts(
    quarter: str, plan: Plan | None, ref: ReferenceData | None, recorded: Iterable[str]
) -> tuple[str, ...]:
    have = set(recorded)
    return tuple(k for k in required_parts(quarter, plan, ref, have) if k not in have)


_LABELS = {
    "contacts": "who completed the return and their contact",
    "sign_off": "the Health and Wellbeing Board's sign-off",
    "national_condition": "the assurance on national condition {}",
    "metric_assessment": "the assessment of metric '{}'",
    "scheme_activity": "the activity of scheme '{}'",
    "fee_rates": "the adult social care fee rates (end of year)",
    "income_commentary": "the commentary on income against plan (end of year)",
    "year_end_feedback": "the answer to year-end feedback statement {} (end of year)",
}


def describe(part: str) -> str:
    """A part key in words, e.g. "the assurance on national condition 2"."""
    kind, _, arg = part.partition(":")
    return _LABELS.get(kind, kind).format(arg)

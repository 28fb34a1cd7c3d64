"""The return's income lines (by funding stream) and expenditure lines (by scheme):
in the quarter, year to date, as the previous return reported and the adjustments
between (see ``projections.returns.adjustments``), and the commissioner in the
template's terms: Local Authority, NHS, or Joint with the NHS and LA percentages."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from ledger.domain.periods import Quarter
from ledger.domain.reference import ReferenceData
from projections.returns.return_document import IncomeLine, SchemeLine
from projections.views import IncomeByStreamView, SchemeSpend


def _ytd(by_quarter: dict[str, int], quarters: Sequence[str]) -> int:
    return sum(by_quarter.get(x, 0) for x in quarters)


def income_lines(
    now: IncomeByStreamView,
    then: IncomeByStreamView | None,
    ref: ReferenceData,
    q: Quarter,
    upto: list[str],
) -> tuple[IncomeLine, ...]:
    by_id = {s.funding_stream: s for s in now.streams}
    before = {s.funding_stream: s for s in then.streams} if then is not None else {}
    order = [s.id for s in ref.funding_streams]
    order += sorted(set(by_id) - set(order))
    out = []
    for sid in order:
        s = by_id.get(sid)
        by_q = s.received_by_quarter if s else {}
        in_q = by_q.get(q.label, 0)
        ytd = _ytd(by_q, upto)
        if then is not None:
            old = before.get(sid)
            prev = _ytd(old.received_by_quarter, upto[:-1]) if old else 0
        else:
            prev = ytd - in_q
        stream = ref.stream(sid)
        out.append(
            IncomeLine(
                funding_stream=sid,
                name=stream.name if stream else sid,
                planned=s.planned if s else 0,
                received_in_quarter=in_q,
                received_year_to_date=ytd,
                previous_year_to_date=prev,
                adjustments=ytd - in_q - prev,
            )
        )
    return tuple(out)


def joint_splits(plan: dict[str, Any] | None) -> dict[str, tuple[Decimal, Decimal]]:
    out: dict[str, tuple[Decimal, Decimal]] = {}
    for s in (plan or {}).get("schemes", ()):
        split = s.get("joint_split")
        if s.get("commissioner") == "joint" and split:
            out[s["id"]] = (Decimal(str(split["la"])), Decimal(str(split["icb"])))
    return out


def _pct(d: Decimal) -> str:
    return format(d.normalize(), "f")


LA_KINDS = frozenset({"local_authority", "district_council"})
NHS_KINDS = frozenset({"icb", "nhs_trust"})
TEMPLATE_TERMS = {"la": "Local Authority", "icb": "NHS", "joint": "Joint"}


def commissioner_kind(commissioner: str, kinds: dict[str, str]) -> str:
    """``la``, ``icb`` or ``joint``: the plan's commissioner as the template counts it; a
    member partner named as commissioner counts as its kind (an ICB or trust: NHS;
    anything else, a council: Local Authority)."""
    if commissioner in ("la", "icb", "joint"):
        return commissioner
    return "icb" if kinds.get(commissioner) in NHS_KINDS else "la"


def commissioner_label(kind: str, ref: ReferenceData) -> str:
    """The template's term for ``la``, ``icb`` or ``joint`` (Local Authority, NHS,
    Joint), from the year's lists when they name it."""
    lists = ref.bcf_return
    return lists.commissioner_term(kind) if lists is not None else TEMPLATE_TERMS[kind]


def joint_percentages(split: tuple[Decimal, Decimal] | None) -> tuple[str, str]:
    """(% NHS, % LA) of a joint scheme's split (LA, ICB), as the template asks them."""
    return (_pct(split[1]), _pct(split[0])) if split is not None else ("", "")


def scheme_line(
    s: SchemeSpend,
    then: dict[str, SchemeSpend] | None,
    ref: ReferenceData,
    q: Quarter,
    upto: list[str],
    kinds: dict[str, str],
    split: tuple[Decimal, Decimal] | None,
) -> SchemeLine:
    in_q = s.actual_by_quarter.get(q.label, 0)
    ytd = _ytd(s.actual_by_quarter, upto)
    if then is not None:
        old = then.get(s.scheme_id)
        prev = _ytd(old.actual_by_quarter, upto[:-1]) if old else 0
    else:
        prev = ytd - in_q
    stream = ref.stream(s.funding_stream)
    kind = commissioner_kind(s.commissioner, kinds)
    nhs_pct, la_pct = joint_percentages(split if kind == "joint" else None)
    return SchemeLine(
        scheme_id=s.scheme_id,
        name=s.name,
        scheme_type=s.scheme_type,
        commissioner=s.commissioner,
        commissioner_label=commissioner_label(kind, ref),
        nhs_pct=nhs_pct,
        la_pct=la_pct,
        provider_type=s.provider_type,
        funding_stream=s.funding_stream,
        funding_stream_name=stream.name if stream else s.funding_stream,
        planned=s.planned,
        actual_in_quarter=in_q,
        actual_year_to_date=ytd,
        forecast_outturn=s.outturn if s.outturn_known else None,
        previous_year_to_date=prev,
        adjustments=ytd - in_q - prev,
    )

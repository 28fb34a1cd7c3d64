"""The return's totals: of income and expenditure, and of expenditure by scheme type
and by commissioner.

- **Totals by commissioner** split a joint scheme between ``la`` and ``icb`` by its
  agreed percentages (largest remainder, per figure), as the national template's
  summary does; a scheme commissioned by a member partner is totalled under its kind
  (a council: Local Authority; an ICB or trust: NHS), in the template's terms.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from ledger.domain.money import allocate
from ledger.domain.reference import ReferenceData
from projections.returns.lines import commissioner_kind, commissioner_label
from projections.returns.return_document import IncomeLine, SchemeLine, TotalLine, Totals

_INCOME_MONEY = (
    "planned",
    "received_in_quarter",
    "received_year_to_date",
    "previous_year_to_date",
    "adjustments",
)
_SCHEME_MONEY = (
    "planned",
    "actual_in_quarter",
    "actual_year_to_date",
    "forecast_outturn",
    "previous_year_to_date",
    "adjustments",
)
_TOTAL_MONEY = ("planned", "actual_in_quarter", "actual_year_to_date", "forecast_outturn")


def _total(items: Sequence[Any], name: str) -> int | None:
    """The sum of a money column; a forecast outturn sums only when every line has one
    (a scheme without its own forecast has none: "no scheme forecast")."""
    values: list[int | None] = [getattr(x, name) for x in items]
    found = [v for v in values if v is not None]
    return sum(found) if len(found) == len(values) else None


def totals(income: Sequence[IncomeLine], schemes: Sequence[SchemeLine]) -> Totals:
    def total(items: Sequence[Any], name: str) -> int:
        return sum(getattr(x, name) for x in items)

    return Totals(
        income=IncomeLine(
            funding_stream="total",
            name="Total",
            **{f: total(income, f) for f in _INCOME_MONEY},
        ),
        expenditure=SchemeLine(
            scheme_id="total",
            name="Total",
            scheme_type="",
            commissioner="",
            commissioner_label="",
            provider_type="",
            funding_stream="",
            funding_stream_name="",
            planned=total(schemes, "planned"),
            actual_in_quarter=total(schemes, "actual_in_quarter"),
            actual_year_to_date=total(schemes, "actual_year_to_date"),
            forecast_outturn=_total(schemes, "forecast_outturn"),
            previous_year_to_date=total(schemes, "previous_year_to_date"),
            adjustments=total(schemes, "adjustments"),
        ),
    )


def _sum_lines(key: str, label: str, items: Iterable[SchemeLine | TotalLine]) -> TotalLine:
    items = list(items)
    return TotalLine(
        key,
        label,
        sum(x.planned for x in items),
        sum(x.actual_in_quarter for x in items),
        sum(x.actual_year_to_date for x in items),
        _total(items, "forecast_outturn"),
    )


def by_scheme_type(schemes: Sequence[SchemeLine], ref: ReferenceData) -> tuple[TotalLine, ...]:
    groups: dict[str, list[SchemeLine]] = defaultdict(list)
    for s in schemes:
        groups[s.scheme_type].append(s)
    order = [t for t in ref.scheme_types if t in groups]
    order += sorted(set(groups) - set(order))
    rows = [_sum_lines(t, t or "(no scheme type)", groups[t]) for t in order]
    return (*rows, _sum_lines("total", "Total", rows))


def by_commissioner(
    schemes: Sequence[SchemeLine],
    joint: dict[str, tuple[Decimal, Decimal]],
    kinds: dict[str, str],
    ref: ReferenceData,
) -> tuple[TotalLine, ...]:
    sums: dict[str, dict[str, int | None]] = defaultdict(lambda: dict.fromkeys(_TOTAL_MONEY, 0))

    def add(key: str, f: str, amount: int | None) -> None:
        before = sums[key][f]
        sums[key][f] = None if before is None or amount is None else before + amount

    for s in schemes:
        split = joint.get(s.scheme_id) if s.commissioner == "joint" else None
        for f in _TOTAL_MONEY:
            amount = getattr(s, f)
            if amount is None:
                keys = ("la", "icb") if split is not None and (split[0] or split[1]) else ()
                for k in keys or (commissioner_kind(s.commissioner, kinds),):
                    add(k, f, None)
            elif split is not None and (split[0] or split[1]):
                parts = allocate(amount, {"la": split[0], "icb": split[1]}, ["la", "icb"])
                add("la", f, parts["la"])
                add("icb", f, parts["icb"])
            else:
                add(commissioner_kind(s.commissioner, kinds), f, amount)
    first = [k for k in ("la", "icb") if k in sums]
    last = [k for k in ("joint", "") if k in sums]
    order = first + sorted(set(sums) - set(first) - set(last)) + last

    def known(k: str, f: str) -> int:
        return sums[k][f] or 0  # only the forecast outturn may be None

    rows = [
        TotalLine(
            k,
            commissioner_label(k, ref) if k in ("la", "icb", "joint") else "(no commissioner)",
            known(k, "planned"),
            known(k, "actual_in_quarter"),
            known(k, "actual_year_to_date"),
            sums[k]["forecast_outturn"],
        )
        for k in order
    ]
    return (*rows, _sum_lines("total", "Total", rows))

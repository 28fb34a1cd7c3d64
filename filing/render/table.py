"""The table model every format renders: cells, sheets, a cell's text, and laying a
sheet out in the columns of the year's return layout."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ledger.domain.money import format_pence
from projections.returns.shared import PoolFigures, RiskShareSummary

SHARE_FORMAT = "0.00%"
NO_SCHEME_FORECAST = "no scheme forecast"  # a scheme outturn cell when it has none


@dataclass(frozen=True)
class Money:
    pence: int


@dataclass(frozen=True)
class Number:
    """A decimal string shown as a number in the workbook (and as given in CSV)."""

    text: str
    number_format: str = "General"


@dataclass(frozen=True)
class Rag:
    status: str  # green | amber | red


Cell = str | int | bool | Money | Number | Rag | None


@dataclass(frozen=True)
class Sheet:
    key: str
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    total_rows: frozenset[int] = field(default_factory=frozenset)  # indices into rows


def cell_text(cell: Cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return "yes" if cell else "no"
    if isinstance(cell, Money):
        return format_pence(cell.pence)
    if isinstance(cell, Number):
        return cell.text
    if isinstance(cell, Rag):
        return cell.status.capitalize()
    return str(cell)


def _fit(columns: Sequence[str], defaults: Sequence[str], width: int) -> tuple[str, ...]:
    """The layout's column titles for the first ``width`` cells (the shipped defaults
    where a layout has fewer), then any further titles the layout adds."""
    cols = list(columns[:width]) + list(defaults[len(columns) : width])
    return tuple(cols + list(columns[width:]))


def _pad(row: Sequence[Cell], width: int) -> tuple[Cell, ...]:
    return tuple(row) + (None,) * (width - len(row))


def table(
    key: str,
    title: str,
    layout_columns: Sequence[str],
    defaults: Sequence[str],
    extra: Sequence[str],
    rows: Sequence[Sequence[Cell]],
    totals: int = 0,
) -> Sheet:
    """A sheet whose first ``len(defaults)`` columns are the layout's, then ``extra``.
    The last ``totals`` rows are totals."""
    base = _fit(layout_columns, defaults, len(defaults))
    columns = base + tuple(extra)
    width = len(columns)
    laid = len(base) - len(defaults)  # columns the layout adds beyond ours: left blank
    out = []
    for r in rows:
        ours, more = list(r[: len(defaults)]), list(r[len(defaults) :])
        out.append(_pad([*ours, *([None] * laid), *more], width))
    n = len(out)
    return Sheet(key, title, columns, tuple(out), frozenset(range(n - totals, n)))


def money(value: int) -> Money:
    return Money(value)


COVER_DEFAULTS = ("Item", "Value")


def pool_figure_rows(p: PoolFigures, rs: RiskShareSummary) -> list[tuple[str, Cell]]:
    """The pool's figures as cover rows, in the order the return and the memorandum
    both show them."""
    return [
        ("Opening Balance (£)", money(p.opening_balance)),
        ("Planned Contributions (£)", money(p.planned)),
        ("Income Received (£)", money(p.income)),
        ("Expenditure (£)", money(p.spend)),
        ("Transfers In (£)", money(p.transfers_in)),
        ("Transfers Out (£)", money(p.transfers_out)),
        ("Pool Balance (£)", money(p.balance)),
        ("Outturn (£)", money(p.outturn)),
        ("Outturn Basis", p.outturn_basis),
        ("Variance (£)", money(p.variance) if p.variance is not None else "none: no outturn yet"),
        ("Planned Spend to Date (£)", money(p.planned_to_date)),
        ("Actual Spend to Date (£)", money(p.actual_to_date)),
        ("Variance to Date (£)", money(p.variance_to_date)),
        ("Risk Share Direction", rs.direction),
        ("Risk Share Method", rs.method),
    ]

"""Render return and memorandum content as JSON, a zip of CSVs, or an Excel workbook.

Every renderer is a pure function of the content: the same content gives the same
bytes, always. So nothing here reads the clock: the workbook's created and modified
properties and every zip entry's timestamp are the content's ``data_as_at``.

- **JSON**: canonical (keys sorted, no spaces, UTF-8), money as decimal strings of
  pounds (``"-123.45"``); the document the content hash is computed over.
- **CSV**: a zip holding one CSV per sheet (``cover.csv``, ``income.csv``, ...), in
  the workbook's sheet order; UTF-8 with a byte-order mark (so Excel reads the £
  in the headers), CRLF line ends, money as decimal strings.
- **xlsx**: one sheet per part, titled and with the columns of the year's return
  layout (reference data) and, after them, the reconciliation columns the national
  template lacks (year to date at the previous return, prior-period adjustments);
  money as numbers with the ``£#,##0.00`` format, bold total rows, a frozen header
  row, metric statuses filled red, amber or green.
"""

from __future__ import annotations

import csv
import io
import os
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.writer.excel import ExcelWriter

from ledger.clock import parse_instant
from ledger.domain.money import format_pence
from scheduler.content.canonical import Content, canonical_json, to_json_obj
from scheduler.content.memorandum_document import MemorandumContent
from scheduler.content.return_document import Adjustment, ReturnContent, SchemeLine, TotalLine

Format = Literal["json", "csv", "xlsx"]
FORMATS: tuple[Format, ...] = ("json", "csv", "xlsx")
MEDIA_TYPES: dict[str, str] = {
    "json": "application/json",
    "csv": "application/zip",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
EXTENSIONS: dict[str, str] = {"json": "json", "csv": "csv.zip", "xlsx": "xlsx"}
MONEY_FORMAT = "£#,##0.00"
SHARE_FORMAT = "0.00%"


# --- cells and sheets ------------------------------------------------------------------


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


def _text(cell: Cell) -> str:
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


# --- the quarterly return's sheets ----------------------------------------------------

RECONCILIATION = ("Year to Date at Previous Return (£)", "Prior-Period Adjustments (£)")
ADJUSTMENT_EXTRA = ("Position", "Marked as Prior-Period Adjustment")


def _fit(columns: Sequence[str], defaults: Sequence[str], width: int) -> tuple[str, ...]:
    """The layout's column titles for the first ``width`` cells (the shipped defaults
    where a layout has fewer), then any further titles the layout adds."""
    cols = list(columns[:width]) + list(defaults[len(columns) : width])
    return tuple(cols + list(columns[width:]))


def _pad(row: Sequence[Cell], width: int) -> tuple[Cell, ...]:
    return tuple(row) + (None,) * (width - len(row))


def _table(
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


def _m(value: int) -> Money:
    return Money(value)


def _money_row(line: TotalLine | SchemeLine) -> list[Cell]:
    return [
        _m(line.planned),
        _m(line.actual_in_quarter),
        _m(line.actual_year_to_date),
        _m(line.forecast_outturn),
    ]


_COVER_DEFAULTS = ("Item", "Value")


def _cover_rows(c: ReturnContent) -> list[tuple[Cell, ...]]:
    v = c.cover
    p, rs = c.pool, c.risk_share
    return [
        ("Template", v.template_name),
        ("Health and Wellbeing Board", v.hwb_area_name),
        ("HWB ONS Code", v.hwb_area_ons_code),
        ("Pool", v.pool_name),
        ("Pool ID", v.pool_id),
        ("Host Partner (Lead Commissioner)", v.host_partner_name),
        ("Financial Year", v.year),
        ("Quarter", v.quarter),
        ("Period Start", v.period_start),
        ("Period End", v.period_end),
        ("Due Date", v.due_date),
        ("Data As At", v.data_as_at),
        ("As-At Position", v.as_at_position),
        ("Chain Head (SHA-256)", v.chain_head),
        ("Content Hash (SHA-256)", v.content_hash),
        ("Reference Data Hash (SHA-256)", v.reference_data_hash or ""),
        ("Previous Return", v.previous_return_quarter or ""),
        ("Previous Return As-At Position", v.previous_return_position),
        ("Opening Balance (£)", _m(p.opening_balance)),
        ("Planned Contributions (£)", _m(p.planned)),
        ("Income Received (£)", _m(p.income)),
        ("Expenditure (£)", _m(p.spend)),
        ("Transfers In (£)", _m(p.transfers_in)),
        ("Transfers Out (£)", _m(p.transfers_out)),
        ("Pool Balance (£)", _m(p.balance)),
        ("Outturn (£)", _m(p.outturn)),
        ("Outturn Basis", p.outturn_basis),
        ("Variance (£)", _m(p.variance)),
        ("Risk Share Direction", rs.direction),
        ("Risk Share Method", rs.method),
        ("Risk Share Settled", rs.settled),
    ]


def _event_type(a: Adjustment) -> str:
    if a.reversal and a.event_type == "event_reversed":
        return f"event_reversed ({a.kind})"
    return a.event_type


def _party(a: Adjustment) -> str:
    if a.partner_id and a.counterparty_id:
        return f"{a.partner_id} -> {a.counterparty_id}"
    return a.partner_id or ""


def _balance_rows(c: ReturnContent) -> list[list[Cell]]:
    rows: list[list[Cell]] = [
        [
            p.partner_id,
            p.name,
            _m(p.planned),
            _m(p.received),
            _m(p.transfers_in),
            _m(p.transfers_out),
            Number(p.share, SHARE_FORMAT),
            _m(p.risk_share),
            _m(p.net_obligation),
            _m(p.outstanding),
        ]
        for p in c.partners
    ]

    def total(name: str) -> Money:
        return _m(sum(getattr(p, name) for p in c.partners))

    rows.append(
        [
            "total",
            "Total",
            *(total(f) for f in ("planned", "received", "transfers_in", "transfers_out")),
            None,
            *(total(f) for f in ("risk_share", "net_obligation", "outstanding")),
        ]
    )
    return rows


def return_sheets(c: ReturnContent) -> list[Sheet]:
    """The return's sheets in the layout's order."""
    built: dict[str, Callable[[str, Sequence[str]], Sheet]] = {
        "cover": lambda t, cols: _table(
            "cover", t, cols, _COVER_DEFAULTS, (), [list(r) for r in _cover_rows(c)]
        ),
        "income": lambda t, cols: _table(
            "income",
            t,
            cols,
            (
                "Source of Funding",
                "Funding Stream ID",
                "Planned Income (£)",
                "Income Received in Quarter (£)",
                "Income Received Year to Date (£)",
            ),
            RECONCILIATION,
            [
                [
                    x.name,
                    x.funding_stream,
                    _m(x.planned),
                    _m(x.received_in_quarter),
                    _m(x.received_year_to_date),
                    _m(x.previous_year_to_date),
                    _m(x.adjustments),
                ]
                for x in (*c.income, c.totals.income)
            ],
            totals=1,
        ),
        "expenditure": lambda t, cols: _table(
            "expenditure",
            t,
            cols,
            (
                "Scheme ID",
                "Scheme Name",
                "Scheme Type",
                "Commissioner",
                "Provider Type",
                "Source of Funding",
                "Planned Expenditure (£)",
                "Actual Expenditure in Quarter (£)",
                "Actual Expenditure Year to Date (£)",
                "Forecast Outturn (£)",
            ),
            RECONCILIATION,
            [
                [
                    x.scheme_id,
                    x.name,
                    x.scheme_type,
                    x.commissioner_label,
                    x.provider_type,
                    x.funding_stream_name,
                    *_money_row(x),
                    _m(x.previous_year_to_date),
                    _m(x.adjustments),
                ]
                for x in (*c.expenditure, c.totals.expenditure)
            ],
            totals=1,
        ),
        "expenditure_by_scheme_type": lambda t, cols: _table(
            "expenditure_by_scheme_type",
            t,
            cols,
            ("Scheme Type", *_TOTAL_TITLES),
            (),
            [[x.label, *_money_row(x)] for x in c.by_scheme_type],
            totals=1,
        ),
        "expenditure_by_commissioner": lambda t, cols: _table(
            "expenditure_by_commissioner",
            t,
            cols,
            ("Commissioner", *_TOTAL_TITLES),
            (),
            [[x.label, *_money_row(x)] for x in c.by_commissioner],
            totals=1,
        ),
        "metrics": lambda t, cols: _table(
            "metrics",
            t,
            cols,
            (
                "Metric ID",
                "Metric",
                "Unit",
                "Period",
                "Planned Ambition",
                "Actual Performance",
                "Assessment of Progress (RAG)",
            ),
            (),
            [
                [
                    m.metric_id,
                    m.name,
                    m.unit,
                    m.period,
                    Number(m.target),
                    Number(m.actual),
                    Rag(m.status),
                ]
                for m in c.metrics
            ],
        ),
        "balances": lambda t, cols: _table(
            "balances",
            t,
            cols,
            (
                "Partner ID",
                "Partner",
                "Planned Contribution (£)",
                "Contributions Received Year to Date (£)",
                "Transfers In (£)",
                "Transfers Out (£)",
                "Share of Pool",
                "Provisional Risk Share (£)",
                "Net Obligation (£)",
                "Outstanding (£)",
            ),
            (),
            _balance_rows(c),
            totals=1,
        ),
        "prior_period_adjustments": lambda t, cols: _table(
            "prior_period_adjustments",
            t,
            cols,
            (
                "Event ID",
                "Event Type",
                "Effective Date",
                "Period Adjusted",
                "Partner",
                "Scheme ID",
                "Source of Funding",
                "Amount (£)",
                "Reference",
                "Recorded At",
            ),
            ADJUSTMENT_EXTRA,
            [
                [
                    a.event_id,
                    _event_type(a),
                    a.effective_date,
                    a.quarter,
                    _party(a),
                    a.scheme_id or "",
                    a.funding_stream or "",
                    _m(a.amount) if a.amount is not None else None,
                    a.reference,
                    a.recorded_at,
                    a.position,
                    a.marked,
                ]
                for a in c.prior_period_adjustments
            ],
        ),
    }
    return [built[s.key](s.title, s.columns) for s in c.layout.sheets]


_TOTAL_TITLES = (
    "Planned Expenditure (£)",
    "Actual Expenditure in Quarter (£)",
    "Actual Expenditure Year to Date (£)",
    "Forecast Outturn (£)",
)


# --- the memorandum's sheets -----------------------------------------------------------


def memorandum_sheets(c: MemorandumContent) -> list[Sheet]:
    v, p, rs = c.cover, c.pool, c.risk_share
    statement: list[tuple[Cell, ...]] = [
        ("Statement", "Section 75 annual memorandum statement"),
        ("Pool", v.pool_name),
        ("Pool ID", v.pool_id),
        ("Pool Kind", v.pool_kind),
        ("Host Partner (Lead Commissioner)", v.host_partner_name),
        ("Financial Year", v.year),
        ("Period Start", v.period_start),
        ("Period End", v.period_end),
        ("Data As At", v.data_as_at),
        ("As-At Position", v.as_at_position),
        ("Chain Head (SHA-256)", v.chain_head),
        ("Content Hash (SHA-256)", v.content_hash),
        ("Q4 Closed", v.q4_closed),
        ("Risk Share Settled", v.settled),
        ("Opening Balance (£)", _m(p.opening_balance)),
        ("Planned Contributions (£)", _m(p.planned)),
        ("Income Received (£)", _m(p.income)),
        ("Expenditure (£)", _m(p.spend)),
        ("Transfers In (£)", _m(p.transfers_in)),
        ("Transfers Out (£)", _m(p.transfers_out)),
        ("Pool Balance (£)", _m(p.balance)),
        ("Outturn (£)", _m(p.outturn)),
        ("Outturn Basis", p.outturn_basis),
        ("Variance (£)", _m(p.variance)),
        ("Risk Share Direction", rs.direction),
        ("Risk Share Method", rs.method),
        ("Carried Forward (£)", _m(rs.carried_forward)),
    ]

    def total(items: Sequence[Any], *names: str) -> list[Cell]:
        return [_m(sum(getattr(x, n) for x in items)) for n in names]

    income_rows: list[list[Cell]] = [
        [x.partner_id, x.name, x.funding_stream, _m(x.planned), _m(x.received), _m(x.variance)]
        for x in c.income
    ]
    income_rows.append(["total", "Total", "", *total(c.income, "planned", "received", "variance")])
    spend_rows: list[list[Cell]] = [
        [
            x.scheme_id,
            x.name,
            x.scheme_type,
            x.commissioner,
            x.funding_stream,
            _m(x.planned),
            _m(x.actual),
            _m(x.outturn),
            _m(x.variance),
        ]
        for x in c.expenditure
    ]
    spend_rows.append(
        ["total", "Total", "", "", "", *total(c.expenditure, "planned", "actual", "outturn")]
        + total(c.expenditure, "variance")
    )
    labels = {
        "partner_to_pool": "Partner to pool",
        "pool_to_partner": "Pool to partner",
        "partner_to_partner": "Partner to partner",
    }
    transfer_rows: list[list[Cell]] = [
        [labels[t.kind], t.from_party, t.to_party, _m(t.amount)] for t in c.transfers
    ]
    risk_rows: list[list[Cell]] = [
        [
            x.partner_id,
            x.name,
            Number(x.share, SHARE_FORMAT),
            _m(x.planned),
            _m(x.received),
            _m(x.transfers_in),
            _m(x.transfers_out),
            _m(x.risk_share),
            x.status,
            _m(x.net_obligation),
            _m(x.outstanding),
        ]
        for x in c.partners
    ]
    money_fields = ("planned", "received", "transfers_in", "transfers_out", "risk_share")
    risk_rows.append(
        ["total", "Total", None, *total(c.partners, *money_fields), None]
        + total(c.partners, "net_obligation", "outstanding")
    )
    return [
        _table("statement", "Statement", (), _COVER_DEFAULTS, (), [list(r) for r in statement]),
        _table(
            "income",
            "Income",
            (),
            (
                "Partner ID",
                "Partner",
                "Funding Stream",
                "Planned (£)",
                "Received (£)",
                "Variance (£)",
            ),
            (),
            income_rows,
            totals=1,
        ),
        _table(
            "expenditure",
            "Expenditure",
            (),
            (
                "Scheme ID",
                "Scheme Name",
                "Scheme Type",
                "Commissioner",
                "Funding Stream",
                "Planned (£)",
                "Actual (£)",
                "Outturn (£)",
                "Variance (£)",
            ),
            (),
            spend_rows,
            totals=1,
        ),
        _table(
            "transfers",
            "Transfers",
            (),
            ("Transfer", "From", "To", "Amount (£)"),
            (),
            transfer_rows,
        ),
        _table(
            "risk_share",
            "Risk Share",
            (),
            (
                "Partner ID",
                "Partner",
                "Share of Pool",
                "Planned Contribution (£)",
                "Received (£)",
                "Transfers In (£)",
                "Transfers Out (£)",
                "Risk Share (£)",
                "Status",
                "Net Obligation (£)",
                "Outstanding (£)",
            ),
            (),
            risk_rows,
            totals=1,
        ),
    ]


def sheets_of(content: Content) -> list[Sheet]:
    if isinstance(content, ReturnContent):
        return return_sheets(content)
    return memorandum_sheets(content)


# --- the three formats -----------------------------------------------------------------


def render_json(content: Content) -> bytes:
    return canonical_json(to_json_obj(content))


def _zip_time(content: Content) -> tuple[int, int, int, int, int, int]:
    t = parse_instant(content.data_as_at)
    if t.year < 1980:  # the zip format's epoch
        return (1980, 1, 1, 0, 0, 0)
    return (t.year, t.month, t.day, t.hour, t.minute, t.second)


class _FixedTimeZip(zipfile.ZipFile):
    """A zip whose entries all carry one fixed timestamp and mode (deterministic bytes)."""

    fixed_time: tuple[int, int, int, int, int, int] = (1980, 1, 1, 0, 0, 0)

    def writestr(  # type: ignore[override]
        self,
        zinfo_or_arcname: str | zipfile.ZipInfo,
        data: str | bytes,
        compress_type: int | None = None,
        compresslevel: int | None = None,
    ) -> None:
        name = (
            zinfo_or_arcname.filename
            if isinstance(zinfo_or_arcname, zipfile.ZipInfo)
            else zinfo_or_arcname
        )
        info = zipfile.ZipInfo(name, date_time=self.fixed_time)
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        info.create_system = 3
        super().writestr(info, data, compresslevel=compresslevel)

    def write(  # type: ignore[override]
        self,
        filename: str | os.PathLike[str],
        arcname: str | None = None,
        compress_type: int | None = None,
        compresslevel: int | None = None,
    ) -> None:
        """openpyxl writes each worksheet from a temporary file, whose modification
        time and mode would otherwise end up in the archive."""
        with open(filename, "rb") as f:
            data = f.read()
        self.writestr(arcname or os.path.basename(filename), data, compresslevel=compresslevel)


def _zip(content: Content) -> tuple[io.BytesIO, _FixedTimeZip]:
    buf = io.BytesIO()
    archive = _FixedTimeZip(buf, "w", zipfile.ZIP_DEFLATED)
    archive.fixed_time = _zip_time(content)
    return buf, archive


def render_csv_zip(content: Content) -> bytes:
    buf, archive = _zip(content)
    with archive:
        for sheet in sheets_of(content):
            text = io.StringIO()
            w = csv.writer(text, lineterminator="\r\n")
            w.writerow(sheet.columns)
            w.writerows([_text(c) for c in row] for row in sheet.rows)
            archive.writestr(f"{sheet.key}.csv", text.getvalue().encode("utf-8-sig"))
    return buf.getvalue()


HEADER_FILL = PatternFill(fill_type="solid", start_color="FF1F4E78", end_color="FF1F4E78")
HEADER_FONT = Font(bold=True, color="FFFFFFFF")
TOTAL_FONT = Font(bold=True)
RAG_STYLE = {
    "green": (
        PatternFill(fill_type="solid", start_color="FFC6EFCE", end_color="FFC6EFCE"),
        Font(color="FF006100", bold=True),
    ),
    "amber": (
        PatternFill(fill_type="solid", start_color="FFFFEB9C", end_color="FFFFEB9C"),
        Font(color="FF9C5700", bold=True),
    ),
    "red": (
        PatternFill(fill_type="solid", start_color="FFFFC7CE", end_color="FFFFC7CE"),
        Font(color="FF9C0006", bold=True),
    ),
}


def _xlsx_value(cell: Cell) -> tuple[Any, str | None]:
    """The value written to the workbook and its number format."""
    if isinstance(cell, Money):
        return Decimal(cell.pence).scaleb(-2), MONEY_FORMAT
    if isinstance(cell, Number):
        return Decimal(cell.text), cell.number_format
    if isinstance(cell, Rag):
        return cell.status.capitalize(), None
    if isinstance(cell, bool):
        return ("Yes" if cell else "No"), None
    return cell, None


def _width(cell: Cell) -> int:
    if isinstance(cell, Money):
        return len(f"£{abs(cell.pence) // 100:,}.00") + 2
    return len(_text(cell)) + 2


def render_xlsx(content: Content) -> bytes:
    wb = Workbook()
    wb.remove(wb.active)
    when = parse_instant(content.data_as_at).replace(tzinfo=None)
    props = wb.properties
    props.creator = "pooled"
    props.lastModifiedBy = "pooled"
    props.created = when
    props.modified = when
    if isinstance(content, ReturnContent):
        props.title = f"{content.cover.template_name}: {content.cover.quarter}"
        props.subject = f"{content.cover.pool_name} ({content.cover.hwb_area_name})"
    else:
        props.title = f"Section 75 annual memorandum statement: {content.cover.year}"
        props.subject = content.cover.pool_name
    props.identifier = content.content_hash
    for sheet in sheets_of(content):
        ws = wb.create_sheet(sheet.title)
        widths = [min(max(len(c) + 2, 10), 22) for c in sheet.columns]  # headers wrap
        for col, title in enumerate(sheet.columns, start=1):
            cell = ws.cell(row=1, column=col, value=title)
            cell.font = HEADER_FONT
            cell.fill = HEADER_FILL
            cell.alignment = Alignment(wrap_text=True, vertical="center")
        for r, row in enumerate(sheet.rows):
            bold = r in sheet.total_rows
            for col, value in enumerate(row, start=1):
                v, fmt = _xlsx_value(value)
                cell = ws.cell(row=r + 2, column=col, value=v)
                if fmt is not None:
                    cell.number_format = fmt
                if isinstance(value, Rag) and value.status in RAG_STYLE:
                    cell.fill, cell.font = RAG_STYLE[value.status]
                elif bold:
                    cell.font = TOTAL_FONT
                widths[col - 1] = max(widths[col - 1], min(_width(value), 70))
        for col, w in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(col)].width = w
        ws.row_dimensions[1].height = 32
        ws.freeze_panes = "A2"
        ws.page_setup.orientation = "landscape"
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.print_title_rows = "1:1"
    buf, archive = _zip(content)
    ExcelWriter(wb, archive).save()  # not save_workbook: that stamps the time now
    return buf.getvalue()


_RENDERERS: dict[str, Callable[[Content], bytes]] = {
    "json": render_json,
    "csv": render_csv_zip,
    "xlsx": render_xlsx,
}


def render(content: Content, fmt: str) -> bytes:
    try:
        renderer = _RENDERERS[fmt]
    except KeyError:
        raise ValueError(f"unknown format '{fmt}' (one of: {', '.join(FORMATS)})") from None
    return renderer(content)


def render_all(content: Content) -> dict[str, bytes]:
    return {fmt: render(content, fmt) for fmt in FORMATS}

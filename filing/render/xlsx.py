"""The workbook: one sheet per part, titled and with the columns of the year's return
layout and, after them, the reconciliation columns; money as numbers with the
``£#,##0.00`` format, bold total rows, a frozen header row, metric statuses filled
red, amber or green. Every text cell is a string cell, never a formula; one that starts
like a formula also carries Excel's quote prefix (``filing.render.cells``)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import Cell as XlCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.writer.excel import ExcelWriter

from filing.render.archive import open_zip
from filing.render.cells import starts_like_formula
from filing.render.print_setup import print_setup
from filing.render.sheets import sheets_of
from filing.render.table import Cell, Money, Number, Rag, cell_text
from ledger.clock import parse_instant
from projections.returns.canonical import Content
from projections.returns.return_document import ReturnContent

MONEY_FORMAT = "£#,##0.00"
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


def _as_text(cell: XlCell) -> None:
    """openpyxl makes any string starting with ``=`` a formula: written as a string
    (with the quote prefix where it starts like a formula), it is only text."""
    if isinstance(cell.value, str):
        cell.data_type = "s"
        if starts_like_formula(cell.value):
            cell.quotePrefix = True


def _width(cell: Cell) -> int:
    if isinstance(cell, Money):
        return len(f"£{abs(cell.pence) // 100:,}.00") + 2
    return len(cell_text(cell)) + 2


def render_xlsx(content: Content, draft_at: int | None = None) -> bytes:
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
            _as_text(cell)
            cell.font = HEADER_FONT
            cell.fill = HEADER_FILL
            cell.alignment = Alignment(wrap_text=True, vertical="center")
        for r, row in enumerate(sheet.rows):
            bold = r in sheet.total_rows
            for col, value in enumerate(row, start=1):
                v, fmt = _xlsx_value(value)
                cell = ws.cell(row=r + 2, column=col, value=v)
                _as_text(cell)
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
        print_setup(ws, draft_at, one_page=sheet.key == "cover")
    buf, archive = open_zip(content)
    ExcelWriter(wb, archive).save()  # not save_workbook: that stamps the time now
    return buf.getvalue()

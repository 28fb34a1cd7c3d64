"""How each sheet of a workbook prints: A4 landscape, one page wide, the header row
repeated on every page; and on a draft, "DRAFT as at position N" in every sheet's page
header and in a red line under its table, so a draft never passes for a filed return."""

from __future__ import annotations

from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

DRAFT_FONT = Font(bold=True, color="FFC00000")


def draft_label(position: int) -> str:
    return f"DRAFT as at position {position}"


def print_setup(ws: Worksheet, draft_at: int | None = None, *, one_page: bool = False) -> None:
    """``one_page``: fit the sheet on one page (the cover), not just one page wide."""
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 1 if one_page else 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = "1:1"
    if draft_at is not None:
        label = draft_label(draft_at)
        for header in (ws.oddHeader, ws.evenHeader, ws.firstHeader):
            header.center.text = label
            header.center.font = "Arial,Bold"
            header.center.color = "C00000"
        cell = ws.cell(row=ws.max_row + 2, column=1, value=label)
        cell.font = DRAFT_FONT

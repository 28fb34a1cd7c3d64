"""The CSV format: a zip holding one CSV per sheet (``cover.csv``, ``income.csv``,
...), in the workbook's sheet order; UTF-8 with a byte-order mark (so Excel reads the
£ in the headers), CRLF line ends, money as decimal strings; text that a spreadsheet
would read as a formula is prefixed with an apostrophe (``filing.render.cells``)."""

from __future__ import annotations

import csv
import io

from filing.render.archive import open_zip
from filing.render.cells import csv_safe
from filing.render.sheets import sheets_of
from filing.render.table import Cell, cell_text
from projections.returns.canonical import Content


def _csv_cell(cell: Cell) -> str:
    """Text as text (neutralised); money, numbers and flags as they are."""
    return csv_safe(cell) if isinstance(cell, str) else cell_text(cell)


def render_csv_zip(content: Content) -> bytes:
    buf, archive = open_zip(content)
    with archive:
        for sheet in sheets_of(content):
            text = io.StringIO()
            w = csv.writer(text, lineterminator="\r\n")
            w.writerow([csv_safe(c) for c in sheet.columns])
            w.writerows([_csv_cell(c) for c in row] for row in sheet.rows)
            archive.writestr(f"{sheet.key}.csv", text.getvalue().encode("utf-8-sig"))
    return buf.getvalue()

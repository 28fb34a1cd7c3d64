"""Text cells made safe for spreadsheets (OWASP's "CSV injection" rule).

A cell whose text starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
is read by Excel, LibreOffice and Google Sheets as a formula (``=HYPERLINK(...)``,
``=cmd|' /C calc'!A0``), including in a CSV file. Filed returns carry references and
names a finance officer or an administrator typed, so every text cell is written
as text: in CSV with a leading apostrophe (OWASP's advice; a spreadsheet shows the
text as typed and evaluates nothing), in a workbook as a string cell with Excel's
"quote prefix" (never a formula, and still text if someone edits the cell).
Numbers stay numbers: money and decimals are cells of their own types (``Money``,
``Number``), never text, so a negative amount is written as it is.
"""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def starts_like_formula(text: str) -> bool:
    return text.startswith(FORMULA_STARTS)


def csv_safe(text: str) -> str:
    """``text`` as a CSV cell no spreadsheet evaluates."""
    return "'" + text if starts_like_formula(text) else text

"""Either document's sheets, as the tabular formats (CSV zip, workbook) write them."""

from __future__ import annotations

from filing.render.memorandum_sheets import memorandum_sheets
from filing.render.part_sheets import with_parts
from filing.render.return_sheets import return_sheets
from filing.render.table import Sheet
from projections.returns.canonical import Content
from projections.returns.return_document import ReturnContent


def sheets_of(content: Content) -> list[Sheet]:
    if isinstance(content, ReturnContent):
        return with_parts(content, return_sheets(content))
    return memorandum_sheets(content)

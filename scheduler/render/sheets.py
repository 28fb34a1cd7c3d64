"""Either document's sheets, as the tabular formats (CSV zip, workbook) write them."""

from __future__ import annotations

from scheduler.content.canonical import Content
from scheduler.content.return_document import ReturnContent
from scheduler.render.memorandum_sheets import memorandum_sheets
from scheduler.render.part_sheets import with_parts
from scheduler.render.return_sheets import return_sheets
from scheduler.render.table import Sheet


def sheets_of(content: Content) -> list[Sheet]:
    if isinstance(content, ReturnContent):
        return with_parts(content, return_sheets(content))
    return memorandum_sheets(content)

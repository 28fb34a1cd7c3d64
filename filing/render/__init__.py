"""Render return and memorandum content as JSON, a zip of CSVs, or an Excel workbook.

Every renderer is a pure function of the content: the same content gives the same
bytes, always. So nothing here reads the clock: the workbook's created and modified
properties and every zip entry's timestamp are the content's ``data_as_at``.

The modules, each importing only those above it:

- ``table``: the table model every format renders (cells, sheets, and laying a
  sheet out in the columns of the year's return layout).
- ``return_sheets`` and ``memorandum_sheets``: the two documents as sheets;
  ``sheets``: either document's sheets.
- ``archive``: the fixed-time zip both the CSV zip and the workbook are written to.
- ``csv_zip`` and ``xlsx``: the two tabular formats.
- ``formats``: the format names, media types and extensions, the JSON document, and
  rendering content in one format or all of them.
"""

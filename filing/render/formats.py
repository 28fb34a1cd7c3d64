"""The three formats (their names, media types and file extensions) and rendering
content in one of them or all. JSON is canonical (keys sorted, no spaces, UTF-8),
money as decimal strings of pounds (``"-123.45"``): the document the content hash is
computed over."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from filing.render.csv_zip import render_csv_zip
from filing.render.xlsx import render_xlsx
from projections.returns.canonical import Content, canonical_json, to_json_obj

Format = Literal["json", "csv", "xlsx"]
FORMATS: tuple[Format, ...] = ("json", "csv", "xlsx")
MEDIA_TYPES: dict[str, str] = {
    "json": "application/json",
    "csv": "application/zip",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
EXTENSIONS: dict[str, str] = {"json": "json", "csv": "csv.zip", "xlsx": "xlsx"}


def render_json(content: Content) -> bytes:
    return canonical_json(to_json_obj(content))


_RENDERERS: dict[str, Callable[[Content], bytes]] = {
    "json": render_json,
    "csv": render_csv_zip,
    "xlsx": render_xlsx,
}


def render(content: Content, fmt: str, *, draft_at: int | None = None) -> bytes:
    """``content`` in ``fmt``; with ``draft_at``, a workbook marked as a draft as at
    that position on every sheet (the JSON and CSV say so in the download's headers)."""
    try:
        renderer = _RENDERERS[fmt]
    except KeyError:
        raise ValueError(f"unknown format '{fmt}' (one of: {', '.join(FORMATS)})") from None
    if fmt == "xlsx" and draft_at is not None:
        return render_xlsx(content, draft_at)
    return renderer(content)


def render_all(content: Content) -> dict[str, bytes]:
    return {fmt: render(content, fmt) for fmt in FORMATS}

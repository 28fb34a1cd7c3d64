"""The zip both the CSV zip and the workbook are written to: every entry carries the
content's ``data_as_at`` as its timestamp and one fixed mode, so the bytes never
depend on when or where the content is rendered."""

from __future__ import annotations

import io
import os
import zipfile

from ledger.clock import parse_instant
from projections.returns.canonical import Content


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
        compress_type: int | None = None,  # noqa: ARG002 (every entry is deflated)
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
        compress_type: int | None = None,  # noqa: ARG002 (every entry is deflated)
        compresslevel: int | None = None,
    ) -> None:
        """openpyxl writes each worksheet from a temporary file, whose modification
        time and mode would otherwise end up in the archive."""
        with open(filename, "rb") as f:
            data = f.read()
        self.writestr(arcname or os.path.basename(filename), data, compresslevel=compresslevel)


def open_zip(content: Content) -> tuple[io.BytesIO, _FixedTimeZip]:
    buf = io.BytesIO()
    archive = _FixedTimeZip(buf, "w", zipfile.ZIP_DEFLATED)
    archive.fixed_time = _zip_time(content)
    return buf, archive

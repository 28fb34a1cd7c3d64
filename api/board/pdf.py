"""The board pack as PDF, made by WeasyPrint from the pack's HTML.

WeasyPrint is imported only when a PDF is asked for: importing it takes seconds, and it
loads C libraries from the operating system (Pango, PangoFT2, HarfBuzz and its subset
library, fontconfig, GObject) when imported. Where they are missing the import fails
with an ``OSError`` naming the library; :func:`load` turns that into
:class:`PdfUnavailable`, which the route answers as a problem+json 503 naming what is
missing and how to install it, while the HTML pack goes on working.

Nothing is fetched while rendering: the stylesheet is handed to WeasyPrint from disk,
the charts are inline SVG, and any other URL the document might name is refused by
:func:`_refuse`'s fetcher (no request leaves the server on a reader's behalf).
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from types import ModuleType
from typing import Any

# What WeasyPrint needs from Debian 12 (the Makefile and .ci/run install these).
DEBIAN_PACKAGES = (
    "libpango-1.0-0",
    "libpangoft2-1.0-0",
    "libharfbuzz-subset0",
    "fonts-liberation",
)
STYLESHEET = Path(__file__).resolve().parent / "static" / "pack.css"


class PdfUnavailable(Exception):
    """WeasyPrint or a library it loads is missing: no PDF can be made here."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def missing_library(error: str) -> str:
    """The problem's detail for WeasyPrint's import failing on a C library, from the
    loader's message (``cannot load library 'libpango-1.0-0': ...``)."""
    m = re.search(r"cannot load library '([^']+)'", error)
    what = f"the library {m.group(1)}" if m else "a library it needs"
    return (
        f"The PDF cannot be made on this server: WeasyPrint cannot load {what} ({error}). "
        f"Install the Debian packages {' '.join(DEBIAN_PACKAGES)} "
        "(make run and .ci/run install them where apt-get is available). "
        "The HTML pack works without them."
    )


def load() -> ModuleType:
    """WeasyPrint, imported now (a no-op after the first time), or PdfUnavailable."""
    try:
        return importlib.import_module("weasyprint")
    except OSError as e:
        raise PdfUnavailable(missing_library(str(e))) from e
    except ImportError as e:
        raise PdfUnavailable(
            "The PDF cannot be made on this server: the Python package weasyprint is not "
            f"installed ({e}). Install the runtime lock (make install). "
            "The HTML pack works without it."
        ) from e
    except Exception as e:  # e.g. a warning made an error, as the tests make them
        raise PdfUnavailable(
            f"The PDF cannot be made on this server: WeasyPrint failed to load ({e!r}). "
            f"Check the Debian packages {' '.join(DEBIAN_PACKAGES)} are installed. "
            "The HTML pack works without it."
        ) from e


def render(html: str) -> bytes:
    """The PDF of a pack rendered with ``pdf=True`` (no stylesheet link in it)."""
    weasyprint = load()
    fetcher = _refuse(weasyprint)
    css = weasyprint.CSS(filename=str(STYLESHEET), url_fetcher=fetcher)
    document = weasyprint.HTML(string=html, base_url=None, url_fetcher=fetcher)
    pdf: bytes = document.write_pdf(stylesheets=[css])
    return pdf


def _refuse(weasyprint: ModuleType) -> Any:
    class NoFetching(weasyprint.URLFetcher):  # type: ignore[misc, name-defined]
        def fetch(self, url: str, headers: Any = None) -> Any:  # noqa: ARG002 (its signature)
            raise ValueError(f"the board pack fetches nothing ({url})")

    return NoFetching()

"""``/docs``: Swagger UI served by the app itself, so it works without internet.

The assets come from the pinned ``swagger-ui-bundle-v2`` package (Swagger UI 5, which
reads the OpenAPI 3.1 document FastAPI writes), served under ``/docs/assets``; the
page names no other host. ReDoc (which FastAPI loads from a CDN) is not offered."""

from __future__ import annotations

import importlib.resources
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = "/docs/assets"


def swagger_ui_dir() -> Path:
    """The Swagger UI folder the package ships (``vendor/swagger-ui-<version>``)."""
    vendor = Path(str(importlib.resources.files("swagger_ui_bundle") / "vendor"))
    found = sorted(vendor.glob("swagger-ui-*"))
    if not found:  # pragma: no cover - the package always ships one
        raise RuntimeError(f"no Swagger UI under {vendor}")
    return found[-1]


def install(app: FastAPI) -> None:
    app.mount(ASSETS, StaticFiles(directory=swagger_ui_dir()), name="docs_assets")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} - API",
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/favicon-32x32.png",
        )

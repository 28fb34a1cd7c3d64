"""Optional tracing: with the ``otel`` extra installed, POOLED_OTEL instruments the app
and its engine, a span per request and per database statement (an in-memory exporter
here: no collector needed). Skipped where the extra is not installed (the dev lock)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("opentelemetry.sdk.trace", reason="the otel extra is not installed")
pytest.importorskip("opentelemetry.instrumentation.fastapi", reason="the otel extra")

from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    InMemorySpanExporter,
)

from api import tracing
from api.app import create_app
from ledger.settings import Settings
from ledger.store.engine import make_engine
from tests.e2e.api_support import TestClient


def test_a_request_makes_a_server_span_and_database_spans(
    tmp_path: Path, sqlite_template: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "t.db"
    db.write_bytes(sqlite_template.read_bytes())
    engine = make_engine(f"sqlite:///{db}")
    exporter = InMemorySpanExporter()
    monkeypatch.setattr(tracing, "default_exporter", lambda: exporter)
    app = create_app(Settings(scheduler=False, otel=True), engine=engine)
    provider: Any = app.state.tracer_provider
    try:
        with TestClient(app) as client:
            assert client.get("/healthz?token=x").status_code == 200
        provider.force_flush()
        spans = exporter.get_finished_spans()
        names = [s.name for s in spans]
        assert "GET /healthz" in names
        assert any(s.attributes.get("db.system") == "sqlite" for s in spans)
    finally:
        from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

        SQLAlchemyInstrumentor().uninstrument()
        provider.shutdown()
        engine.dispose()

"""Optional OpenTelemetry tracing (``POOLED_OTEL=true``): a span per FastAPI request and
per database call, exported by OTLP over HTTP to the endpoint in the standard
``OTEL_EXPORTER_OTLP_*`` variables (service name from ``OTEL_SERVICE_NAME``, default
``pooled``). The packages are the ``otel`` extra (``make otel``), not in the runtime
lock: turned on without them, the server refuses to start and says what to install.
"""

from __future__ import annotations

import os
from typing import Any

from fastapi import FastAPI
from sqlalchemy import Engine

MISSING = (
    "POOLED_OTEL=true needs the OpenTelemetry packages: `make otel` (or pip install 'pooled[otel]')"
)


def instrument(app: FastAPI, engine: Engine, exporter: Any = None) -> Any:
    """Trace ``app``'s requests and ``engine``'s statements; return the tracer provider.
    ``exporter`` defaults to OTLP over HTTP (a test passes an in-memory one)."""
    try:
        from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
        from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
    except ImportError as e:
        raise RuntimeError(MISSING) from e
    resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", "pooled")})
    provider = TracerProvider(resource=resource)
    if exporter is None:
        provider.add_span_processor(BatchSpanProcessor(default_exporter()))
    else:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    FastAPIInstrumentor.instrument_app(app, tracer_provider=provider)
    # the instrumentation declares SQLAlchemy < 2.1; its engine events work on 2.1 (tested;
    # it patches sqlalchemy.ext.asyncio too, hence greenlet in the extra)
    SQLAlchemyInstrumentor().instrument(
        engine=engine, tracer_provider=provider, skip_dep_check=True
    )
    return provider


def default_exporter() -> Any:
    """OTLP over HTTP, configured by the standard ``OTEL_EXPORTER_OTLP_*`` variables."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter()

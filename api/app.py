"""The HTTP app's composition root. Nothing is built at import time: ``create_app``
builds the engine (unless given one), the ledger with the projector as its append
hook, and the reader, keeps them on ``app.state`` and mounts the routes.

    uvicorn --factory api.app:create_app
"""

from __future__ import annotations

import gc
import importlib
import importlib.util
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.openapi.utils import get_openapi
from sqlalchemy import Engine
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import docs, errors, metrics
from api.access import AccessLogMiddleware
from api.routes import (
    audit,
    imports,
    ledger_reads,
    parties,
    postings,
    proofs,
    reads,
    return_parts,
)
from filing.metrics import Metrics, serve_on_port
from ledger.clock import Clock, SystemClock
from ledger.handlers import Ledger
from ledger.refdata import default_catalogue
from ledger.settings import Settings, signing_key_path
from ledger.store.checkpoints import load_or_create_key, load_retired_keys
from ledger.store.engine import make_engine
from projections.projector import Projector
from projections.queries import Reader

DESCRIPTION = """
The ledger of a partnership's pooled budgets (Section 75, Better Care Fund, alliances).

* **Money** is a decimal string of pounds with at most two decimals (`"1234.50"`);
  responses always give two decimals, negatives as `"-123.45"`.
* **Auth**: `Authorization: Bearer <token>` (issued by `pooled token create`).
* **Writes** return `201` with the fact as recorded and accept an `Idempotency-Key`:
  the same key and body returns the first answer (`Idempotent-Replayed: true`); the
  same key with another body is a `409` naming the difference.
* **Reads** accept `as_at` (an instant, a date or `position:N`) and say the
  `as_at_position` they answer at.
* **Errors** are RFC 9457 `application/problem+json` with an `errors` list naming each
  bad field (and line, for CSV imports).
"""

_REQUEST_ID_OK = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:-")


class RequestContextMiddleware:
    """Give every request an id (the client's ``X-Request-ID`` when it is a sensible
    token, else a new one), echo it on the response, keep API answers out of shared
    caches, and tell browsers never to sniff a content type (``nosniff``)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent = dict(scope.get("headers") or []).get(b"x-request-id", b"")
        if 0 < len(sent) <= 80 and all(ch in _REQUEST_ID_OK for ch in sent):
            rid = sent.decode()
        else:
            rid = uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = rid
        api = str(scope.get("path", "")).startswith("/v1/")

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                headers.append((b"x-request-id", rid.encode()))
                headers.append((b"x-content-type-options", b"nosniff"))
                if api:
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_id)


def create_app(
    settings: Settings | None = None, *, engine: Engine | None = None, clock: Clock | None = None
) -> FastAPI:
    settings = settings or Settings()
    owns_engine = engine is None
    engine = engine or make_engine(settings.database_url, synchronous=settings.sqlite_synchronous)
    clock = clock or SystemClock()
    meters = Metrics(engine, default_catalogue(), settings.return_due_days)
    ledger = Ledger(
        engine,
        clock,
        default_catalogue(),
        hooks=[Projector(), meters],
        signing_key=load_or_create_key(Path(signing_key_path(settings))),
        retired_keys=load_retired_keys(Path(signing_key_path(settings))),
    )
    reader = Reader(engine)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if owns_engine:  # a server process of its own (not an app a test builds)
            # What startup made (routes, schemas, models, caches) lives as long as the
            # process: frozen out of the cyclic collector, a full collection scans only
            # what requests made. A full scan of the startup heap took ~70 ms here, a
            # stall for every request in flight.
            gc.collect()
            gc.freeze()
        port = settings.metrics_port
        scrape = serve_on_port(meters, settings.metrics_host, port) if port else None
        yield
        if scrape is not None:
            scrape.shutdown()
        if owns_engine:
            engine.dispose()

    app = FastAPI(
        title="pooled",
        version="1",
        summary="An event-sourced ledger for the pooled budgets of councils and NHS bodies",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # served from local assets by api.docs
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.clock = clock
    app.state.ledger = ledger
    app.state.reader = reader
    app.state.metrics = meters

    errors.install(app)
    app.add_middleware(errors.BodyLimitMiddleware, limit=settings.max_body_bytes)
    app.add_middleware(AccessLogMiddleware, metrics=meters)  # the request log and metrics

    app.include_router(audit.health)
    app.include_router(metrics.router)
    app.include_router(parties.writes)
    app.include_router(parties.reads)
    app.include_router(postings.router)
    app.include_router(imports.router)
    app.include_router(reads.router)
    app.include_router(ledger_reads.router)
    app.include_router(return_parts.router)
    app.include_router(audit.router)
    app.include_router(proofs.router)
    returns = _optional_router("api.routes.returns")
    if returns is not None:
        app.include_router(returns)
    board = _optional_router("api.board")
    if board is not None:
        app.include_router(board, prefix="/board")

    docs.install(app)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    if settings.otel:
        from api.tracing import instrument

        # before the request-context wrapper: the instrumentation expects Starlette's
        # own stack, whose outermost layer is the server-error middleware
        app.state.tracer_provider = instrument(app, engine)
    _outermost(app, RequestContextMiddleware)
    return app


def _outermost(app: FastAPI, middleware: type[RequestContextMiddleware]) -> None:
    """Put ``middleware`` around Starlette's server-error middleware too, so even a 500
    carries the request id and ``nosniff``."""
    build = app.build_middleware_stack

    def wrapped() -> ASGIApp:
        return middleware(build())

    app.build_middleware_stack = wrapped  # type: ignore[method-assign]


def _optional_router(module: str) -> APIRouter | None:
    """The ``router`` of a module written alongside this one, if it exists yet. A
    module that exists but fails to import is an error, not a missing feature."""
    try:
        found = importlib.util.find_spec(module)
    except ModuleNotFoundError:
        return None
    if found is None:
        return None
    router = getattr(importlib.import_module(module), "router", None)
    return router if isinstance(router, APIRouter) else None


def _openapi(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document, with errors described as problem+json."""
    if app.openapi_schema:
        return app.openapi_schema
    doc = get_openapi(
        title=app.title,
        version=app.version,
        summary=app.summary,
        description=app.description,
        routes=app.routes,
    )
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = _PROBLEM_SCHEMA
    for path in doc.get("paths", {}).values():
        for op in path.values():
            for status, response in (op.get("responses") or {}).items():
                content = response.get("content") or {}
                if status.startswith(("4", "5")) and "application/json" in content:
                    plain = content.pop("application/json")
                    target = content.setdefault("application/problem+json", {})
                    target.setdefault("schema", plain.get("schema"))
    _state_key_patterns(schemas)
    app.openapi_schema = doc
    return doc


def _state_key_patterns(node: Any) -> None:
    """A map keyed by ids (``{"ncc": "60"}``): pydantic states the key's pattern only as
    ``patternProperties``, which leaves other keys free; the server refuses them, so
    the document says so with ``propertyNames``."""
    if isinstance(node, dict):
        patterns = node.get("patternProperties")
        if isinstance(patterns, dict) and len(patterns) == 1:
            names = node.setdefault("propertyNames", {})
            names.setdefault("pattern", next(iter(patterns)))
        for value in node.values():
            _state_key_patterns(value)
    elif isinstance(node, list):
        for value in node:
            _state_key_patterns(value)


_PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "examples": ["urn:pooled:problem:validation"]},
        "title": {"type": "string", "examples": ["Invalid input"]},
        "status": {"type": "integer", "examples": [422]},
        "detail": {"type": "string", "examples": ["amount: must have at most two decimals"]},
        "instance": {"type": "string", "examples": ["/v1/pools/eq/contributions"]},
        "request_id": {"type": "string", "examples": ["4f9c2d0b6a1e4f7d"]},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {
                    "field": {"type": "string", "examples": ["amount"]},
                    "message": {"type": "string", "examples": ["must be more than zero"]},
                    "line": {"type": "integer", "examples": [3]},
                },
            },
        },
    },
    "examples": [
        {
            "type": "urn:pooled:problem:validation",
            "title": "Invalid input",
            "status": 422,
            "detail": "amount: must have at most two decimals (pence)",
            "errors": [{"field": "amount", "message": "must have at most two decimals (pence)"}],
        }
    ],
}

"""Every error the API answers, as RFC 9457 ``application/problem+json``, and its handler.

    the ledger's tree (``ledger.domain.errors``)   status from the class: 422, 404, 403, 409
    HttpProblem                                    the HTTP edge's own refusals
    +-- Unauthorized (401)                         missing, bad or revoked bearer token
    +-- MalformedBody (400)                        a body that is not JSON (or not CSV)
    +-- PayloadTooLarge (413)                      a body over ``settings.max_body_bytes``
    +-- UnsupportedMediaType (415)                 a body that is not the route's type
    RequestValidationError (422)                   a field FastAPI/pydantic refused,
                                                   named by its dotted path
    Starlette's HTTPException                      unknown routes (404), methods (405)
    the database unreachable (503)                 with Retry-After; nothing was written
    anything else (500)                            logged with the request id; never
                                                   caused by bad input

Every problem carries ``type``, ``title``, ``status``, ``detail``, ``instance`` (the
path), ``request_id`` and, for validation, ``errors: [{field, message, line?}]``.
Pydantic's own internals (its error urls, input echoes, contexts) never reach a client.

The tree and the problem body: :mod:`api.problems`; pydantic's errors as named fields:
:mod:`api.field_errors`. Here: the handlers that answer each error, and the checks on a
body's size and type.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.routing import APIRoute
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.all_errors import body_model, with_rule_errors, writes_through_writer
from api.field_errors import dedupe, field_errors, summarise
from api.problems import (
    PROBLEM_JSON,
    HttpProblem,
    MalformedBody,
    PayloadTooLarge,
    UnsupportedMediaType,
    problem_body,
    problem_response,
    request_id_of,
)
from api.schemas.fields import shown
from ledger.domain.errors import FieldError, LedgerError, ValidationFailed

log = logging.getLogger("pooled.api")


# --- handlers -----------------------------------------------------------------------


async def _ledger_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LedgerError)
    return problem_response(
        request,
        status=exc.status,
        title=exc.title,
        code=exc.code,
        detail=exc.detail,
        errors=exc.errors,
    )


async def _http_problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HttpProblem)
    return problem_response(
        request,
        status=exc.status,
        title=exc.title,
        code=exc.code,
        detail=exc.detail,
        errors=exc.errors,
        headers=exc.headers,
    )


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    raw = list(exc.errors())
    if any(e.get("type") == "json_invalid" for e in raw):
        first = next(e for e in raw if e.get("type") == "json_invalid")
        why = str((first.get("ctx") or {}).get("error") or "not valid JSON")
        return problem_response(
            request,
            status=400,
            title=MalformedBody.title,
            code=MalformedBody.code,
            detail=f"the request body is not valid JSON ({why})",
            errors=(FieldError("body", f"is not valid JSON: {why}"),),
        )
    fields = dedupe(field_errors(raw))
    return problem_response(
        request,
        status=422,
        title="Invalid input",
        code="validation",
        detail=summarise(fields),
        errors=fields,
    )


async def _starlette_http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    if status == 404:
        title, code = "Not found", "not-found"
        detail = f"there is no resource at {request.url.path}"
        if exc.detail and exc.detail != "Not Found":
            detail = str(exc.detail)
    elif status == 405:
        title, code = "Method not allowed", "method-not-allowed"
        allow = allowed_methods(request)
        exc.headers = {**(exc.headers or {}), "Allow": allow}
        detail = f"{request.method} is not allowed on {request.url.path}" + (
            f"; allowed: {allow}" if allow else ""
        )
    else:
        title, code = _TITLES.get(status, ("Request refused", "http-error"))
        detail = str(exc.detail)
    errors = (FieldError("body", "could not be read as the route's body"),) if status == 400 else ()
    return problem_response(
        request,
        status=status,
        title=title,
        code=code,
        detail=detail,
        errors=errors,
        headers=exc.headers,
    )


def allowed_methods(request: Request) -> str:
    """Every method some route answers at this path (asked of the router with each
    method in turn). Starlette's 405 names only the first route that matched the path,
    and GET and POST on one path are two routes."""
    allowed = {
        method
        for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
        for route in request.app.router.routes
        if route.matches({**request.scope, "method": method})[0] == Match.FULL
    }
    return ", ".join(sorted(allowed))


_TITLES = {
    400: ("Bad request", "bad-request"),
    401: ("Unauthorized", "unauthorized"),
    403: ("Forbidden", "forbidden"),
    409: ("Conflict", "conflict"),
    413: ("Request body too large", "payload-too-large"),
    415: ("Unsupported media type", "unsupported-media-type"),
}


DATABASE_UNAVAILABLE = (OperationalError, InterfaceError, SQLAlchemyTimeoutError)
"""What the driver raises when the database cannot be reached or is not answering
(connection refused or lost, server shutting down, an unopenable SQLite file, the
pool exhausted): the request may succeed later, so 503, not 500."""
RETRY_AFTER_SECONDS = 5


async def _database_unavailable(request: Request, exc: Exception) -> Response:
    rid = request_id_of(request.scope)
    log.warning(
        "database unavailable on %s %s (request %s): %s",
        request.method,
        request.url.path,
        rid,
        type(getattr(exc, "orig", None) or exc).__name__,
    )
    return problem_response(
        request,
        status=503,
        title="Service unavailable",
        code="database-unavailable",
        detail="the ledger's database cannot be reached just now; nothing was written. "
        f"Try again in {RETRY_AFTER_SECONDS} seconds.",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


async def _unexpected(request: Request, _exc: Exception) -> Response:
    rid = request_id_of(request.scope)
    log.exception("unexpected error on %s %s (request %s)", request.method, request.url.path, rid)
    return problem_response(
        request,
        status=500,
        title="Internal error",
        code="internal",
        detail="the server failed to answer this request; nothing was written. "
        f"Quote request id {rid} when reporting it.",
    )


def install(app: FastAPI) -> None:
    """Register every handler on ``app``."""
    app.add_exception_handler(LedgerError, _ledger_error)
    app.add_exception_handler(HttpProblem, _http_problem)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _starlette_http)
    for kind in DATABASE_UNAVAILABLE:
        app.add_exception_handler(kind, _database_unavailable)
    app.add_exception_handler(Exception, _unexpected)


# --- the body's size and type ---------------------------------------------------------


class ProblemRoute(APIRoute):
    """A route whose JSON body must be sent as ``application/json`` (415 otherwise).

    FastAPI otherwise hands a body of another type to the model as raw bytes and answers
    with a confusing validation error."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        if self.body_field is None:
            return handler
        # a writing route's refused body is checked against the rules too (api.all_errors)
        model = body_model(self.body_field.field_info.annotation)
        if not writes_through_writer(self.dependant):
            model = None

        async def checked(request: Request) -> Response:
            body = await request.body()
            if body and not is_json(request.headers.get("content-type")):
                raise UnsupportedMediaType(
                    "send the body as JSON with Content-Type: application/json "
                    f"(got {request.headers.get('content-type') or 'no Content-Type'})",
                    errors=(FieldError("Content-Type", "must be application/json"),),
                )
            if body:
                parse_json_once(request, body)
            try:
                return await handler(request)
            except RequestValidationError as e:
                # a writing route's body: its rule errors too, in the same answer
                both = await with_rule_errors(handler, model, request, e)
                if both is None:
                    raise
                raise both from None

        return checked


def _refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValidationFailed(
                f"the body names '{shown(key)}' twice; send each key once",
                errors=(FieldError(shown(key), "is given more than once"),),
            )
        out[key] = value
    return out


def parse_json_once(request: Request, body: bytes) -> None:
    """Parse the body refusing a key given twice in any object (JSON leaves it to the
    reader; the last would silently win), and keep the result where Starlette's
    ``Request.json`` finds it, so FastAPI does not parse it again. A body that is not
    JSON is left to FastAPI's own parse, which answers 400."""
    try:
        request._json = json.loads(body, object_pairs_hook=_refuse_duplicates)
    except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested too deep
        return


def is_json(content_type: str | None) -> bool:
    if not content_type:
        return False
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


class BodyLimitMiddleware:
    """Refuse a body over ``limit`` bytes with 413, by its Content-Length when sent and
    by counting the stream otherwise (a chunked upload cannot slip past)."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None:
            try:
                size = int(declared)
            except ValueError:
                await self._refuse(scope, send, 400, "Content-Length is not a number")
                return
            if size > self.limit:
                await self._too_large(scope, send)
                return
        chunks: list[bytes] = []
        total = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body = message.get("body", b"")
            total += len(body)
            if total > self.limit:
                await self._too_large(scope, send)
                return
            chunks.append(body)
            more = bool(message.get("more_body", False))
        whole = b"".join(chunks)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": whole, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _too_large(self, scope: Scope, send: Send) -> None:
        await self._refuse(
            scope,
            send,
            413,
            f"the request body is larger than the limit of {self.limit} bytes; "
            "split a large import into several files",
        )

    async def _refuse(self, scope: Scope, send: Send, status: int, detail: str) -> None:
        title, code = (
            (PayloadTooLarge.title, PayloadTooLarge.code)
            if status == 413
            else ("Bad request", "bad-request")
        )
        body = problem_body(
            status=status,
            title=title,
            code=code,
            detail=detail,
            instance=scope.get("path"),
            request_id=request_id_of(scope),
            errors=(FieldError("body", detail),),
        )
        raw = json.dumps(body).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", PROBLEM_JSON.encode()),
                    (b"content-length", str(len(raw)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": raw})

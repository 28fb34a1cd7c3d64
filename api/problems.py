"""The HTTP edge's own errors (:class:`HttpProblem` and its kinds) and the RFC 9457
``application/problem+json`` body and response every error is answered with (which
error answers what: :mod:`api.errors`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from starlette.types import Scope

from ledger.domain.errors import FieldError

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "urn:pooled:problem:"


class HttpProblem(Exception):
    """A refusal made at the HTTP edge (not a rule of the ledger)."""

    status = 400
    title = "Bad request"
    code = "bad-request"

    def __init__(
        self,
        detail: str,
        *,
        errors: Sequence[FieldError] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = tuple(errors)
        self.headers = dict(headers or {})


class Unauthorized(HttpProblem):
    status = 401
    title = "Unauthorized"
    code = "unauthorized"

    def __init__(self, detail: str, *, error: str = "invalid_token") -> None:
        super().__init__(
            detail,
            errors=(FieldError("Authorization", detail),),
            headers={"WWW-Authenticate": f'Bearer realm="pooled", error="{error}"'},
        )


class MalformedBody(HttpProblem):
    status = 400
    title = "Malformed request body"
    code = "malformed-body"


class PayloadTooLarge(HttpProblem):
    status = 413
    title = "Request body too large"
    code = "payload-too-large"


class UnsupportedMediaType(HttpProblem):
    status = 415
    title = "Unsupported media type"
    code = "unsupported-media-type"


# --- the response -------------------------------------------------------------------


def problem_body(
    *,
    status: int,
    title: str,
    code: str,
    detail: str,
    instance: str | None = None,
    request_id: str | None = None,
    errors: Iterable[FieldError] = (),
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": TYPE_BASE + code,
        "title": title,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    if request_id:
        body["request_id"] = request_id
    errs = [_field_json(e) for e in errors]
    if errs:
        body["errors"] = errs
    return body


def _field_json(e: FieldError) -> dict[str, Any]:
    out: dict[str, Any] = {
        "field": e.field or ("row" if e.line is not None else "body"),
        "message": e.message,
    }
    if e.line is not None:
        out["line"] = e.line
    return out


def problem_response(
    request: Request | None,
    *,
    status: int,
    title: str,
    code: str,
    detail: str,
    errors: Iterable[FieldError] = (),
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    rid = request_id_of(request.scope) if request is not None else None
    body = problem_body(
        status=status,
        title=title,
        code=code,
        detail=detail,
        instance=request.url.path if request is not None else None,
        request_id=rid,
        errors=errors,
    )
    return JSONResponse(
        body, status_code=status, headers=dict(headers or {}), media_type=PROBLEM_JSON
    )


def request_id_of(scope: Scope) -> str | None:
    state = scope.get("state")
    if isinstance(state, dict):
        rid = state.get("request_id")
        return rid if isinstance(rid, str) else None
    return None

"""Thin routes: parse (schemas) -> command -> ``Ledger.execute`` -> response, or a
Reader question -> a public view. Access rules live in ``api.deps``; errors in
``api.errors``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.errors import ProblemRoute

_EXAMPLE = {
    "type": "urn:pooled:problem:validation",
    "title": "Invalid input",
    "status": 422,
    "detail": "amount: must have at most two decimals (pence)",
    "instance": "/v1/pools/eq/contributions",
    "request_id": "4f9c2d0b6a1e4f7d",
    "errors": [{"field": "amount", "message": "must have at most two decimals (pence)"}],
}


def _problem(description: str, status: int, title: str, code: str, detail: str) -> dict[str, Any]:
    example = {
        **_EXAMPLE,
        "type": f"urn:pooled:problem:{code}",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if status != 422:
        example.pop("errors")
    return {
        "description": description,
        "content": {
            "application/problem+json": {
                "schema": {"$ref": "#/components/schemas/Problem"},
                "example": example,
            }
        },
    }


READ_PROBLEMS: dict[int | str, dict[str, Any]] = {
    401: _problem(
        "Missing, bad or revoked token",
        401,
        "Unauthorized",
        "unauthorized",
        "the bearer token is not valid or has been revoked",
    ),
    403: _problem(
        "The role or partner may not do this",
        403,
        "Forbidden",
        "forbidden",
        "a finance officer of 'city' reads only the pools 'city' belongs to",
    ),
    404: _problem(
        "Unknown pool, partner or event",
        404,
        "Not found",
        "not-found",
        "pool 'nope' does not exist",
    ),
    422: {
        "description": "A field is not valid, each named in `errors`: of the wrong shape "
        "(type `urn:pooled:problem:validation`: against a rule this document states), or "
        "of the right shape but refused by a rule of the agreement or of what the ledger "
        "holds (type `urn:pooled:problem:rule-violation`: an unknown partner, funding "
        "stream or scheme, a date outside the pool's life, a refund over what was paid, "
        "a plan's cross-checks, an as-at position beyond the head). A request with both "
        "kinds names every field in one `validation` problem.",
        "content": {
            "application/problem+json": {
                "schema": {"$ref": "#/components/schemas/Problem"},
                "examples": {
                    "validation": {
                        "summary": "a rule of shape",
                        "value": _EXAMPLE,
                    },
                    "rule-violation": {
                        "summary": "a rule of the agreement",
                        "value": {
                            **_EXAMPLE,
                            "type": "urn:pooled:problem:rule-violation",
                            "title": "Against the rules of the agreement",
                            "detail": "funding_stream: 'x' is not a funding stream of pool "
                            "'eq' in 2025-26",
                            "errors": [
                                {
                                    "field": "funding_stream",
                                    "message": "'x' is not a funding stream of pool 'eq' "
                                    "in 2025-26",
                                }
                            ],
                        },
                    },
                },
            }
        },
    },
}
WRITE_PROBLEMS: dict[int | str, dict[str, Any]] = {
    **READ_PROBLEMS,
    400: _problem(
        "The body is not valid JSON",
        400,
        "Malformed request body",
        "malformed-body",
        "the request body is not valid JSON (Expecting value)",
    ),
    409: _problem(
        "A conflict: already recorded, a closed period, already reversed, or an "
        "Idempotency-Key reused with a different body",
        409,
        "Period closed",
        "period-closed",
        "2025-26-Q1 is closed for pool 'eq'; post it as a prior-period adjustment",
    ),
    413: _problem(
        "The body is too large",
        413,
        "Request body too large",
        "payload-too-large",
        "the request body is larger than the limit of 5000000 bytes",
    ),
    415: _problem(
        "The body is not JSON",
        415,
        "Unsupported media type",
        "unsupported-media-type",
        "send the body as JSON with Content-Type: application/json",
    ),
}


def new_router(*, tags: list[str], write: bool = False) -> APIRouter:
    return APIRouter(
        tags=list(tags),
        route_class=ProblemRoute,
        responses=WRITE_PROBLEMS if write else READ_PROBLEMS,
    )

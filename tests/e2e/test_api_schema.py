"""Property-based checks of the HTTP API against its own OpenAPI document.

Schemathesis reads ``/openapi.json`` from the app and, for every operation, sends a
small, bounded, deterministic set of generated requests over a world with
a pool and its plan: valid ones (aimed at the pool ``eq`` and year ``2025-26``, so they
reach the handlers rather than a 404) and invalid ones, each with the token of the role
the operation is for. No answer may be a 5xx, and every answer must have a status the
document declares, with its content type and schema.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import Case, GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.specs.openapi.schemas import OpenApiSchema
from sqlalchemy import create_engine

from api.app import create_app
from ledger.settings import Settings
from tests.e2e.api_support import World, build_world, database

# no 5xx; the status is one the operation documents, with the documented content type
# and a body that matches the documented schema
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
MAX_EXAMPLES = 5  # per operation and mode: bounded, so CI stays quick
KNOWN = {"pool": "eq", "year": "2025-26"}  # path parameters that name the world's pool
# who asks: the role each operation is for, so valid requests get past the 403
AUDITOR_READS = {"GET /v1/events", "GET /v1/verify"}
HOST_POSTINGS = {
    "POST /v1/transfers",
    *(
        f"POST /v1/pools/{{pool}}/{kind}"
        for kind in (
            "contributions",
            "refunds",
            "expenditures",
            "credits",
            "forecasts",
            "risk-reward-results",
            "populations",
            "outcome-assessments",
            "metrics",
        )
    ),
}


def _who(label: str) -> str:
    if label in AUDITOR_READS:
        return "auditor"
    if label in HOST_POSTINGS:
        return "ncc"  # a finance officer of the host partner
    return "admin"


def _cases() -> list[Any]:
    """(label, mode) for every operation (``METHOD /path``): valid requests for each, and
    invalid ones for each that takes any input. Read from the document at collection
    time; it does not depend on the database, so none is opened."""
    engine = create_engine("sqlite://")
    doc = create_app(Settings(scheduler=False), engine=engine).openapi()
    engine.dispose()
    cases = []
    for path, item in doc["paths"].items():
        for method, op in item.items():
            label = f"{method.upper()} {path}"
            cases.append(pytest.param(label, GenerationMode.POSITIVE, id=f"{label}-valid"))
            if op.get("parameters") or op.get("requestBody"):
                cases.append(pytest.param(label, GenerationMode.NEGATIVE, id=f"{label}-invalid"))
    return cases


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[World]:
    with database("sqlite", tmp_path_factory.mktemp("schema"), sqlite_template) as engine:
        yield build_world(engine)


@pytest.fixture(scope="module")
def api_schema(world: World) -> OpenApiSchema:
    return schemathesis.openapi.from_asgi("/openapi.json", world.client.app)


@pytest.mark.parametrize(("label", "mode"), _cases())
def test_operation_matches_the_schema(
    world: World, api_schema: OpenApiSchema, label: str, mode: GenerationMode
) -> None:
    operation = api_schema.find_operation_by_label(label)
    assert operation is not None, label
    headers = world.auth(_who(label))
    options: dict[str, Any] = {}
    if mode is GenerationMode.POSITIVE:
        names = {p.name for p in operation.path_parameters}
        options["path_parameters"] = {k: v for k, v in KNOWN.items() if k in names}

    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(mode, **options))
    def check(case: Case[Any]) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    check()


# --- valid requests are accepted: the document states every rule of shape ---------------

SHAPE_REFUSALS = {"urn:pooled:problem:validation", "urn:pooled:problem:malformed-body"}


@schemathesis.check
def shape_rules_are_documented(ctx: Any, response: Any, case: Case[Any]) -> bool | None:
    """A request valid by the document is never refused for its shape (400, or 422 of
    type ``validation``). Refusals by business rules (unknown partner, closed period,
    rule violations: 404, 409, 422 ``rule-violation``) are documented responses."""
    if response.status_code in (400, 422):
        kind = response.json().get("type")
        assert kind not in SHAPE_REFUSALS, (
            f"valid request rejected: {case.method} {case.formatted_path} "
            f"{response.status_code} {response.text[:300]}"
        )
    return None


def _valid_cases() -> list[Any]:
    return [p for p in _cases() if p.values[1] is GenerationMode.POSITIVE]


@pytest.mark.parametrize(("label", "mode"), _valid_cases())
def test_a_request_valid_by_the_document_is_not_refused_for_its_shape(
    world: World, api_schema: OpenApiSchema, label: str, mode: GenerationMode
) -> None:
    operation = api_schema.find_operation_by_label(label)
    assert operation is not None, label
    headers = world.auth(_who(label))
    names = {p.name for p in operation.path_parameters}
    options = {"path_parameters": {k: v for k, v in KNOWN.items() if k in names}}

    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(mode, **options))
    def check(case: Case[Any]) -> None:
        case.call_and_validate(headers=headers, checks=[shape_rules_are_documented])

    check()

"""Every error of a JSON body at once (issue 12): shape and rule errors in one problem.

FastAPI checks a body's shape before the route runs, so on its own a body with an
amount of three decimals and a funding stream the pool does not have would be answered
with the amount alone, and the stream on the next try. For the routes marked with
:func:`rules_after_shape`, a body refused for its shape is checked against the rules as
well: each refused field is given a stand-in of the right shape, the command is decided
by the ledger with the checks that read a stand-in skipped (``Ledger.rule_errors``:
nothing is written), and its rule errors are answered with the shape errors in one 422
(type ``validation``: the body is malformed).

Only a body whose errors are all of its own top-level fields is checked so (a path or
query parameter, or a body that is not an object, leaves nothing to check)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

from api.deps import _bearer, current_actor
from api.field_errors import dedupe, field_errors, summarise
from ledger.domain import commands as c
from ledger.domain.errors import ValidationFailed

F = TypeVar("F", bound=Callable[..., Any])
Build = Callable[[Any, Mapping[str, Any]], c.Command]  # (the body, path parameters)

_MARK = "pooled_rules_after_shape"

# A value of the right shape for each field a money posting's body may have, standing
# in for one refused (the checks that read it are skipped, so which value is no matter).
STAND_INS: dict[str, Any] = {
    "partner_id": "stand-in",
    "scheme_id": "stand-in",
    "pool_id": "stand-in",
    "funding_stream": "contribution",
    "amount": "0.01",
    "effective_date": "2000-01-01",
    "year": None,
    "reference": "stand-in",
    "refunds_event_id": None,
    "credits_event_id": None,
    "prior_period_adjustment": False,
    "purpose": "other",
    "from": {"partner_id": "stand-in"},
    "to": {"pool_id": "stand-in"},
}


def rules_after_shape(model: type[BaseModel], build: Build) -> Callable[[F], F]:
    """Mark a route (below its ``@router.post``): a body ``model`` refused for its shape
    is still checked against the rules, by the command ``build`` makes of it."""

    def mark(endpoint: F) -> F:
        setattr(endpoint, _MARK, (model, build))
        return endpoint

    return mark


async def with_rule_errors(
    endpoint: Callable[..., Any], request: Request, exc: RequestValidationError
) -> ValidationFailed | None:
    """The shape errors of ``exc`` and the rule errors of the rest of the body, as one
    error; None when the route is not marked or there are no rule errors to add."""
    marked = getattr(endpoint, _MARK, None)
    raw = getattr(request, "_json", None)
    if marked is None or not isinstance(raw, dict):
        return None
    model, build = marked
    errors = list(exc.errors())
    refused: set[str] = set()
    for e in errors:
        loc = tuple(e.get("loc", ()))
        if len(loc) < 2 or loc[0] != "body" or not isinstance(loc[1], str):
            return None
        refused.add(loc[1])
    body = {k: v for k, v in raw.items() if k not in refused}
    body |= {k: STAND_INS[k] for k in refused if k in STAND_INS}
    try:
        command = build(model.model_validate(body), request.path_params)
    except (ValidationError, ValidationFailed):
        return None
    actor = await run_in_threadpool(current_actor, request, await _bearer(request))
    ledger = request.app.state.ledger
    rules = await run_in_threadpool(ledger.rule_errors, command, actor, frozenset(refused))
    if not rules:
        return None
    every = [*dedupe(field_errors(errors)), *rules]
    return ValidationFailed(summarise(every), errors=tuple(every))

"""Every error of a JSON body at once (issue 12): shape and rule errors in one problem.

FastAPI checks a body's shape before the route runs, so on its own a body with an
amount of three decimals and a funding stream the pool does not have would be answered
with the amount alone, and the stream on the next try. Every route that writes through
the ``Writer`` (``api.deps``) and takes a JSON object as its body is checked against the
rules as well when its body is refused for its shape: each refused field is given a
stand-in of the right shape, the route is run again in *rule check* mode (its
``Writer`` decides the command with ``Ledger.rule_errors``, with the checks that read a
stand-in skipped, and never writes), and the rule errors are answered with the shape
errors in one 422 (type ``validation``: the body is malformed). Nothing is marked per
route: a new route gets it by writing through the ``Writer``.

Only a body whose errors are all of its own top-level fields is checked so (a path or
query parameter, or a body that is not an object, leaves nothing to check); a field
with no stand-in that fits leaves the shape errors to answer alone."""

from __future__ import annotations

import types
from collections.abc import Callable, Coroutine, Mapping
from functools import cache
from typing import Annotated, Any, Union, get_args, get_origin

from fastapi import Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic.fields import FieldInfo

from api.deps import RULE_CHECK, RuleCheck, writer
from api.field_errors import dedupe, field_errors, summarise
from ledger.domain.errors import ValidationFailed

Handler = Callable[[Request], Coroutine[Any, Any, Response]]

# A value of the right shape for fields many bodies share, standing in for one refused
# (the checks that read it are skipped, so which value is no matter). A field not here
# stands in with its default, else the body's documented example.
STAND_INS: dict[str, Any] = {
    "id": "stand-in",
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


def writes_through_writer(dependant: Dependant) -> bool:
    """Whether the route (or one of its dependencies) takes the ``Writer``: only such a
    route can be run again to check the rules without writing."""
    return any(d.call is writer or writes_through_writer(d) for d in dependant.dependencies)


def body_model(annotation: Any) -> type[BaseModel] | None:
    """The body's model (``Model`` or ``Model | None``)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if get_origin(annotation) in (Union, types.UnionType):
        found = [m for m in map(body_model, get_args(annotation)) if m is not None]
        return found[0] if len(found) == 1 else None
    return None


@cache
def _adapter(model: type[BaseModel], key: str) -> TypeAdapter[Any] | None:
    field = _fields(model).get(key)
    if field is None:
        return None
    # the field's type with its constraints (not its alias or docs: those are the model's)
    shape: Any = (
        Annotated[(field.annotation, *field.metadata)] if field.metadata else field.annotation
    )
    return TypeAdapter(shape)


def _fields(model: type[BaseModel]) -> dict[str, FieldInfo]:
    return {(f.alias or name): f for name, f in model.model_fields.items()}


def _candidates(model: type[BaseModel], key: str) -> list[Any]:
    field = _fields(model)[key]
    out: list[Any] = [STAND_INS[key]] if key in STAND_INS else []
    if not field.is_required():
        out.append(field.get_default(call_default_factory=True))
    extra = model.model_config.get("json_schema_extra")
    examples = extra.get("examples") if isinstance(extra, Mapping) else None
    for example in examples if isinstance(examples, list) else ():
        if isinstance(example, Mapping) and key in example:
            out.append(example[key])
    return out


def stand_in_body(
    model: type[BaseModel], raw: Mapping[str, Any], refused: set[str]
) -> dict[str, Any] | None:
    """``raw`` with each refused field replaced by a stand-in that fits its shape (a key
    the model does not know is dropped); None when some refused field has none."""
    body = {k: v for k, v in raw.items() if k not in refused}
    for key in refused:
        adapter = _adapter(model, key)
        if adapter is None:
            continue  # a key the body may not have: dropped
        for candidate in _candidates(model, key):
            try:
                adapter.validate_python(candidate)
            except ValidationError:
                continue
            body[key] = candidate
            break
        else:
            return None
    return body


async def with_rule_errors(
    handler: Handler, model: type[BaseModel] | None, request: Request, exc: RequestValidationError
) -> ValidationFailed | None:
    """The shape errors of ``exc`` and the rule errors of the rest of the body, as one
    error; None when there are no rule errors to add (or they cannot be found)."""
    raw = getattr(request, "_json", None)
    if model is None or not isinstance(raw, dict):
        return None
    errors = list(exc.errors())
    refused: set[str] = set()
    for e in errors:
        loc = tuple(e.get("loc", ()))
        if len(loc) < 2 or loc[0] != "body" or not isinstance(loc[1], str):
            return None
        refused.add(loc[1])
    body = stand_in_body(model, raw, refused)
    if body is None:
        return None
    request._json = body
    setattr(request.state, RULE_CHECK, frozenset(refused))
    try:
        await handler(request)
    except RuleCheck as found:
        rules = found.errors
    except Exception:  # any other refusal: the shape errors answer alone
        return None
    else:  # pragma: no cover - a writing route always reaches its Writer
        return None
    finally:
        request._json = raw
        delattr(request.state, RULE_CHECK)
    if not rules:
        return None
    every = [*dedupe(field_errors(errors)), *rules]
    return ValidationFailed(summarise(every), errors=tuple(every))

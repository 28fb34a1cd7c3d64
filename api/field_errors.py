"""Pydantic's validation errors as named fields: ``from.partner_id``, ``members[0]``, a
header as sent, each with a plain message (none of pydantic's own internals)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ledger.domain.errors import FieldError

_LOCATIONS = {"body", "query", "path", "header", "cookie"}


def field_path(loc: Sequence[Any]) -> str:
    """``("body", "from", "partner_id")`` -> ``from.partner_id``;
    ``("body", "members", 0)`` -> ``members[0]``; header names as sent."""
    parts = list(loc)
    where = None
    if parts and parts[0] in _LOCATIONS:
        where = parts.pop(0)
    out = ""
    for p in parts:
        if p == "[key]":
            continue
        if isinstance(p, int):
            out += f"[{p}]"
        elif isinstance(p, str) and ("[" in p or "(" in p):
            continue  # a validator's own name inside a union: not a field
        else:
            out += ("." if out else "") + str(p)
    if where == "header":
        return "-".join(w.capitalize() for w in out.replace("_", "-").split("-"))
    return out or (where or "body")


def _message(err: Mapping[str, Any]) -> str:
    typ = str(err.get("type", ""))
    ctx = err.get("ctx") or {}
    if typ.startswith("pooled_"):
        return str(err.get("msg", "is not valid"))
    simple = {
        "missing": "is required",
        "extra_forbidden": "is not a field of this request",
        "string_type": "must be a string",
        "bool_type": "must be true or false",
        "bool_parsing": "must be true or false",
        "int_type": "must be a whole number",
        "int_parsing": "must be a whole number",
        "int_from_float": "must be a whole number",
        "dict_type": "must be a JSON object",
        "model_type": "must be a JSON object",
        "model_attributes_type": "must be a JSON object",
        "list_type": "must be a list",
        "tuple_type": "must be a list",
        "none_required": "must be null",
        "string_unicode": "must be text",
    }
    if typ in simple:
        return simple[typ]
    if typ == "literal_error":
        return f"must be one of {ctx.get('expected', 'the listed values')}"
    if typ == "enum":
        return f"must be one of {ctx.get('expected', 'the listed values')}"
    if typ == "string_too_long":
        return f"must be at most {ctx.get('max_length')} characters"
    if typ == "string_too_short":
        n = ctx.get("min_length")
        return "must not be empty" if n in (None, 1) else f"must be at least {n} characters"
    if typ in ("too_long",):
        return f"must have at most {ctx.get('max_length')} items"
    if typ in ("too_short",):
        return f"must have at least {ctx.get('min_length')} items"
    if typ == "greater_than_equal":
        return f"must be at least {ctx.get('ge')}"
    if typ == "greater_than":
        return f"must be more than {ctx.get('gt')}"
    if typ == "less_than_equal":
        return f"must be at most {ctx.get('le')}"
    if typ == "less_than":
        return f"must be less than {ctx.get('lt')}"
    if typ == "string_pattern_mismatch":
        return "is not in the expected form"
    if typ in ("value_error", "assertion_error"):
        msg = str(err.get("msg", ""))
        for prefix in ("Value error, ", "Assertion failed, "):
            msg = msg.removeprefix(prefix)
        return msg or "is not valid"
    return "is not valid"


def field_errors(raw: Iterable[Mapping[str, Any]]) -> list[FieldError]:
    return [FieldError(field_path(e.get("loc", ())), _message(e)) for e in raw]


def dedupe(errs: Sequence[FieldError]) -> list[FieldError]:
    seen: set[tuple[str, str]] = set()
    out = []
    for e in errs:
        if (e.field, e.message) not in seen:
            seen.add((e.field, e.message))
            out.append(e)
    return out


def summarise(errs: Sequence[FieldError]) -> str:
    if not errs:
        return "the request is not valid"
    parts = [f"{e.field}: {e.message}" for e in errs[:3]]
    more = f" (and {len(errs) - 3} more)" if len(errs) > 3 else ""
    return "; ".join(parts) + more

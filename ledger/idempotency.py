"""Idempotency keys and what a command answers.

``Idempotency`` is an ``Idempotency-Key`` scoped to (token, method, path) with the
normalised request and the status its first answer is given; ``Outcome`` is a command's
stored events, marked ``replayed`` (with the first answer's stored status) when a repeat
returns the first answer. A key used again with a different request is refused
with ``IdempotencyConflict`` naming the fields that differ.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ledger.domain.errors import FieldError, IdempotencyConflict
from ledger.store.reads import StoredEvent
from ledger.store.serialization import canonical_json


@dataclass(frozen=True)
class Idempotency:
    """An ``Idempotency-Key`` scoped to (token, method, path), the normalised request and
    the HTTP status the first answer is given (stored with the key, replayed on a repeat)."""

    key: str
    token_id: str
    method: str
    path: str
    request: Mapping[str, Any]
    status: int = 201

    @property
    def scope(self) -> str:
        raw = "\x1f".join((self.token_id, self.method, self.path, self.key))
        return hashlib.sha256(raw.encode()).hexdigest()

    @property
    def request_json(self) -> str:
        return canonical_json(self.request)

    @property
    def request_hash(self) -> str:
        return hashlib.sha256(self.request_json.encode()).hexdigest()


@dataclass(frozen=True)
class Outcome:
    events: tuple[StoredEvent, ...]
    replayed: bool = False  # True when an idempotent repeat returned the first answer
    status: int | None = None  # on a replay, the status the first answer was given


def idempotency_conflict(
    first: Mapping[str, Any], second: Mapping[str, Any]
) -> IdempotencyConflict:
    diff = _differences(first, second)
    return IdempotencyConflict(
        "this Idempotency-Key was first used with a different request; differs in: "
        + ", ".join(diff),
        errors=tuple(FieldError(f, "differs from the first request") for f in diff),
    )


def _differences(
    first: Mapping[str, Any], second: Mapping[str, Any], prefix: str = ""
) -> list[str]:
    out: list[str] = []
    for key in sorted(set(first) | set(second)):
        a, b = first.get(key), second.get(key)
        path = f"{prefix}{key}"
        if isinstance(a, Mapping) and isinstance(b, Mapping):
            out += _differences(a, b, path + ".")
        elif a != b:
            out.append(path)
    return out or ["(the request)"]

"""Recorded events as responses: write and import results, the audit log, verify, health."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.fields import response_config
from ledger.domain.money import format_pence
from ledger.store.reads import StoredEvent

MONEY_KEYS = frozenset(
    {
        "amount",
        "planned",
        "budget",
        "excluded_personal_budgets",
        "rate",
        "up_to",
        "variance",
        "carried_forward",
    }
)


def money_as_strings(value: Any, key: str | None = None) -> Any:
    """A stored payload with each amount of pence written as a decimal string of pounds."""
    if isinstance(value, dict):
        return {k: money_as_strings(x, k) for k, x in value.items()}
    if isinstance(value, list):
        return [money_as_strings(x, key) for x in value]
    if key in MONEY_KEYS and isinstance(value, int) and not isinstance(value, bool):
        return format_pence(value)
    return value


_EVENT_EXAMPLE: dict[str, Any] = {
    "event_id": "0b7a1f66-3c55-4a37-9a4e-2f1d6f0f8a11",
    "position": 42,
    "recorded_at": "2025-07-01T09:47:50.123456Z",
    "type": "contribution_posted",
    "stream_id": "pool:eq",
    "effective_date": "2025-07-01",
    "pool_id": "eq",
    "partner_id": "city",
    "funding_stream": "contribution",
    "amount": "250000.00",
    "year": "2025-26",
    "reference": "BACS 4471",
    "prior_period_adjustment": False,
}


class EventPublic(BaseModel):
    """One recorded fact: its envelope, then the fact as stored (amounts as strings)."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [_EVENT_EXAMPLE]})
    event_id: str
    position: int
    recorded_at: str
    type: str
    stream_id: str
    effective_date: date | None = None


class WriteResult(EventPublic):
    """What a write recorded. The top-level fields are its (last) event's; ``events``
    lists every event it recorded, in order (a plan also records, the first time, the
    reference data it was checked against)."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={"examples": [{**_EVENT_EXAMPLE, "events": [_EVENT_EXAMPLE]}]},
    )
    events: list[EventPublic]


def event_public(e: StoredEvent) -> EventPublic:
    fact = money_as_strings(json.loads(e.payload))
    head = {
        "event_id": e.event_id,
        "position": e.position,
        "recorded_at": e.recorded_at,
        "type": e.type,
        "stream_id": e.stream_id,
        "effective_date": e.effective_date,
    }
    return EventPublic.model_validate({**fact, **head})


def write_result(events: Sequence[StoredEvent]) -> WriteResult:
    if not events:  # pragma: no cover - every accepted command records a fact
        raise ValueError("a write recorded nothing")
    each = [event_public(e) for e in events]
    return WriteResult.model_validate(
        {**each[-1].model_dump(), "events": [x.model_dump() for x in each]}
    )


class ImportResult(BaseModel):
    model_config = response_config(
        {"imported": 2, "first_position": 43, "last_position": 44, "events": [_EVENT_EXAMPLE]}
    )
    imported: int
    first_position: int
    last_position: int
    events: list[EventPublic]


class LogEvent(BaseModel):
    """An event as the auditor sees it: every stored column (all covered by the hash
    chain), the payload exactly as stored (pence) and the fact with amounts as strings."""

    model_config = response_config(
        {
            "position": 42,
            "event_id": "0b7a1f66-3c55-4a37-9a4e-2f1d6f0f8a11",
            "stream_id": "pool:eq",
            "stream_version": 7,
            "type": "contribution_posted",
            "schema_version": 1,
            "effective_date": "2025-07-01",
            "recorded_at": "2025-07-01T09:47:50.123456Z",
            "actor": "Officer of city",
            "actor_role": "finance_officer",
            "actor_partner_id": "city",
            "token_id": "tok_3kq",
            "request_id": "9d1f0c1e2b",
            "request_meta": '{"client_ip": "10.0.0.7", "user_agent": "curl/8.5"}',
            "pool_id": "eq",
            "partner_id": "city",
            "counterparty_id": None,
            "scheme_id": None,
            "funding_stream": "contribution",
            "year": "2025-26",
            "period": "2025-26-Q2",
            "reverses_event_id": None,
            "hash": "9f2c…",
            "payload": {"amount": 25000000, "partner_id": "city"},
            "fact": {"amount": "250000.00", "partner_id": "city"},
        }
    )
    position: int
    event_id: str
    stream_id: str
    stream_version: int
    type: str
    schema_version: int
    effective_date: date | None
    recorded_at: str
    actor: str
    actor_role: str
    actor_partner_id: str | None
    token_id: str | None
    request_id: str | None
    request_meta: str | None = Field(
        description="the client's address and user agent, as stored (JSON text, hashed as is)"
    )
    pool_id: str | None
    partner_id: str | None
    counterparty_id: str | None
    scheme_id: str | None
    funding_stream: str | None
    year: str | None
    period: str | None
    reverses_event_id: str | None
    hash: str
    payload: dict[str, Any]
    fact: dict[str, Any]


def log_event(e: StoredEvent) -> LogEvent:
    payload = json.loads(e.payload)
    return LogEvent(
        position=e.position,
        event_id=e.event_id,
        stream_id=e.stream_id,
        stream_version=e.stream_version,
        type=e.type,
        schema_version=e.schema_version,
        effective_date=e.effective_date,
        recorded_at=e.recorded_at,
        actor=e.actor,
        actor_role=e.actor_role,
        actor_partner_id=e.actor_partner_id,
        token_id=e.token_id,
        request_id=e.request_id,
        request_meta=e.request_meta,
        pool_id=e.pool_id,
        partner_id=e.partner_id,
        counterparty_id=e.counterparty_id,
        scheme_id=e.scheme_id,
        funding_stream=e.funding_stream,
        year=e.year,
        period=e.period,
        reverses_event_id=e.reverses_event_id,
        hash=e.hash,
        payload=payload,
        fact=money_as_strings(payload),
    )


class EventsPage(BaseModel):
    model_config = response_config(
        {"events": [], "after": 0, "limit": 100, "next_after": None, "head_position": 42}
    )
    events: list[LogEvent]
    after: int
    limit: int
    next_after: int | None = Field(description="pass as `after` for the next page; null at the end")
    head_position: int


class VerifyPublic(BaseModel):
    model_config = response_config(
        {
            "ok": True,
            "events_checked": 1234,
            "head_hash": "5d41402abc4b2a76b9719d911017c592ae1b1e5f0cbb5b1b6b3a8e8b3c1f2a9d",
            "head_position": 1234,
            "first_bad_position": None,
            "problem": None,
        }
    )
    ok: bool
    events_checked: int
    head_hash: str
    head_position: int
    first_bad_position: int | None = None
    problem: str | None = None
    documents_checked: int = 0
    problems: list[str] = Field(
        default_factory=list,
        description="every problem found: the chain's, the tree's and checkpoints' (first), "
        "then each filed document's",
    )


class Health(BaseModel):
    model_config = response_config({"status": "ok", "database": "ok", "head_position": 1234})
    status: Literal["ok", "unavailable"]
    database: str
    head_position: int | None = None

"""The trace of a figure: the positions and the events it was computed from."""

from __future__ import annotations

import json
from datetime import date

from pydantic import BaseModel, Field

from api.schemas.fields import response_config
from ledger.domain.money import format_pence
from ledger.store.eventstore import StoredEvent


class TracedEvent(BaseModel):
    model_config = response_config(
        {
            "position": 42,
            "event_id": "0b7a1f66-3c55-4a37-9a4e-2f1d6f0f8a11",
            "type": "contribution_posted",
            "amount": "250000.00",
            "effective_date": "2025-07-01",
        }
    )
    position: int
    event_id: str | None = None
    type: str | None = None
    amount: str | None = None
    effective_date: date | None = None


class TracePublic(BaseModel):
    model_config = response_config(
        {
            "figure": "partner:ncc:received",
            "value": "1500000.00",
            "positions": [42, 57],
            "events": [],
        }
    )
    figure: str
    value: str | None = None
    positions: list[int]
    events: list[TracedEvent] = Field(default_factory=list)


def traced_event(e: StoredEvent) -> TracedEvent:
    data = json.loads(e.payload)
    amount = data.get("amount")
    return TracedEvent(
        position=e.position,
        event_id=e.event_id,
        type=e.type,
        amount=format_pence(amount) if isinstance(amount, int) else None,
        effective_date=e.effective_date,
    )

"""The trace of a figure: the positions and the events it was computed from, each with
the signed amount by which it counts in the figure (they sum to it, with ``by_rule``)."""

from __future__ import annotations

import json
from datetime import date

from pydantic import BaseModel, Field

from api.schemas.fields import response_config
from ledger.domain.money import format_pence
from ledger.store.reads import StoredEvent


class TracedEvent(BaseModel):
    model_config = response_config(
        {
            "position": 42,
            "event_id": "0b7a1f66-3c55-4a37-9a4e-2f1d6f0f8a11",
            "type": "contribution_posted",
            "amount": "250000.00",
            "effective_date": "2025-07-01",
            "reference": "BACS 4471",
        }
    )
    position: int
    event_id: str | None = None
    type: str | None = None
    amount: str | None = Field(
        None,
        description="the signed amount by which the event counts in the figure (a refund "
        "or credit note negative in income or spend, spend negative in a balance, a "
        "reversal its target's amount negated; 0.00 for an event that informs the "
        "figure without adding to it); null only in the trace of a share",
    )
    effective_date: date | None = None
    reference: str | None = Field(
        None,
        description="the posting's reference as posted (a payment's, an invoice's), to "
        "find it with the postings' reference search; null for an event without one",
    )


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
    by_rule: str | None = Field(
        None,
        description="the part of the figure the agreement's risk-share rule computes from "
        "the events listed (a provisional risk share); the events' amounts and this sum "
        "to the figure",
    )


def traced_event(e: StoredEvent, counts: int | None) -> TracedEvent:
    """``counts``: the signed pence by which ``e`` counts in the figure traced."""
    return TracedEvent(
        position=e.position,
        event_id=e.event_id,
        type=e.type,
        amount=format_pence(counts) if counts is not None else None,
        effective_date=e.effective_date,
        reference=reference_of(e),
    )


def reference_of(e: StoredEvent) -> str | None:
    """The reference a posting carries (contributions, refunds, spend, credit notes,
    transfers), else None (an empty reference too)."""
    if '"reference"' not in e.payload:
        return None
    value = json.loads(e.payload).get("reference")
    return value if isinstance(value, str) and value else None

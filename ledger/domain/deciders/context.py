"""What ``decide`` is given: the command's context, loaded by the handler."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from ledger.domain import commands as c
from ledger.domain.reference import ReferenceData
from ledger.domain.state import PartnerInfo, PoolState, TargetEvent


class ReferenceSource(Protocol):
    def for_year(self, year: str) -> ReferenceData | None: ...


@dataclass
class Context:
    actor: c.Actor
    today: date
    reference: ReferenceSource
    partners: Mapping[str, PartnerInfo]
    pool: PoolState | None = None
    target: TargetEvent | None = None
    recorded_reference: frozenset[str] = frozenset()
    # for a refund: what the partner has paid into the stream for the year, net of
    # refunds; for a credit note: the scheme's spend for the year, net of credits
    # (reversed facts left out). Loaded by the handler from the facts it holds.
    refundable: int | None = None
    # the body's fields the edge refused for their shape (stand-ins are in their place
    # in the command): the decider skips the checks that read them, so the request's
    # rule errors can be reported with its shape errors, and never decides to write
    refused: frozenset[str] = frozenset()
    extra: dict[str, Any] = field(default_factory=dict)

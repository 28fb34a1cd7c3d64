"""Loading the demo as it happened: each command recorded at 17:00 London on the day
its fact happened, by a clock that never goes backwards nor past the real now."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine

from ledger.clock import LONDON
from ledger.demo.loader import DemoSummary, load_demo
from ledger.demo.posting import Filer
from ledger.domain import commands as c
from ledger.domain.decide import ReferenceSource
from ledger.domain.periods import parse_period
from ledger.handlers import Ledger, Outcome
from ledger.hooks import Hook


class StoryClock:
    """A clock a loader sets to the moment each fact happened: never backwards, and
    never past ``until`` (the real now), so later real postings still come after."""

    def __init__(self, start: datetime, until: datetime) -> None:
        self._at, self._until = start, until

    def now(self) -> datetime:
        return self._at

    def move_to(self, at: datetime) -> None:
        self._at = min(max(self._at, at), self._until)


def _happened_on(command: c.Command) -> date | None:
    for name in ("effective_date", "as_of_date", "assessed_on"):
        value = getattr(command, name, None)
        if isinstance(value, date):
            return value
    period = getattr(command, "period", None) or getattr(command, "quarter", None)
    return parse_period(period).end if isinstance(period, str) else None


class _StoryLedger(Ledger):
    """Records each command at 17:00 London on the day it happened."""

    story: StoryClock

    def execute(self, command: c.Command, actor: c.Actor, **kw: Any) -> Outcome:
        day = _happened_on(command)
        if day is not None:
            self.story.move_to(datetime(day.year, day.month, day.day, 17, tzinfo=LONDON))
        return super().execute(command, actor, **kw)


def load_demo_as_it_happened(
    engine: Engine,
    reference: ReferenceSource,
    hooks: Sequence[Hook],
    now: datetime,
    signing_key: Ed25519PrivateKey | None = None,
    *,
    filer: Filer | None = None,
) -> DemoSummary:
    """Load the demo with recorded times on the days the facts happened (up to ``now``),
    so "as the board saw it on 30 September" has something to show; with ``filer``,
    each BCF return filed on the day the finance lead filed it. With the ledger's
    ``signing_key``, each quarter close (and filed return) signs a checkpoint as it
    would have then, so the board's audit page has checkpoints to show."""
    story = StoryClock(datetime(2025, 3, 1, 9, tzinfo=UTC), now)
    ledger = _StoryLedger(engine, story, reference, hooks=hooks, signing_key=signing_key)
    ledger.story = story
    return load_demo(ledger, now.astimezone(LONDON).date(), filer=filer)

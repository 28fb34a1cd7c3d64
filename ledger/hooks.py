"""What the ledger calls besides itself when it appends.

An ``AppendHook`` is a function called with the connection and the stored events inside
the append transaction (a failure there refuses the write). A ``ReadModelHook`` is an
object that keeps something in step with the log and remembers what it wrote between
appends (the projector): its ``apply`` is the append hook, and the ledger tells it when
an append committed (``committed``) and when what it remembers may be of another
history (``forget``: a rebuild, a restore, a failed commit).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

from sqlalchemy import Connection

from ledger.store.reads import StoredEvent

AppendHook = Callable[[Connection, Sequence[StoredEvent]], None]


@runtime_checkable
class ReadModelHook(Protocol):
    """An append hook with a memory (``projections.projector.Projector``)."""

    def apply(self, conn: Connection, events: Sequence[StoredEvent]) -> None:
        """Project ``events`` inside the append transaction."""

    def committed(self, h0: int, h1: int) -> None:
        """The append that moved the head from position ``h0`` to ``h1`` committed."""

    def forget(self) -> None:
        """Drop what is remembered of earlier appends."""


Hook = AppendHook | ReadModelHook

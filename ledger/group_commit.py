"""Group commit: concurrent ``Ledger.execute`` calls of one process share one
transaction. ``CommitRequest`` is one call waiting for its answer; ``GroupCommitter`` lets
the first writer to arrive run everything queued so far."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ledger.domain import commands as c
from ledger.idempotency import Idempotency, Outcome
from ledger.store import eventstore as es


@dataclass(eq=False)
class CommitRequest:
    command: c.Command
    actor: c.Actor
    idempotency: Idempotency | None
    request_id: str | None
    request_meta: dict[str, Any] | None
    documents: Mapping[str, bytes] | None
    outcome: Outcome | None = None
    error: BaseException | None = None
    span: tuple[int, int] | None = None
    same_as: CommitRequest | None = None
    done: bool = False

    def envelope(self) -> es.Envelope:
        return es.Envelope(
            actor=self.actor.name,
            actor_role=self.actor.role,
            actor_partner_id=self.actor.partner_id,
            token_id=self.actor.token_id,
            request_id=self.request_id,
            request_meta=self.request_meta,
        )


class GroupCommitter:
    """Leader/follower group commit within one process. The first writer to arrive
    leads: it takes every request queued so far and runs them in one transaction; the
    others wait for their answers. Nothing runs in a background thread."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._queue: list[CommitRequest] = []
        self._leading = False

    def submit(self, req: CommitRequest, run: Callable[[list[CommitRequest]], None]) -> None:
        with self._cond:
            self._queue.append(req)
            while not req.done:
                if not self._leading:
                    self._leading = True
                    group, self._queue = self._queue, []
                    break
                self._cond.wait()
            else:
                return
        try:
            run(group)
        finally:
            with self._cond:
                for r in group:
                    r.done = True
                self._leading = False
                self._cond.notify_all()

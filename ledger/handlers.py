"""The write path: one function per command, each ``load -> decide -> append``.

``Ledger.execute`` runs a command in one transaction that holds the append lock:
idempotency check, load the state the decision needs (kept write-side, never a stream
replay), decide, append the events chained to the head, evolve the state, run the
append hooks (the projector) and store the idempotency key. Any error rolls all of it
back, so a rejected request writes nothing.

The batch that decides and appends is in ``ledger.batch``, group commit in
``ledger.group_commit``, idempotency keys and ``Outcome`` in ``ledger.idempotency``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Engine, insert, select

from ledger.batch import AppendHook, Batch
from ledger.clock import Clock, format_instant
from ledger.domain import commands as c
from ledger.domain.decide import ReferenceSource
from ledger.domain.errors import (
    Conflict,
    FieldError,
    Forbidden,
    LedgerError,
    NotFound,
    RuleViolation,
    ValidationFailed,
)
from ledger.domain.state import PartnerInfo, PoolState, at_version
from ledger.group_commit import CommitRequest, GroupCommitter
from ledger.idempotency import Idempotency, Outcome, idempotency_conflict
from ledger.store import eventstore as es
from ledger.store import tables as t
from ledger.store.engine import is_sqlite

__all__ = ["AppendHook", "Idempotency", "Ledger", "Outcome"]


_SERIOUSNESS = (Forbidden, NotFound, Conflict, RuleViolation, ValidationFailed)


def _more_serious(a: type[LedgerError], b: type[LedgerError]) -> type[LedgerError]:
    def rank(cls: type[LedgerError]) -> int:
        return next(
            (i for i, k in enumerate(_SERIOUSNESS) if issubclass(cls, k)), len(_SERIOUSNESS)
        )

    return a if rank(a) <= rank(b) else b


class Ledger:
    """The write side. Built by an entrypoint with its engine, clock and reference data."""

    def __init__(
        self,
        engine: Engine,
        clock: Clock,
        reference: ReferenceSource,
        hooks: Sequence[AppendHook] = (),
        *,
        group_commit: bool = True,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.reference = reference
        self.hooks = list(hooks)
        # a hook that is a method of an object with ``committed(h0, h1)`` (the projector)
        # is told of each commit, so it may remember what it wrote only once it is kept
        owners = (getattr(h, "__self__", None) for h in self.hooks)
        self._on_commit: list[Callable[[int, int], None]] = [
            f for f in (getattr(o, "committed", None) for o in owners) if callable(f)
        ]
        self.partner_cache: dict[str, PartnerInfo] = {}
        self._pools: dict[str, PoolState] = {}
        self._written: dict[str, int] = {}  # the state row's version each cached state is
        # The head position at which every cached pool state is known current: while the
        # head is still there when this process next takes the lock, nobody else has
        # written and the cache is used without asking the database (see _committed).
        self._cache_head = -1
        self._cache_lock = threading.Lock()
        # whether another process wrote before this one's last append: then the pools'
        # versions are read with the lock (one round trip on PostgreSQL), not after it
        self._contended = False
        self._reference_hashes: set[str] = set()
        self.group_commit = group_commit
        self._committer = GroupCommitter()

    # -- public ------------------------------------------------------------------------

    def execute(
        self,
        command: c.Command,
        actor: c.Actor,
        *,
        idempotency: Idempotency | None = None,
        request_id: str | None = None,
        request_meta: dict[str, Any] | None = None,
        documents: Mapping[str, bytes] | None = None,
    ) -> Outcome:
        """Run one command in a transaction of its own, or, when other threads of this
        process are writing at the same moment, in one shared transaction with theirs
        (group commit: each command is still decided, refused or accepted on its own;
        the lock and the commit are shared, so concurrent writers do not queue for
        one fsync each)."""
        req = CommitRequest(command, actor, idempotency, request_id, request_meta, documents)
        if documents is not None or not self.group_commit:
            self._run_group([req])
        else:
            self._committer.submit(req, self._run_group)
        if req.error is not None:
            raise req.error
        assert req.outcome is not None
        return req.outcome

    def _run_group(self, reqs: list[CommitRequest]) -> None:
        """Decide and append a group of requests in one transaction; a refused request
        is answered with its error and writes nothing. If the transaction itself fails,
        each request is retried alone so one bad request cannot sink the others."""
        try:
            with es.write_transaction(self.engine, self._prefetch(r.command for r in reqs)) as (
                conn,
                head,
            ):
                batch = Batch(self, conn, head, reqs[0].actor)
                first_by_scope: dict[str, CommitRequest] = {}
                for r in reqs:
                    if r.idempotency is not None:
                        scope = r.idempotency.scope
                        if scope in first_by_scope:  # a retry inside this very group
                            r.same_as = first_by_scope[scope]
                            continue
                        replay = self._replay(conn, r.idempotency)
                        if replay is not None:
                            r.outcome = replay
                            continue
                        first_by_scope[scope] = r
                    mark = len(batch.pending)
                    try:
                        batch.add(
                            r.command, documents=r.documents, actor=r.actor, envelope=r.envelope()
                        )
                    except LedgerError as e:
                        r.error = e
                        continue
                    r.span = (mark, len(batch.pending))
                stored = batch.commit(reqs[0].request_id, reqs[0].request_meta)
                h0, h1 = head.position, stored[-1].position if stored else head.position
                for r in reqs:
                    if r.span is not None:
                        mine = stored[r.span[0] : r.span[1]]
                        r.outcome = Outcome(tuple(mine))
                        if r.idempotency is not None:
                            self._remember(conn, r.idempotency, mine)
            self._committed(h0, h1, batch)  # only once committed
        except Exception as e:
            for r in reqs:
                r.outcome, r.span, r.same_as = None, None, None
            if len(reqs) == 1:
                reqs[0].error = e
                return
            for r in reqs:
                r.error = None
                self._run_group([r])
            return
        for r in reqs:
            if r.same_as is not None:
                first = r.same_as
                assert r.idempotency is not None and first.idempotency is not None
                if r.idempotency.request_hash != first.idempotency.request_hash:
                    r.error = idempotency_conflict(
                        json.loads(first.idempotency.request_json), dict(r.idempotency.request)
                    )
                elif first.error is not None:
                    r.error = first.error
                elif first.outcome is not None:
                    r.outcome = Outcome(first.outcome.events, replayed=True)

    def execute_many(
        self,
        commands: Sequence[c.Command],
        actor: c.Actor,
        *,
        idempotency: Idempotency | None = None,
        request_id: str | None = None,
        request_meta: dict[str, Any] | None = None,
        lines: Sequence[int] | None = None,
        refused: Sequence[FieldError] = (),
    ) -> Outcome:
        """The batched path: all commands in one transaction, all or nothing. Every
        refused command is reported (with its line, for CSV imports) in one error,
        together with ``refused``: lines the caller could not make a command of."""
        with es.write_transaction(self.engine, self._prefetch(commands)) as (conn, head):
            if idempotency is not None and not refused:
                first = self._replay(conn, idempotency)
                if first is not None:
                    return first
            batch = Batch(self, conn, head, actor)
            problems: list[FieldError] = list(refused)
            worst: type[LedgerError] = ValidationFailed
            for i, cmd in enumerate(commands):
                line = lines[i] if lines is not None else i + 1
                try:
                    batch.add(cmd)
                except LedgerError as e:
                    errs = e.errors or (FieldError("", e.detail),)
                    problems += [FieldError(f.field, f.message, line) for f in errs]
                    worst = _more_serious(worst, type(e))
            if problems:
                # every refused line is reported; the status is the most serious cause
                # (an officer importing another partner's money is refused as 403)
                bad = {p.line for p in problems}
                total = len(commands) + len(bad - set(lines or ()))
                raise worst(
                    f"{len(bad)} of {total} lines were refused; nothing was written",
                    errors=tuple(sorted(problems, key=lambda p: p.line or 0)),
                )
            stored = batch.commit(request_id, request_meta)
            if idempotency is not None:
                self._remember(conn, idempotency, stored)
        self._committed(head.position, stored[-1].position if stored else head.position, batch)
        return Outcome(tuple(stored))

    def forget_caches(self) -> None:
        with self._cache_lock:
            self._pools.clear()
            self._written.clear()
            self._cache_head = -1
        self.partner_cache.clear()
        self._reference_hashes.clear()

    # -- idempotency -------------------------------------------------------------------

    def _replay(self, conn: Connection, idem: Idempotency) -> Outcome | None:
        row = conn.execute(
            select(t.idempotency_keys).where(t.idempotency_keys.c.scope == idem.scope)
        ).first()
        if row is None:
            return None
        if row.request_hash != idem.request_hash:
            raise idempotency_conflict(json.loads(row.request), dict(idem.request))
        positions = json.loads(row.positions)
        return Outcome(tuple(es.get_by_positions(conn, positions)), replayed=True)

    def _remember(
        self, conn: Connection, idem: Idempotency, stored: Sequence[es.StoredEvent]
    ) -> None:
        conn.execute(
            insert(t.idempotency_keys).values(
                scope=idem.scope,
                request_hash=idem.request_hash,
                request=idem.request_json,
                positions=json.dumps([e.position for e in stored]),
                status=201,
                created_at=format_instant(self.clock.now()),
            )
        )

    # -- state -------------------------------------------------------------------------

    def load_pool(self, conn: Connection, pool_id: str) -> PoolState | None:
        """A pool's write-side state as the current transaction sees it."""
        loaded = self.load_pool_state(conn, pool_id, None)
        return loaded[0] if loaded else None

    def _prefetch(self, commands: Iterable[c.Command]) -> list[str]:
        """The pools whose versions to read with the lock: only when other processes
        are writing (else the cache answers) and only on PostgreSQL (round trips)."""
        if not self._contended or is_sqlite(self.engine):
            return []
        return sorted({p for p in (getattr(x, "pool_id", None) for x in commands) if p})

    def load_pool_state(
        self, conn: Connection, pool_id: str, locked: es.Head | None
    ) -> tuple[PoolState, int] | None:
        """(state, the version its state row was written at). ``locked``: the head the
        caller holds the lock at; if this process wrote it, the cache is current."""
        if locked is not None:
            with self._cache_lock:
                if locked.position == self._cache_head and pool_id in self._pools:
                    return self._pools[pool_id], self._written[pool_id]
        # The stream's version is its newest event's (the unique key's last entry). The
        # state row is rewritten only when more than the version changes (a posting
        # writes none), so a cached state read from the same row needs only the version.
        if locked is not None and pool_id in locked.pools:
            found = locked.pools[pool_id]  # read with the lock
        else:
            found = es.pool_versions(conn, [pool_id])[pool_id]
        if found is None:
            return None
        written, version = found
        with self._cache_lock:
            cached = self._pools.get(pool_id)
            same_row = cached is not None and self._written.get(pool_id) == written
        if cached is not None and same_row:
            return (cached if cached.version == version else at_version(cached, version)), written
        text = conn.execute(
            select(t.ws_pools.c.state).where(t.ws_pools.c.pool_id == pool_id)
        ).scalar_one()
        return at_version(PoolState.model_validate_json(text), version), written

    def _committed(self, h0: int, h1: int, batch: Batch) -> None:
        """Bring the pool cache forward after a commit that moved the head h0 -> h1.

        If the cache was current at h0, it is current at h1 with this batch's states. If
        not (another process wrote, or the cache is new), the pools this batch read were
        read under the lock at h0 and are current at h1 with the batch's updates: they
        become the whole cache. A batch that committed before a later one had already
        moved the cache on changes nothing."""
        with self._cache_lock:
            self._contended = h0 != self._cache_head
            if h0 == self._cache_head:
                for pid, st in batch.original.items():
                    if st is not None and pid not in self._pools:
                        self._pools[pid], self._written[pid] = st, batch.written[pid]
                self._pools.update(batch.cache_updates)
                self._written.update(batch.written)
                self._cache_head = h1
            elif h1 > self._cache_head:
                fresh = {pid: st for pid, st in batch.original.items() if st is not None}
                fresh.update(batch.cache_updates)
                self._pools = fresh
                self._written = {pid: batch.written[pid] for pid in fresh}
                self._cache_head = h1
        if h1 > h0:
            for committed in self._on_commit:
                committed(h0, h1)

    def recorded_reference_ids(self, conn: Connection) -> frozenset[str]:
        rows = conn.execute(select(t.ws_reference.c.content_hash)).scalars().all()
        self._reference_hashes = set(rows)
        return frozenset(self._reference_hashes)

"""The write path: one function per command, each ``load -> decide -> append``.

``Ledger.execute`` runs a command in one transaction that holds the append lock:
idempotency check, load the state the decision needs (kept write-side, never a stream
replay), decide, append the events chained to the head, evolve the state, run the
append hooks (the projector) and store the idempotency key. Any error rolls all of it
back, so a rejected request writes nothing.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update

from ledger.clock import Clock, format_instant, london_today
from ledger.domain import commands as c
from ledger.domain import events as ev
from ledger.domain.decide import Context, ReferenceSource, decide
from ledger.domain.errors import (
    ConcurrencyError,
    Conflict,
    FieldError,
    Forbidden,
    IdempotencyConflict,
    LedgerError,
    NotFound,
    RuleViolation,
    ValidationFailed,
)
from ledger.domain.state import (
    PartnerInfo,
    PoolState,
    TargetEvent,
    at_version,
    evolve,
    same_but_version,
)
from ledger.store import eventstore as es
from ledger.store import tables as t
from ledger.store.engine import is_sqlite
from ledger.store.serialization import canonical_json
from ledger.store.sql import driver_sql

AppendHook = Callable[[Connection, Sequence[es.StoredEvent]], None]


@dataclass(frozen=True)
class Idempotency:
    """An ``Idempotency-Key`` scoped to (token, method, path), and the normalised request."""

    key: str
    token_id: str
    method: str
    path: str
    request: Mapping[str, Any]

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
    events: tuple[es.StoredEvent, ...]
    replayed: bool = False  # True when an idempotent repeat returned the first answer


@dataclass(eq=False)
class _Request:
    command: c.Command
    actor: c.Actor
    idempotency: Idempotency | None
    request_id: str | None
    request_meta: dict[str, Any] | None
    documents: Mapping[str, bytes] | None
    outcome: Outcome | None = None
    error: BaseException | None = None
    span: tuple[int, int] | None = None
    same_as: _Request | None = None
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


class _GroupCommitter:
    """Leader/follower group commit within one process. The first writer to arrive
    leads: it takes every request queued so far and runs them in one transaction; the
    others wait for their answers. Nothing runs in a background thread."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._queue: list[_Request] = []
        self._leading = False

    def submit(self, req: _Request, run: Callable[[list[_Request]], None]) -> None:
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


_SERIOUSNESS = (Forbidden, NotFound, Conflict, RuleViolation, ValidationFailed)


def _more_serious(a: type[LedgerError], b: type[LedgerError]) -> type[LedgerError]:
    def rank(cls: type[LedgerError]) -> int:
        return next(
            (i for i, k in enumerate(_SERIOUSNESS) if issubclass(cls, k)), len(_SERIOUSNESS)
        )

    return a if rank(a) <= rank(b) else b


def _conflict(first: Mapping[str, Any], second: Mapping[str, Any]) -> IdempotencyConflict:
    diff = _differences(first, second)
    return IdempotencyConflict(
        "this Idempotency-Key was first used with a different request; differs in: "
        + ", ".join(diff),
        errors=tuple(FieldError(f, "differs from the first request") for f in diff),
    )


class _Partners(Mapping[str, PartnerInfo]):
    """Registered partners, read on demand (registrations never change: cached)."""

    def __init__(
        self, conn: Connection, cache: dict[str, PartnerInfo], pending: dict[str, PartnerInfo]
    ) -> None:
        self._conn, self._cache, self._pending = conn, cache, pending

    def __getitem__(self, key: str) -> PartnerInfo:
        if key in self._pending:
            return self._pending[key]
        if key not in self._cache:
            row = self._conn.execute(
                select(t.ws_partners).where(t.ws_partners.c.partner_id == key)
            ).first()
            if row is None:
                raise KeyError(key)
            self._cache[key] = PartnerInfo(partner_id=row.partner_id, name=row.name, kind=row.kind)
        return self._cache[key]

    def __iter__(self) -> Iterator[str]:
        rows = self._conn.execute(select(t.ws_partners.c.partner_id)).scalars().all()
        return iter(sorted({*rows, *self._pending}))

    def __len__(self) -> int:
        return len(list(iter(self)))


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
        self._partners: dict[str, PartnerInfo] = {}
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
        self._committer = _GroupCommitter()

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
        req = _Request(command, actor, idempotency, request_id, request_meta, documents)
        if documents is not None or not self.group_commit:
            self._run_group([req])
        else:
            self._committer.submit(req, self._run_group)
        if req.error is not None:
            raise req.error
        assert req.outcome is not None
        return req.outcome

    def _run_group(self, reqs: list[_Request]) -> None:
        """Decide and append a group of requests in one transaction; a refused request
        is answered with its error and writes nothing. If the transaction itself fails,
        each request is retried alone so one bad request cannot sink the others."""
        try:
            with es.write_transaction(self.engine, self._prefetch(r.command for r in reqs)) as (
                conn,
                head,
            ):
                batch = _Batch(self, conn, head, reqs[0].actor)
                first_by_scope: dict[str, _Request] = {}
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
                    r.error = _conflict(
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
    ) -> Outcome:
        """The batched path: all commands in one transaction, all or nothing. Every
        refused command is reported (with its line, for CSV imports) in one error."""
        with es.write_transaction(self.engine, self._prefetch(commands)) as (conn, head):
            if idempotency is not None:
                first = self._replay(conn, idempotency)
                if first is not None:
                    return first
            batch = _Batch(self, conn, head, actor)
            problems: list[FieldError] = []
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
                raise worst(
                    f"{len({p.line for p in problems})} of {len(commands)} lines were refused; "
                    "nothing was written",
                    errors=tuple(problems),
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
        self._partners.clear()
        self._reference_hashes.clear()

    # -- idempotency -------------------------------------------------------------------

    def _replay(self, conn: Connection, idem: Idempotency) -> Outcome | None:
        row = conn.execute(
            select(t.idempotency_keys).where(t.idempotency_keys.c.scope == idem.scope)
        ).first()
        if row is None:
            return None
        if row.request_hash != idem.request_hash:
            raise _conflict(json.loads(row.request), dict(idem.request))
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
        loaded = self._load(conn, pool_id, None)
        return loaded[0] if loaded else None

    def _prefetch(self, commands: Iterable[c.Command]) -> list[str]:
        """The pools whose versions to read with the lock: only when other processes
        are writing (else the cache answers) and only on PostgreSQL (round trips)."""
        if not self._contended or is_sqlite(self.engine):
            return []
        return sorted({p for p in (getattr(x, "pool_id", None) for x in commands) if p})

    def _load(
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

    def _committed(self, h0: int, h1: int, batch: _Batch) -> None:
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

    def _recorded_reference(self, conn: Connection) -> frozenset[str]:
        rows = conn.execute(select(t.ws_reference.c.content_hash)).scalars().all()
        self._reference_hashes = set(rows)
        return frozenset(self._reference_hashes)


class _Batch:
    """Commands decided one after another against evolving state, appended together."""

    def __init__(self, ledger: Ledger, conn: Connection, head: es.Head, actor: c.Actor) -> None:
        self.ledger, self.conn, self.head, self.actor = ledger, conn, head, actor
        self.pending: list[es.PendingEvent] = []
        self.pools: dict[str, PoolState | None] = {}
        self.original: dict[str, PoolState | None] = {}
        self.new_partners: dict[str, PartnerInfo] = {}
        self.documents: list[tuple[str, str, str, bytes]] = []  # pool, period, format, bytes
        self.today = london_today(ledger.clock)
        self.recorded_reference: frozenset[str] | None = None
        self.reversed_here: set[str] = set()
        self.cache_updates: dict[str, PoolState] = {}
        self.written: dict[str, int] = {}  # each pool's state row version (see Ledger._load)
        self.partners = _Partners(conn, ledger._partners, self.new_partners)

    def _pool(self, pool_id: str) -> PoolState | None:
        if pool_id not in self.pools:
            loaded = self.ledger._load(self.conn, pool_id, self.head)
            state = None
            if loaded is not None:
                state, self.written[pool_id] = loaded
            self.pools[pool_id] = state
            self.original[pool_id] = state
        return self.pools[pool_id]

    def _target(self, event_id: str) -> TargetEvent | None:
        stored = es.get_event(self.conn, event_id)
        if stored is None:
            return None
        return TargetEvent(
            event_id=stored.event_id,
            type=stored.type,
            position=stored.position,
            pool_id=stored.pool_id,
            poster_partner_id=stored.actor_partner_id,
            effective_date=stored.effective_date,
            reversed=event_id in self.reversed_here or es.is_reversed(self.conn, event_id),
        )

    def add(
        self,
        command: c.Command,
        *,
        documents: Mapping[str, bytes] | None = None,
        actor: c.Actor | None = None,
        envelope: es.Envelope | None = None,
    ) -> None:
        target = self._target(command.event_id) if isinstance(command, c.ReverseEvent) else None
        pool_id = getattr(command, "pool_id", None) or (target.pool_id if target else None)
        pool = self._pool(pool_id) if pool_id else None
        if isinstance(command, c.SettleRiskShare) and command.as_at_position is not None:
            latest = self.conn.exec_driver_sql(
                driver_sql(self.conn, "SELECT MAX(position) FROM events WHERE pool_id = ?"),
                (command.pool_id,),
            ).scalar()
            if latest is not None and int(latest) > command.as_at_position:
                raise ConcurrencyError(
                    f"pool '{command.pool_id}' changed after position {command.as_at_position}, "
                    "where the settlement figures were read; settle again"
                )
        if isinstance(command, c.AgreePlan) and self.recorded_reference is None:
            self.recorded_reference = self.ledger._recorded_reference(self.conn)
        ctx = Context(
            actor=actor or self.actor,
            today=self.today,
            reference=self.ledger.reference,
            partners=self.partners,
            pool=pool,
            target=target,
            recorded_reference=self.recorded_reference or frozenset(),
        )
        new = decide(command, ctx)
        for event in new:
            self._stage(event, pool_id, envelope)
        if documents is not None and isinstance(command, c.GenerateReturn):
            for fmt, data in documents.items():
                self.documents.append((command.pool_id, command.quarter, fmt, data))

    def _stage(self, event: ev.Event, pool_id: str | None, envelope: es.Envelope | None) -> None:
        reverses = None
        if isinstance(event, ev.PartnerRegistered):
            stream, version = f"partner:{event.partner_id}", 1
            self.new_partners[event.partner_id] = PartnerInfo(
                partner_id=event.partner_id, name=event.name, kind=event.kind
            )
        elif isinstance(event, ev.ReferenceDataRecorded):
            stream, version = f"reference:{event.content_hash}", 1
            self.recorded_reference = (self.recorded_reference or frozenset()) | {
                event.content_hash
            }
        else:
            pid = event.pool_id if isinstance(event, ev.PoolEstablished) else pool_id
            assert pid is not None
            if isinstance(event, ev.EventReversed):
                reverses = event.reversed_event_id
                self.reversed_here.add(reverses)
            before = self.pools.get(pid)
            after = evolve(before, event)
            self.pools[pid] = after
            self.original.setdefault(pid, None)
            stream, version = f"pool:{pid}", after.version if after else 1
        self.pending.append(es.PendingEvent(event, stream, version, reverses, envelope))

    def commit(
        self, request_id: str | None, request_meta: dict[str, Any] | None
    ) -> list[es.StoredEvent]:
        if not self.pending:
            return []
        envelope = es.Envelope(
            actor=self.actor.name,
            actor_role=self.actor.role,
            actor_partner_id=self.actor.partner_id,
            token_id=self.actor.token_id,
            request_id=request_id,
            request_meta=request_meta,
        )
        stored = es.build_rows(
            self.head, self.pending, envelope, format_instant(self.ledger.clock.now())
        )
        with es.pipelined(self.conn):
            self._write(stored)
        return stored

    def _write(self, stored: list[es.StoredEvent]) -> None:
        es.insert_rows(self.conn, stored)
        self._save_state(stored)
        for pool_id, period, fmt, data in self.documents:
            ret = next(
                s for s in stored if s.type == ev.ReturnGenerated.type and s.pool_id == pool_id
            )
            self.conn.execute(
                insert(t.filed_documents).values(
                    pool_id=pool_id,
                    period=period,
                    format=fmt,
                    position=ret.position,
                    sha256=hashlib.sha256(data).hexdigest(),
                    content=data,
                )
            )
        for hook in self.ledger.hooks:
            hook(self.conn, stored)

    def _save_state(self, stored: Sequence[es.StoredEvent]) -> None:
        # plans are keyed by their event id (known only now): re-evolve those pools
        plan_pools = {s.pool_id for s in stored if s.type == ev.PlanAgreed.type}
        for pid in plan_pools:
            assert pid is not None
            state = self.original.get(pid)
            for s in stored:
                if s.pool_id == pid or (s.type == ev.PoolEstablished.type and s.pool_id == pid):
                    state = evolve(state, s.event, event_id=s.event_id)
            self.pools[pid] = state
        for p in self.new_partners.values():
            self.conn.execute(
                insert(t.ws_partners).values(partner_id=p.partner_id, name=p.name, kind=p.kind)
            )
        for s in stored:
            if s.type == ev.ReferenceDataRecorded.type:
                self.conn.execute(
                    insert(t.ws_reference).values(
                        content_hash=json.loads(s.payload)["content_hash"],
                        year=s.year or "",
                        position=s.position,
                    )
                )
        for pid, state in self.pools.items():
            before = self.original.get(pid)
            if state is None or state is before:
                continue
            if before is None:
                self.conn.execute(
                    insert(t.ws_pools).values(
                        pool_id=pid, version=state.version, state=state.model_dump_json()
                    )
                )
                self.written[pid] = state.version
            elif same_but_version(state, before):
                pass  # only the version moved: the events hold it (see Ledger._load)
            else:
                self.conn.execute(
                    update(t.ws_pools)
                    .where(t.ws_pools.c.pool_id == pid)
                    .values(version=state.version, state=state.model_dump_json())
                )
                self.written[pid] = state.version
            self.cache_updates[pid] = state


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

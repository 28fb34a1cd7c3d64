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
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import Connection, Engine, insert, select
from sqlalchemy.exc import IntegrityError

from ledger.batch import Batch
from ledger.clock import Clock, format_instant
from ledger.domain import commands as c
from ledger.domain.decide import ReferenceSource
from ledger.domain.deciders.checks import CheckedAroundStandIns
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
from ledger.hooks import AppendHook, Hook, ReadModelHook
from ledger.idempotency import Idempotency, Outcome, idempotency_conflict
from ledger.store import eventstore as es
from ledger.store import tables as t
from ledger.store.engine import is_sqlite
from ledger.store.reads import Head, StoredEvent, get_by_positions, hash_at, read_head

__all__ = ["Idempotency", "Ledger", "Outcome"]

HeadKey = tuple[int, str, int]  # (position, chain hash, generation)


def head_key(head: Head) -> HeadKey:
    return head.position, head.hash, head.generation


_SERIOUSNESS = (Forbidden, NotFound, Conflict, RuleViolation, ValidationFailed)


def _more_serious(a: type[LedgerError], b: type[LedgerError]) -> type[LedgerError]:
    def rank(cls: type[LedgerError]) -> int:
        return next(
            (i for i, k in enumerate(_SERIOUSNESS) if issubclass(cls, k)), len(_SERIOUSNESS)
        )

    return a if rank(a) <= rank(b) else b


def _top(field: str) -> str:
    """The body key a field error names: ``from`` of ``from.partner_id``."""
    return field.split(".", 1)[0].split("[", 1)[0]


# the events after which the ledger signs a checkpoint, and the reason it records
CHECKPOINT_REASONS = {
    "return_generated": "return filed",
    "return_refiled": "return refiled",
    "period_closed": "quarter closed",
}


@dataclass
class _Attempt:
    """How far a write transaction got: its events, and whether its body had finished
    (so a failure came at or after COMMIT)."""

    stored: list[StoredEvent] = field(default_factory=list)
    committing: bool = False


class Ledger:
    """The write side. Built by an entrypoint with its engine, clock and reference data."""

    def __init__(
        self,
        engine: Engine,
        clock: Clock,
        reference: ReferenceSource,
        hooks: Sequence[Hook] = (),
        *,
        group_commit: bool = True,
        signing_key: Ed25519PrivateKey | None = None,
        retired_keys: Mapping[str, Ed25519PublicKey] | None = None,
    ) -> None:
        self.engine = engine
        # signs a checkpoint after each filed return and quarter close (None: no signing)
        self.signing_key = signing_key
        # the public halves of keys rotated out, by key id: their checkpoints still verify
        self.retired_keys = dict(retired_keys or {})
        self.clock = clock
        self.reference = reference
        self.hooks = list(hooks)
        # each hook's ``apply`` (a plain function is one) runs in the append transaction;
        # a ``ReadModelHook`` (the projector) is also told of each commit, so it may
        # remember what it wrote only once it is kept, and when what it remembers may be
        # of another history
        read_models = [h for h in self.hooks if isinstance(h, ReadModelHook)]
        self.appenders: list[AppendHook] = [
            h.apply if isinstance(h, ReadModelHook) else h for h in self.hooks
        ]
        self._on_commit: list[Callable[[int, int], None]] = [h.committed for h in read_models]
        self._on_forget: list[Callable[[], None]] = [h.forget for h in read_models]
        self.partner_cache: dict[str, PartnerInfo] = {}
        self._pools: dict[str, PoolState] = {}
        self._written: dict[str, int] = {}  # the state row's version each cached state is
        # The head (position, chain hash, generation) at which every cached pool state is
        # known current: while the head is still that when this process next takes the
        # lock, nobody else has written and the cache is used without asking the
        # database (see _committed). The hash tells a head restored from an earlier copy
        # and written back to the same position apart; the generation, a rebuild.
        self._cache_key: HeadKey | None = None
        self._cache_lock = threading.Lock()
        # whether another process wrote before this one's last append: then the pools'
        # versions are read with the lock (one round trip on PostgreSQL), not after it
        self._contended = False
        self.group_commit = group_commit
        self._committer = GroupCommitter()

    # -- public ------------------------------------------------------------------------

    def key_ring(self) -> dict[str, Ed25519PublicKey]:
        """Every key this ledger's checkpoints may be signed by, by key id: the current
        key and the retired ones (empty without a signing key)."""
        from ledger.domain.checkpoint import key_id

        if self.signing_key is None:
            return dict(self.retired_keys)
        current = self.signing_key.public_key()
        return {**self.retired_keys, key_id(current): current}

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
        if self.signing_key is not None and not req.outcome.replayed:
            self._checkpoint_after(req.outcome.events)
        return req.outcome

    def _checkpoint_after(self, stored: Sequence[StoredEvent]) -> None:
        """Sign a checkpoint at a filed return or a quarter close (after its commit)."""
        from ledger.store.checkpoints import take_checkpoint

        marks = [e for e in stored if e.type in CHECKPOINT_REASONS]
        if marks and self.signing_key is not None:
            last = marks[-1]
            take_checkpoint(
                self.engine,
                self.signing_key,
                format_instant(self.clock.now()),
                f"{CHECKPOINT_REASONS[last.type]} {last.pool_id} {last.period}",
                last.position,
            )

    def _run_group(self, reqs: list[CommitRequest]) -> None:
        """Decide and append a group of requests in one transaction; a refused request
        is answered with its error and writes nothing.

        If the transaction fails, only what provably did not commit is retried: a
        failure before COMMIT wrote nothing, so each request of a group is retried
        alone (one bad request cannot sink the others); a failure at or after COMMIT
        may have come after the events were kept, so the group's event ids are looked
        up first: found, the requests are answered from them; not found, they are
        retried alone; unknown (the database cannot be asked), each request that wrote
        is answered with the failure and none is retried (docs/DECISIONS.md)."""
        attempt = _Attempt()
        try:
            with self._transaction(r.command for r in reqs) as (conn, head):
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
                attempt.stored = batch.commit(reqs[0].request_id, reqs[0].request_meta)
                for r in reqs:
                    if r.span is not None:
                        mine = attempt.stored[r.span[0] : r.span[1]]
                        r.outcome = Outcome(tuple(mine))
                        if r.idempotency is not None:
                            self._remember(conn, r.idempotency, mine)
                attempt.committing = True  # what fails from here fails at or after COMMIT
            self._committed(head, attempt.stored, batch)  # only once committed
        except Exception as e:
            landed = self._landed(attempt.stored) if attempt.committing else False
            if landed is not True:
                self._not_kept(reqs, e, retry=landed is False)
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
                    r.outcome = Outcome(
                        first.outcome.events, replayed=True, status=first.idempotency.status
                    )

    def _not_kept(self, reqs: list[CommitRequest], e: Exception, *, retry: bool) -> None:
        """Answer a group whose transaction failed and whose events are not kept
        (``retry``: provably; else perhaps)."""
        if not retry:  # unknown: answer each request that wrote with the failure
            for r in reqs:
                if r.span is not None or r.same_as is not None:
                    r.outcome, r.error = None, e
            return
        for r in reqs:
            r.outcome, r.span, r.same_as = None, None, None
        if len(reqs) == 1:
            reqs[0].error = e
            return
        for r in reqs:
            r.error = None
            self._run_group([r])

    def _landed(self, stored: Sequence[StoredEvent]) -> bool | None:
        """Whether a transaction whose COMMIT failed kept its events, asked by their ids
        on a new connection (None: the database cannot say). Every cache is dropped:
        what was remembered of the append may or may not be so."""
        self.forget_caches()
        if not stored:
            return False  # it wrote no event, so nothing of it can be written twice
        try:
            with self.engine.connect() as conn:
                found = es.count_event_ids(conn, [e.event_id for e in stored])
        except Exception:
            return None
        return True if found == len(stored) else False if found == 0 else None

    def _transaction(
        self, commands: Iterable[c.Command]
    ) -> AbstractContextManager[tuple[Connection, Head]]:
        """``es.write_transaction``, with the caches checked against the head first
        (not a generator context of its own: one fewer on every append)."""
        check_at = self._cache_key[0] if self._contended and self._cache_key else None
        pools = self._prefetch(commands)
        return es.write_transaction(
            self.engine, pools, check_at if pools else None, on_locked=self._check_history
        )

    def _check_history(self, conn: Connection, head: Head) -> None:
        """With the lock held: keep the caches only if the head extends the history they
        were made in (the hash at their position is still theirs, and no rebuild moved
        the generation on); a database restored from an earlier copy and written on
        past it is not that history, even at the same position."""
        key = self._cache_key
        if key is None or head_key(head) == key:
            return
        if head.generation == key[2] and head.position >= key[0]:
            if head.hash_then is not None and head.hash_then[0] == key[0]:
                then = head.hash_then[1]
            else:
                then = hash_at(conn, key[0])
            if then == key[1]:
                return
        self.forget_caches()

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
        together with ``refused``: lines the caller could not make a command of. A
        failure at or after COMMIT is answered from the events if they were kept."""
        attempt = _Attempt()
        try:
            with self._transaction(commands) as (conn, head):
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
                attempt.stored = batch.commit(request_id, request_meta)
                if idempotency is not None:
                    self._remember(conn, idempotency, attempt.stored)
                attempt.committing = True
            self._committed(head, attempt.stored, batch)
        except Exception:
            if not attempt.committing or self._landed(attempt.stored) is not True:
                raise
        return Outcome(tuple(attempt.stored))

    def rule_errors(
        self, command: c.Command, actor: c.Actor, refused: frozenset[str]
    ) -> tuple[FieldError, ...]:
        """The rule errors of ``command``, some of whose body fields (``refused``) the
        edge refused for their shape and gave stand-ins: decided with the checks that
        read them skipped, in a transaction that is rolled back (no lock; nothing is
        written). Only the errors its decider gathers with ``Problems`` count (each
        check names the fields it reads, so none read a stand-in); empty when the
        decider raises otherwise (a check that may have read a stand-in, or a refusal of
        another kind: 403, 404, 409): the shape errors then answer alone."""
        with self.engine.connect() as conn:
            try:
                Batch(self, conn, read_head(conn), actor).add(command, refused=refused)
            except CheckedAroundStandIns as e:
                return tuple(f for f in e.errors if _top(f.field) not in refused)
            except LedgerError:
                return ()
            finally:
                conn.rollback()
        return ()

    def forget_caches(self) -> None:
        """Drop what this process remembers of the ledger (and its hooks' memories)."""
        with self._cache_lock:
            self._pools.clear()
            self._written.clear()
            self._cache_key = None
            self._contended = False
        self.partner_cache.clear()
        for forget in self._on_forget:
            forget()

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
        events = tuple(get_by_positions(conn, positions))
        return Outcome(events, replayed=True, status=row.status)

    def _remember(self, conn: Connection, idem: Idempotency, stored: Sequence[StoredEvent]) -> None:
        try:
            conn.execute(
                insert(t.idempotency_keys).values(
                    scope=idem.scope,
                    request_hash=idem.request_hash,
                    request=idem.request_json,
                    positions=json.dumps([e.position for e in stored]),
                    status=idem.status,
                    created_at=format_instant(self.clock.now()),
                )
            )
        except IntegrityError as e:
            es.raise_refusal(e)

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
        self, conn: Connection, pool_id: str, locked: Head | None
    ) -> tuple[PoolState, int] | None:
        """(state, the version its state row was written at). ``locked``: the head the
        caller holds the lock at; if this process wrote it, the cache is current."""
        if locked is not None:
            with self._cache_lock:
                if head_key(locked) == self._cache_key and pool_id in self._pools:
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

    def _committed(self, head: Head, stored: Sequence[StoredEvent], batch: Batch) -> None:
        """Bring the pool cache forward after a commit that moved the head from ``head``
        (key k0) to k1.

        If the cache was current at k0, it is current at k1 with this batch's states. If
        not (another process wrote, or the cache is new), the pools this batch read were
        read under the lock at k0 and are current at k1 with the batch's updates: they
        become the whole cache. A batch that committed before a later one had already
        moved the cache on changes nothing."""
        k0 = head_key(head)
        k1 = (stored[-1].position, stored[-1].hash, head.generation) if stored else k0
        with self._cache_lock:
            self._contended = k0 != self._cache_key
            if k0 == self._cache_key:
                for pid, st in batch.original.items():
                    if st is not None and pid not in self._pools:
                        self._pools[pid], self._written[pid] = st, batch.written[pid]
                self._pools.update(batch.cache_updates)
                self._written.update(batch.written)
                self._cache_key = k1
            elif self._cache_key is None or k1[0] > self._cache_key[0]:
                fresh = {pid: st for pid, st in batch.original.items() if st is not None}
                fresh.update(batch.cache_updates)
                self._pools = fresh
                self._written = {pid: batch.written[pid] for pid in fresh}
                self._cache_key = k1
        if k1[0] > k0[0]:
            for committed in self._on_commit:
                committed(k0[0], k1[0])

    def recorded_reference_ids(self, conn: Connection) -> frozenset[str]:
        """The content hashes of the reference data already recorded, read in the
        transaction (not cached: a plan is agreed a few times a year)."""
        return frozenset(conn.execute(select(t.ws_reference.c.content_hash)).scalars())

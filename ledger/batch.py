"""The batch: commands decided one after another against evolving write-side state,
then appended together under the head lock with their state rows, filed documents and
the append hooks (the projector), all in the caller's transaction."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Protocol

from sqlalchemy import Connection, insert, select, update

from ledger import limits
from ledger.clock import Clock, format_instant, london_today
from ledger.domain import commands as c
from ledger.domain import events as ev
from ledger.domain.decide import Context, ReferenceSource, decide
from ledger.domain.errors import ConcurrencyError
from ledger.domain.state import PartnerInfo, PoolState, TargetEvent, evolve, same_but_version
from ledger.hooks import AppendHook
from ledger.store import eventstore as es
from ledger.store import tables as t
from ledger.store.reads import Head, StoredEvent, get_event, is_reversed
from ledger.store.sql import driver_sql
from ledger.store.tables import stored_format


class Owner(Protocol):
    """What a batch uses of the ``Ledger`` that runs it (``ledger.handlers``)."""

    clock: Clock
    reference: ReferenceSource
    appenders: list[AppendHook]
    partner_cache: dict[str, PartnerInfo]

    def load_pool_state(
        self, conn: Connection, pool_id: str, locked: Head | None
    ) -> tuple[PoolState, int] | None: ...

    def recorded_reference_ids(self, conn: Connection) -> frozenset[str]: ...


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


class Batch:
    """Commands decided one after another against evolving state, appended together."""

    def __init__(self, ledger: Owner, conn: Connection, head: Head, actor: c.Actor) -> None:
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
        # each pool's state row version (see Ledger.load_pool_state)
        self.written: dict[str, int] = {}
        self.partners = _Partners(conn, ledger.partner_cache, self.new_partners)

    def _pool(self, pool_id: str) -> PoolState | None:
        if pool_id not in self.pools:
            loaded = self.ledger.load_pool_state(self.conn, pool_id, self.head)
            state = None
            if loaded is not None:
                state, self.written[pool_id] = loaded
            self.pools[pool_id] = state
            self.original[pool_id] = state
        return self.pools[pool_id]

    def _target(self, event_id: str) -> TargetEvent | None:
        stored = get_event(self.conn, event_id)
        if stored is None:
            return None
        return TargetEvent(
            event_id=stored.event_id,
            type=stored.type,
            position=stored.position,
            pool_id=stored.pool_id,
            poster_partner_id=stored.actor_partner_id,
            effective_date=stored.effective_date,
            reversed=event_id in self.reversed_here or is_reversed(self.conn, event_id),
        )

    def add(
        self,
        command: c.Command,
        *,
        documents: Mapping[str, bytes] | None = None,
        actor: c.Actor | None = None,
        envelope: es.Envelope | None = None,
        refused: frozenset[str] = frozenset(),
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
            self.recorded_reference = self.ledger.recorded_reference_ids(self.conn)
        refundable = None
        if isinstance(command, c.RefundContribution | c.CreditExpenditure):
            refundable = limits.refundable(self.conn, command, self.pending, self.reversed_here)
        ctx = Context(
            actor=actor or self.actor,
            today=self.today,
            reference=self.ledger.reference,
            partners=self.partners,
            pool=pool,
            target=target,
            recorded_reference=self.recorded_reference or frozenset(),
            refundable=refundable,
            refused=refused,
        )
        new = decide(command, ctx)
        for event in new:
            self._stage(event, pool_id, envelope)
        if documents is not None and isinstance(command, c.GenerateReturn):
            for fmt, data in documents.items():
                self.documents.append((command.pool_id, command.quarter, fmt, data))
        if documents is not None and isinstance(command, c.RefileReturn):
            version = command.supersedes_version + 1
            for fmt, data in documents.items():
                stored_as = stored_format(fmt, version)
                self.documents.append((command.pool_id, command.quarter, stored_as, data))

    def _stage(self, event: ev.Event, pool_id: str | None, envelope: es.Envelope | None) -> None:
        """Give the event its id, then evolve the state with it: the one evolve path, so
        the state saved is the state a replay of the stream gives (``ledger.snapshots``)."""
        reverses = None
        event_id = es.new_event_id()
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
            after = evolve(before, event, event_id=event_id)
            self.pools[pid] = after
            self.original.setdefault(pid, None)
            stream, version = f"pool:{pid}", after.version if after else 1
        self.pending.append(es.PendingEvent(event, stream, version, reverses, envelope, event_id))

    def commit(
        self, request_id: str | None, request_meta: dict[str, Any] | None
    ) -> list[StoredEvent]:
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

    def _write(self, stored: es.ChainedRows) -> None:
        es.insert_rows(self.conn, stored)
        self._save_state(stored)
        for pool_id, period, fmt, data in self.documents:
            filing = ev.ReturnRefiled.type if "@v" in fmt else ev.ReturnGenerated.type
            ret = next(s for s in stored if s.type == filing and s.pool_id == pool_id)
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
        for hook in self.ledger.appenders:
            hook(self.conn, stored)

    def _save_state(self, stored: Sequence[StoredEvent]) -> None:
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
                pass  # only the version moved: the events hold it (see Ledger.load_pool_state)
            else:
                self.conn.execute(
                    update(t.ws_pools)
                    .where(t.ws_pools.c.pool_id == pid)
                    .values(version=state.version, state=state.model_dump_json())
                )
                self.written[pid] = state.version
            self.cache_updates[pid] = state

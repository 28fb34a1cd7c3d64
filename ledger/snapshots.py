"""The write-side state checked against the events, and rebuilt from them.

Every command is decided against stored state (``ws_pools``, ``ws_partners``,
``ws_reference``), never a replay, so that state must be exactly what a replay of the
events gives. ``check`` replays every stream with the one ``evolve`` the append path
uses and compares each result with what is stored, naming the first difference;
``rebuild_state`` rewrites the stored state from the events (``pooled ledger check``
and ``pooled ledger rebuild-state``; migration 0003 runs the rebuild once).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, delete, insert, select

from ledger.domain import events as ev
from ledger.domain.state import PartnerInfo, PoolState, at_version, evolve
from ledger.store import eventstore as es
from ledger.store import tables as t
from ledger.store.engine import is_sqlite
from ledger.store.reads import StoredEvent, read_range

_STATE_TYPES = (ev.PartnerRegistered.type, ev.ReferenceDataRecorded.type)


@dataclass
class Replayed:
    """The write-side state a replay of the events gives."""

    pools: dict[str, PoolState] = field(default_factory=dict)
    partners: dict[str, PartnerInfo] = field(default_factory=dict)
    reference: dict[str, tuple[str, int]] = field(default_factory=dict)  # hash -> (year, pos)
    events: int = 0


def replay(events: Iterable[StoredEvent]) -> Replayed:
    """Evolve every stream from its events (in position order), as the append path does."""
    out = Replayed()
    for e in events:
        out.events += 1
        if e.stream_id.startswith("pool:"):
            pid = e.stream_id[5:]
            after = evolve(out.pools.get(pid), e.event, event_id=e.event_id)
            if after is not None:
                out.pools[pid] = after
        elif e.type == ev.PartnerRegistered.type:
            p = e.event
            assert isinstance(p, ev.PartnerRegistered)
            out.partners[p.partner_id] = PartnerInfo(
                partner_id=p.partner_id, name=p.name, kind=p.kind
            )
        elif e.type == ev.ReferenceDataRecorded.type:
            content_hash = json.loads(e.payload)["content_hash"]
            out.reference[content_hash] = (e.year or "", e.position)
    return out


def _events(conn: Connection, batch: int = 5000) -> Iterator[StoredEvent]:
    last = 0
    while rows := read_range(conn, last, batch):
        yield from rows
        last = rows[-1].position


def first_difference(stored: Any, replayed: Any, path: str = "") -> str | None:
    """The first place two dumped states differ, as ``path: stored X, replay Y``."""
    if isinstance(stored, dict) and isinstance(replayed, dict):
        for key in sorted(set(stored) | set(replayed)):
            found = first_difference(stored.get(key), replayed.get(key), f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(stored, list | tuple) and isinstance(replayed, list | tuple):
        for i, (a, b) in enumerate(zip(stored, replayed, strict=False)):
            found = first_difference(a, b, f"{path}[{i}]")
            if found:
                return found
        if len(stored) != len(replayed):
            return f"{path}: stored {len(stored)} entries, replay {len(replayed)}"
        return None
    if stored != replayed:
        return f"{path}: stored {json.dumps(stored)}, replay {json.dumps(replayed)}"
    return None


@dataclass(frozen=True)
class CheckResult:
    streams_checked: int
    events_replayed: int
    problems: tuple[str, ...]  # one line per stream that differs, naming its first difference

    @property
    def ok(self) -> bool:
        return not self.problems


def check_on(conn: Connection) -> CheckResult:
    """Compare every stored snapshot with a replay of its stream (one read snapshot)."""
    got = replay(_events(conn))
    problems: list[str] = []
    rows = {r.pool_id: r for r in conn.execute(select(t.ws_pools))}
    for pid in sorted(set(rows) | set(got.pools)):
        row, want = rows.get(pid), got.pools.get(pid)
        if row is None:
            problems.append(f"pool '{pid}': no stored state (its stream has events)")
            continue
        if want is None:
            problems.append(f"pool '{pid}': stored state but no events in its stream")
            continue
        # a posting moves only the stream version, not the row (see Ledger.load_pool_state)
        stored = at_version(PoolState.model_validate_json(row.state), want.version)
        if row.version > want.version:
            problems.append(
                f"pool '{pid}': state row written at version {row.version}, "
                f"but the stream has {want.version} events"
            )
            continue
        diff = first_difference(stored.model_dump(mode="json"), want.model_dump(mode="json"))
        if diff:
            problems.append(f"pool '{pid}' {diff}")
    partners = {
        r.partner_id: PartnerInfo(partner_id=r.partner_id, name=r.name, kind=r.kind)
        for r in conn.execute(select(t.ws_partners))
    }
    for pid in sorted(set(partners) | set(got.partners)):
        if partners.get(pid) != got.partners.get(pid):
            problems.append(
                f"partner '{pid}': stored {_dump(partners.get(pid))}, "
                f"replay {_dump(got.partners.get(pid))}"
            )
    reference = {
        r.content_hash: (r.year, int(r.position)) for r in conn.execute(select(t.ws_reference))
    }
    for h in sorted(set(reference) | set(got.reference)):
        if reference.get(h) != got.reference.get(h):
            problems.append(
                f"reference data '{h[:12]}': stored {reference.get(h)}, "
                f"replay {got.reference.get(h)}"
            )
    streams = len(got.pools) + len(got.partners) + len(got.reference)
    return CheckResult(streams, got.events, tuple(problems))


def _dump(p: PartnerInfo | None) -> str:
    return "nothing" if p is None else p.model_dump_json()


def check(engine: Engine) -> CheckResult:
    """``check_on`` in a transaction of its own (on PostgreSQL a repeatable read, so the
    events and the snapshots are read as at one moment)."""
    with engine.connect() as conn:
        if not is_sqlite(engine):
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            return check_on(conn)


@dataclass(frozen=True)
class RebuildStateResult:
    pools: int
    partners: int
    reference: int
    events_replayed: int


def rebuild_state_on(conn: Connection) -> RebuildStateResult:
    """Rewrite every write-side snapshot from the events, on a connection holding the
    append lock (or in a migration, alone on the database)."""
    got = replay(_events(conn))
    for table in (t.ws_pools, t.ws_partners, t.ws_reference):
        conn.execute(delete(table))
    if got.pools:
        conn.execute(
            insert(t.ws_pools),
            [
                {"pool_id": pid, "version": s.version, "state": s.model_dump_json()}
                for pid, s in sorted(got.pools.items())
            ],
        )
    if got.partners:
        conn.execute(
            insert(t.ws_partners),
            [p.model_dump() for _, p in sorted(got.partners.items())],
        )
    if got.reference:
        conn.execute(
            insert(t.ws_reference),
            [
                {"content_hash": h, "year": year, "position": pos}
                for h, (year, pos) in sorted(got.reference.items())
            ],
        )
    return RebuildStateResult(len(got.pools), len(got.partners), len(got.reference), got.events)


def rebuild_state(engine: Engine) -> RebuildStateResult:
    """``rebuild_state_on`` under the append lock: no append interleaves."""
    with es.write_transaction(engine) as (conn, _):
        result = rebuild_state_on(conn)
        es.new_generation(conn)
    return result

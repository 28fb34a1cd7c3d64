"""The projector: applies stored events in position order to the read models and
moves the checkpoint in the same transaction.

Live, ``Projector.apply`` runs as an append hook inside the ledger's write
transaction, so a read after an acknowledged write always sees it. A rebuild
(``projections.rebuild``) runs the very same code over the whole log in batches, so
the two cannot drift apart. The hot path works on tuples (``NamedTuple`` rows, read by
unpacking or by name): each payload is
parsed once with ``loads`` (orjson; no pydantic), rows are written with ``executemany``
(``COPY`` on PostgreSQL during a rebuild). Any failure raises, naming the position:
nothing is skipped silently.

Rows are made in ``projections.rows`` and written by ``projections.writes``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from operator import attrgetter
from typing import Any, NamedTuple

from sqlalchemy import Connection

from ledger.domain import events as ev
from ledger.store.reads import StoredEvent
from ledger.store.serialization import canonical_json, chain_hash, upcast
from ledger.store.sql import run_sql
from projections.rows import (
    CURRENT_VERSION,
    EVENT_COLUMNS,
    FACT_KEYS,
    LINE_TYPES,
    Buffer,
    EventRow,
    Group,
    GroupTotal,
    Line,
    Negation,
    RunningTotals,
    group_key,
    line_of,
    load_payload,
    negated,
)
from projections.writes import (
    FactRow,
    GroupRow,
    LineRow,
    MemberRow,
    PartnerRow,
    PoolRow,
    copy_rows,
    insert_many,
    run_many,
)

__all__ = [
    "CHECKPOINT",
    "EVENT_COLUMNS",
    "LINE_TYPES",
    "Buffer",
    "ProjectionError",
    "Projector",
    "RunningTotals",
]

CHECKPOINT = "main"

_SELECT_EVENTS = "SELECT position, type, schema_version, payload FROM events WHERE position IN "
# a line whose group's last total the projector does not know: the database adds it
_LINE_ON_LAST_TOTAL = (
    "INSERT INTO rm_lines (group_id, position, amount, total, prior_period_adjustment, "
    "reversal) VALUES (?, ?, ?, ? + COALESCE((SELECT l.total FROM rm_lines l "
    "WHERE l.group_id = ? ORDER BY l.position DESC LIMIT 1), 0), ?, ?)"
)
_STAMP = "UPDATE rm_facts SET reversed_position = ? WHERE position = ?"
_CHECKPOINT = (
    "INSERT INTO rm_checkpoint (name, position) VALUES (?, ?) "
    "ON CONFLICT (name) DO UPDATE SET position = excluded.position"
)
_REMEMBER_AT_MOST = 200_000  # groups the live projector keeps totals of between appends


class ProjectionError(RuntimeError):
    """A read model could not take an event: the write is refused, loudly."""


class Projector:
    """Keeps the read models. ``apply`` is the ledger's append hook; ``committed`` is
    called by the ledger after each commit (see ``Ledger``'s hooks).

    Between appends it remembers each line group's number and running total, as they
    stood after the last position it projected, keyed on that position and its chain
    hash. An append that starts right after that head (nobody else wrote since: its
    first event chains onto the remembered hash) uses them instead of asking the
    database; ``forget`` drops them (the ledger calls it after a rebuild or a restore);
    any other append asks, and what it read becomes what is remembered. What an append
    projected is remembered only once the ledger says it committed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._groups: dict[Group, GroupTotal] = {}
        self._ids: dict[Group, int] = {}  # group numbers (committed; never change)
        self._last_group: int | None = None
        self._position = -1  # the position the remembered totals stand after
        self._hash: str | None = None  # and the chain hash there
        self._staged = threading.local()  # this thread's uncommitted append

    def apply(self, conn: Connection, events: Sequence[StoredEvent]) -> None:
        if not events:
            return
        h0, h1 = events[0].position - 1, events[-1].position
        with self._lock:
            remembered = self._hash if h0 == self._position else None
            ids = self._ids
        # keyed on (position, chain hash): the first event chains onto the hash this
        # projector remembers only if the head it follows is the one it projected (a
        # database restored and written back to the same position is not)
        warm = (
            remembered is not None and chain_hash(remembered, events[0].as_row()) == events[0].hash
        )
        with self._lock:
            base, last_group = (self._groups, self._last_group) if warm else (None, None)
        totals = RunningTotals(complete=False, base=base, last_group=last_group, ids=ids)
        self._staged.pending = None
        self._project_live(conn, events, totals)
        self._staged.pending = _Staged(h0, h1, totals, events[-1].hash)

    def forget(self) -> None:
        """Forget every remembered total and group number (the ledger calls it when the
        history it wrote in may not be the database's, or the read models were rebuilt)."""
        with self._lock:
            self._groups, self._ids, self._last_group = {}, {}, None
            self._position, self._hash = -1, None

    def committed(self, h0: int, h1: int) -> None:
        """The append that moved the head from ``h0`` to ``h1`` committed."""
        staged: _Staged | None = getattr(self._staged, "pending", None)
        self._staged.pending = None
        if staged is None or (staged.h0, staged.h1) != (h0, h1):
            return
        totals = staged.totals
        summed = {g: v for g, v in totals.known.items() if v.total is not None}
        with self._lock:
            if len(self._ids) < _REMEMBER_AT_MOST:  # read only by .get: updated in place
                self._ids.update((g, v.group_id) for g, v in totals.known.items())
            if h0 == self._position and len(self._groups) < _REMEMBER_AT_MOST:
                for g in totals.known.keys() - summed.keys():
                    self._groups.pop(g, None)  # the database summed it: total not known
                self._groups.update(summed)
            elif h1 > self._position:
                self._groups = summed  # read under the lock at h0: current
            else:
                return  # a later append has already moved on
            self._position, self._hash = h1, staged.head_hash
            self._last_group = totals.last_group

    def _project_live(
        self, conn: Connection, events: Sequence[StoredEvent], totals: RunningTotals
    ) -> None:
        buf = Buffer(conn.dialect.name == "sqlite")
        self.project(
            [
                EventRow(
                    e.position,
                    e.event_id,
                    e.type,
                    e.payload,
                    e.pool_id,
                    e.year,
                    e.period,
                    e.effective_date,
                    e.recorded_at,
                    e.actor,
                    e.schema_version,
                )
                for e in events
            ],
            buf,
        )
        self.flush(conn, buf, totals)

    def project(self, rows: Iterable[Sequence[Any]], buf: Buffer) -> None:
        """Turn events (``EventRow``s, or the driver's plain tuples of ``EVENT_COLUMNS``,
        in position order) into buffered rows."""
        loads = load_payload
        versions = CURRENT_VERSION
        line_types = LINE_TYPES
        lines_append = buf.lines.append
        line_at = buf.line_at
        other = self._other
        position, typ = 0, ""
        n = 0
        try:
            for row in rows:
                n += 1
                # EVENT_COLUMNS' order (unpacked: plain tuples from a rebuild are not named)
                position, _, typ, payload, _, _, _, _, _, _, version = row
                if typ in line_types:  # most events: one money line each
                    p = loads(payload)
                    if version != versions[typ]:
                        p = upcast(typ, version, p)
                    line = line_of(position, typ, p)
                    lines_append(line)
                    line_at[position] = line
                else:
                    other(row, buf)
        except Exception as exc:
            where = f"position {position} ({typ})" if n else "the first event"
            raise ProjectionError(f"projection failed at {where}: {exc}") from exc
        if n:
            buf.last_position = position
        buf.events += n

    def _other(self, row: Sequence[Any], buf: Buffer) -> None:
        (position, event_id, typ, payload, pool_id, year, period, effective_date, recorded_at,
         actor, version) = row  # EVENT_COLUMNS' order  # fmt: skip
        keys = FACT_KEYS.get(typ)
        if keys is not None:
            data = load_payload(payload)
            text = payload
            if version != CURRENT_VERSION[typ]:  # read models hold the current shape
                data = upcast(typ, version, data)
                text = canonical_json(data)
            key = "/".join(str(data.get(k) or "") for k in keys) or None
            fact = FactRow(
                position=position,
                event_id=event_id,
                type=typ,
                pool_id=pool_id,
                year=year,
                period=period,
                key=key,
                effective_date=buf.date_param(effective_date),
                data=text,
                recorded_at=recorded_at,
                actor=actor,
                reversed_position=None,
            )
            buf.fact_at[position] = len(buf.facts)
            buf.facts.append(fact)
            if typ == ev.EventReversed.type:
                self._reverse(position, data, buf)
        elif typ == ev.PartnerRegistered.type:
            p = load_payload(payload)
            buf.partners.append(
                PartnerRow(
                    partner_id=p["partner_id"],
                    name=p["name"],
                    kind=p["kind"],
                    ods_code=p.get("ods_code"),
                    ons_code=p.get("ons_code"),
                    position=position,
                )
            )
        elif typ == ev.PoolEstablished.type:
            p = load_payload(payload)
            hwb = p.get("hwb_area") or {}
            buf.pools.append(
                PoolRow(
                    pool_id=p["pool_id"],
                    name=p["name"],
                    kind=p["kind"],
                    host_partner_id=p["host_partner_id"],
                    hwb_name=hwb.get("name"),
                    hwb_ons_code=hwb.get("ons_code"),
                    position=position,
                )
            )
            for m in p["members"]:
                buf.members.append(MemberRow(p["pool_id"], m, position))
        elif typ == ev.PartnerJoined.type:
            p = load_payload(payload)
            buf.members.append(MemberRow(p["pool_id"], p["partner_id"], position))

    def _reverse(self, position: int, p: dict[str, Any], buf: Buffer) -> None:
        target_type = p["reversed_type"]
        target = int(p["reversed_position"])
        if target_type in LINE_TYPES:
            ppa = p.get("prior_period_adjustment", False) is True
            original = buf.line_at.get(target)
            if original is None:  # projected before this buffer: fetched when flushed
                buf.negations.append(Negation(position, ppa, target))
            else:
                buf.lines.append(negated(original, position, ppa))
        elif target_type in FACT_KEYS:
            i = buf.fact_at.get(target)
            if i is None:
                buf.stamps.append((position, target))
            else:
                buf.facts[i] = buf.facts[i]._replace(reversed_position=position)

    # -- writing -----------------------------------------------------------------------

    def flush(
        self, conn: Connection, buf: Buffer, totals: RunningTotals, *, copy: bool = False
    ) -> None:
        """Write the buffer: negations of earlier lines, running totals, rows, reversal
        stamps and the checkpoint. ``copy`` uses PostgreSQL's COPY (rebuilds)."""
        lines = buf.lines
        if buf.negations:
            lines = lines + self._negated(conn, buf)
            lines.sort(key=_by_position)
        groups, rows_of_lines, summed_by_db = self._totals(conn, lines, totals)
        write = copy_rows if copy and not buf.sqlite else insert_many
        for table, rows in (
            ("rm_partners", buf.partners),
            ("rm_pools", buf.pools),
            ("rm_pool_members", buf.members),
            ("rm_groups", groups),
            ("rm_lines", rows_of_lines),
            ("rm_facts", buf.facts),
        ):
            if rows:
                write(conn, table, rows)
        if summed_by_db:
            run_many(conn, _LINE_ON_LAST_TOTAL, summed_by_db)
        if buf.stamps:
            run_many(conn, _STAMP, buf.stamps)
        if buf.last_position:
            run_sql(conn, _CHECKPOINT, (CHECKPOINT, buf.last_position))

    def _negated(self, conn: Connection, buf: Buffer) -> list[Line]:
        """The lines of reversals whose targets were projected before this buffer,
        worked out again from the targets' events (the log is the truth)."""
        targets = sorted({n.target for n in buf.negations})
        found: dict[int, Line] = {}
        for i in range(0, len(targets), 500):
            chunk = targets[i : i + 500]
            sql = _SELECT_EVENTS + f"({', '.join('?' for _ in chunk)})"
            for position, typ, version, payload in run_sql(conn, sql, tuple(chunk)).fetchall():
                p = load_payload(payload)
                if version != CURRENT_VERSION[typ]:
                    p = upcast(typ, version, p)
                found[int(position)] = line_of(int(position), typ, p)
        return [
            negated(found[n.target], n.position, n.prior_period_adjustment) for n in buf.negations
        ]

    def _totals(
        self, conn: Connection, lines: list[Line], totals: RunningTotals
    ) -> tuple[list[GroupRow], list[LineRow], list[tuple[Any, ...]]]:
        """New groups, the ``rm_lines`` rows of ``lines`` (in position order) with their
        groups' running totals, and the lines whose group's last total the database adds
        (the parameters of ``_LINE_ON_LAST_TOTAL``). A position holds one line (one
        event, one amount), so (group, position) is unique; the key refuses anything
        else. The rows are plain tuples in ``LineRow``'s field order (made per line, a
        ``NamedTuple`` would cost more than the rest of this loop)."""
        groups: list[GroupRow] = []
        rows: list[LineRow] = []
        summed_by_db: list[tuple[Any, ...]] = []
        known, lookup = totals.known, totals.lookup
        for line in lines:
            (position, pool_id, year, kind, partner_id, counterparty_id, scheme_id,
             funding_stream, quarter, amount, ppa, reversal) = line  # fmt: skip
            group = (pool_id, year, kind, partner_id, counterparty_id, scheme_id,
                     funding_stream, quarter)  # fmt: skip
            found = known.get(group) or lookup(conn, group)
            if found is None:
                found = known[group] = GroupTotal(totals.new_group(conn), 0)
                groups.append(GroupRow(found.group_id, *group, group_key(group), position))
            group_id, total = found.group_id, found.total
            if total is None:  # the database adds it to the group's last total
                summed_by_db.append((group_id, position, amount, amount, group_id, ppa, reversal))
                continue
            found.total = total = total + amount
            rows.append((group_id, position, amount, total, ppa, reversal))
        # in key order, (group_id, position), unique: each insert lands next to the last
        rows.sort()
        summed_by_db.sort()
        return groups, rows, summed_by_db


_by_position = attrgetter("position")


class _Staged(NamedTuple):
    """An append projected and not yet known to be committed: the head it moved from
    ``h0`` to ``h1`` (chain hash ``head_hash``) and its groups' totals."""

    h0: int
    h1: int
    totals: RunningTotals
    head_hash: str

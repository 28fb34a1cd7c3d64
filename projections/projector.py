"""The projector: applies stored events in position order to the read models and
moves the checkpoint in the same transaction.

Live, ``Projector.apply`` runs as an append hook inside the ledger's write
transaction, so a read after an acknowledged write always sees it. A rebuild
(``projections.rebuild``) runs the very same code over the whole log in batches, so
the two cannot drift apart. The hot path works on plain tuples: each payload is
parsed once with ``loads`` (orjson; no pydantic), rows are written with ``executemany``
(``COPY`` on PostgreSQL during a rebuild). Any failure raises, naming the position:
nothing is skipped silently.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

import orjson
from sqlalchemy import Connection

from ledger.domain import events as ev
from ledger.domain.periods import FinancialYear, Quarter
from ledger.store.eventstore import StoredEvent
from ledger.store.serialization import canonical_json, upcast
from ledger.store.sql import driver_sql, run_sql

CHECKPOINT = "main"


_LONG_DIGITS = re.compile(r"\d{19}")


def _loads(text: str) -> Any:
    """A stored payload parsed: orjson (several times faster than ``json``), or
    ``json`` when the text holds a run of 19 digits or more (orjson would turn an
    integer beyond 64 bits into a float) or orjson refuses it."""
    if _LONG_DIGITS.search(text) is None:
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass
    return json.loads(text)


# What the projector reads of an event, in this order (a rebuild selects exactly these).
EVENT_COLUMNS = (
    "position",
    "event_id",
    "type",
    "payload",
    "pool_id",
    "year",
    "period",
    "effective_date",
    "recorded_at",
    "actor",
    "schema_version",
)
EventRow = Sequence[Any]
# the schema version each type is read at; older payloads go through their upcasters
CURRENT_VERSION = {name: cls.schema_version for name, cls in ev.EVENT_TYPES.items()}

LINE_KINDS = {
    ev.ContributionPosted.type: "contribution",
    ev.ContributionRefunded.type: "refund",
    ev.ExpenditureRecorded.type: "expenditure",
    ev.ExpenditureCredited.type: "credit",
}
LINE_TYPES = frozenset({*LINE_KINDS, ev.TransferPosted.type, ev.OpeningBalanceRecorded.type})
FACT_KEYS: dict[str, tuple[str, ...]] = {
    ev.PlanAgreed.type: (),
    ev.ReferenceDataRecorded.type: (),
    ev.ForecastRecorded.type: ("scheme_id",),
    ev.RiskRewardResultRecorded.type: ("scheme_id",),
    ev.PopulationRecorded.type: ("unit_id", "cohort"),
    ev.OutcomeAssessed.type: ("service_id", "outcome_id"),
    ev.MetricRecorded.type: ("metric_id",),
    ev.EventReversed.type: ("reversed_event_id",),
    ev.PeriodClosed.type: (),
    ev.RiskShareSettled.type: (),
    ev.ReturnGenerated.type: ("kind",),
    ev.ReturnApproved.type: (),
    ev.ReturnSubmitted.type: (),
}

# A money line as the projector holds it: (position, *group, amount, ppa, reversal),
# where the group it sums into is (pool, year, kind, partner, counterparty, scheme,
# stream, quarter); written as an ``rm_lines`` row with the group's number and total.
Line = tuple[Any, ...]
_GROUP = slice(1, 9)
_AMOUNT, _PPA, _REVERSAL = 9, 10, 11
LINE_COLUMNS = (
    "group_id",
    "position",
    "amount",
    "total",
    "prior_period_adjustment",
    "reversal",
)
GROUP_COLUMNS = (
    "group_id",
    "pool_id",
    "year",
    "kind",
    "partner_id",
    "counterparty_id",
    "scheme_id",
    "funding_stream",
    "quarter",
    "key",
    "position",
)
FACT_COLUMNS = (
    "position",
    "event_id",
    "type",
    "pool_id",
    "year",
    "period",
    "key",
    "effective_date",
    "data",
    "recorded_at",
    "actor",
    "reversed_position",
)
PARTNER_COLUMNS = ("partner_id", "name", "kind", "ods_code", "ons_code", "position")
POOL_COLUMNS = (
    "pool_id",
    "name",
    "kind",
    "host_partner_id",
    "hwb_name",
    "hwb_ons_code",
    "position",
)
MEMBER_COLUMNS = ("pool_id", "partner_id", "position")


def _insert(table: str, columns: tuple[str, ...]) -> str:
    marks = ", ".join("?" for _ in columns)
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608 - fixed names


_INSERTS = {
    "rm_lines": (_insert("rm_lines", LINE_COLUMNS), LINE_COLUMNS),
    "rm_groups": (_insert("rm_groups", GROUP_COLUMNS), GROUP_COLUMNS),
    "rm_facts": (_insert("rm_facts", FACT_COLUMNS), FACT_COLUMNS),
    "rm_partners": (_insert("rm_partners", PARTNER_COLUMNS), PARTNER_COLUMNS),
    "rm_pools": (_insert("rm_pools", POOL_COLUMNS), POOL_COLUMNS),
    "rm_pool_members": (_insert("rm_pool_members", MEMBER_COLUMNS), MEMBER_COLUMNS),
}
_SELECT_EVENTS = "SELECT position, type, schema_version, payload FROM events WHERE position IN "
_LAST_TOTAL = (
    "SELECT g.group_id, (SELECT l.total FROM rm_lines l WHERE l.group_id = g.group_id "
    "ORDER BY l.position DESC LIMIT 1) FROM rm_groups g "
    "WHERE g.pool_id = ? AND g.year = ? AND g.key = ?"
)
_LAST_GROUP = "SELECT COALESCE(MAX(group_id), 0) FROM rm_groups"
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


def group_key(group: Sequence[Any]) -> str:
    """The text key of a line group (kind|partner|counterparty|scheme|stream|quarter),
    from a line's group (pool, year, kind, partner, counterparty, scheme, stream,
    quarter)."""
    return "|".join(v or "" for v in group[2:])


_QUARTERS: dict[tuple[str, str], str] = {}


def quarter_in_year(when: str, year: str) -> str:
    """The quarter a line counts in: that of its date, or for a posting whose year is
    not its date's (a late contribution for last year), the nearest quarter of its year."""
    found = _QUARTERS.get((when, year))
    if found is None:
        d = date.fromisoformat(when)
        fy = FinancialYear(int(year[:4]))
        if fy.contains(d):
            found = Quarter.of(d).label
        else:
            found = fy.quarters[3].label if d > fy.end else fy.quarters[0].label
        if len(_QUARTERS) < 100_000:
            _QUARTERS[(when, year)] = found
    return found


class RunningTotals:
    """Each line group's number and last running total. A rebuild starts from nothing
    and so knows every group (``complete``); the live hook starts from what the
    projector remembers of earlier appends (``base``, when nobody else has written
    since). Otherwise, for a group whose number it knows (``ids``: numbers never
    change), the total is left to the database (``None``: the line's insert adds its
    amount to the group's last total, no round trip); else it looks the group up.
    Groups are numbered in the order of their first line."""

    def __init__(
        self,
        *,
        complete: bool,
        base: dict[tuple[Any, ...], list[int]] | None = None,
        last_group: int | None = None,
        ids: dict[tuple[Any, ...], int] | None = None,
    ) -> None:
        self.complete = complete
        # group -> [group_id, total]; the total is None when the database sums it
        self.known: dict[tuple[Any, ...], list[Any]] = {}
        self.base = base or {}  # read only: entries are copied into ``known`` when used
        self.ids = ids or {}  # read only
        self.last_group: int | None = 0 if complete else last_group

    def lookup(self, conn: Connection, group: tuple[Any, ...]) -> list[Any] | None:
        found = self.known.get(group)
        if found is not None or self.complete:
            return found
        remembered = self.base.get(group)
        if remembered is not None:
            found = self.known[group] = list(remembered)
            return found
        number = self.ids.get(group)
        if number is not None:
            found = self.known[group] = [number, None]
            return found
        key = (group[0], group[1], group_key(group))
        row = run_sql(conn, _LAST_TOTAL, key).fetchone()
        if row is None:
            return None
        found = self.known[group] = [int(row[0]), int(row[1] or 0)]
        return found

    def new_group(self, conn: Connection) -> int:
        if self.last_group is None:
            self.last_group = int(run_sql(conn, _LAST_GROUP).fetchone()[0] or 0)
        self.last_group += 1
        return self.last_group


class Buffer:
    """Rows waiting to be written, and what a reversal in the same batch needs."""

    def __init__(self, sqlite: bool) -> None:
        self.sqlite = sqlite
        self.lines: list[Line] = []
        self.facts: list[list[Any]] = []
        self.partners: list[tuple[Any, ...]] = []
        self.pools: list[tuple[Any, ...]] = []
        self.members: list[tuple[Any, ...]] = []
        self.fact_at: dict[int, list[Any]] = {}  # position -> its fact row in this buffer
        self.line_at: dict[int, Line] = {}  # position -> its line, in this buffer
        self.stamps: list[tuple[int, int]] = []  # (reversal position, target fact position)
        self.negations: list[tuple[int, bool, int]] = []  # (reversal position, ppa, target)
        self.events = 0
        self.last_position = 0

    def date_param(self, value: date | str | None) -> date | str | None:
        """Dates as the driver stores them: ISO text on SQLite, ``date`` on PostgreSQL."""
        if value is None:
            return None
        if self.sqlite:
            return value.isoformat() if isinstance(value, date) else value
        return date.fromisoformat(value) if isinstance(value, str) else value


def line_of(position: int, typ: str, p: dict[str, Any]) -> Line:
    """The money line of a posting, transfer or opening balance (its payload ``p``)."""
    year = p["year"]
    quarter = quarter_in_year(p["effective_date"], year)
    ppa = p.get("prior_period_adjustment", False) is True
    kind = LINE_KINDS.get(typ)
    if kind is not None:
        return (
            position,
            p["pool_id"],
            year,
            kind,
            p.get("partner_id"),
            None,
            p.get("scheme_id"),
            p.get("funding_stream"),
            quarter,
            int(p["amount"]),
            ppa,
            False,
        )
    if typ == ev.TransferPosted.type:
        src = p["from_party"].get("partner_id")
        dst = p["to_party"].get("partner_id")
        if src and dst:
            kind, partner, counterparty = "partner_transfer", src, dst
        elif src:
            kind, partner, counterparty = "transfer_in", src, None
        else:
            kind, partner, counterparty = "transfer_out", dst, None
        return (
            position,
            p["pool_id"],
            year,
            kind,
            partner,
            counterparty,
            None,
            None,
            quarter,
            int(p["amount"]),
            ppa,
            False,
        )
    return (position, p["pool_id"], year, "opening", None, None, None, None, quarter,
            int(p["amount"]), ppa, False)  # fmt: skip


def negated(original: Line, position: int, ppa: bool) -> Line:
    """A reversal's line: its target's, negated, at the reversal's position."""
    return (position, *original[_GROUP], -original[_AMOUNT], ppa, True)


class Projector:
    """Keeps the read models. ``apply`` is the ledger's append hook; ``committed`` is
    called by the ledger after each commit (see ``Ledger``'s hooks).

    Between appends it remembers each line group's number and running total, as they
    stood after the last position it projected. An append that starts right after
    that position (nobody else wrote since) uses them instead of asking the database;
    any other append asks, and what it read becomes what is remembered. What an append
    projected is remembered only once the ledger says it committed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._groups: dict[tuple[Any, ...], list[int]] = {}
        self._ids: dict[tuple[Any, ...], int] = {}  # group numbers (committed; never change)
        self._last_group: int | None = None
        self._position = -1  # the position the remembered totals stand after
        self._staged = threading.local()  # this thread's uncommitted append

    def apply(self, conn: Connection, events: Sequence[StoredEvent]) -> None:
        if not events:
            return
        h0, h1 = events[0].position - 1, events[-1].position
        with self._lock:
            warm = h0 == self._position
            base, last_group = (self._groups, self._last_group) if warm else (None, None)
            ids = self._ids
        totals = RunningTotals(complete=False, base=base, last_group=last_group, ids=ids)
        self._staged.pending = None
        self._project_live(conn, events, totals)
        self._staged.pending = (h0, h1, totals)

    def committed(self, h0: int, h1: int) -> None:
        """The append that moved the head from ``h0`` to ``h1`` committed."""
        staged = getattr(self._staged, "pending", None)
        self._staged.pending = None
        if staged is None or staged[:2] != (h0, h1):
            return
        totals: RunningTotals = staged[2]
        summed = {g: v for g, v in totals.known.items() if v[1] is not None}
        with self._lock:
            if len(self._ids) < _REMEMBER_AT_MOST:  # read only by .get: updated in place
                self._ids.update((g, v[0]) for g, v in totals.known.items())
            if h0 == self._position and len(self._groups) < _REMEMBER_AT_MOST:
                for g in totals.known.keys() - summed.keys():
                    self._groups.pop(g, None)  # the database summed it: total not known
                self._groups.update(summed)
            elif h1 > self._position:
                self._groups = summed  # read under the lock at h0: current
            else:
                return  # a later append has already moved on
            self._position = h1
            self._last_group = totals.last_group

    def _project_live(
        self, conn: Connection, events: Sequence[StoredEvent], totals: RunningTotals
    ) -> None:
        buf = Buffer(conn.dialect.name == "sqlite")
        self.project(
            [
                (
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

    def project(self, rows: Iterable[EventRow], buf: Buffer) -> None:
        """Turn events (``EVENT_COLUMNS`` tuples, in position order) into buffered rows."""
        loads = _loads
        versions = CURRENT_VERSION
        line_types = LINE_TYPES
        lines_append = buf.lines.append
        line_at = buf.line_at
        other = self._other
        row: EventRow | None = None
        n = 0
        try:
            for row in rows:
                n += 1
                typ = row[2]
                if typ in line_types:  # most events: one money line each
                    p = loads(row[3])
                    if row[10] != versions[typ]:
                        p = upcast(typ, row[10], p)
                    line = line_of(row[0], typ, p)
                    lines_append(line)
                    line_at[row[0]] = line
                else:
                    other(row, typ, buf)
        except Exception as exc:
            where = f"position {row[0]} ({row[2]})" if row is not None else "the first event"
            raise ProjectionError(f"projection failed at {where}: {exc}") from exc
        if row is not None:
            buf.last_position = row[0]
        buf.events += n

    def _other(self, row: EventRow, typ: str, buf: Buffer) -> None:
        keys = FACT_KEYS.get(typ)
        if keys is not None:
            data = _loads(row[3])
            text = row[3]
            if row[10] != CURRENT_VERSION[typ]:  # read models hold the current shape
                data = upcast(typ, row[10], data)
                text = canonical_json(data)
            key = "/".join(str(data.get(k) or "") for k in keys) or None
            fact = [
                row[0],
                row[1],
                typ,
                row[4],
                row[5],
                row[6],
                key,
                buf.date_param(row[7]),
                text,
                row[8],
                row[9],
                None,
            ]
            buf.facts.append(fact)
            buf.fact_at[row[0]] = fact
            if typ == ev.EventReversed.type:
                self._reverse(row[0], data, buf)
        elif typ == ev.PartnerRegistered.type:
            p = _loads(row[3])
            buf.partners.append(
                (
                    p["partner_id"],
                    p["name"],
                    p["kind"],
                    p.get("ods_code"),
                    p.get("ons_code"),
                    row[0],
                )
            )
        elif typ == ev.PoolEstablished.type:
            p = _loads(row[3])
            hwb = p.get("hwb_area") or {}
            buf.pools.append(
                (
                    p["pool_id"],
                    p["name"],
                    p["kind"],
                    p["host_partner_id"],
                    hwb.get("name"),
                    hwb.get("ons_code"),
                    row[0],
                )
            )
            for m in p["members"]:
                buf.members.append((p["pool_id"], m, row[0]))
        elif typ == ev.PartnerJoined.type:
            p = _loads(row[3])
            buf.members.append((p["pool_id"], p["partner_id"], row[0]))

    def _reverse(self, position: int, p: dict[str, Any], buf: Buffer) -> None:
        target_type = p["reversed_type"]
        target = int(p["reversed_position"])
        if target_type in LINE_TYPES:
            ppa = p.get("prior_period_adjustment", False) is True
            original = buf.line_at.get(target)
            if original is None:  # projected before this buffer: fetched when flushed
                buf.negations.append((position, ppa, target))
            else:
                buf.lines.append(negated(original, position, ppa))
        elif target_type in FACT_KEYS:
            fact = buf.fact_at.get(target)
            if fact is None:
                buf.stamps.append((position, target))
            else:
                fact[11] = position

    # -- writing -----------------------------------------------------------------------

    def flush(
        self, conn: Connection, buf: Buffer, totals: RunningTotals, *, copy: bool = False
    ) -> None:
        """Write the buffer: negations of earlier lines, running totals, rows, reversal
        stamps and the checkpoint. ``copy`` uses PostgreSQL's COPY (rebuilds)."""
        lines = buf.lines
        if buf.negations:
            lines = lines + self._negated(conn, buf)
            lines.sort(key=lambda r: r[0])
        groups, rows_of_lines = self._totals(conn, lines, totals)
        summed_by_db = [
            (g, p, a, a, g, ppa, rev) for g, p, a, total, ppa, rev in rows_of_lines if total is None
        ]
        if summed_by_db:
            rows_of_lines = [r for r in rows_of_lines if r[3] is not None]
        write = _copy if copy and not buf.sqlite else _executemany
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
            _many(conn, _LINE_ON_LAST_TOTAL, summed_by_db)
        if buf.stamps:
            _many(conn, _STAMP, buf.stamps)
        if buf.last_position:
            run_sql(conn, _CHECKPOINT, (CHECKPOINT, buf.last_position))

    def _negated(self, conn: Connection, buf: Buffer) -> list[Line]:
        """The lines of reversals whose targets were projected before this buffer,
        worked out again from the targets' events (the log is the truth)."""
        targets = sorted({n[2] for n in buf.negations})
        found: dict[int, Line] = {}
        for i in range(0, len(targets), 500):
            chunk = targets[i : i + 500]
            sql = _SELECT_EVENTS + f"({', '.join('?' for _ in chunk)})"
            for position, typ, version, payload in run_sql(conn, sql, tuple(chunk)).fetchall():
                p = _loads(payload)
                if version != CURRENT_VERSION[typ]:
                    p = upcast(typ, version, p)
                found[int(position)] = line_of(int(position), typ, p)
        return [negated(found[target], position, ppa) for position, ppa, target in buf.negations]

    def _totals(
        self, conn: Connection, lines: list[Line], totals: RunningTotals
    ) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        """New groups, and the ``rm_lines`` rows of ``lines`` (in position order) with
        their groups' running totals. A position holds one line (one event, one
        amount), so (group, position) is unique; the key refuses anything else."""
        groups: list[tuple[Any, ...]] = []
        rows: list[tuple[Any, ...]] = []
        append = rows.append
        known, lookup = totals.known, totals.lookup
        group_slice = _GROUP
        for r in lines:
            group = r[group_slice]
            found = known.get(group) or lookup(conn, group)
            if found is None:
                found = known[group] = [totals.new_group(conn), 0]
                groups.append((found[0], *group, group_key(group), r[0]))
            if found[1] is None:  # the database adds it to the group's last total
                append((found[0], r[0], r[_AMOUNT], None, r[_PPA], r[_REVERSAL]))
                continue
            found[1] = total = found[1] + r[_AMOUNT]
            append((found[0], r[0], r[_AMOUNT], total, r[_PPA], r[_REVERSAL]))
        rows.sort(key=_line_key)  # in key order: each insert lands next to the last one
        return groups, rows


def _line_key(row: tuple[Any, ...]) -> tuple[int, int]:
    return row[0], row[1]


def _many(conn: Connection, sql: str, rows: Sequence[Sequence[Any]]) -> None:
    if len(rows) == 1:
        run_sql(conn, sql, tuple(rows[0]))
    else:
        conn.connection.cursor().executemany(
            driver_sql(conn, sql), rows if isinstance(rows[0], tuple) else list(map(tuple, rows))
        )


def _executemany(conn: Connection, table: str, rows: Sequence[Sequence[Any]]) -> None:
    _many(conn, _INSERTS[table][0], rows)


def _copy(conn: Connection, table: str, rows: Sequence[Sequence[Any]]) -> None:
    """PostgreSQL COPY into ``table`` in the connection's own transaction."""
    columns = _INSERTS[table][1]
    raw: Any = conn.connection.driver_connection
    with raw.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as cp:
        for r in rows:
            cp.write_row(r)

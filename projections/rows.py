"""What the projector makes of events before it writes them.

A payload is parsed by ``load_payload``; ``EVENT_COLUMNS`` is what is read of each event;
``LINE_TYPES`` and ``FACT_KEYS`` say which events make money lines and which facts. A
posting's money ``Line`` comes from ``line_of`` (a reversal's from ``negated``), and sums
into its group's ``RunningTotals``; rows wait in a ``Buffer`` until they are written.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import partial
from typing import Any, NamedTuple, cast

import orjson
from sqlalchemy import Connection

from ledger.domain import events as ev
from ledger.domain.periods import FinancialYear, Quarter
from ledger.store.sql import run_sql
from projections.writes import FactRow, MemberRow, PartnerRow, PoolRow

_LONG_DIGITS = re.compile(r"\d{19}")


def load_payload(text: str) -> Any:
    """A stored payload parsed: orjson (several times faster than ``json``), or
    ``json`` when the text holds a run of 19 digits or more (orjson would turn an
    integer beyond 64 bits into a float) or orjson refuses it."""
    if _LONG_DIGITS.search(text) is None:
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass
    return json.loads(text)


class EventRow(NamedTuple):
    """What the projector reads of an event. A rebuild selects exactly these columns
    (``EVENT_COLUMNS``, in this order) and hands the driver's plain tuples on."""

    position: int
    event_id: str
    type: str
    payload: str
    pool_id: str | None
    year: str | None
    period: str | None
    effective_date: date | str | None
    recorded_at: str
    actor: str
    schema_version: int


EVENT_COLUMNS = EventRow._fields
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
    ev.NationalConditionAssured.type: ("condition_id",),
    ev.MetricAssessed.type: ("metric_id",),
    ev.SchemeActivityRecorded.type: ("scheme_id",),
    ev.FeeRatesRecorded.type: (),
    ev.ReturnContactsRecorded.type: (),
    ev.ReturnSignedOff.type: (),
    ev.IncomeVarianceExplained.type: (),
    ev.YearEndFeedbackGiven.type: ("statement_id",),
    ev.EventReversed.type: ("reversed_event_id",),
    ev.PeriodClosed.type: (),
    ev.RiskShareSettled.type: (),
    ev.ReturnGenerated.type: ("kind",),
    ev.ReturnRefiled.type: (),
    ev.ReturnApproved.type: (),
    ev.ReturnSubmitted.type: (),
}

# The line group a money line sums into: (pool, year, kind, partner, counterparty,
# scheme, stream, quarter), a ``Line``'s fields after its position.
Group = tuple[Any, ...]


class Line(NamedTuple):
    """A money line as the projector holds it; written as an ``rm_lines`` row with its
    group's number and running total."""

    position: int
    pool_id: str
    year: str
    kind: str
    partner_id: str | None
    counterparty_id: str | None
    scheme_id: str | None
    funding_stream: str | None
    quarter: str
    amount: int
    prior_period_adjustment: bool
    reversal: bool

    @property
    def group(self) -> Group:
        return self[1:9]


# ``Line``s made on the hot path: ``tuple.__new__`` takes the fields as one tuple, in
# order, and skips the generated ``__new__`` (a Python call, ~6x slower per line).
new_line = cast("Callable[[tuple[Any, ...]], Line]", partial(tuple.__new__, Line))


@dataclass(slots=True)
class GroupTotal:
    """A line group's number and last running total (``None``: the database sums it)."""

    group_id: int
    total: int | None


class Negation(NamedTuple):
    """A reversal of a line projected before this buffer (fetched when flushed)."""

    position: int
    prior_period_adjustment: bool
    target: int


_LAST_TOTAL = (
    "SELECT g.group_id, (SELECT l.total FROM rm_lines l WHERE l.group_id = g.group_id "
    "ORDER BY l.position DESC LIMIT 1) FROM rm_groups g "
    "WHERE g.pool_id = ? AND g.year = ? AND g.key = ?"
)
_LAST_GROUP = "SELECT COALESCE(MAX(group_id), 0) FROM rm_groups"


def group_key(group: Group) -> str:
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
        base: dict[Group, GroupTotal] | None = None,
        last_group: int | None = None,
        ids: dict[Group, int] | None = None,
    ) -> None:
        self.complete = complete
        self.known: dict[Group, GroupTotal] = {}
        self.base = base or {}  # read only: entries are copied into ``known`` when used
        self.ids = ids or {}  # read only
        self.last_group: int | None = 0 if complete else last_group

    def lookup(self, conn: Connection, group: Group) -> GroupTotal | None:
        found = self.known.get(group)
        if found is not None or self.complete:
            return found
        remembered = self.base.get(group)
        if remembered is not None:
            found = self.known[group] = GroupTotal(remembered.group_id, remembered.total)
            return found
        number = self.ids.get(group)
        if number is not None:
            found = self.known[group] = GroupTotal(number, None)
            return found
        pool_id, year = group[0], group[1]
        row = run_sql(conn, _LAST_TOTAL, (pool_id, year, group_key(group))).fetchone()
        if row is None:
            return None
        group_id, total = row
        found = self.known[group] = GroupTotal(int(group_id), int(total or 0))
        return found

    def new_group(self, conn: Connection) -> int:
        if self.last_group is None:
            (last,) = run_sql(conn, _LAST_GROUP).fetchone()
            self.last_group = int(last or 0)
        self.last_group += 1
        return self.last_group


class Buffer:
    """Rows waiting to be written, and what a reversal in the same batch needs."""

    def __init__(self, sqlite: bool) -> None:
        self.sqlite = sqlite
        self.lines: list[Line] = []
        self.facts: list[FactRow] = []
        self.partners: list[PartnerRow] = []
        self.pools: list[PoolRow] = []
        self.members: list[MemberRow] = []
        self.fact_at: dict[int, int] = {}  # position -> its fact's index in ``facts``
        self.line_at: dict[int, Line] = {}  # position -> its line, in this buffer
        self.stamps: list[tuple[int, int]] = []  # (reversal position, target fact position)
        self.negations: list[Negation] = []
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
        return new_line(
            (
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
        return new_line(
            (
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
        )
    return new_line(
        (position, p["pool_id"], year, "opening", None, None, None, None, quarter,
         int(p["amount"]), ppa, False)
    )  # fmt: skip


def negated(original: Line, position: int, ppa: bool) -> Line:
    """A reversal's line: its target's, negated, at the reversal's position."""
    return new_line((position, *original.group, -original.amount, ppa, True))

"""The building blocks of every as-at query: facts in force, the plan, members, pools,
line sums (from the running totals) and the lines themselves (for tracing).

Every function takes an open connection and a position ``at``; nothing here reads
past ``at``, so an answer as at P never changes once P is in the ledger.

The statements are built once, with bound parameters, and reused: SQLAlchemy then
skips building the expression and its cache key on every read (most of a small
read's cost in Python).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

from sqlalchemy import Connection, Select, and_, bindparam, func, or_, select, union_all

from ledger.domain.errors import NotFound
from ledger.domain.periods import FinancialYear, Month, Period, Quarter
from ledger.domain.plan import Plan
from ledger.store import tables as lt
from ledger.store.sql import Query, read_together
from projections import tables as t


@dataclass(frozen=True)
class Fact:
    position: int
    event_id: str
    type: str
    year: str | None
    period: str | None
    key: str | None
    effective_date: date | None
    data: dict[str, Any]
    recorded_at: str
    actor: str
    reversed_position: int | None = None


@dataclass(frozen=True)
class PoolRow:
    pool_id: str
    name: str
    kind: str
    host_partner_id: str
    hwb_name: str | None
    hwb_ons_code: str | None
    position: int


def in_force(col_position: Any, col_reversed: Any, at: Any) -> Any:
    return and_(col_position <= at, or_(col_reversed.is_(None), col_reversed > at))


def _in_force_at() -> Any:
    """``in_force`` as at the bound parameter ``at``."""
    f = t.rm_facts.c
    return in_force(f.position, f.reversed_position, bindparam("at"))


@cache
def _facts_statement(
    many: bool, include_reversed: bool, pool: bool, year: bool, period: bool, after: bool
) -> Select[Any]:
    """The statement ``facts`` runs for this shape of question (built once)."""
    f = t.rm_facts.c
    q = select(t.rm_facts)
    q = q.where(
        f.type.in_(bindparam("types", expanding=True)) if many else f.type == bindparam("type")
    )
    q = q.where(f.position <= bindparam("at") if include_reversed else _in_force_at())
    if pool:
        q = q.where(f.pool_id == bindparam("pool_id"))
    if year:
        q = q.where(f.year == bindparam("year"))
    if period:
        q = q.where(f.period == bindparam("period"))
    if after:
        q = q.where(f.position > bindparam("after"))
    return q.order_by(f.position)


def facts(
    conn: Connection,
    pool_id: str | None,
    type_: str | tuple[str, ...],
    at: int,
    *,
    year: str | None = None,
    period: str | None = None,
    include_reversed: bool = False,
    after: int | None = None,
) -> list[Fact]:
    """Facts of a type (or types) as at ``at``, in position order: those in force, or
    with ``include_reversed`` every one recorded by then (``after``: only later ones)."""
    many = not isinstance(type_, str)
    q = _facts_statement(
        many,
        include_reversed,
        pool_id is not None,
        year is not None,
        period is not None,
        after is not None,
    )
    params: dict[str, Any] = {"at": at}
    params["types" if many else "type"] = list(type_) if many else type_
    if pool_id is not None:
        params["pool_id"] = pool_id
    if year is not None:
        params["year"] = year
    if period is not None:
        params["period"] = period
    if after is not None:
        params["after"] = after
    return [_fact(r, at) for r in conn.execute(q, params)]


def _fact(r: Any, at: int) -> Fact:
    reversed_at = r.reversed_position
    return Fact(
        int(r.position),
        r.event_id,
        r.type,
        r.year,
        r.period,
        r.key,
        r.effective_date,
        json.loads(r.data),
        r.recorded_at,
        r.actor,
        None if reversed_at is None or reversed_at > at else int(reversed_at),
    )


def _latest_by_key_select(type_param: str, year_param: str) -> Select[Any]:
    """The facts of a type (the bound parameter ``type_param``) in force as at ``at``
    for the pool and year, the latest for each key: unordered."""
    f = t.rm_facts.c
    rank = (
        func.row_number()
        .over(partition_by=f.key, order_by=(f.effective_date.desc(), f.position.desc()))
        .label("rank")
    )
    inner = (
        select(f.position, rank)
        .where(
            f.type == bindparam(type_param),
            f.pool_id == bindparam("pool_id"),
            f.year == bindparam(year_param),
            _in_force_at(),
        )
        .subquery()
    )
    winners = select(inner.c.position).where(inner.c.rank == 1)
    return select(t.rm_facts).where(f.position.in_(winners))


@cache
def _latest_by_key_statement() -> Select[Any]:
    return _latest_by_key_select("type", "year").order_by(t.rm_facts.c.position)


def latest_by_key(conn: Connection, pool_id: str, type_: str, at: int, *, year: str) -> list[Fact]:
    """Of the facts of a type in force as at ``at``, the latest for each key (by
    effective date, ties: the later position), chosen in SQL so that only the winners'
    payloads are read and parsed."""
    params = {"type": type_, "pool_id": pool_id, "year": year, "at": at}
    return [_fact(r, at) for r in conn.execute(_latest_by_key_statement(), params)]


@dataclass(frozen=True)
class YearFacts:
    """The facts a pool-year's figures (6.1, 6.2) rest on, as at a position."""

    plan: Fact | None  # the plan in force
    settled: Fact | None  # this year's settlement
    previous_settled: Fact | None  # last year's
    q4_close: Fact | None  # the close of the year's fourth quarter
    forecasts: list[Fact]  # the forecasts in force: the latest for each key


@cache
def _year_facts_statement() -> Any:
    f = t.rm_facts.c
    pool = f.pool_id == bindparam("pool_id")
    return union_all(
        select(t.rm_facts).where(
            f.type == "plan_agreed", pool, f.year == bindparam("year"), _in_force_at()
        ),
        select(t.rm_facts).where(
            f.type == "risk_share_settled",
            pool,
            f.year.in_([bindparam("year"), bindparam("previous")]),
            _in_force_at(),
        ),
        select(t.rm_facts).where(
            f.type == "period_closed", pool, f.period == bindparam("q4"), _in_force_at()
        ),
        _latest_by_key_select("forecast", "year"),
    )


def _year_facts_of(rows: Any, year: str, at: int) -> YearFacts:
    found = sorted((_fact(r, at) for r in rows), key=lambda x: x.position)
    plan = settled = previous_settled = q4_close = None
    forecasts = []
    for x in found:  # in position order: the last of each kind wins, the first close
        if x.type == "plan_agreed":
            plan = x
        elif x.type == "risk_share_settled":
            if x.year == year:
                settled = x
            else:
                previous_settled = x
        elif x.type == "period_closed":
            q4_close = q4_close or x
        else:
            forecasts.append(x)
    return YearFacts(plan, settled, previous_settled, q4_close, forecasts)


@cache
def _pool_row_statement() -> Select[Any]:
    p = t.rm_pools.c
    return select(t.rm_pools).where(
        p.pool_id == bindparam("pool_id"), p.position <= bindparam("at")
    )


def pool_row(conn: Connection, pool_id: str, at: int) -> PoolRow:
    """The pool as established, or ``NotFound`` if it did not exist as at ``at``."""
    return _pool_row_of(
        conn.execute(_pool_row_statement(), {"pool_id": pool_id, "at": at}).first(), pool_id, at
    )


def _pool_row_of(r: Any, pool_id: str, at: int) -> PoolRow:
    if r is None:
        raise NotFound(f"pool '{pool_id}' does not exist (as at position {at})")
    return PoolRow(
        r.pool_id, r.name, r.kind, r.host_partner_id, r.hwb_name, r.hwb_ons_code, int(r.position)
    )


def plan_fact(conn: Connection, pool_id: str, year: str, at: int) -> Fact | None:
    """The plan in force: the latest not reversed (reversing it restores the one before)."""
    found = facts(conn, pool_id, "plan_agreed", at, year=year)
    return found[-1] if found else None


def plan_at(conn: Connection, pool_id: str, year: str, at: int) -> Plan | None:
    f = plan_fact(conn, pool_id, year, at)
    return Plan.model_validate(f.data["plan"]) if f else None


def closed_quarters(conn: Connection, pool_id: str, at: int) -> list[str]:
    return [f.period or "" for f in facts(conn, pool_id, "period_closed", at)]


@cache
def _members_statement() -> Select[Any]:
    m = t.rm_pool_members.c
    return (
        select(m.partner_id)
        .where(m.pool_id == bindparam("pool_id"), m.position <= bindparam("at"))
        .order_by(m.partner_id)
    )


def members_at(conn: Connection, pool_id: str, at: int) -> list[str]:
    return list(conn.execute(_members_statement(), {"pool_id": pool_id, "at": at}).scalars())


@cache
def _partner_kinds_statement() -> Select[Any]:
    p = t.rm_partners.c
    return select(p.partner_id, p.kind).where(p.partner_id.in_(bindparam("ids", expanding=True)))


def partner_kinds(conn: Connection, ids: list[str]) -> dict[str, str]:
    return {
        r.partner_id: r.kind for r in conn.execute(_partner_kinds_statement(), {"ids": list(ids)})
    }


def settlement(conn: Connection, pool_id: str, year: str, at: int) -> Fact | None:
    found = facts(conn, pool_id, "risk_share_settled", at, year=year)
    return found[-1] if found else None


def periods_within(period: Period) -> frozenset[str]:
    """The labels of ``period`` and of every period inside it (a year holds its
    quarters and months; a quarter its months)."""
    if isinstance(period, FinancialYear):
        return frozenset(
            {period.label, *(q.label for q in period.quarters), *(m.label for m in period.months)}
        )
    if isinstance(period, Quarter):
        return frozenset({period.label, *(m.label for m in period.months)})
    assert isinstance(period, Month)
    return frozenset({period.label})


# --- money lines ---------------------------------------------------------------------


@dataclass(frozen=True)
class LineSum:
    kind: str
    partner_id: str | None
    counterparty_id: str | None
    scheme_id: str | None
    funding_stream: str | None
    quarter: str
    amount: int


@cache
def _line_sums_statement() -> Select[Any]:
    g = t.rm_groups.c
    r = t.rm_lines.c
    at: Any = bindparam("at")
    latest = (
        select(r.total)
        .where(r.group_id == g.group_id, r.position <= at)
        .order_by(r.position.desc())
        .limit(1)
        .correlate(t.rm_groups)
        .scalar_subquery()
    )
    return select(
        g.kind,
        g.partner_id,
        g.counterparty_id,
        g.scheme_id,
        g.funding_stream,
        g.quarter,
        latest.label("amount"),
    ).where(g.pool_id == bindparam("pool_id"), g.year == bindparam("year"), g.position <= at)


def line_sums(conn: Connection, pool_id: str, year: str, at: int) -> list[LineSum]:
    """The pool-year's lines summed per group as at ``at``: for each group, the running
    total of its last line at or before ``at`` (one index seek per group)."""
    params = {"pool_id": pool_id, "year": year, "at": at}
    return _line_sums_of(conn.execute(_line_sums_statement(), params))


def _line_sums_of(rows: Any) -> list[LineSum]:
    return [
        LineSum(
            row.kind,
            row.partner_id,
            row.counterparty_id,
            row.scheme_id,
            row.funding_stream,
            row.quarter,
            int(row.amount or 0),
        )
        for row in rows
    ]


# --- a pool-year's inputs, in one round trip ----------------------------------------


@cache
def _pool_partner_kinds_statement() -> Select[Any]:
    """The kind of every partner the pool has had as a member (its host and every
    partner a plan names among them: a plan names members only)."""
    p = t.rm_partners.c
    m = t.rm_pool_members.c
    return select(p.partner_id, p.kind).where(
        p.partner_id.in_(select(m.partner_id).where(m.pool_id == bindparam("pool_id")))
    )


@dataclass(frozen=True)
class YearInputs:
    """What a pool-year's figures (6.1, 6.2) are derived from, as at a position."""

    pool: PoolRow
    facts: YearFacts
    sums: list[LineSum]
    members: list[str]
    kinds: dict[str, str]  # partner -> kind, for the members and more


def year_inputs(
    conn: Connection,
    pool_id: str,
    year: str,
    previous: str,
    at: int,
    members: list[str] | None = None,
) -> YearInputs:
    """The pool row, the year's facts (``_year_facts_statement``), its line sums, the
    partners' kinds and, unless given, the members as at ``at``: one round trip on
    PostgreSQL (every statement reads as at ``at``, so they need no shared snapshot)."""
    at_pool = {"pool_id": pool_id, "at": at}
    in_year = {**at_pool, "year": year}
    queries: list[Query] = [
        (_pool_row_statement(), at_pool),
        (
            _year_facts_statement(),
            {**in_year, "previous": previous, "q4": f"{year}-Q4", "forecast": "forecast_recorded"},
        ),
        (_line_sums_statement(), in_year),
        (_pool_partner_kinds_statement(), {"pool_id": pool_id}),
    ]
    if members is None:
        queries.append((_members_statement(), at_pool))
    found = read_together(conn, queries)
    pool = _pool_row_of(found[0][0] if found[0] else None, pool_id, at)
    return YearInputs(
        pool,
        _year_facts_of(found[1], year, at),
        _line_sums_of(found[2]),
        members if members is not None else [r.partner_id for r in found[4]],
        {r.partner_id: r.kind for r in found[3]},
    )


@dataclass(frozen=True)
class Line:
    position: int  # the event's (a reversal's line: the reversal's)
    event_id: str
    recorded_at: str
    effective_date: date | None  # a reversal's line: its target's date
    year: str
    quarter: str
    kind: str
    partner_id: str | None
    counterparty_id: str | None
    scheme_id: str | None
    funding_stream: str | None
    amount: int
    prior_period_adjustment: bool
    reversal: bool


def line_filter(
    pool_id: str,
    year: str,
    kinds: tuple[str, ...] | None = None,
    *,
    partner: str | None = None,
    counterparty: str | None = None,
    scheme: str | None = None,
    stream: str | None = None,
    quarter: str | None = None,
) -> list[Any]:
    """Conditions on ``rm_groups`` choosing the groups of a figure."""
    g = t.rm_groups.c
    out: list[Any] = [g.pool_id == pool_id, g.year == year]
    if kinds is not None:
        out.append(g.kind.in_(kinds))
    for col, value in (
        (g.partner_id, partner),
        (g.counterparty_id, counterparty),
        (g.scheme_id, scheme),
        (g.funding_stream, stream),
        (g.quarter, quarter),
    ):
        if value is not None:
            out.append(col == value)
    return out


def line_positions(conn: Connection, at: int, conditions: list[Any]) -> set[int]:
    """The positions of the lines (as at ``at``) of the groups ``conditions`` choose."""
    g, r = t.rm_groups.c, t.rm_lines.c
    q = (
        select(r.position)
        .join_from(t.rm_groups, t.rm_lines, r.group_id == g.group_id)
        .where(*conditions, r.position <= at)
    )
    return {int(p) for p in conn.execute(q).scalars()}


def lines(
    conn: Connection,
    pool_id: str,
    year: str,
    at: int,
    *,
    kinds: tuple[str, ...] | None = None,
    adjustments_only: bool = False,
    after: int | None = None,
    quarters: tuple[str, ...] | None = None,
) -> list[Line]:
    """The pool-year's money lines as at ``at`` (reversals' negated lines included),
    with their events' ids, recorded times and effective dates, in position order.
    ``quarters`` selects those quarters' line groups first, so reading the lines of a
    few quarters recorded after a position stays proportional to what is found."""
    if quarters is not None and not quarters:
        return []
    g, r, e = t.rm_groups.c, t.rm_lines.c, lt.events.c
    q = (
        select(
            r.position,
            e.event_id,
            e.recorded_at,
            e.effective_date,
            g.year,
            g.quarter,
            g.kind,
            g.partner_id,
            g.counterparty_id,
            g.scheme_id,
            g.funding_stream,
            r.amount,
            r.prior_period_adjustment,
            r.reversal,
        )
        .join_from(t.rm_groups, t.rm_lines, r.group_id == g.group_id)
        .join(lt.events, e.position == r.position)
        .where(*line_filter(pool_id, year, kinds), r.position <= at)
    )
    if adjustments_only:
        q = q.where(r.prior_period_adjustment)  # as the partial index reads it
    if after is not None:
        q = q.where(r.position > after)
    if quarters is not None:
        q = q.where(g.quarter.in_(quarters))
    return [
        Line(
            int(x.position),
            x.event_id,
            x.recorded_at,
            x.effective_date,
            x.year,
            x.quarter,
            x.kind,
            x.partner_id,
            x.counterparty_id,
            x.scheme_id,
            x.funding_stream,
            int(x.amount),
            bool(x.prior_period_adjustment),
            bool(x.reversal),
        )
        for x in conn.execute(q.order_by(r.position))
    ]

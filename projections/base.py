"""The building blocks of every as-at query: facts in force, the plan, members, pools
and partners (money lines: ``projections.money_lines``).

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

from sqlalchemy import Connection, Date, Select, and_, bindparam, func, or_, select, union_all

from ledger.domain.errors import NotFound
from ledger.domain.periods import FinancialYear, Month, Period, Quarter
from ledger.domain.plan import Plan
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


def effective_by(found: list[Fact], through: date | None) -> list[Fact]:
    """Of ``found``, those effective on or before ``through`` (None: all)."""
    if through is None:
        return found
    return [f for f in found if f.effective_date is None or f.effective_date <= through]


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


def _latest_by_key_select(type_param: str, year_param: str, through: bool = False) -> Select[Any]:
    """The facts of a type (the bound parameter ``type_param``) in force as at ``at``
    for the pool and year, the latest for each key: unordered. ``through``: only
    those effective on or before the bound date ``through``."""
    f = t.rm_facts.c
    dated = (f.effective_date <= bindparam("through", type_=Date()),) if through else ()
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
            *dated,
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
def year_facts_statement(through: bool = False) -> Any:
    """The plan in force, the settlements of the year and the one before, the close of
    Q4 and the forecasts in force (``through``: those as of a date by ``through``)."""
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
        _latest_by_key_select("forecast", "year", through),
    )


def year_facts_of(rows: Any, year: str, at: int, year_ended: bool = True) -> YearFacts:
    """``year_ended`` False (figures through a date before the year's last day): the
    year's settlement and the close of its fourth quarter do not count yet."""
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
    if not year_ended:
        settled = q4_close = None
    return YearFacts(plan, settled, previous_settled, q4_close, forecasts)


@cache
def pool_row_statement() -> Select[Any]:
    p = t.rm_pools.c
    return select(t.rm_pools).where(
        p.pool_id == bindparam("pool_id"), p.position <= bindparam("at")
    )


def pool_row(conn: Connection, pool_id: str, at: int) -> PoolRow:
    """The pool as established, or ``NotFound`` if it did not exist as at ``at``."""
    return pool_row_of(
        conn.execute(pool_row_statement(), {"pool_id": pool_id, "at": at}).first(), pool_id, at
    )


def pool_row_of(r: Any, pool_id: str, at: int) -> PoolRow:
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
def members_statement() -> Select[Any]:
    m = t.rm_pool_members.c
    return (
        select(m.partner_id)
        .where(m.pool_id == bindparam("pool_id"), m.position <= bindparam("at"))
        .order_by(m.partner_id)
    )


def members_at(conn: Connection, pool_id: str, at: int) -> list[str]:
    return list(conn.execute(members_statement(), {"pool_id": pool_id, "at": at}).scalars())


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

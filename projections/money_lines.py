"""Money lines as at a position: each pool-year's line groups summed (from the
running totals the projector keeps) and the lines themselves (for tracing and
prior-period adjustments). As ``projections.base``, nothing here reads past ``at``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

from sqlalchemy import Connection, Date, Select, bindparam, func, select

from ledger.domain.periods import FinancialYear, Quarter
from ledger.store import tables as lt
from projections import tables as t


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
def line_sums_statement() -> Select[Any]:
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


@dataclass(frozen=True)
class ThroughCut:
    """Where ``through`` (an effective date) cuts a year's line groups: every group of
    a quarter up to ``whole`` counts whole (labels sort in quarter order; "" counts
    none), and of the groups of ``partial`` only the lines effective by ``through``.

    A line counts on its effective date, or for a posting whose year is not its date's
    year, on the nearest day of its year (the quarter ``rows.quarter_in_year`` puts it
    in): a late contribution for last year counts through the year's last day. Within
    the year the two agree, so the partial quarter compares the events' own dates."""

    whole: str
    partial: str | None
    through: date


def through_cut(fy: FinancialYear, through: date | None) -> ThroughCut | None:
    """None when ``through`` leaves the year whole (none given, or on or after its
    last day)."""
    if through is None or through >= fy.end:
        return None
    if through < fy.start:
        return ThroughCut("", None, through)
    q = Quarter.of(through)
    if through == q.end:
        return ThroughCut(q.label, None, through)
    whole = q.previous().label if q.number > 1 else ""
    return ThroughCut(whole, q.label, through)


@cache
def line_sums_whole_statement() -> Select[Any]:
    """``line_sums_statement`` for the groups of the quarters up to ``whole``."""
    return line_sums_statement().where(t.rm_groups.c.quarter <= bindparam("whole"))


@cache
def line_sums_partial_statement() -> Select[Any]:
    """The groups of quarter ``partial``, each summed over its lines recorded by ``at``
    and effective by ``through`` (a reversal's line: its target's date)."""
    g, r, e = t.rm_groups.c, t.rm_lines.c, lt.events.c
    return (
        select(
            g.kind,
            g.partner_id,
            g.counterparty_id,
            g.scheme_id,
            g.funding_stream,
            g.quarter,
            func.sum(r.amount).label("amount"),
        )
        .join_from(t.rm_groups, t.rm_lines, r.group_id == g.group_id)
        .join(lt.events, e.position == r.position)
        .where(
            g.pool_id == bindparam("pool_id"),
            g.year == bindparam("year"),
            g.quarter == bindparam("partial"),
            r.position <= bindparam("at"),
            e.effective_date <= bindparam("through", type_=Date()),
        )
        .group_by(
            g.group_id,
            g.kind,
            g.partner_id,
            g.counterparty_id,
            g.scheme_id,
            g.funding_stream,
            g.quarter,
        )
    )


def line_sums_queries(
    pool_id: str, year: str, at: int, cut: ThroughCut | None
) -> list[tuple[Any, dict[str, Any]]]:
    """The statements (one, or two with a partial quarter) whose rows together are the
    year's line sums as at ``at`` and through ``cut``."""
    params: dict[str, Any] = {"pool_id": pool_id, "year": year, "at": at}
    if cut is None:
        return [(line_sums_statement(), params)]
    out: list[tuple[Any, dict[str, Any]]] = [
        (line_sums_whole_statement(), {**params, "whole": cut.whole})
    ]
    if cut.partial is not None:
        out.append(
            (
                line_sums_partial_statement(),
                {**params, "partial": cut.partial, "through": cut.through},
            )
        )
    return out


def line_sums(conn: Connection, pool_id: str, year: str, at: int) -> list[LineSum]:
    """The pool-year's lines summed per group as at ``at``: for each group, the running
    total of its last line at or before ``at`` (one index seek per group)."""
    params = {"pool_id": pool_id, "year": year, "at": at}
    return line_sums_of(conn.execute(line_sums_statement(), params))


def line_sums_of(rows: Any) -> list[LineSum]:
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

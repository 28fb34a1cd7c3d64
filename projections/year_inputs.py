"""A pool-year's inputs (6.1, 6.2) as at a position, read together: one round trip to
PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

from sqlalchemy import Connection, Select, bindparam, select

from ledger.domain.periods import parse_year
from ledger.store.sql import Query, read_together
from projections import tables as t
from projections.base import (
    PoolRow,
    YearFacts,
    members_statement,
    pool_row_of,
    pool_row_statement,
    year_facts_of,
    year_facts_statement,
)
from projections.money_lines import LineSum, line_sums_of, line_sums_queries, through_cut


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
    through: date | None = None,
) -> YearInputs:
    """The pool row, the year's facts (``year_facts_statement``), its line sums, the
    partners' kinds and, unless given, the members as at ``at``: one round trip on
    PostgreSQL (every statement reads as at ``at``, so they need no shared snapshot).
    ``through``: only facts effective on or before that date (``through_cut``)."""
    fy = parse_year(year)
    cut = through_cut(fy, through)
    at_pool = {"pool_id": pool_id, "at": at}
    in_year = {**at_pool, "year": year}
    fact_params = {
        **in_year,
        "previous": previous,
        "q4": f"{year}-Q4",
        "forecast": "forecast_recorded",
    }
    if cut is not None:
        fact_params["through"] = cut.through
    sums = line_sums_queries(pool_id, year, at, cut)
    queries: list[Query] = [
        (pool_row_statement(), at_pool),
        (year_facts_statement(cut is not None), fact_params),
        (_pool_partner_kinds_statement(), {"pool_id": pool_id}),
        *sums,
    ]
    if members is None:
        queries.append((members_statement(), at_pool))
    found = read_together(conn, queries)
    pool = pool_row_of(found[0][0] if found[0] else None, pool_id, at)
    rows = [r for part in found[3 : 3 + len(sums)] for r in part]
    return YearInputs(
        pool,
        year_facts_of(found[1], year, at, year_ended=cut is None),
        line_sums_of(rows),
        members if members is not None else [r.partner_id for r in found[-1]],
        {r.partner_id: r.kind for r in found[2]},
    )

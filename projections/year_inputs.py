"""A pool-year's inputs (6.1, 6.2) as at a position, read together: one round trip to
PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Connection, Select, bindparam, select

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
from projections.money_lines import LineSum, line_sums_of, line_sums_statement


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
    """The pool row, the year's facts (``year_facts_statement``), its line sums, the
    partners' kinds and, unless given, the members as at ``at``: one round trip on
    PostgreSQL (every statement reads as at ``at``, so they need no shared snapshot)."""
    at_pool = {"pool_id": pool_id, "at": at}
    in_year = {**at_pool, "year": year}
    queries: list[Query] = [
        (pool_row_statement(), at_pool),
        (
            year_facts_statement(),
            {**in_year, "previous": previous, "q4": f"{year}-Q4", "forecast": "forecast_recorded"},
        ),
        (line_sums_statement(), in_year),
        (_pool_partner_kinds_statement(), {"pool_id": pool_id}),
    ]
    if members is None:
        queries.append((members_statement(), at_pool))
    found = read_together(conn, queries)
    pool = pool_row_of(found[0][0] if found[0] else None, pool_id, at)
    return YearInputs(
        pool,
        year_facts_of(found[1], year, at),
        line_sums_of(found[2]),
        members if members is not None else [r.partner_id for r in found[4]],
        {r.partner_id: r.kind for r in found[3]},
    )

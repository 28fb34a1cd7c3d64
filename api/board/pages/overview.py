"""The pools overview: each pool's key figures for the year it opens on, and the
count of its latest quarter's metrics by RAG status."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from api.board import fmt
from api.board.pages.shared import Fig, Tracer, choose_year, names_of
from api.board.web import AsAt, Links
from ledger.domain.periods import parse_year
from projections.balances import balances_at
from projections.metrics import metrics_at
from projections.parties import pools_at
from projections.views import MetricView, PoolView


@dataclass(frozen=True)
class RagCount:
    status: str
    count: int


@dataclass(frozen=True)
class PoolRow:
    pool: PoolView
    host_name: str
    year: str | None
    href: str
    planned: Fig | None = None
    income: Fig | None = None
    spend: Fig | None = None
    balance: Fig | None = None
    outturn: Fig | None = None
    basis: str = ""
    variance: Fig | None = None  # None with basis actual_to_date: no year variance
    direction: str = "none"
    planned_to_date: Fig | None = None  # planned spend over the quarters ended to date
    variance_to_date: Fig | None = None  # spend to date less planned_to_date
    to_date_end: str = ""  # "30 June 2025": the last day of the quarters to date
    rag: tuple[RagCount, ...] = ()
    rag_period: str = ""


def overview(
    conn: Connection, at: AsAt, links: Links, only: set[str] | None = None
) -> dict[str, Any]:
    """``only``: the pools the reader may see (an officer's), else every pool."""
    pos = at.position
    names = names_of(conn, pos)
    rows: list[PoolRow] = []
    for pool in pools_at(conn, pos, only):
        year = choose_year(pool, at)
        if year is None:
            rows.append(
                PoolRow(
                    pool,
                    names.get(pool.host_partner_id, pool.host_partner_id),
                    None,
                    links.to("board_pool", pool_id=pool.pool_id),
                )
            )
            continue
        b = balances_at(conn, pool.pool_id, year, pos, through=at.through, on=at.on)
        t = Tracer(links, pool.pool_id, year)
        metrics = latest_metrics(conn, pool.pool_id, year, pos)
        counts: dict[str, int] = defaultdict(int)
        for m in metrics:
            counts[m.status] += 1
        p = b.pool
        rows.append(
            PoolRow(
                pool=pool,
                host_name=names.get(pool.host_partner_id, pool.host_partner_id),
                year=year,
                href=links.to("board_pool_year", pool_id=pool.pool_id, year=year),
                planned=t.fig(p.planned, "pool:planned", f"{pool.name} planned"),
                income=t.fig(p.income, "pool:income", f"{pool.name} income"),
                spend=t.fig(p.spend, "pool:spend", f"{pool.name} spend"),
                balance=t.fig(p.balance, "pool:balance", f"{pool.name} balance"),
                outturn=t.fig(p.outturn, "pool:outturn", f"{pool.name} outturn"),
                basis=p.outturn_basis,
                variance=t.fig(p.variance, "pool:variance", f"{pool.name} variance", True)
                if p.variance is not None
                else None,
                direction=direction_of(p.variance or 0),
                planned_to_date=Fig(p.planned_to_date, context=f"{pool.name} plan to date"),
                variance_to_date=Fig(
                    p.variance_to_date, context=f"{pool.name} variance to date", signed=True
                ),
                to_date_end=fmt.long_date(p.to_date_end) if p.to_date_end else "",
                rag=tuple(
                    RagCount(s, counts[s]) for s in ("green", "amber", "red") if counts.get(s)
                ),
                rag_period=metrics[0].period if metrics else "",
            )
        )
    return {"rows": rows}


def direction_of(variance: int) -> str:
    return "overspend" if variance > 0 else "underspend" if variance < 0 else "none"


def latest_metrics(conn: Connection, pool_id: str, year: str, at: int) -> list[MetricView]:
    """The metrics of the latest quarter of ``year`` that has any, as at ``at``."""
    fy = parse_year(year)
    for quarter in reversed(fy.quarters):
        found = metrics_at(conn, pool_id, quarter.label, at)
        if found.metrics:
            return list(found.metrics)
    return []

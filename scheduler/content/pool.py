"""The pool-level parts both documents read alike: the pool as at a position (or
``NotFound``), its figures and the risk-share summary."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from ledger.domain.errors import NotFound
from projections.queries import pool_at
from projections.views import PoolView, RiskShareView
from scheduler.content.shared import PoolFigures, RiskShareSummary


def pool_as_at(conn: Connection, pool_id: str, at: int) -> PoolView:
    pool = pool_at(conn, pool_id, at)
    if pool is None:
        raise NotFound(f"pool '{pool_id}' does not exist (as at position {at})")
    return pool


def pool_figures(p: Any) -> PoolFigures:
    return PoolFigures(
        outturn_basis=p.outturn_basis,
        opening_balance=p.opening_balance,
        planned=p.planned,
        income=p.income,
        spend=p.spend,
        transfers_in=p.transfers_in,
        transfers_out=p.transfers_out,
        balance=p.balance,
        outturn=p.outturn,
        variance=p.variance,
    )


def risk_share_summary(rs: RiskShareView) -> RiskShareSummary:
    return RiskShareSummary(
        direction=rs.direction,
        method=rs.method,
        basis=rs.basis,
        settled=rs.settled,
        variance=rs.variance,
        carried_forward=rs.carried_forward,
    )

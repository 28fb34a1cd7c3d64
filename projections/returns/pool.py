"""The pool-level parts both documents read alike: the pool as at a position (or
``NotFound``), its figures, each partner's figures and the risk-share summary."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection

from ledger.domain.errors import NotFound
from ledger.domain.money import format_fraction
from projections.parties import pool_at
from projections.returns.shared import PoolFigures, RiskShareSummary
from projections.views import PartnerBalance, PoolPosition, PoolView, RiskShareView


def pool_as_at(conn: Connection, pool_id: str, at: int) -> PoolView:
    pool = pool_at(conn, pool_id, at)
    if pool is None:
        raise NotFound(f"pool '{pool_id}' does not exist (as at position {at})")
    return pool


def pool_figures(p: PoolPosition) -> PoolFigures:
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
        planned_to_date=p.planned_to_date,
        actual_to_date=p.actual_to_date,
        variance_to_date=p.variance_to_date,
    )


def risk_share_summary(rs: RiskShareView) -> RiskShareSummary:
    return RiskShareSummary(
        direction=rs.direction,
        method=rs.method,
        basis=rs.basis,
        settled=rs.settled,
        variance=None if rs.basis == "actual_to_date" else rs.variance,
        carried_forward=rs.carried_forward,
    )


def partner_figures(p: PartnerBalance, names: Mapping[str, str]) -> dict[str, Any]:
    """A partner's line of either document, as keyword arguments: its name, its share
    of the planned contributions (10 decimals) and its balances."""
    return {
        "partner_id": p.partner_id,
        "name": names.get(p.partner_id, p.partner_id),
        "share": format_fraction(p.share, 10),
        "planned": p.planned,
        "received": p.received,
        "transfers_in": p.transfers_in,
        "transfers_out": p.transfers_out,
        "risk_share": p.risk_share,
        "net_obligation": p.net_obligation,
        "outstanding": p.outstanding,
    }

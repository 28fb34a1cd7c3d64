"""Figures 6.1-6.2: a pool-year's balances (also as CSV rows) and its risk share."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, Field

from api.schemas.fields import response_config
from api.schemas.trace import TracePublic
from ledger.domain import plan as p
from ledger.domain.money import format_fraction, format_pence
from projections import views as v

_PARTNER_BALANCE_EXAMPLE: dict[str, Any] = {
    "partner_id": "ncc",
    "planned": "2000000.00",
    "received": "1500000.00",
    "transfers_in": "0.00",
    "transfers_out": "0.00",
    "share": "0.5714285714",
    "risk_share": "57142.86",
    "net_obligation": "2057142.86",
    "outstanding": "557142.86",
    "planned_to_date": "500000.00",
}
_POOL_POSITION_EXAMPLE: dict[str, Any] = {
    "opening_balance": "0.00",
    "planned": "3500000.00",
    "income": "2500000.00",
    "spend": "1800000.00",
    "transfers_in": "0.00",
    "transfers_out": "0.00",
    "balance": "700000.00",
    "outturn": "3600000.00",
    "outturn_basis": "forecast",
    "variance": "100000.00",
    "to_date": "2025-06-30",
    "planned_to_date": "875000.00",
    "actual_to_date": "900000.00",
    "variance_to_date": "25000.00",
    "income_planned_to_date": "875000.00",
}


class PartnerBalancePublic(BaseModel):
    model_config = response_config(_PARTNER_BALANCE_EXAMPLE)
    partner_id: str
    planned: str
    received: str
    transfers_in: str
    transfers_out: str
    share: str
    risk_share: str
    net_obligation: str
    outstanding: str
    planned_to_date: str = Field(
        description="its planned contributions over the quarters ended by the figures' date"
    )


class PoolPositionPublic(BaseModel):
    model_config = response_config(_POOL_POSITION_EXAMPLE)
    opening_balance: str
    planned: str
    income: str
    spend: str
    transfers_in: str
    transfers_out: str
    balance: str
    outturn: str
    outturn_basis: v.Basis
    variance: str | None = Field(
        description="outturn - (planned + opening balance); null with basis "
        "actual_to_date (a part year's spend is no outturn: see the to-date figures)"
    )
    to_date: str | None = Field(
        description="the last day of the last quarter ended by the figures' date (their "
        "through date, else the as-at's date); null before the first quarter has ended"
    )
    planned_to_date: str = Field(description="planned spend over the quarters to date")
    actual_to_date: str = Field(description="spend to date")
    variance_to_date: str = Field(description="actual_to_date - planned_to_date")
    income_planned_to_date: str = Field(
        description="planned contributions over the quarters to date"
    )


class PartnerTransferPublic(BaseModel):
    model_config = response_config({"from": "icb-a", "to": "ncc", "amount": "75000.00"})
    from_: str = Field(serialization_alias="from")
    to: str
    amount: str


class BalancesPublic(BaseModel):
    """6.1: each partner's position and the pool's, for a year, as at a position."""

    model_config = response_config(
        {
            "pool_id": "eq",
            "year": "2025-26",
            "as_at_position": 1234,
            "partners": [_PARTNER_BALANCE_EXAMPLE],
            "pool": _POOL_POSITION_EXAMPLE,
            "partner_transfers": [],
        }
    )
    pool_id: str
    year: str
    as_at_position: int
    partners: list[PartnerBalancePublic]
    pool: PoolPositionPublic
    partner_transfers: list[PartnerTransferPublic] = Field(default_factory=list)
    trace: TracePublic | None = None


def balances_figure(b: BalancesPublic, figure: str) -> str | None:
    """The value a traced figure has in these balances, when it is one of theirs."""
    parts = figure.split(":")
    if len(parts) == 2 and parts[0] == "pool":
        found = b.pool.model_dump().get(parts[1])
        return found if isinstance(found, str) else None
    if len(parts) == 3 and parts[0] == "partner":
        row = next((x for x in b.partners if x.partner_id == parts[1]), None)
        found = row.model_dump().get(parts[2]) if row is not None else None
        return found if isinstance(found, str) else None
    return None


def balances_public(b: v.Balances) -> BalancesPublic:
    f = format_pence
    pool = b.pool
    return BalancesPublic(
        pool_id=b.pool_id,
        year=b.year,
        as_at_position=b.as_at_position,
        partners=[
            PartnerBalancePublic(
                partner_id=x.partner_id,
                planned=f(x.planned),
                received=f(x.received),
                transfers_in=f(x.transfers_in),
                transfers_out=f(x.transfers_out),
                share=format_fraction(x.share, 10),
                risk_share=f(x.risk_share),
                net_obligation=f(x.net_obligation),
                outstanding=f(x.outstanding),
                planned_to_date=f(x.planned_to_date),
            )
            for x in b.partners
        ],
        pool=PoolPositionPublic(
            opening_balance=f(pool.opening_balance),
            planned=f(pool.planned),
            income=f(pool.income),
            spend=f(pool.spend),
            transfers_in=f(pool.transfers_in),
            transfers_out=f(pool.transfers_out),
            balance=f(pool.balance),
            outturn=f(pool.outturn),
            outturn_basis=pool.outturn_basis,
            variance=None if pool.variance is None else f(pool.variance),
            to_date=pool.to_date_end.isoformat() if pool.to_date_end else None,
            planned_to_date=f(pool.planned_to_date),
            actual_to_date=f(pool.actual_to_date),
            variance_to_date=f(pool.variance_to_date),
            income_planned_to_date=f(pool.income_planned_to_date),
        ),
        partner_transfers=[
            PartnerTransferPublic(from_=a, to=b_, amount=f(amt))
            for a, b_, amt in b.partner_transfers
        ],
    )


BALANCE_CSV_COLUMNS = (
    "partner_id",
    "planned",
    "received",
    "transfers_in",
    "transfers_out",
    "share",
    "risk_share",
    "net_obligation",
    "outstanding",
    "planned_to_date",
)
POOL_CSV_FIELDS = (
    "opening_balance",
    "planned",
    "income",
    "spend",
    "transfers_in",
    "transfers_out",
    "balance",
    "outturn",
    "outturn_basis",
    "variance",
    "to_date",
    "planned_to_date",
    "actual_to_date",
    "variance_to_date",
    "income_planned_to_date",
)


def balances_csv_rows(b: BalancesPublic) -> list[list[str]]:
    """The balances as CSV: one row per partner, a blank row, then the pool's figures."""
    rows: list[list[str]] = [
        [f"pool_id={b.pool_id}", f"year={b.year}", f"as_at_position={b.as_at_position}"],
        list(BALANCE_CSV_COLUMNS),
    ]
    for x in b.partners:
        d = x.model_dump()
        rows.append([str(d[k]) for k in BALANCE_CSV_COLUMNS])
    rows.append([])
    rows.append(["pool_figure", "value"])
    pd = b.pool.model_dump()
    rows += [[k, "" if pd[k] is None else str(pd[k])] for k in POOL_CSV_FIELDS]
    return rows


class AllocationPublic(BaseModel):
    model_config = response_config({"partner_id": "ncc", "amount": "57142.86"})
    partner_id: str
    amount: str


class RiskSharePublic(BaseModel):
    """6.2: the variance, the rule applied and each partner's share."""

    model_config = response_config(
        {
            "pool_id": "eq",
            "year": "2025-26",
            "as_at_position": 1234,
            "variance": "100000.00",
            "direction": "overspend",
            "basis": "forecast",
            "settled": False,
            "method": "proportional",
            "rule": {"method": "proportional"},
            "allocations": [
                {"partner_id": "city", "amount": "28571.43"},
                {"partner_id": "icb-a", "amount": "14285.71"},
                {"partner_id": "ncc", "amount": "57142.86"},
            ],
            "carried_forward": "0.00",
        }
    )
    pool_id: str
    year: str
    as_at_position: int
    variance: str | None = Field(description="null with basis actual_to_date")
    direction: v.Direction
    basis: v.Basis
    settled: bool
    method: str
    rule: dict[str, Any]
    allocations: list[AllocationPublic]
    carried_forward: str
    trace: TracePublic | None = None


def rule_public(rule: Mapping[str, Any]) -> dict[str, Any]:
    """A stored risk rule in the shape a plan is sent in: shares and caps as maps,
    amounts as strings."""
    if not rule:
        return {}
    r = p.RiskRule.model_validate(rule)
    out: dict[str, Any] = {"method": r.method}
    if r.shares:
        out["shares"] = {s.partner_id: str(s.pct) for s in r.shares}
    if r.tiers:
        out["tiers"] = [
            {
                "up_to": None if t.up_to is None else format_pence(t.up_to),
                "shares": {s.partner_id: str(s.pct) for s in t.shares},
            }
            for t in r.tiers
        ]
    if r.caps:
        out["caps"] = {cap.partner_id: format_pence(cap.amount) for cap in r.caps}
    return out


def risk_share_public(x: v.RiskShareView) -> RiskSharePublic:
    return RiskSharePublic(
        pool_id=x.pool_id,
        year=x.year,
        as_at_position=x.as_at_position,
        variance=None if x.basis == "actual_to_date" else format_pence(x.variance),
        direction=x.direction,
        basis=x.basis,
        settled=x.settled,
        method=x.method,
        rule=rule_public(x.rule),
        allocations=[
            AllocationPublic(partner_id=k, amount=format_pence(a)) for k, a in x.allocations
        ],
        carried_forward=format_pence(x.carried_forward),
    )

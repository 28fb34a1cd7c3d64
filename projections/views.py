"""Typed answers of the read side. Money is integer pence; the API and the board
format it. Every view says the position it was answered as at."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Literal

Basis = Literal["actual", "forecast", "actual_to_date"]
Direction = Literal["overspend", "underspend", "none"]


@dataclass(frozen=True)
class PartnerView:
    partner_id: str
    name: str
    kind: str
    ods_code: str | None
    ons_code: str | None


@dataclass(frozen=True)
class PoolView:
    pool_id: str
    name: str
    kind: str
    host_partner_id: str
    members: tuple[str, ...]
    hwb_name: str | None
    hwb_ons_code: str | None
    years: tuple[str, ...]  # years with a plan in force
    closed_quarters: tuple[str, ...]
    settled_years: tuple[str, ...]


@dataclass(frozen=True)
class PartnerBalance:
    partner_id: str
    planned: int
    received: int
    transfers_in: int
    transfers_out: int
    share: Fraction
    risk_share: int
    net_obligation: int
    outstanding: int


@dataclass(frozen=True)
class PoolPosition:
    opening_balance: int
    planned: int
    income: int
    spend: int
    transfers_in: int
    transfers_out: int
    balance: int
    outturn: int
    outturn_basis: Basis
    variance: int


@dataclass(frozen=True)
class Balances:
    pool_id: str
    year: str
    as_at_position: int
    partners: tuple[PartnerBalance, ...]
    pool: PoolPosition
    partner_transfers: tuple[tuple[str, str, int], ...] = ()  # (from, to, amount)


@dataclass(frozen=True)
class RiskShareView:
    pool_id: str
    year: str
    as_at_position: int
    variance: int
    direction: Direction
    basis: Basis
    settled: bool
    rule: dict[str, object]  # the rule applied, as in the plan (JSON form)
    method: str
    allocations: tuple[tuple[str, int], ...]
    carried_forward: int = 0


@dataclass(frozen=True)
class RiskRewardPartner:
    partner_id: str
    costs: int
    savings: int
    outcome: int
    transfer: int


@dataclass(frozen=True)
class RiskRewardSchemeView:
    scheme_id: str
    name: str
    net_benefit: int
    partners: tuple[RiskRewardPartner, ...]
    settlements: tuple[tuple[str, str, int], ...]  # (from, to, amount)


@dataclass(frozen=True)
class RiskRewardView:
    pool_id: str
    period: str
    as_at_position: int
    schemes: tuple[RiskRewardSchemeView, ...]


@dataclass(frozen=True)
class UnitCapitation:
    unit_id: str
    weighted_population: dict[str, Fraction]  # quarter "Q1".. -> W
    annual: int
    quarters: dict[str, int]  # "Q1".."Q4"


@dataclass(frozen=True)
class CapitationView:
    pool_id: str
    year: str
    as_at_position: int
    budget: int
    excluded_personal_budgets: int
    units: tuple[UnitCapitation, ...]
    unallocated: dict[str, str] = field(default_factory=dict)  # quarter -> why


@dataclass(frozen=True)
class ServicePayment:
    service_id: str
    provider_id: str
    period: str
    commissioned_value: int
    base: int
    released: int
    total: int
    outcomes: tuple[tuple[str, int, bool | None], ...]  # (outcome, part, met or not assessed)


@dataclass(frozen=True)
class ProviderPayment:
    provider_id: str
    commissioned_value: int
    base: int
    released: int
    total: int
    services: tuple[ServicePayment, ...]


@dataclass(frozen=True)
class OutcomePaymentsView:
    pool_id: str
    period: str
    as_at_position: int
    providers: tuple[ProviderPayment, ...]


@dataclass(frozen=True)
class MetricView:
    metric_id: str
    name: str
    unit: str
    lower_is_better: bool
    period: str
    target: str
    actual: str
    status: Literal["green", "amber", "red"]


@dataclass(frozen=True)
class MetricsView:
    pool_id: str
    period: str
    as_at_position: int
    metrics: tuple[MetricView, ...]


@dataclass(frozen=True)
class SchemeSpend:
    scheme_id: str
    name: str
    scheme_type: str
    commissioner: str
    provider_type: str
    funding_stream: str
    planned: int
    actual_by_quarter: dict[str, int]  # quarter label -> net spend
    actual_year_to_date: int
    forecast_outturn: int
    outturn: int

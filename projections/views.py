"""Typed answers of the read side. Money is integer pence; the API and the board
format it. Every view says the position it was answered as at."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
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
    planned_to_date: int = 0  # its planned contributions over the quarters ended to date


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
    variance: int | None  # None with basis actual_to_date: a part year has no year variance
    # the plan to date (6.1): the quarters ended by the figures' date, by profile
    planned_to_date: int = 0  # planned spend
    actual_to_date: int = 0  # spend to date
    variance_to_date: int = 0  # actual_to_date - planned_to_date
    income_planned_to_date: int = 0  # planned contributions
    to_date_quarters: int = 0  # how many of the year's quarters had ended (0 to 4)
    to_date_end: date | None = None  # the last of them's last day


@dataclass(frozen=True)
class Balances:
    pool_id: str
    year: str
    as_at_position: int
    partners: tuple[PartnerBalance, ...]
    pool: PoolPosition
    partner_transfers: tuple[tuple[str, str, int], ...] = ()  # (from, to, amount)
    schemes_note: str | None = None  # why the schemes' outturns do not sum to the pool's


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
    actual_by_quarter: dict[str, int]  # every quarter label of the year -> net spend
    actual_year_to_date: int
    forecast_outturn: int
    outturn: int
    # False where the scheme has no outturn of its own (no scheme forecast while the
    # pool's outturn is a whole-pool forecast, or no forecast at all): then
    # ``forecast_outturn`` and ``outturn`` are only its plan and are not shown
    outturn_known: bool = True


@dataclass(frozen=True)
class StreamPartner:
    partner_id: str
    planned: int
    received_by_quarter: dict[str, int]  # quarter label -> net received
    received: int  # year to date


@dataclass(frozen=True)
class IncomeStream:
    funding_stream: str
    planned: int
    received_by_quarter: dict[str, int]  # every quarter of the year, zero included
    received: int  # year to date: contributions net of refunds and reversals
    partners: tuple[StreamPartner, ...]


@dataclass(frozen=True)
class IncomeByStreamView:
    pool_id: str
    year: str
    as_at_position: int
    streams: tuple[IncomeStream, ...]


@dataclass(frozen=True)
class PriorPeriodAdjustment:
    position: int
    event_id: str
    recorded_at: str
    kind: str  # a money line's kind (contribution, expenditure, ...) or a fact's type
    reversal: bool  # a reversal's negated line, or the reversal of a fact
    year: str
    quarter: str  # the (closed) quarter it counts in
    effective_date: date | None
    partner_id: str | None = None
    counterparty_id: str | None = None
    scheme_id: str | None = None
    funding_stream: str | None = None
    amount: int | None = None  # pence, for money lines (negative on a reversal)
    detail: str | None = None  # for facts: what it concerns (metric, unit/cohort, ...)


@dataclass(frozen=True)
class PriorPeriodAdjustmentsView:
    pool_id: str
    year: str
    as_at_position: int
    reported_after: int | None
    adjustments: tuple[PriorPeriodAdjustment, ...]


@dataclass(frozen=True)
class QuarterTrend:
    quarter: str
    income: int
    spend: int
    transfers_in: int
    transfers_out: int
    net: int  # income + transfers in - transfers out - spend
    closing_balance: int  # the pool balance at the quarter's end (opening + nets so far)


@dataclass(frozen=True)
class QuarterlyTrendView:
    pool_id: str
    year: str
    as_at_position: int
    opening_balance: int
    quarters: tuple[QuarterTrend, ...]

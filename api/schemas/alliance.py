"""Alliance figures 6.3-6.6: risk/reward, capitation, outcome payments and metrics."""

from __future__ import annotations

from fractions import Fraction
from typing import Literal

from pydantic import BaseModel, Field

from api.schemas.fields import response_config
from ledger.domain.money import format_fraction, format_pence
from projections import views as v


class RiskRewardPartnerPublic(BaseModel):
    model_config = response_config(
        {
            "partner_id": "icb",
            "costs": "0.00",
            "savings": "500000.00",
            "outcome": "100000.00",
            "transfer": "-400000.00",
        }
    )
    partner_id: str
    costs: str
    savings: str
    outcome: str
    transfer: str


class SettlementPublic(BaseModel):
    model_config = response_config({"from": "icb", "to": "ncc", "amount": "400000.00"})
    from_: str = Field(serialization_alias="from")
    to: str
    amount: str


class RiskRewardSchemePublic(BaseModel):
    model_config = response_config(
        {
            "scheme_id": "rapid-response",
            "name": "Rapid response",
            "net_benefit": "200000.00",
            "partners": [],
            "settlements": [{"from": "icb", "to": "ncc", "amount": "400000.00"}],
        }
    )
    scheme_id: str
    name: str
    net_benefit: str
    partners: list[RiskRewardPartnerPublic]
    settlements: list[SettlementPublic]


class RiskRewardPublic(BaseModel):
    """6.3: gain/loss share per scheme for a period."""

    model_config = response_config(
        {"pool_id": "alliance", "period": "2025-26-Q2", "as_at_position": 88, "schemes": []}
    )
    pool_id: str
    period: str
    as_at_position: int
    schemes: list[RiskRewardSchemePublic]


def risk_reward_public(x: v.RiskRewardView) -> RiskRewardPublic:
    f = format_pence
    return RiskRewardPublic(
        pool_id=x.pool_id,
        period=x.period,
        as_at_position=x.as_at_position,
        schemes=[
            RiskRewardSchemePublic(
                scheme_id=s.scheme_id,
                name=s.name,
                net_benefit=f(s.net_benefit),
                partners=[
                    RiskRewardPartnerPublic(
                        partner_id=pp.partner_id,
                        costs=f(pp.costs),
                        savings=f(pp.savings),
                        outcome=f(pp.outcome),
                        transfer=f(pp.transfer),
                    )
                    for pp in s.partners
                ],
                settlements=[
                    SettlementPublic(from_=a, to=b, amount=f(amt)) for a, b, amt in s.settlements
                ],
            )
            for s in x.schemes
        ],
    )


class UnitCapitationPublic(BaseModel):
    model_config = response_config(
        {
            "unit_id": "north",
            "weighted_population": {"Q1": "129500", "Q2": "129500", "Q3": "129500", "Q4": "129500"},
            "annual": "5258883.25",
            "quarters": {
                "Q1": "1314720.82",
                "Q2": "1314720.81",
                "Q3": "1314720.81",
                "Q4": "1314720.81",
            },
        }
    )
    unit_id: str
    weighted_population: dict[str, str]
    annual: str
    quarters: dict[str, str]


class CapitationPublic(BaseModel):
    """6.4: the capitated budget shared by weighted population, annual and per quarter."""

    model_config = response_config(
        {
            "pool_id": "alliance",
            "year": "2025-26",
            "as_at_position": 88,
            "budget": "12000000.00",
            "excluded_personal_budgets": "1500000.00",
            "units": [],
            "unallocated": {},
        }
    )
    pool_id: str
    year: str
    as_at_position: int
    budget: str
    excluded_personal_budgets: str
    units: list[UnitCapitationPublic]
    unallocated: dict[str, str] = Field(description="quarter -> why it was not allocated")


def _fraction_text(x: Fraction) -> str:
    return str(x.numerator) if x.denominator == 1 else format_fraction(x, 4)


def capitation_public(x: v.CapitationView) -> CapitationPublic:
    return CapitationPublic(
        pool_id=x.pool_id,
        year=x.year,
        as_at_position=x.as_at_position,
        budget=format_pence(x.budget),
        excluded_personal_budgets=format_pence(x.excluded_personal_budgets),
        units=[
            UnitCapitationPublic(
                unit_id=u.unit_id,
                weighted_population={
                    q: _fraction_text(w) for q, w in u.weighted_population.items()
                },
                annual=format_pence(u.annual),
                quarters={q: format_pence(a) for q, a in u.quarters.items()},
            )
            for u in x.units
        ],
        unallocated=dict(x.unallocated),
    )


class OutcomePartPublic(BaseModel):
    model_config = response_config({"outcome_id": "independence", "amount": "4250.00", "met": True})
    outcome_id: str
    amount: str
    met: bool | None = Field(description="null while not assessed")


class ServicePaymentPublic(BaseModel):
    model_config = response_config(
        {
            "service_id": "hc-bassetlaw-q1",
            "period": "2025-26-Q1",
            "commissioned_value": "170000.00",
            "base": "161500.00",
            "released": "4250.00",
            "total": "165750.00",
            "outcomes": [{"outcome_id": "independence", "amount": "4250.00", "met": True}],
        }
    )
    service_id: str
    period: str
    commissioned_value: str
    base: str
    released: str
    total: str
    outcomes: list[OutcomePartPublic]


class ProviderPaymentPublic(BaseModel):
    model_config = response_config(
        {
            "provider_id": "mears",
            "commissioned_value": "170000.00",
            "base": "161500.00",
            "released": "4250.00",
            "total": "165750.00",
            "services": [],
        }
    )
    provider_id: str
    commissioned_value: str
    base: str
    released: str
    total: str
    services: list[ServicePaymentPublic]


class OutcomePaymentsPublic(BaseModel):
    """6.5: base and outcome-released payments per provider for a period."""

    model_config = response_config(
        {"pool_id": "alliance", "period": "2025-26-Q1", "as_at_position": 88, "providers": []}
    )
    pool_id: str
    period: str
    as_at_position: int
    providers: list[ProviderPaymentPublic]


def outcome_payments_public(x: v.OutcomePaymentsView) -> OutcomePaymentsPublic:
    f = format_pence
    return OutcomePaymentsPublic(
        pool_id=x.pool_id,
        period=x.period,
        as_at_position=x.as_at_position,
        providers=[
            ProviderPaymentPublic(
                provider_id=pr.provider_id,
                commissioned_value=f(pr.commissioned_value),
                base=f(pr.base),
                released=f(pr.released),
                total=f(pr.total),
                services=[
                    ServicePaymentPublic(
                        service_id=s.service_id,
                        period=s.period,
                        commissioned_value=f(s.commissioned_value),
                        base=f(s.base),
                        released=f(s.released),
                        total=f(s.total),
                        outcomes=[
                            OutcomePartPublic(outcome_id=o, amount=f(a), met=met)
                            for o, a, met in s.outcomes
                        ],
                    )
                    for s in pr.services
                ],
            )
            for pr in x.providers
        ],
    )


class MetricPublic(BaseModel):
    model_config = response_config(
        {
            "metric_id": "ed-attendances",
            "name": "Emergency department attendances",
            "unit": "attendances",
            "lower_is_better": True,
            "period": "2025-26-Q2",
            "target": "1200",
            "actual": "1236",
            "status": "amber",
        }
    )
    metric_id: str
    name: str
    unit: str
    lower_is_better: bool
    period: str
    target: str
    actual: str
    status: Literal["green", "amber", "red"]


class MetricsPublic(BaseModel):
    """6.6: each metric's target, actual and status."""

    model_config = response_config(
        {"pool_id": "alliance", "period": "2025-26-Q2", "as_at_position": 88, "metrics": []}
    )
    pool_id: str
    period: str
    as_at_position: int
    metrics: list[MetricPublic]


def metrics_public(x: v.MetricsView) -> MetricsPublic:
    return MetricsPublic(
        pool_id=x.pool_id,
        period=x.period,
        as_at_position=x.as_at_position,
        metrics=[
            MetricPublic(
                metric_id=m.metric_id,
                name=m.name,
                unit=m.unit,
                lower_is_better=m.lower_is_better,
                period=m.period,
                target=m.target,
                actual=m.actual,
                status=m.status,
            )
            for m in x.metrics
        ],
    )

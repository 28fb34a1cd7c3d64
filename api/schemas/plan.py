"""The plan body: a pool-year's contributions, schemes, risk rules and alliance terms."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field, StrictBool

from api.schemas.fields import (
    Amount,
    AmountOrZero,
    Cohort,
    DecimalStr,
    Hours,
    Ident,
    Name,
    Pct,
    PeriodLabel,
    Slug,
    Unit,
    request_config,
)
from ledger.domain import commands as c
from ledger.domain import plan as p


class PlannedContributionIn(BaseModel):
    model_config = request_config(
        {"partner_id": "ncc", "funding_stream": "contribution", "amount": "2000000.00"}
    )
    partner_id: Slug
    funding_stream: Ident
    amount: AmountOrZero
    quarters: list[AmountOrZero] | None = Field(
        default=None,
        min_length=4,
        max_length=4,
        description="the quarterly profile, Q1 to Q4, summing to the amount; default: "
        "four straight-line quarters (the extra pennies to Q1 first)",
    )


class JointSplitIn(BaseModel):
    model_config = request_config({"la": "60", "icb": "40"})
    la: Pct
    icb: Pct


class SchemeIn(BaseModel):
    model_config = request_config(
        {
            "id": "carers",
            "name": "Carers' breaks",
            "scheme_type": "Carers Services",
            "commissioner": "joint",
            "joint_split": {"la": "60", "icb": "40"},
            "provider_type": "Charity / Voluntary Sector",
            "funding_stream": "minimum_nhs_contribution",
            "planned": "450000.00",
        }
    )
    id: Slug
    name: Name
    scheme_type: Name
    commissioner: Slug = Field(description="la, icb, joint or a member partner's id")
    joint_split: JointSplitIn | None = None
    provider_type: Name
    funding_stream: Ident
    planned: AmountOrZero
    quarters: list[AmountOrZero] | None = Field(
        default=None,
        min_length=4,
        max_length=4,
        description="the quarterly profile of planned spend, Q1 to Q4, summing to planned; "
        "default: four straight-line quarters (the extra pennies to Q1 first)",
    )


class TierIn(BaseModel):
    model_config = request_config({"up_to": "50000.00", "shares": {"ncc": "100"}})
    up_to: Amount | None = Field(description="cumulative top of the band; null for the last")
    shares: dict[Slug, Pct] = Field(max_length=200)


class RuleIn(BaseModel):
    model_config = request_config(
        {
            "method": "tiered",
            "tiers": [
                {"up_to": "50000.00", "shares": {"ncc": "100"}},
                {"up_to": None, "shares": {"ncc": "50", "city": "30", "icb-a": "20"}},
            ],
            "caps": {"icb-a": "20000.00"},
        }
    )
    method: p.RiskMethod
    shares: dict[Slug, Pct] = Field(default_factory=dict, max_length=200)
    tiers: list[TierIn] = Field(default_factory=list, max_length=50)
    caps: dict[Slug, Amount] = Field(default_factory=dict, max_length=200)

    def rule(self) -> p.RiskRule:
        return p.RiskRule(
            method=self.method,
            shares=_shares(self.shares),
            tiers=tuple(p.Tier(up_to=t.up_to, shares=_shares(t.shares)) for t in self.tiers),
            caps=tuple(p.Cap(partner_id=k, amount=a) for k, a in self.caps.items()),
        )


class RiskShareIn(BaseModel):
    model_config = request_config(
        {"overspend": {"method": "proportional"}, "underspend": {"method": "carry_forward"}}
    )
    overspend: RuleIn = RuleIn(method="proportional")
    underspend: RuleIn = RuleIn(method="proportional")


class RiskRewardSchemeIn(BaseModel):
    model_config = request_config(
        {
            "id": "rapid-response",
            "name": "Rapid response",
            "gain_shares": {"ncc": "50", "icb": "50"},
            "loss_shares": {"ncc": "70", "icb": "30"},
        }
    )
    id: Slug
    name: Name
    gain_shares: dict[Slug, Pct] = Field(max_length=200)
    loss_shares: dict[Slug, Pct] = Field(max_length=200)


class CapitationIn(BaseModel):
    model_config = request_config(
        {
            "budget": "12000000.00",
            "excluded_personal_budgets": "1500000.00",
            "weights": {"0-64": "1.0", "65-84": "2.5", "85+": "6.0"},
        }
    )
    budget: AmountOrZero
    excluded_personal_budgets: AmountOrZero = 0
    weights: dict[Cohort, DecimalStr] = Field(max_length=100)


class CommissionedServiceIn(BaseModel):
    model_config = request_config(
        {
            "id": "hc-bassetlaw-q1",
            "provider_id": "mears",
            "period": "2025-26-Q1",
            "hours": "10000",
            "rate": "17.00",
            "base_pct": "95",
            "outcomes": ["independence", "satisfaction"],
        }
    )
    id: Slug
    provider_id: Slug
    period: PeriodLabel
    hours: Hours
    rate: Amount
    base_pct: Pct
    outcomes: list[Slug] = Field(default_factory=list, max_length=50)
    unit_id: Slug | None = None


class MetricDefinitionIn(BaseModel):
    model_config = request_config(
        {
            "id": "ed-attendances",
            "name": "Emergency department attendances",
            "unit": "attendances",
            "lower_is_better": True,
        }
    )
    id: Ident
    name: Name
    unit: Unit
    lower_is_better: StrictBool


class ContributionScheduleIn(BaseModel):
    model_config = request_config({"partner_id": "city", "frequency": "monthly", "day_of_month": 1})
    partner_id: Slug
    frequency: Literal["monthly", "quarterly"] = "quarterly"
    day_of_month: int = Field(
        default=1, ge=1, le=28, description="the day each instalment falls due (1-28)"
    )


PLAN_EXAMPLE: dict[str, Any] = {
    "contributions": [
        {"partner_id": "ncc", "funding_stream": "contribution", "amount": "2000000.00"},
        {"partner_id": "city", "funding_stream": "contribution", "amount": "1000000.00"},
        {"partner_id": "icb-a", "funding_stream": "contribution", "amount": "500000.00"},
    ],
    "schemes": [
        {
            "id": "equipment",
            "name": "Community equipment",
            "scheme_type": "Assistive Technologies and Equipment",
            "commissioner": "ncc",
            "provider_type": "Private Sector",
            "funding_stream": "contribution",
            "planned": "3500000.00",
        }
    ],
    "risk_share": {
        "overspend": {"method": "proportional"},
        "underspend": {"method": "proportional"},
    },
}


class PlanPut(BaseModel):
    """A pool-year's whole agreement; every part is optional and the plan supersedes the
    previous one as a whole."""

    model_config = request_config(PLAN_EXAMPLE)
    contributions: list[PlannedContributionIn] = Field(default_factory=list, max_length=1000)
    schemes: list[SchemeIn] = Field(default_factory=list, max_length=1000)
    risk_share: RiskShareIn = RiskShareIn()
    risk_reward_schemes: list[RiskRewardSchemeIn] = Field(default_factory=list, max_length=200)
    capitation: CapitationIn | None = None
    commissioned_services: list[CommissionedServiceIn] = Field(
        default_factory=list, max_length=1000
    )
    metrics: list[MetricDefinitionIn] = Field(default_factory=list, max_length=200)
    contribution_schedules: list[ContributionScheduleIn] = Field(
        default_factory=list,
        max_length=200,
        description="when each partner's planned contribution falls due; a partner not "
        "listed pays in equal quarterly instalments on each quarter's first day",
    )

    def command(self, pool: str, year: str) -> c.AgreePlan:
        plan = p.Plan(
            contributions=tuple(
                p.PlannedContribution(
                    partner_id=x.partner_id,
                    funding_stream=x.funding_stream,
                    amount=x.amount,
                    quarters=_profile(x.quarters),
                )
                for x in self.contributions
            ),
            schemes=tuple(
                p.Scheme(
                    id=s.id,
                    name=s.name,
                    scheme_type=s.scheme_type,
                    commissioner=s.commissioner,
                    joint_split=p.JointSplit(la=s.joint_split.la, icb=s.joint_split.icb)
                    if s.joint_split
                    else None,
                    provider_type=s.provider_type,
                    funding_stream=s.funding_stream,
                    planned=s.planned,
                    quarters=_profile(s.quarters),
                )
                for s in self.schemes
            ),
            risk_share=p.RiskShareRules(
                overspend=self.risk_share.overspend.rule(),
                underspend=self.risk_share.underspend.rule(),
            ),
            risk_reward_schemes=tuple(
                p.RiskRewardScheme(
                    id=r.id,
                    name=r.name,
                    gain_shares=_shares(r.gain_shares),
                    loss_shares=_shares(r.loss_shares),
                )
                for r in self.risk_reward_schemes
            ),
            capitation=p.Capitation(
                budget=self.capitation.budget,
                excluded_personal_budgets=self.capitation.excluded_personal_budgets,
                weights=tuple(
                    p.CohortWeight(cohort=k, weight=w) for k, w in self.capitation.weights.items()
                ),
            )
            if self.capitation
            else None,
            commissioned_services=tuple(
                p.CommissionedService(
                    id=s.id,
                    provider_id=s.provider_id,
                    period=s.period,
                    hours=s.hours,
                    rate=s.rate,
                    base_pct=s.base_pct,
                    outcomes=tuple(s.outcomes),
                    unit_id=s.unit_id,
                )
                for s in self.commissioned_services
            ),
            metrics=tuple(
                p.MetricDefinition(
                    id=m.id, name=m.name, unit=m.unit, lower_is_better=m.lower_is_better
                )
                for m in self.metrics
            ),
            contribution_schedules=tuple(
                p.ContributionSchedule(
                    partner_id=x.partner_id, frequency=x.frequency, day_of_month=x.day_of_month
                )
                for x in self.contribution_schedules
            ),
        )
        return c.AgreePlan(pool_id=pool, year=year, plan=plan)


def _profile(quarters: list[int] | None) -> p.Profile | None:
    if quarters is None:
        return None
    q1, q2, q3, q4 = quarters  # four, as the field requires
    return (q1, q2, q3, q4)


def _shares(shares: Mapping[str, Decimal]) -> tuple[p.Share, ...]:
    return tuple(p.Share(partner_id=k, pct=v) for k, v in shares.items())

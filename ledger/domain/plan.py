"""A pool-year's agreement (the plan): one value held whole by ``plan agreed``.

Amounts are integer pence; percentages, weights and hours are ``Decimal``. Maps are
tuples of pairs (frozen all the way down) with helpers to read them as dicts.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import Field

from ledger.domain.model import Frozen
from ledger.domain.money import allocate

RiskMethod = Literal["proportional", "fixed", "tiered", "by_commissioner", "carry_forward"]
Commissioner = str  # "la", "icb", "joint", or a member partner's id


class Share(Frozen):
    partner_id: str
    pct: Decimal


class Cap(Frozen):
    partner_id: str
    amount: int  # pence


class Tier(Frozen):
    up_to: int | None  # cumulative top of the band, pence; None = open-ended (last band)
    shares: tuple[Share, ...]


class RiskRule(Frozen):
    method: RiskMethod
    shares: tuple[Share, ...] = ()  # fixed
    tiers: tuple[Tier, ...] = ()  # tiered
    caps: tuple[Cap, ...] = ()  # overspend rules only; never on the host


class RiskShareRules(Frozen):
    overspend: RiskRule = RiskRule(method="proportional")
    underspend: RiskRule = RiskRule(method="proportional")


_QUARTERS = (1, 2, 3, 4)
Profile = tuple[int, int, int, int]  # pence in Q1..Q4, summing to the annual figure


def phased(amount: int, profile: Profile | None) -> Profile:
    """An annual figure by quarter: its profile, else four straight-line quarters by
    largest remainder (the extra pennies to the earlier quarters: Q1 first)."""
    if profile is not None:
        return profile
    parts = allocate(amount, dict.fromkeys(_QUARTERS, 1), _QUARTERS)
    return (parts[1], parts[2], parts[3], parts[4])


class PlannedContribution(Frozen):
    partner_id: str
    funding_stream: str
    amount: int  # pence
    quarters: Profile | None = None  # the quarterly profile; None: straight line


class JointSplit(Frozen):
    la: Decimal
    icb: Decimal


class Scheme(Frozen):
    id: str
    name: str
    scheme_type: str
    commissioner: Commissioner
    joint_split: JointSplit | None = None
    provider_type: str
    funding_stream: str
    planned: int  # pence
    quarters: Profile | None = None  # the quarterly profile; None: straight line


class RiskRewardScheme(Frozen):
    id: str
    name: str
    gain_shares: tuple[Share, ...]
    loss_shares: tuple[Share, ...]


class CohortWeight(Frozen):
    cohort: str
    weight: Decimal


class Capitation(Frozen):
    budget: int  # pence, net of personal budgets
    excluded_personal_budgets: int = 0  # pence, tracked alongside, never allocated
    weights: tuple[CohortWeight, ...]


class CommissionedService(Frozen):
    id: str
    provider_id: str
    period: str  # a period label
    hours: Decimal  # at most two decimals
    rate: int  # pence per hour
    base_pct: Decimal
    outcomes: tuple[str, ...]
    unit_id: str | None = None  # locality or lot, for reporting


class MetricDefinition(Frozen):
    id: str
    name: str
    unit: str
    lower_is_better: bool


class ContributionSchedule(Frozen):
    """When a partner's planned contribution falls due: its year's total in equal
    monthly or quarterly instalments (largest remainder, leftover pennies to the
    earliest), each due on ``day_of_month`` of the month or of the quarter's first
    month. A partner without one pays quarterly on the quarter's first day."""

    partner_id: str
    frequency: Literal["monthly", "quarterly"] = "quarterly"
    day_of_month: int = 1  # 1 to 28, so every month has it


def _empty(value: tuple[object, ...]) -> bool:
    return not value


class Plan(Frozen):
    contributions: tuple[PlannedContribution, ...] = ()
    schemes: tuple[Scheme, ...] = ()
    risk_share: RiskShareRules = RiskShareRules()
    risk_reward_schemes: tuple[RiskRewardScheme, ...] = ()
    capitation: Capitation | None = None
    commissioned_services: tuple[CommissionedService, ...] = ()
    metrics: tuple[MetricDefinition, ...] = ()
    # Optional, and left out of the stored payload when empty: a plan without schedules
    # is stored byte for byte as before the field existed (no new schema version).
    contribution_schedules: tuple[ContributionSchedule, ...] = Field(default=(), exclude_if=_empty)

    def schedule_of(self, partner_id: str) -> ContributionSchedule:
        found = next((s for s in self.contribution_schedules if s.partner_id == partner_id), None)
        return found or ContributionSchedule(partner_id=partner_id)

    def planned_by_partner(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for c in self.contributions:
            out[c.partner_id] = out.get(c.partner_id, 0) + c.amount
        return out

    @property
    def planned_total(self) -> int:
        return sum(c.amount for c in self.contributions)

    def planned_to_date(self, quarters: int) -> tuple[dict[str, int], int]:
        """Each partner's planned contributions and the planned spend over the year's
        first ``quarters`` quarters (0 to 4), by their profiles."""
        partners: dict[str, int] = {}
        for c in self.contributions:
            part = sum(phased(c.amount, c.quarters)[:quarters])
            partners[c.partner_id] = partners.get(c.partner_id, 0) + part
        spend = sum(sum(phased(s.planned, s.quarters)[:quarters]) for s in self.schemes)
        return partners, spend

    def scheme(self, scheme_id: str) -> Scheme | None:
        return next((s for s in self.schemes if s.id == scheme_id), None)

"""Commands: what an actor asks the ledger to do. Parsed and normalised at the edge
(amounts already in pence), checked by ``decide``, turned into events."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from ledger.domain.events import (
    HwbArea,
    PartnerAmount,
    PartnerKind,
    Party,
    PoolKind,
    TransferPurpose,
)
from ledger.domain.model import Frozen
from ledger.domain.plan import Plan

Role = Literal["admin", "finance_officer", "board", "auditor"]


class Actor(Frozen):
    """Who is acting: a token's role and partner, and the person or system named on it."""

    name: str
    role: Role
    partner_id: str | None = None
    token_id: str | None = None


class Command(Frozen):
    """Something an actor asks the ledger to do; ``decide`` checks it against the rules
    and, if it is allowed, turns it into events."""


class RegisterPartner(Command):
    """Register a partner organisation (admin)."""

    partner_id: str
    name: str
    kind: PartnerKind
    ods_code: str | None = None
    ons_code: str | None = None


class EstablishPool(Command):
    """Set up a pooled fund with its host and members (admin)."""

    pool_id: str
    name: str
    kind: PoolKind
    host_partner_id: str
    members: tuple[str, ...]
    hwb_area: HwbArea | None = None


class JoinPool(Command):
    """Add a partner to a pool's members (admin)."""

    pool_id: str
    partner_id: str


class AgreePlan(Command):
    """Record a pool's agreed plan for a year, replacing any earlier one as a whole (admin)."""

    pool_id: str
    year: str
    plan: Plan


class RecordOpeningBalance(Command):
    """Record the balance the pool brought in from before the ledger (admin; first plan year)."""

    pool_id: str
    year: str
    amount: int
    note: str


class PostContribution(Command):
    """Post money a partner paid into the pool (its own partner's officer, or the host's)."""

    pool_id: str
    partner_id: str
    funding_stream: str
    amount: int
    effective_date: date
    year: str | None = None
    reference: str
    prior_period_adjustment: bool = False


class RefundContribution(Command):
    """Pay money back from the pool to a partner (the host's officer)."""

    pool_id: str
    partner_id: str
    funding_stream: str
    amount: int
    effective_date: date
    year: str | None = None
    reference: str
    refunds_event_id: str | None = None
    prior_period_adjustment: bool = False


class RecordExpenditure(Command):
    """Record spend from the pool against a scheme (the host's finance officer)."""

    pool_id: str
    scheme_id: str
    amount: int
    effective_date: date
    reference: str
    prior_period_adjustment: bool = False


class CreditExpenditure(Command):
    """Record a credit note or refund received against a scheme's spend (the host's officer)."""

    pool_id: str
    scheme_id: str
    amount: int
    effective_date: date
    reference: str
    credits_event_id: str | None = None
    prior_period_adjustment: bool = False


class PostTransfer(Command):
    """Move money between partners, or between a partner and the pool."""

    pool_id: str
    from_party: Party
    to_party: Party
    amount: int
    purpose: TransferPurpose
    effective_date: date
    reference: str
    prior_period_adjustment: bool = False


class RecordForecast(Command):
    """Record the forecast outturn for a year, for the pool or one scheme (the host)."""

    pool_id: str
    year: str
    amount: int
    scheme_id: str | None = None
    as_of_date: date


class RecordRiskRewardResult(Command):
    """Record a risk/reward scheme's costs and savings per partner for a period (the host)."""

    pool_id: str
    scheme_id: str
    period: str
    costs: tuple[PartnerAmount, ...]
    savings: tuple[PartnerAmount, ...]
    prior_period_adjustment: bool = False


class RecordPopulation(Command):
    """Record a unit's population in a cohort, in force from a date (the host's officer)."""

    pool_id: str
    unit_id: str
    cohort: str
    count: int
    effective_date: date
    prior_period_adjustment: bool = False


class AssessOutcome(Command):
    """Record whether a commissioned service's outcome was met in a period (the host)."""

    pool_id: str
    service_id: str
    outcome_id: str
    period: str
    met: bool
    assessed_on: date
    prior_period_adjustment: bool = False


class RecordMetric(Command):
    """Record a metric's target and actual for a period (the host's finance officer)."""

    pool_id: str
    metric_id: str
    period: str
    target: Decimal
    actual: Decimal
    prior_period_adjustment: bool = False


class ReverseEvent(Command):
    """Undo a mistaken fact: it stops counting from now on, with a reason (the officer whose
    partner posted it, or an admin)."""

    event_id: str
    reason: str
    prior_period_adjustment: bool = False


class ClosePeriod(Command):
    """Close the next quarter of a pool once it has ended (admin)."""

    pool_id: str
    quarter: str
    automatic: bool = False


class SettleRiskShare(Command):
    """The settlement figures are computed by the read side and passed in; the
    decider checks that Q4 is closed and the year is not already settled."""

    pool_id: str
    year: str
    variance: int
    direction: Literal["overspend", "underspend", "none"]
    method: str
    allocations: tuple[PartnerAmount, ...]
    carried_forward: int = 0
    as_at_position: int | None = None  # where the figures were read; refused if stale


class GenerateReturn(Command):
    """File a return (admin or scheduler): the first for a pool and quarter is kept for ever."""

    pool_id: str
    quarter: str
    kind: Literal["bcf_quarterly", "s75_memorandum"] = "bcf_quarterly"
    as_at_position: int
    data_as_at: str
    chain_head: str
    content_hash: str
    documents: tuple[tuple[str, str], ...]  # (format, sha256)
    close_quarter: bool = True


class RefileReturn(Command):
    """File a new version of a filed BCF return not yet approved (admin): the version
    the admin saw (``supersedes_version``, its event ``supersedes_event_id``) and the
    new content's as-at position, hashes and documents."""

    pool_id: str
    quarter: str
    reason: str
    supersedes_version: int
    supersedes_event_id: str
    as_at_position: int
    data_as_at: str
    chain_head: str
    content_hash: str
    documents: tuple[tuple[str, str], ...]  # (format, sha256)


class ApproveReturn(Command):
    """Sign off a filed return (admin)."""

    pool_id: str
    quarter: str
    note: str = ""


class SubmitReturn(Command):
    """Record that a filed return was sent (admin)."""

    pool_id: str
    quarter: str
    reference: str = ""


# --- the BCF return's further parts -------------------------------------------------


class AssureNationalCondition(Command):
    pool_id: str
    quarter: str
    condition_id: str
    answer: bool
    explanation: str = ""


class AssessMetric(Command):
    pool_id: str
    quarter: str
    metric_id: str
    assessment: str
    challenges: str = ""
    achievements: str = ""
    support_needs: str = ""


class RecordSchemeActivity(Command):
    pool_id: str
    quarter: str
    scheme_id: str
    planned_output: Decimal
    output_delivered: Decimal
    unit: str
    scheme_sub_type: str = ""
    area_of_spend: str | None = None
    new_scheme: bool | None = None


class RecordFeeRates(Command):
    """Average fees in pence."""

    pool_id: str
    year: str
    home_care_per_hour_before: int
    home_care_per_hour_after: int
    residential_per_week_before: int
    residential_per_week_after: int
    nursing_per_week_before: int
    nursing_per_week_after: int


class ExplainIncomeVariance(Command):
    pool_id: str
    year: str
    commentary: str


class GiveYearEndFeedback(Command):
    pool_id: str
    year: str
    statement_id: str
    answer: str
    comment: str


class RecordReturnContacts(Command):
    pool_id: str
    quarter: str
    completed_by: str
    role: str = ""
    email: str
    telephone: str = ""


class SignOffReturn(Command):
    pool_id: str
    quarter: str
    signed_off_by: str
    role: str
    signed_off_on: date

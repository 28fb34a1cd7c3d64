"""The catalogue of facts the ledger records (domain.md section 5).

Each event is a frozen pydantic model with a fixed ``type`` name (never renamed) and a
``schema_version``. Envelope data (position, ids, recorded time, actor, request) lives
in store columns, not here. Amounts are integer pence. When an event's shape changes,
bump ``schema_version`` and register an upcaster (``ledger.store.upcasting``).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import ClassVar, Literal

from ledger.domain.model import Frozen
from ledger.domain.plan import Plan

PartnerKind = Literal[
    "local_authority",
    "icb",
    "nhs_trust",
    "district_council",
    "voluntary_sector",
    "independent_provider",
]
PoolKind = Literal["section_75", "bcf", "alliance"]
TransferPurpose = Literal["s256", "s75", "other"]


class Event(Frozen):
    type: ClassVar[str]
    schema_version: ClassVar[int] = 1
    reversible: ClassVar[bool] = False

    @property
    def pool_id_or_none(self) -> str | None:
        return getattr(self, "pool_id", None)


class HwbArea(Frozen):
    name: str
    ons_code: str


class PartnerAmount(Frozen):
    partner_id: str
    amount: int  # pence


class Party(Frozen):
    """One side of a transfer: a partner or a pool."""

    partner_id: str | None = None
    pool_id: str | None = None


# --- parties and pools -------------------------------------------------------------


class PartnerRegistered(Event):
    """A partner organisation (council, ICB, NHS trust, provider) was registered with the ledger."""

    type: ClassVar[str] = "partner_registered"
    partner_id: str
    name: str
    kind: PartnerKind
    ods_code: str | None = None
    ons_code: str | None = None


class PoolEstablished(Event):
    """A pooled fund was set up: its host (the lead commissioner who keeps the books), its
    first members and, for a BCF pool, its Health and Wellbeing Board area."""

    type: ClassVar[str] = "pool_established"
    pool_id: str
    name: str
    kind: PoolKind
    host_partner_id: str
    members: tuple[str, ...]
    hwb_area: HwbArea | None = None


class PartnerJoined(Event):
    """A partner joined an existing pool as a member."""

    type: ClassVar[str] = "partner_joined"
    pool_id: str
    partner_id: str


class PlanAgreed(Event):
    """The partners agreed a pool's plan for a financial year: planned contributions,
    schemes, risk-share rules and the alliance parts, all in one fact. A later plan for
    the same year replaces it as a whole; reversing it restores the one before.

    Schema 2: each planned contribution and scheme may carry a quarterly profile
    (``quarters``); a schema 1 payload is upcast with none (straight-line quarters)."""

    type: ClassVar[str] = "plan_agreed"
    schema_version: ClassVar[int] = 2
    reversible: ClassVar[bool] = True
    pool_id: str
    year: str
    plan: Plan
    reference_hash: str | None = None  # the reference data version it was checked against


class ReferenceDataRecorded(Event):
    """The ledger first used a version of a year's reference lists (funding streams,
    scheme types, metrics, calendar); its content and hash are kept so later changes to
    the shipped files never change a past answer."""

    type: ClassVar[str] = "reference_data_recorded"
    year: str
    content_hash: str
    content: str  # canonical JSON of the list as used


# --- money ---------------------------------------------------------------------------


class OpeningBalanceRecorded(Event):
    """The balance a pool brought in from before the ledger (its first plan year only;
    may be negative)."""

    type: ClassVar[str] = "opening_balance_recorded"
    reversible: ClassVar[bool] = True
    pool_id: str
    year: str
    amount: int  # may be negative
    note: str
    effective_date: date


class _Posting(Event):
    reversible: ClassVar[bool] = True
    pool_id: str
    amount: int
    effective_date: date
    year: str
    reference: str
    prior_period_adjustment: bool = False


class ContributionPosted(_Posting):
    """Money received into the pool from a partner, for a financial year and funding
    stream."""

    type: ClassVar[str] = "contribution_posted"
    partner_id: str
    funding_stream: str


class ContributionRefunded(_Posting):
    """Money paid back from the pool to a partner, with its own date (a real movement,
    not a correction), optionally naming the contribution it refunds."""

    type: ClassVar[str] = "contribution_refunded"
    partner_id: str
    funding_stream: str
    refunds_event_id: str | None = None


class ExpenditureRecorded(_Posting):
    """Money spent from the pool against a scheme (an invoice or payment)."""

    type: ClassVar[str] = "expenditure_recorded"
    scheme_id: str
    funding_stream: str  # the scheme's, as planned when recorded


class ExpenditureCredited(_Posting):
    """A credit note or refund received against a scheme's spend, with its own date."""

    type: ClassVar[str] = "expenditure_credited"
    scheme_id: str
    funding_stream: str
    credits_event_id: str | None = None


class TransferPosted(_Posting):
    """Money moved between two partners, or between a partner and the pool (s.256,
    s.75 or other purpose), recorded in the pool it belongs to."""

    type: ClassVar[str] = "transfer_posted"
    from_party: Party
    to_party: Party
    purpose: TransferPurpose


class ForecastRecorded(Event):
    """The pool manager's forecast outturn for the year, for the whole pool or one
    scheme, as of a date."""

    type: ClassVar[str] = "forecast_recorded"
    reversible: ClassVar[bool] = True
    pool_id: str
    year: str
    amount: int
    scheme_id: str | None = None
    as_of_date: date


# --- alliance facts ------------------------------------------------------------------


class RiskRewardResultRecorded(Event):
    """An alliance risk/reward scheme's extra costs and savings for each partner in a
    period, from which the gain or loss share is worked out."""

    type: ClassVar[str] = "risk_reward_result_recorded"
    reversible: ClassVar[bool] = True
    pool_id: str
    scheme_id: str
    period: str
    costs: tuple[PartnerAmount, ...]
    savings: tuple[PartnerAmount, ...]
    effective_date: date  # the period's last day
    prior_period_adjustment: bool = False


class PopulationRecorded(Event):
    """A provider's or locality's population in one age cohort, in force from a date
    (the basis of capitated budgets)."""

    type: ClassVar[str] = "population_recorded"
    reversible: ClassVar[bool] = True
    pool_id: str
    unit_id: str
    cohort: str
    count: int
    effective_date: date
    prior_period_adjustment: bool = False


class OutcomeAssessed(Event):
    """Whether an agreed outcome of a commissioned service was met in a period (a met
    outcome releases its withheld part of the price)."""

    type: ClassVar[str] = "outcome_assessed"
    reversible: ClassVar[bool] = True
    pool_id: str
    service_id: str
    outcome_id: str
    period: str
    met: bool
    assessed_on: date
    effective_date: date  # the period's last day
    prior_period_adjustment: bool = False


class MetricRecorded(Event):
    """A performance metric's target and actual for a period."""

    type: ClassVar[str] = "metric_recorded"
    reversible: ClassVar[bool] = True
    pool_id: str
    metric_id: str
    period: str
    target: Decimal
    actual: Decimal
    effective_date: date  # the period's last day
    prior_period_adjustment: bool = False


# --- corrections, periods, settlement, returns --------------------------------------


class EventReversed(Event):
    """A correction: the named fact no longer counts from this point on (as-at answers
    before it still show it). Post the right fact again afterwards."""

    type: ClassVar[str] = "event_reversed"
    reversed_event_id: str
    reversed_type: str
    reversed_position: int
    pool_id: str | None
    reason: str
    effective_date: date | None  # the target's: its amount leaves its own period
    prior_period_adjustment: bool = False


class PeriodClosed(Event):
    """A quarter was closed for a pool: later postings dated in it must be marked as
    prior-period adjustments."""

    type: ClassVar[str] = "period_closed"
    pool_id: str
    quarter: str
    automatic: bool = False  # closed because its return was filed


class RiskShareSettled(Event):
    """After Q4 closed, each partner's final share of the year's overspend or underspend
    was fixed."""

    type: ClassVar[str] = "risk_share_settled"
    pool_id: str
    year: str
    variance: int
    direction: Literal["overspend", "underspend", "none"]
    method: str
    allocations: tuple[PartnerAmount, ...]
    carried_forward: int = 0


class ReturnGenerated(Event):
    """A return (the quarterly BCF return or the annual Section 75 memorandum) was
    filed: its content hash, the position it was built as at, the chain head then, and
    the hash of each document's bytes."""

    type: ClassVar[str] = "return_generated"
    pool_id: str
    quarter: str  # a quarter label, or a year label for the annual memorandum
    kind: Literal["bcf_quarterly", "s75_memorandum"] = "bcf_quarterly"
    as_at_position: int
    data_as_at: str
    chain_head: str
    content_hash: str
    documents: tuple[tuple[str, str], ...]  # (format, sha256 of its bytes)


class ReturnRefiled(Event):
    """A filed BCF return not yet approved was filed again, completed or corrected: a
    new version of the same quarter's return, as at a later position, superseding the
    version before (whose event and bytes are kept for ever). Approval, submission and
    the next quarter's baseline then go by the newest version."""

    type: ClassVar[str] = "return_refiled"
    pool_id: str
    quarter: str
    version: int  # 2 for the first re-filing
    supersedes_event_id: str  # the version it replaces (return_generated or return_refiled)
    reason: str
    as_at_position: int
    data_as_at: str
    chain_head: str
    content_hash: str
    documents: tuple[tuple[str, str], ...]  # (format, sha256 of its bytes)


class ReturnApproved(Event):
    """A filed return was signed off."""

    type: ClassVar[str] = "return_approved"
    pool_id: str
    quarter: str
    approved_by: str
    note: str = ""


class ReturnSubmitted(Event):
    """A filed return was sent (for a BCF return, to NHS England)."""

    type: ClassVar[str] = "return_submitted"
    pool_id: str
    quarter: str
    submitted_by: str
    reference: str = ""


# --- the BCF return's further parts (the national template) ---------------------------


class NationalConditionAssured(Event):
    """Our assurance, for a quarter's return, that the area meets one of the year's
    national conditions of the BCF (Yes), or that it does not and why (No)."""

    type: ClassVar[str] = "national_condition_assured"
    pool_id: str
    year: str
    quarter: str
    condition_id: str
    answer: bool
    explanation: str = ""


class MetricAssessed(Event):
    """How a BCF metric is going in the quarter, in the template's words (on track, not
    on track, no data yet), with what held it back, what went well and the help we need."""

    type: ClassVar[str] = "metric_assessed"
    pool_id: str
    year: str
    period: str  # the quarter
    metric_id: str
    assessment: str
    challenges: str = ""
    achievements: str = ""
    support_needs: str = ""


class SchemeActivityRecorded(Event):
    """A scheme's outputs for the year to the quarter's end: what we planned to deliver,
    what was delivered and in what unit (hours of care, packages, beds), with how the
    template classes the scheme (sub-type, area of spend, new or existing)."""

    type: ClassVar[str] = "scheme_activity_recorded"
    pool_id: str
    year: str
    period: str  # the quarter
    scheme_id: str
    planned_output: Decimal
    output_delivered: Decimal
    unit: str
    scheme_sub_type: str = ""
    area_of_spend: str | None = None
    new_scheme: bool | None = None


class FeeRatesRecorded(Event):
    """The year's average adult social care fees the council pays (pence): home care per
    hour, residential and nursing care per week, before and after the year's uplift."""

    type: ClassVar[str] = "fee_rates_recorded"
    pool_id: str
    year: str
    quarter: str  # the year's Q4: the end-of-year return carries them
    home_care_per_hour_before: int
    home_care_per_hour_after: int
    residential_per_week_before: int
    residential_per_week_after: int
    nursing_per_week_before: int
    nursing_per_week_after: int


class ReturnContactsRecorded(Event):
    """Who completed the quarter's return and how to reach them with questions."""

    type: ClassVar[str] = "return_contacts_recorded"
    pool_id: str
    year: str
    quarter: str
    completed_by: str
    role: str = ""
    email: str
    telephone: str = ""


class ReturnSignedOff(Event):
    """The Health and Wellbeing Board's sign-off of the quarter's return: by whom, in
    what role, on what date."""

    type: ClassVar[str] = "return_signed_off"
    pool_id: str
    year: str
    quarter: str
    signed_off_by: str
    role: str
    signed_off_on: date


class IncomeVarianceExplained(Event):
    """The host's commentary, for the end-of-year return, on where the year's income
    differs from the plan (by funding stream and partner)."""

    type: ClassVar[str] = "income_variance_explained"
    pool_id: str
    year: str
    quarter: str  # the year's Q4: the end-of-year return carries it
    commentary: str


class YearEndFeedbackGiven(Event):
    """The area's answer, for the end-of-year return, to one of the year's feedback
    statements (on the template's agreement scale) with a comment."""

    type: ClassVar[str] = "year_end_feedback_given"
    pool_id: str
    year: str
    quarter: str  # the year's Q4
    statement_id: str
    answer: str
    comment: str


RETURN_PART_TYPES: tuple[type[Event], ...] = (
    NationalConditionAssured,
    MetricAssessed,
    SchemeActivityRecorded,
    FeeRatesRecorded,
    ReturnContactsRecorded,
    ReturnSignedOff,
    IncomeVarianceExplained,
    YearEndFeedbackGiven,
)


_CATALOGUE: tuple[type[Event], ...] = (
    PartnerRegistered,
    PoolEstablished,
    PartnerJoined,
    PlanAgreed,
    ReferenceDataRecorded,
    OpeningBalanceRecorded,
    ContributionPosted,
    ContributionRefunded,
    ExpenditureRecorded,
    ExpenditureCredited,
    TransferPosted,
    ForecastRecorded,
    RiskRewardResultRecorded,
    PopulationRecorded,
    OutcomeAssessed,
    MetricRecorded,
    EventReversed,
    PeriodClosed,
    RiskShareSettled,
    ReturnGenerated,
    ReturnApproved,
    ReturnSubmitted,
    *RETURN_PART_TYPES,
    ReturnRefiled,
)
EVENT_TYPES: dict[str, type[Event]] = {cls.type: cls for cls in _CATALOGUE}

DATED_TYPES = frozenset(t for t, c in EVENT_TYPES.items() if "effective_date" in c.model_fields)


def effective_date_of(event: Event) -> date | None:
    """The accounting date an event concerns (for closed-period checks and indexing)."""
    if isinstance(event, ForecastRecorded):
        return event.as_of_date
    value = getattr(event, "effective_date", None)
    return value if isinstance(value, date) else None

"""Bodies of the money writes: contributions, spend, transfers, figures and reversals."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, WithJsonSchema, model_validator

from api.schemas.fields import (
    SLUG_PATTERN,
    Amount,
    AmountOrZero,
    Cohort,
    Count,
    Day,
    DecimalStr,
    EventId,
    Ident,
    NonZeroAmount,
    Note,
    PeriodLabel,
    Reference,
    Slug,
    Year,
    invalid,
    request_config,
)
from ledger.domain import commands as c
from ledger.domain.events import PartnerAmount, Party

_SLUG_SCHEMA = {"type": "string", "pattern": SLUG_PATTERN}


class OpeningBalanceCreate(BaseModel):
    model_config = request_config(
        {"year": "2025-26", "amount": "-12500.00", "note": "Deficit brought forward from 2024-25"}
    )
    year: Year
    amount: NonZeroAmount = Field(
        description="may be negative (a deficit brought in); not zero (nothing to record)"
    )
    note: Note

    def command(self, pool: str) -> c.RecordOpeningBalance:
        return c.RecordOpeningBalance(
            pool_id=pool, year=self.year, amount=self.amount, note=self.note
        )


_CONTRIBUTION = {
    "partner_id": "city",
    "funding_stream": "contribution",
    "amount": "250000.00",
    "effective_date": "2025-07-01",
    "reference": "BACS 4471",
}


class ContributionCreate(BaseModel):
    model_config = request_config(_CONTRIBUTION)
    partner_id: Slug
    funding_stream: Ident
    amount: Amount
    effective_date: Day
    year: Year | None = Field(None, description="default: the effective date's year")
    reference: Reference
    prior_period_adjustment: StrictBool = False

    def command(self, pool: str) -> c.PostContribution:
        return c.PostContribution(pool_id=pool, **self.model_dump())


class RefundCreate(BaseModel):
    model_config = request_config({**_CONTRIBUTION, "reference": "Refund of overpayment"})
    partner_id: Slug
    funding_stream: Ident
    amount: Amount
    effective_date: Day
    year: Year | None = None
    reference: Reference
    refunds_event_id: EventId | None = None
    prior_period_adjustment: StrictBool = False

    def command(self, pool: str) -> c.RefundContribution:
        return c.RefundContribution(pool_id=pool, **self.model_dump())


_SPEND = {
    "scheme_id": "equipment",
    "amount": "48250.00",
    "effective_date": "2025-07-15",
    "reference": "INV-20931",
}


class ExpenditureCreate(BaseModel):
    model_config = request_config(_SPEND)
    scheme_id: Slug
    amount: Amount
    effective_date: Day
    reference: Reference
    prior_period_adjustment: StrictBool = False

    def command(self, pool: str) -> c.RecordExpenditure:
        return c.RecordExpenditure(pool_id=pool, **self.model_dump())


class CreditCreate(BaseModel):
    model_config = request_config({**_SPEND, "reference": "CN-1182"})
    scheme_id: Slug
    amount: Amount
    effective_date: Day
    reference: Reference
    credits_event_id: EventId | None = None
    prior_period_adjustment: StrictBool = False

    def command(self, pool: str) -> c.CreditExpenditure:
        return c.CreditExpenditure(pool_id=pool, **self.model_dump())


class PartyIn(BaseModel):
    """One side of a transfer: exactly one of a partner or the pool (the document says
    so with ``oneOf``; the server checks it here, as a rule of shape)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"partner_id": "icb-a"}],
            "oneOf": [
                {"required": ["partner_id"], "not": {"required": ["pool_id"]}},
                {"required": ["pool_id"], "not": {"required": ["partner_id"]}},
            ],
        },
    )
    # null is read as absent; the document offers only the id
    partner_id: Annotated[Slug | None, WithJsonSchema(_SLUG_SCHEMA)] = None
    pool_id: Annotated[Slug | None, WithJsonSchema(_SLUG_SCHEMA)] = None

    @model_validator(mode="after")
    def _exactly_one(self) -> PartyIn:
        if (self.partner_id is None) == (self.pool_id is None):
            raise invalid("name exactly one of partner_id or pool_id")
        return self

    def party(self) -> Party:
        return Party(partner_id=self.partner_id, pool_id=self.pool_id)


class TransferCreate(BaseModel):
    model_config = request_config(
        {
            "pool_id": "eq",
            "from": {"partner_id": "icb-a"},
            "to": {"partner_id": "ncc"},
            "amount": "75000.00",
            "purpose": "s256",
            "effective_date": "2025-08-01",
            "reference": "s256 agreement 2025/03",
        }
    )
    pool_id: Slug
    from_: PartyIn = Field(alias="from")
    to: PartyIn
    amount: Amount
    purpose: Literal["s256", "s75", "other"]
    effective_date: Day
    reference: Reference
    prior_period_adjustment: StrictBool = False

    def command(self) -> c.PostTransfer:
        return c.PostTransfer(
            pool_id=self.pool_id,
            from_party=self.from_.party(),
            to_party=self.to.party(),
            amount=self.amount,
            purpose=self.purpose,
            effective_date=self.effective_date,
            reference=self.reference,
            prior_period_adjustment=self.prior_period_adjustment,
        )


class ForecastCreate(BaseModel):
    model_config = request_config(
        {"year": "2025-26", "amount": "3600000.00", "as_of_date": "2025-09-30"}
    )
    year: Year
    amount: AmountOrZero
    scheme_id: Slug | None = Field(None, description="omit for the whole pool's forecast")
    as_of_date: Day

    def command(self, pool: str) -> c.RecordForecast:
        return c.RecordForecast(pool_id=pool, **self.model_dump())


class RiskRewardResultCreate(BaseModel):
    model_config = request_config(
        {
            "scheme_id": "rapid-response",
            "period": "2025-26-Q2",
            "costs": {"ncc": "300000.00"},
            "savings": {"icb": "500000.00"},
        }
    )
    scheme_id: Slug
    period: PeriodLabel
    costs: dict[Slug, AmountOrZero] = Field(max_length=200)
    savings: dict[Slug, AmountOrZero] = Field(max_length=200)
    prior_period_adjustment: StrictBool = False

    def command(self, pool: str) -> c.RecordRiskRewardResult:
        return c.RecordRiskRewardResult(
            pool_id=pool,
            scheme_id=self.scheme_id,
            period=self.period,
            costs=tuple(PartnerAmount(partner_id=k, amount=a) for k, a in self.costs.items()),
            savings=tuple(PartnerAmount(partner_id=k, amount=a) for k, a in self.savings.items()),
            prior_period_adjustment=self.prior_period_adjustment,
        )


class PopulationCreate(BaseModel):
    model_config = request_config(
        {"unit_id": "north", "cohort": "65-84", "count": 15000, "effective_date": "2025-04-01"}
    )
    unit_id: Slug
    cohort: Cohort
    count: Count
    effective_date: Day
    prior_period_adjustment: StrictBool = False

    def command(self, pool: str) -> c.RecordPopulation:
        return c.RecordPopulation(pool_id=pool, **self.model_dump())


class OutcomeAssessmentCreate(BaseModel):
    model_config = request_config(
        {
            "service_id": "hc-bassetlaw-q1",
            "outcome_id": "independence",
            "period": "2025-26-Q1",
            "met": True,
            "assessed_on": "2025-07-20",
        }
    )
    service_id: Slug
    outcome_id: Slug
    period: PeriodLabel
    met: StrictBool
    assessed_on: Day
    prior_period_adjustment: StrictBool = False

    def command(self, pool: str) -> c.AssessOutcome:
        return c.AssessOutcome(pool_id=pool, **self.model_dump())


class MetricCreate(BaseModel):
    model_config = request_config(
        {"metric_id": "ed-attendances", "period": "2025-26-Q2", "target": "1200", "actual": "1236"}
    )
    metric_id: Ident
    period: PeriodLabel
    target: DecimalStr
    actual: DecimalStr
    prior_period_adjustment: StrictBool = False

    def command(self, pool: str) -> c.RecordMetric:
        return c.RecordMetric(pool_id=pool, **self.model_dump())


class ReversalCreate(BaseModel):
    model_config = request_config({"reason": "Posted to the wrong partner; reposted as event 5521"})
    reason: Note
    prior_period_adjustment: StrictBool = False

    def command(self, event_id: str) -> c.ReverseEvent:
        return c.ReverseEvent(event_id=event_id, **self.model_dump())

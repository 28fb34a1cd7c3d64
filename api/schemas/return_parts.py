"""Bodies and answers of the BCF return's further parts: national-condition
assurances, metric assessments, scheme activity, fee rates, contacts and sign-off, and
the end-of-year income commentary and feedback."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field, StrictBool, StrictStr

from api.schemas.fields import (
    Amount,
    Day,
    DecimalStr,
    Ident,
    Name,
    Slug,
    Year,
    request_config,
)
from ledger.domain import commands as c
from projections.return_parts import PartsView, RecordedPart

Narrative = Annotated[StrictStr, Field(max_length=2000, description="may run to paragraphs")]
Label = Annotated[StrictStr, Field(min_length=1, max_length=200)]


class AssuranceCreate(BaseModel):
    model_config = request_config(
        {"condition_id": "3", "answer": False, "explanation": "The 2025-26 uplift was agreed..."}
    )
    condition_id: Annotated[StrictStr, Field(min_length=1, max_length=2)]
    answer: StrictBool
    explanation: Narrative = ""

    def command(self, pool: str, quarter: str) -> c.AssureNationalCondition:
        return c.AssureNationalCondition(pool_id=pool, quarter=quarter, **self.model_dump())


class MetricAssessmentCreate(BaseModel):
    model_config = request_config(
        {
            "metric_id": "average-discharge-delay",
            "assessment": "On track to meet goal",
            "challenges": "Care home capacity in Mansfield over the summer.",
            "achievements": "The transfer of care hub now opens seven days a week.",
            "support_needs": "None this quarter.",
        }
    )
    metric_id: Ident
    assessment: Label
    challenges: Narrative = ""
    achievements: Narrative = ""
    support_needs: Narrative = ""

    def command(self, pool: str, quarter: str) -> c.AssessMetric:
        return c.AssessMetric(pool_id=pool, quarter=quarter, **self.model_dump())


class SchemeActivityCreate(BaseModel):
    model_config = request_config(
        {
            "scheme_id": "reablement",
            "planned_output": "5200",
            "output_delivered": "4980.5",
            "unit": "Hours of care",
            "scheme_sub_type": "Reablement at home (to support discharge)",
            "area_of_spend": "Social Care",
            "new_scheme": False,
        }
    )
    scheme_id: Slug
    planned_output: DecimalStr
    output_delivered: DecimalStr
    unit: Label
    scheme_sub_type: Annotated[StrictStr, Field(max_length=200)] = ""
    area_of_spend: Label | None = None
    new_scheme: StrictBool | None = None

    def command(self, pool: str, quarter: str) -> c.RecordSchemeActivity:
        return c.RecordSchemeActivity(pool_id=pool, quarter=quarter, **self.model_dump())


class FeeRatesCreate(BaseModel):
    model_config = request_config(
        {
            "home_care_per_hour_before": "23.12",
            "home_care_per_hour_after": "24.18",
            "residential_per_week_before": "784.00",
            "residential_per_week_after": "819.00",
            "nursing_per_week_before": "987.00",
            "nursing_per_week_after": "1032.00",
        }
    )
    home_care_per_hour_before: Amount
    home_care_per_hour_after: Amount
    residential_per_week_before: Amount
    residential_per_week_after: Amount
    nursing_per_week_before: Amount
    nursing_per_week_after: Amount

    def command(self, pool: str, year: str) -> c.RecordFeeRates:
        return c.RecordFeeRates(pool_id=pool, year=year, **self.model_dump())


class IncomeCommentaryCreate(BaseModel):
    model_config = request_config(
        {
            "commentary": "The ICB's additional contribution was £250,000 below plan: the "
            "virtual ward scheme started in October, not April."
        }
    )
    commentary: Annotated[StrictStr, Field(min_length=1, max_length=2000)]

    def command(self, pool: str, year: str) -> c.ExplainIncomeVariance:
        return c.ExplainIncomeVariance(pool_id=pool, year=year, **self.model_dump())


class YearEndFeedbackCreate(BaseModel):
    model_config = request_config(
        {
            "statement_id": "1",
            "answer": "Agree",
            "comment": "The joint discharge hub is run by council and NHS staff together.",
        }
    )
    statement_id: Annotated[StrictStr, Field(min_length=1, max_length=2)]
    answer: Label
    comment: Annotated[StrictStr, Field(min_length=1, max_length=2000)]

    def command(self, pool: str, year: str) -> c.GiveYearEndFeedback:
        return c.GiveYearEndFeedback(pool_id=pool, year=year, **self.model_dump())


class ContactsCreate(BaseModel):
    model_config = request_config(
        {
            "completed_by": "Sam Patel",
            "role": "Senior Finance Business Partner",
            "email": "sam.patel@nottscc.gov.uk",
            "telephone": "0115 977 3000",
        }
    )
    completed_by: Name
    role: Annotated[StrictStr, Field(max_length=200)] = ""
    email: Annotated[StrictStr, Field(min_length=3, max_length=254)]
    telephone: Annotated[StrictStr, Field(max_length=40)] = ""

    def command(self, pool: str, quarter: str) -> c.RecordReturnContacts:
        return c.RecordReturnContacts(pool_id=pool, quarter=quarter, **self.model_dump())


class SignOffCreate(BaseModel):
    model_config = request_config(
        {
            "signed_off_by": "Cllr John Doddy",
            "role": "Chair, Nottinghamshire Health and Wellbeing Board",
            "signed_off_on": "2025-10-29",
        }
    )
    signed_off_by: Name
    role: Name
    signed_off_on: Day

    def command(self, pool: str, quarter: str) -> c.SignOffReturn:
        return c.SignOffReturn(pool_id=pool, quarter=quarter, **self.model_dump())


class PartPublic(BaseModel):
    position: int = Field(description="of the fact recorded")
    data: dict[str, Any]


class PartsPublic(BaseModel):
    """A pool-quarter's return parts as at a position: the latest of each, and what is
    still missing before the return is complete."""

    pool_id: str
    quarter: str
    as_at_position: int
    complete: bool
    missing: list[str] = Field(description="part keys, e.g. national_condition:2")
    missing_described: list[str]
    national_conditions: dict[str, PartPublic]
    metric_assessments: dict[str, PartPublic]
    scheme_activity: dict[str, PartPublic]
    fee_rates: PartPublic | None
    contacts: PartPublic | None
    sign_off: PartPublic | None
    income_commentary: PartPublic | None = Field(description="end of year (Q4) only")
    year_end_feedback: dict[str, PartPublic] = Field(description="end of year: by statement")


def _part(p: RecordedPart | None) -> PartPublic | None:
    return PartPublic(position=p.position, data=p.data) if p is not None else None


def parts_public(view: PartsView, missing: tuple[str, ...], described: list[str]) -> PartsPublic:
    return PartsPublic(
        pool_id=view.pool_id,
        quarter=view.quarter,
        as_at_position=view.as_at_position,
        complete=not missing,
        missing=list(missing),
        missing_described=described,
        national_conditions={
            k: PartPublic(position=v.position, data=v.data) for k, v in view.conditions.items()
        },
        metric_assessments={
            k: PartPublic(position=v.position, data=v.data) for k, v in view.assessments.items()
        },
        scheme_activity={
            k: PartPublic(position=v.position, data=v.data) for k, v in view.activity.items()
        },
        fee_rates=_part(view.fee_rates),
        contacts=_part(view.contacts),
        sign_off=_part(view.sign_off),
        income_commentary=_part(view.income_commentary),
        year_end_feedback={
            k: PartPublic(position=v.position, data=v.data) for k, v in view.feedback.items()
        },
    )


__all__ = [
    "AssuranceCreate",
    "ContactsCreate",
    "FeeRatesCreate",
    "IncomeCommentaryCreate",
    "MetricAssessmentCreate",
    "PartsPublic",
    "SchemeActivityCreate",
    "SignOffCreate",
    "Year",
    "YearEndFeedbackCreate",
    "parts_public",
]

"""Small builders for the BCF return's further parts (conditions, assessments,
activity, fee rates, contacts, sign-off)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from ledger.domain import commands as c
from ledger.domain.periods import parse_quarter
from ledger.handlers import Ledger
from tests.builders import ADMIN, officer

HOST = officer("ncc")


def record_contacts(ledger: Ledger, quarter: str, pool_id: str = "bcf") -> None:
    ledger.execute(
        c.RecordReturnContacts(
            pool_id=pool_id,
            quarter=quarter,
            completed_by="Sam Patel",
            role="Senior Finance Business Partner",
            email="sam.patel@nottscc.gov.uk",
            telephone="0115 977 3000",
        ),
        HOST,
    )


def sign_off(ledger: Ledger, quarter: str, pool_id: str = "bcf", on: date | None = None) -> None:
    ledger.execute(
        c.SignOffReturn(
            pool_id=pool_id,
            quarter=quarter,
            signed_off_by="Cllr J. Smith",
            role="Chair, Health and Wellbeing Board",
            signed_off_on=on or parse_quarter(quarter).end + timedelta(days=1),
        ),
        ADMIN,
    )


def assure_all(ledger: Ledger, quarter: str, pool_id: str = "bcf") -> None:
    ids = ("1", "2", "3", "4") if quarter.startswith("2024-25") else ("1", "2", "3")
    for cid in ids:
        ledger.execute(
            c.AssureNationalCondition(
                pool_id=pool_id, quarter=quarter, condition_id=cid, answer=True
            ),
            HOST,
        )


def activity(
    ledger: Ledger, quarter: str, scheme: str, area: str = "Social Care", pool_id: str = "bcf"
) -> None:
    ledger.execute(
        c.RecordSchemeActivity(
            pool_id=pool_id,
            quarter=quarter,
            scheme_id=scheme,
            planned_output=Decimal("1200"),
            output_delivered=Decimal("1130"),
            unit="Number of carers",
            area_of_spend=area,
            new_scheme=False,
        ),
        HOST,
    )


Q1_METRICS = (
    "residential-admissions",
    "emergency-admissions-65-plus",
    "discharged-on-discharge-ready-date",
)


def assess(ledger: Ledger, quarter: str, metric_id: str, pool_id: str = "bcf") -> None:
    ledger.execute(
        c.AssessMetric(
            pool_id=pool_id,
            quarter=quarter,
            metric_id=metric_id,
            assessment="On track to meet goal",
            challenges="Care home capacity in Mansfield over the summer.",
            achievements="The transfer of care hub now opens seven days a week.",
        ),
        HOST,
    )


def complete_parts(
    ledger: Ledger,
    quarter: str,
    schemes: tuple[str, ...] = ("carers", "adaptations"),
    metrics: tuple[str, ...] = (),
) -> None:
    """Every part ``given_bcf_pool``'s return of ``quarter`` needs, assessing
    ``metrics`` (those recorded for the quarter)."""
    for m in metrics:
        assess(ledger, quarter, m)
    record_contacts(ledger, quarter)
    sign_off(ledger, quarter)
    assure_all(ledger, quarter)
    for s in schemes:
        activity(ledger, quarter, s)
    if quarter.endswith("Q4"):
        ledger.execute(
            c.RecordFeeRates(
                pool_id="bcf",
                year=quarter[:7],
                home_care_per_hour_before=2312,
                home_care_per_hour_after=2418,
                residential_per_week_before=78400,
                residential_per_week_after=81900,
                nursing_per_week_before=98700,
                nursing_per_week_after=103200,
            ),
            HOST,
        )
        year_end_parts(ledger, quarter[:7])


def year_end_parts(ledger: Ledger, year: str, pool_id: str = "bcf") -> None:
    """The end-of-year return's income commentary and an answer to each feedback
    statement of ``year``."""
    ledger.execute(
        c.ExplainIncomeVariance(
            pool_id=pool_id,
            year=year,
            commentary="The ICB's minimum contribution for March arrived in April.",
        ),
        HOST,
    )
    for sid in ("1", "2", "3"):
        ledger.execute(
            c.GiveYearEndFeedback(
                pool_id=pool_id,
                year=year,
                statement_id=sid,
                answer="Agree",
                comment="Partners plan discharge capacity together.",
            ),
            HOST,
        )

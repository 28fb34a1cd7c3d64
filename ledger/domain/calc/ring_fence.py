"""The BCF ring-fence checks: how much of the NHS minimum contribution goes on adult
social care and on NHS-commissioned out-of-hospital services, against the floors set
for the Health and Wellbeing Board area and year.

- **Adult social care**: the spend of schemes funded by the NHS minimum contribution
  whose area of spend is Social Care, whoever commissions them.
- **Out-of-hospital**: the NHS-commissioned part of the spend of schemes funded by the
  NHS minimum contribution whose area of spend is not Acute (nor unknown): all of an
  NHS-commissioned scheme's, the NHS percentage of a joint scheme's (the scheme's
  amount split between LA and NHS by largest remainder, ties to the LA), none of an
  LA-commissioned one's.
A scheme whose area of spend is not recorded counts in neither. Exact integer pence.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ledger.domain.money import allocate

MINIMUM_NHS = "minimum_nhs_contribution"


@dataclass(frozen=True)
class RingFenceScheme:
    scheme_id: str
    funding_stream: str
    commissioner: str  # la | nhs | joint (already in the template's sense)
    area_of_spend: str | None
    amount: int  # pence
    nhs_pct: Decimal | None = None  # for a joint scheme
    la_pct: Decimal | None = None


def nhs_part(s: RingFenceScheme) -> int:
    """The NHS-commissioned part of a scheme's amount."""
    if s.commissioner == "nhs":
        return s.amount
    if s.commissioner == "joint" and s.nhs_pct is not None and s.la_pct is not None:
        if s.nhs_pct == 0:
            return 0
        if s.la_pct == 0:
            return s.amount
        split = allocate(s.amount, {"la": s.la_pct, "nhs": s.nhs_pct}, order=("la", "nhs"))
        return split["nhs"]
    return 0


def adult_social_care(schemes: list[RingFenceScheme]) -> int:
    return sum(
        s.amount
        for s in schemes
        if s.funding_stream == MINIMUM_NHS and s.area_of_spend == "Social Care"
    )


def out_of_hospital(schemes: list[RingFenceScheme]) -> int:
    return sum(
        nhs_part(s)
        for s in schemes
        if s.funding_stream == MINIMUM_NHS and s.area_of_spend not in (None, "Acute")
    )

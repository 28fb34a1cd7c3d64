"""The BCF ring-fence checks to the penny, on a hand-worked example.

Five schemes (pounds):
  A  NHS minimum, LA,           Social Care,      planned 1,000,000.00  actual 480,123.45
  B  NHS minimum, joint 60/40,  Social Care,      planned   333,333.33  actual 150,000.01
  C  NHS minimum, NHS,          Community Health, planned 2,000,000.00  actual 999,999.99
  D  NHS minimum, NHS,          Acute,            planned   500,000.00  actual 250,000.00
  E  DFG,         LA,           Social Care,      planned   200,000.00  actual 100,000.00
Adult social care (NHS minimum, Social Care): A + B
  planned 1,000,000.00 + 333,333.33 = 1,333,333.33; actual 480,123.45 + 150,000.01 = 630,123.46
Out-of-hospital (NHS-commissioned part of NHS minimum, not Acute): B's NHS 40% + C
  B planned 33,333,333p: LA 19,999,999.8p, NHS 13,333,333.2p; the spare penny goes to the
  larger remainder (LA .8) -> NHS 13,333,333p = 133,333.33; + 2,000,000.00 = 2,133,333.33
  B actual 15,000,001p: LA 9,000,000.6p, NHS 6,000,000.4p -> NHS 6,000,000p = 60,000.00;
  + 999,999.99 = 1,059,999.99
"""

from __future__ import annotations

from decimal import Decimal

from ledger.domain.calc.ring_fence import RingFenceScheme, adult_social_care, out_of_hospital

NHS_MIN = "minimum_nhs_contribution"


def schemes(a: int, b: int, c: int, d: int, e: int) -> list[RingFenceScheme]:
    joint = {"nhs_pct": Decimal(40), "la_pct": Decimal(60)}
    return [
        RingFenceScheme("a", NHS_MIN, "la", "Social Care", a),
        RingFenceScheme("b", NHS_MIN, "joint", "Social Care", b, **joint),
        RingFenceScheme("c", NHS_MIN, "nhs", "Community Health", c),
        RingFenceScheme("d", NHS_MIN, "nhs", "Acute", d),
        RingFenceScheme("e", "dfg", "la", "Social Care", e),
    ]


PLANNED = schemes(100_000_000, 33_333_333, 200_000_000, 50_000_000, 20_000_000)
ACTUAL = schemes(48_012_345, 15_000_001, 99_999_999, 25_000_000, 10_000_000)


def test_adult_social_care_spend_from_the_nhs_minimum_to_the_penny() -> None:
    assert adult_social_care(PLANNED) == 133_333_333
    assert adult_social_care(ACTUAL) == 63_012_346


def test_out_of_hospital_spend_counts_the_nhs_share_of_joint_schemes_to_the_penny() -> None:
    assert out_of_hospital(PLANNED) == 213_333_333
    assert out_of_hospital(ACTUAL) == 105_999_999


def test_a_scheme_without_an_area_of_spend_counts_in_neither() -> None:
    unknown = [RingFenceScheme("x", NHS_MIN, "nhs", None, 1_000)]
    assert adult_social_care(unknown) == 0 and out_of_hospital(unknown) == 0

"""The Mid-Nottinghamshire Better Together Alliance: its members, localities and
cohorts, populations, commissioned home-care hours and outcomes, contributions, the
rapid-response risk/reward figures and metrics, and the plan agreed for each year."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from ledger.demo.amounts import _f, _p
from ledger.domain.money import round_half_up_pence
from ledger.domain.periods import FinancialYear, Quarter
from ledger.domain.plan import (
    Capitation,
    CohortWeight,
    CommissionedService,
    Plan,
    PlannedContribution,
    RiskRewardScheme,
    RiskRule,
    RiskShareRules,
    Scheme,
    Share,
)

ALLIANCE_MEMBERS = ("ncc", "nn-icb", "sherwood-fh", "mears")
LOCALITIES = (
    "bassetlaw",
    "broxtowe",
    "gedling",
    "mansfield-ashfield",
    "newark-sherwood",
    "rushcliffe",
)
COHORT_WEIGHTS = (("0-64", Decimal("1.0")), ("65-84", Decimal("2.5")), ("85+", Decimal("6.0")))
# residents on 1 April 2025, by cohort (ONS mid-year estimates, rounded)
POPULATIONS_2025: dict[str, tuple[int, int, int]] = {
    "bassetlaw": (88_600, 25_100, 3_900),
    "broxtowe": (85_300, 21_700, 3_600),
    "gedling": (90_100, 23_400, 3_900),
    "mansfield-ashfield": (186_500, 45_900, 6_100),
    "newark-sherwood": (92_800, 27_000, 4_100),
    "rushcliffe": (91_000, 24_600, 4_300),
}
# a year on: the under-65s barely grow, the over-85s by 3.5%
POPULATION_GROWTH = (_f("1.004"), _f("1.02"), _f("1.035"))
# commissioned home-care hours per locality per quarter, 2025-26
HOME_CARE_HOURS_2025 = {
    "bassetlaw": 9_800,
    "broxtowe": 8_600,
    "gedling": 9_200,
    "mansfield-ashfield": 16_400,
    "newark-sherwood": 11_300,
    "rushcliffe": 7_700,
}
HOME_CARE_RATE = _p(17)
OUTCOMES = ("independence", "satisfaction")
ALLIANCE_CONTRIBUTIONS = {
    2025: {"ncc": _p(7_800_000), "nn-icb": _p(4_200_000)},
    2026: {"ncc": _p(8_073_000), "nn-icb": _p(4_347_000)},
}
RAPID_RESPONSE_PLANNED = {2025: _p(1_400_000), 2026: _p(1_450_000)}
PERSONAL_BUDGETS = {2025: _p(1_650_000), 2026: _p(1_712_000)}
# acute bed days the rapid-response service saved the ICB, per quarter from 2025-26 Q1
BED_DAYS_SAVED = (780, 1_190, 1_460, 1_350, 985, 1_320, 1_505, 1_410)
BED_DAY_COST = _p(345)
ALLIANCE_METRICS: dict[str, tuple[tuple[str, str], ...]] = {
    "residential-and-nursing-admissions": (
        ("84", "75"), ("84", "79"), ("84", "88"), ("80", "74"),
        ("80", "71"), ("80", "77"), ("78", "76"), ("78", "73"),
    ),
    "ed-attendances": (
        ("24000", "26900"), ("24000", "25450"), ("25500", "27320"), ("24500", "24880"),
        ("23500", "24100"), ("23500", "23210"), ("25000", "26050"), ("24000", "24400"),
    ),
    "emergency-admissions": (
        ("8100", "9240"), ("8100", "8620"), ("8600", "9105"), ("8300", "8390"),
        ("8000", "8310"), ("8000", "7940"), ("8500", "8815"), ("8200", "8260"),
    ),
    "emergency-bed-days": (
        ("42000", "42900"), ("42000", "41250"), ("45000", "47800"), ("43000", "43600"),
        ("41000", "40700"), ("41000", "42300"), ("44000", "44900"), ("42500", "42100"),
    ),
}  # fmt: skip


def home_care_hours(fy: FinancialYear) -> dict[str, Decimal]:
    """Commissioned hours per locality per quarter (2026-27: 3% more, to the 50 hours)."""
    if fy.start_year == 2025:
        return {k: Decimal(v) for k, v in HOME_CARE_HOURS_2025.items()}
    return {k: Decimal((v * 103 + 2500) // 5000 * 50) for k, v in HOME_CARE_HOURS_2025.items()}


def service_id(locality: str, q: Quarter) -> str:
    return f"hc-{locality}-{q.year.label}-q{q.number}"


def alliance_plan(fy: FinancialYear) -> Plan:
    hours = home_care_hours(fy)
    contributions = ALLIANCE_CONTRIBUTIONS[fy.start_year]
    budget = sum(contributions.values())
    home_care = 4 * sum(round_half_up_pence(Fraction(h) * HOME_CARE_RATE) for h in hours.values())
    rapid = RAPID_RESPONSE_PLANNED[fy.start_year]
    return Plan(
        contributions=tuple(
            PlannedContribution(partner_id=pid, funding_stream="contribution", amount=amount)
            for pid, amount in contributions.items()
        ),
        schemes=(
            Scheme(
                id="home-care",
                name="Home-based care and support (outcome-based)",
                scheme_type="Home Care or Domiciliary Care",
                commissioner="ncc",
                provider_type="Private Sector",
                funding_stream="contribution",
                planned=home_care,
            ),
            Scheme(
                id="community-health",
                name="Community health services (capitated)",
                scheme_type="Community Based Schemes",
                commissioner="nn-icb",
                provider_type="NHS Community Provider",
                funding_stream="contribution",
                planned=budget - home_care - rapid,
            ),
            Scheme(
                id="rapid-response",
                name="Rapid response and intensive home support",
                scheme_type="Urgent Community Response",
                commissioner="ncc",
                provider_type="Local Authority",
                funding_stream="contribution",
                planned=rapid,
            ),
        ),
        risk_share=RiskShareRules(
            overspend=RiskRule(
                method="fixed",
                shares=(
                    Share(partner_id="ncc", pct=Decimal(60)),
                    Share(partner_id="nn-icb", pct=Decimal(40)),
                ),
            ),
            underspend=RiskRule(method="proportional"),
        ),
        risk_reward_schemes=(
            RiskRewardScheme(
                id="rapid-response",
                name="Rapid response: council-funded community service saving acute bed days",
                gain_shares=(
                    Share(partner_id="ncc", pct=Decimal(50)),
                    Share(partner_id="nn-icb", pct=Decimal(50)),
                ),
                loss_shares=(
                    Share(partner_id="ncc", pct=Decimal(70)),
                    Share(partner_id="nn-icb", pct=Decimal(30)),
                ),
            ),
        ),
        capitation=Capitation(
            budget=budget,
            excluded_personal_budgets=PERSONAL_BUDGETS[fy.start_year],
            weights=tuple(CohortWeight(cohort=k, weight=w) for k, w in COHORT_WEIGHTS),
        ),
        commissioned_services=tuple(
            CommissionedService(
                id=service_id(loc, q),
                provider_id="mears",
                period=q.label,
                hours=hours[loc],
                rate=HOME_CARE_RATE,
                base_pct=Decimal(95),
                outcomes=OUTCOMES,
                unit_id=loc,
            )
            for q in fy.quarters
            for loc in LOCALITIES
        ),
    )


def _round(value: Fraction) -> int:
    """A non-negative count rounded half-up."""
    return int(value + Fraction(1, 2))


def populations(fy: FinancialYear) -> dict[str, tuple[int, ...]]:
    years = fy.start_year - 2025
    out: dict[str, tuple[int, ...]] = {}
    for loc, counts in POPULATIONS_2025.items():
        out[loc] = tuple(
            _round(Fraction(n) * g**years) for n, g in zip(counts, POPULATION_GROWTH, strict=True)
        )
    return out

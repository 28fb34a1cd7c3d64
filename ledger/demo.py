"""A demo partnership, loaded into an empty ledger through ``Ledger.execute``.

The partners and pools are public Nottinghamshire examples (see the seed papers):

- ``ices``: the Integrated Community Equipment Service, a Section 75 pool hosted by
  Nottinghamshire County Council with Nottingham City Council and the three NHS
  commissioners of the partnership agreement (NHS Nottingham City, NHS
  Nottinghamshire County, NHS Bassetlaw); £5,360,123 a year in 2025-26.
- ``mid-notts-bcf``: the Mid-Nottinghamshire Better Care Fund, with the national
  funding streams, twelve schemes of the national scheme types, the quarterly BCF
  metrics and a £900,000 s.256 transfer from the ICB to the county council.
- ``mid-notts-alliance``: the Mid-Nottinghamshire Better Together Alliance: a
  capitated budget over six localities, home-based care at £17.00 an hour paid 95%
  on commissioned hours and 5% on two outcomes, and a rapid-response risk/reward
  scheme (the council pays, the ICB saves acute bed days).

Two financial years: 2025-26 complete (all four quarters closed) and 2026-27 up to
``today`` (quarters that have ended are closed, except the latest, left open so the
scheduler has a return to file). Postings are monthly and never dated after
``today``. Corrections of each kind are included: a duplicated invoice reversed, a
payment made twice and refunded, a credit note, an opening balance, forecasts (whole
pool and per scheme) and one prior-period adjustment into a closed quarter.

Everything is deterministic: the month-to-month variation comes from a seeded
``random.Random``. The officers' actors carry no token id (the data is loaded by the
CLI, not through the API); each event still names its role, partner and a request id.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

from sqlalchemy import Engine

from ledger.clock import LONDON
from ledger.domain import commands as c
from ledger.domain.calc.outcomes import outcome_payment
from ledger.domain.decide import ReferenceSource
from ledger.domain.errors import RuleViolation
from ledger.domain.events import HwbArea, PartnerAmount, PartnerKind, Party
from ledger.domain.money import allocate, round_half_up_pence
from ledger.domain.periods import FinancialYear, Month, Quarter, parse_period
from ledger.domain.plan import (
    Cap,
    Capitation,
    CohortWeight,
    CommissionedService,
    JointSplit,
    Plan,
    PlannedContribution,
    RiskRewardScheme,
    RiskRule,
    RiskShareRules,
    Scheme,
    Share,
    Tier,
)
from ledger.handlers import AppendHook, Ledger, Outcome
from ledger.store import eventstore as es

YEARS = (FinancialYear(2025), FinancialYear(2026))
ICES, BCF, ALLIANCE = "ices", "mid-notts-bcf", "mid-notts-alliance"
HOST = "ncc"


# --- partners ------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoPartner:
    partner_id: str
    name: str
    kind: PartnerKind
    ods_code: str | None = None
    ons_code: str | None = None


DEMO_PARTNERS: tuple[DemoPartner, ...] = (
    DemoPartner("ncc", "Nottinghamshire County Council", "local_authority", ons_code="E10000024"),
    DemoPartner("nottm-city", "Nottingham City Council", "local_authority", ons_code="E06000018"),
    DemoPartner("nn-icb", "NHS Nottingham and Nottinghamshire ICB", "icb", ods_code="QT1"),
    DemoPartner("nhs-nottm-city", "NHS Nottingham City", "icb"),
    DemoPartner("nhs-notts-county", "NHS Nottinghamshire County", "icb"),
    DemoPartner("bassetlaw-ccg", "NHS Bassetlaw", "icb", ods_code="02Q"),
    DemoPartner(
        "sherwood-fh",
        "Sherwood Forest Hospitals NHS Foundation Trust",
        "nhs_trust",
        ods_code="RK5",
    ),
    DemoPartner("mears", "Mears Homecare Ltd", "independent_provider"),
    DemoPartner(
        "mansfield-dc", "Mansfield District Council", "district_council", ons_code="E07000174"
    ),
)
_PARTNER_NAMES = {p.partner_id: p.name for p in DEMO_PARTNERS}

ADMIN = c.Actor(name="Partnership administrator (demo data)", role="admin")


def officer(partner_id: str) -> c.Actor:
    """The demo finance officer of a partner."""
    return c.Actor(
        name=f"Finance officer, {_PARTNER_NAMES[partner_id]} (demo data)",
        role="finance_officer",
        partner_id=partner_id,
    )


def _p(pounds: int | str) -> int:
    """Pounds (an int, or a string with pence) to pence."""
    if isinstance(pounds, int):
        return pounds * 100
    whole, _, frac = pounds.partition(".")
    return int(whole) * 100 + int((frac or "0").ljust(2, "0"))


def _scaled(pence: int, factor: Fraction) -> int:
    """``pence x factor`` rounded half-up to the penny."""
    return round_half_up_pence(Fraction(pence) * factor)


def _scaled_pounds(pence: int, factor: Fraction) -> int:
    """``pence x factor`` rounded half-up to whole pounds (agreed budgets are in pounds)."""
    return round_half_up_pence(Fraction(pence) * factor / 100) * 100


def _f(text: str) -> Fraction:
    return Fraction(Decimal(text))


def _rescale(planned: Mapping[str, int], total: int) -> dict[str, int]:
    """Share a new whole-pound ``total`` among lines in proportion to ``planned``."""
    pounds = allocate(total // 100, {k: Fraction(v) for k, v in planned.items()}, list(planned))
    return {k: v * 100 for k, v in pounds.items()}


# --- the Integrated Community Equipment Service (Section 75) -------------------------

ICES_MEMBERS = ("ncc", "nottm-city", "nhs-nottm-city", "nhs-notts-county", "bassetlaw-ccg")
# each partner's agreed contribution, 2025-26: £5,360,123 a year in all
ICES_CONTRIBUTIONS_2025 = {
    "ncc": _p(1_876_043),
    "nottm-city": _p(804_018),
    "nhs-notts-county": _p(1_822_442),
    "nhs-nottm-city": _p(589_614),
    "bassetlaw-ccg": _p(268_006),
}
ICES_SCHEMES: tuple[tuple[str, str, int], ...] = (  # id, name, planned 2025-26
    ("equipment-purchase", "Equipment purchase (catalogue and specials)", _p(3_430_479)),
    ("maintenance-delivery", "Maintenance, delivery, collection and recycling", _p(1_393_632)),
    ("tec", "Technology enabled care (telecare)", _p(536_012)),
)
ICES_UPLIFT = {2025: Fraction(1), 2026: _f("1.041")}
ICES_SPEND_FACTOR = {  # actual outturn / plan: demand for equipment keeps rising
    2025: {
        "equipment-purchase": _f("1.072"),
        "maintenance-delivery": _f("1.018"),
        "tec": _f("0.962"),
    },
    2026: {
        "equipment-purchase": _f("1.061"),
        "maintenance-delivery": _f("1.024"),
        "tec": _f("0.985"),
    },
}
ICES_OPENING_BALANCE = _p("48210.37")


def ices_contributions(fy: FinancialYear) -> dict[str, int]:
    factor = ICES_UPLIFT[fy.start_year]
    return {k: _scaled_pounds(v, factor) for k, v in ICES_CONTRIBUTIONS_2025.items()}


def ices_plan(fy: FinancialYear) -> Plan:
    contributions = ices_contributions(fy)
    planned = _rescale({s[0]: s[2] for s in ICES_SCHEMES}, sum(contributions.values()))
    # Overspend: the lead commissioner bears the first £100,000 (it manages demand);
    # the rest is shared roughly as contributed, NHS Bassetlaw never more than £4,000.
    overspend = RiskRule(
        method="tiered",
        tiers=(
            Tier(up_to=_p(100_000), shares=(Share(partner_id=HOST, pct=Decimal(100)),)),
            Tier(
                up_to=None,
                shares=(
                    Share(partner_id="ncc", pct=Decimal(35)),
                    Share(partner_id="nottm-city", pct=Decimal(15)),
                    Share(partner_id="nhs-notts-county", pct=Decimal(34)),
                    Share(partner_id="nhs-nottm-city", pct=Decimal(11)),
                    Share(partner_id="bassetlaw-ccg", pct=Decimal(5)),
                ),
            ),
        ),
        caps=(Cap(partner_id="bassetlaw-ccg", amount=_p(4_000)),),
    )
    return Plan(
        contributions=tuple(
            PlannedContribution(partner_id=pid, funding_stream="contribution", amount=amount)
            for pid, amount in contributions.items()
        ),
        schemes=tuple(
            Scheme(
                id=sid,
                name=name,
                scheme_type="Assistive Technologies and Equipment",
                commissioner=HOST,
                provider_type="Private Sector",
                funding_stream="contribution",
                planned=planned[sid],
            )
            for sid, name, _ in ICES_SCHEMES
        ),
        risk_share=RiskShareRules(overspend=overspend, underspend=RiskRule(method="proportional")),
    )


# --- the Mid-Nottinghamshire Better Care Fund -----------------------------------------

BCF_MEMBERS = ("ncc", "nn-icb", "mansfield-dc")
BCF_HWB = HwbArea(name="Nottinghamshire", ons_code="E10000024")
# (partner, funding stream) -> planned 2025-26
BCF_CONTRIBUTIONS_2025: dict[tuple[str, str], int] = {
    ("nn-icb", "minimum_nhs_contribution"): _p(28_604_312),
    ("ncc", "la_better_care_grant"): _p(13_712_450),
    ("ncc", "dfg"): _p(2_987_116),
    ("ncc", "additional_la"): _p(1_250_000),
    ("mansfield-dc", "additional_la"): _p(180_000),
    ("nn-icb", "additional_icb"): _p(850_000),
}
BCF_UPLIFT: dict[int, dict[tuple[str, str], Fraction]] = {
    2025: {},
    2026: {  # the minimum NHS contribution rises with the NHS allocation
        ("nn-icb", "minimum_nhs_contribution"): _f("1.039"),
        ("ncc", "additional_la"): _f("1.05"),
    },
}


@dataclass(frozen=True)
class _BcfScheme:
    id: str
    name: str
    scheme_type: str
    commissioner: str
    provider_type: str
    funding_stream: str
    planned_2025: int
    joint_la: int | None = None  # the la percentage of a joint scheme
    factor_2025: Fraction = Fraction(1)  # actual outturn / plan
    factor_2026: Fraction = Fraction(1)
    spread: int = 60  # month-to-month variation, per mille


BCF_SCHEMES: tuple[_BcfScheme, ...] = (
    _BcfScheme(
        "carers", "Carers' breaks and support", "Carers Services", "joint",
        "Charity / Voluntary Sector", "minimum_nhs_contribution", _p(1_240_000), joint_la=60,
        factor_2025=_f("0.985"), factor_2026=_f("0.992"),
    ),
    _BcfScheme(
        "reablement", "Short Term Independence Service (reablement)",
        "Home-based intermediate care services", "la", "Local Authority",
        "minimum_nhs_contribution", _p(6_850_000),
        factor_2025=_f("1.034"), factor_2026=_f("1.041"),
    ),
    _BcfScheme(
        "ucr", "Urgent community response (two-hour)", "Urgent Community Response", "icb",
        "NHS Community Provider", "minimum_nhs_contribution", _p(4_120_000),
        factor_2025=_f("0.972"), factor_2026=_f("0.981"),
    ),
    _BcfScheme(
        "licts", "Local Integrated Care Teams", "Integrated Care Planning and Navigation",
        "joint", "NHS Community Provider", "minimum_nhs_contribution", _p(3_460_000),
        joint_la=50, factor_2025=_f("0.995"), factor_2026=_f("1.003"),
    ),
    _BcfScheme(
        "assessment-beds", "Assessment beds and Poppy Fields assessment flats",
        "Bed based intermediate Care Services", "la", "Local Authority",
        "minimum_nhs_contribution", _p(2_310_000),
        factor_2025=_f("1.041"), factor_2026=_f("1.018"),
    ),
    _BcfScheme(
        "community-health", "Community health services (NHS commissioned)",
        "Community Based Schemes", "icb", "NHS Community Provider",
        "minimum_nhs_contribution", _p(10_624_312), spread=0,
    ),
    _BcfScheme(
        "home-care", "Home-based care and support (lead providers)",
        "Home Care or Domiciliary Care", "la", "Private Sector", "la_better_care_grant",
        _p(9_412_450), factor_2025=_f("1.046"), factor_2026=_f("1.052"),
    ),
    _BcfScheme(
        "discharge", "Integrated discharge and transfer to assess",
        "High Impact Change Model for Managing Transfer of Care", "joint", "Local Authority",
        "la_better_care_grant", _p(2_300_000), joint_la=70,
        factor_2025=_f("1.058"), factor_2026=_f("1.022"),
    ),
    _BcfScheme(
        "care-act", "Care Act duties: carers' assessments and advocacy",
        "Care Act Implementation Related Duties", "la", "Local Authority",
        "la_better_care_grant", _p(2_000_000), factor_2025=_f("0.962"),
        factor_2026=_f("0.978"),
    ),
    _BcfScheme(
        "dfg-adaptations", "Disabled facilities grants (Mansfield district)",
        "DFG Related Schemes", "mansfield-dc", "Local Authority", "dfg", _p(2_987_116),
        factor_2025=_f("0.912"), factor_2026=_f("0.934"), spread=400,
    ),
    _BcfScheme(
        "assistive-tech", "Assistive technology and telecare",
        "Assistive Technologies and Equipment", "la", "Private Sector", "additional_la",
        _p(1_430_000), factor_2025=_f("1.012"), factor_2026=_f("1.007"),
    ),
    _BcfScheme(
        "ed-avoidance", "Emergency Department Avoidance Support Scheme (EDASS)",
        "Prevention / Early Intervention", "icb", "Charity / Voluntary Sector",
        "additional_icb", _p(850_000), factor_2025=_f("0.947"), factor_2026=_f("0.966"),
    ),
)  # fmt: skip


def bcf_contributions(fy: FinancialYear) -> dict[tuple[str, str], int]:
    uplift = BCF_UPLIFT[fy.start_year]
    return {
        k: _scaled_pounds(v, uplift.get(k, Fraction(1))) for k, v in BCF_CONTRIBUTIONS_2025.items()
    }


def bcf_planned(fy: FinancialYear) -> dict[str, int]:
    """Each scheme's planned spend: each stream's schemes share the stream's total."""
    by_stream: dict[str, int] = {}
    for (_, stream), amount in bcf_contributions(fy).items():
        by_stream[stream] = by_stream.get(stream, 0) + amount
    out: dict[str, int] = {}
    for stream, total in by_stream.items():
        lines = {s.id: s.planned_2025 for s in BCF_SCHEMES if s.funding_stream == stream}
        out.update(_rescale(lines, total))
    return {s.id: out[s.id] for s in BCF_SCHEMES}


def bcf_plan(fy: FinancialYear) -> Plan:
    planned = bcf_planned(fy)
    return Plan(
        contributions=tuple(
            PlannedContribution(partner_id=pid, funding_stream=stream, amount=amount)
            for (pid, stream), amount in bcf_contributions(fy).items()
        ),
        schemes=tuple(
            Scheme(
                id=s.id,
                name=s.name,
                scheme_type=s.scheme_type,
                commissioner=s.commissioner,
                joint_split=(
                    JointSplit(la=Decimal(s.joint_la), icb=Decimal(100 - s.joint_la))
                    if s.joint_la is not None
                    else None
                ),
                provider_type=s.provider_type,
                funding_stream=s.funding_stream,
                planned=planned[s.id],
            )
            for s in BCF_SCHEMES
        ),
        # each partner manages the risk of the schemes it commissions; an underspend
        # stays in the pool for next year
        risk_share=RiskShareRules(
            overspend=RiskRule(method="by_commissioner"),
            underspend=RiskRule(method="carry_forward"),
        ),
    )


# (metric id) -> per quarter from 2025-26 Q1: (target, actual)
BCF_METRICS: dict[str, tuple[tuple[str, str], ...]] = {
    "emergency-admissions-65-plus": (
        ("5520.0", "5611.3"), ("5480.0", "5402.8"), ("5960.0", "6104.5"), ("5810.0", "5790.2"),
        ("5430.0", "5455.9"), ("5400.0", "5361.0"), ("5880.0", "5912.4"), ("5730.0", "5688.1"),
    ),
    "average-discharge-delay": (
        ("0.90", "1.02"), ("0.90", "0.93"), ("0.85", "0.88"), ("0.85", "0.81"),
        ("0.80", "0.79"), ("0.80", "0.84"), ("0.80", "0.77"), ("0.80", "0.80"),
    ),
    "discharged-on-discharge-ready-date": (
        ("86.0", "84.9"), ("86.5", "86.8"), ("87.0", "85.2"), ("87.5", "87.9"),
        ("88.0", "88.3"), ("88.5", "86.1"), ("88.5", "88.9"), ("89.0", "88.7"),
    ),
    "residential-admissions": (
        ("140.0", "131.6"), ("140.0", "138.2"), ("140.0", "149.7"), ("140.0", "135.0"),
        ("135.0", "128.4"), ("135.0", "141.1"), ("135.0", "133.9"), ("135.0", "130.2"),
    ),
}  # fmt: skip


# --- the Mid-Nottinghamshire Better Together Alliance ---------------------------------

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


# --- loading -------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoSummary:
    events_written: int
    events_by_pool: dict[str, int]  # pool id -> events in its stream
    partners: tuple[str, ...]
    first_position: int
    last_position: int
    closed_quarters: dict[str, tuple[str, ...]]  # pool id -> quarters closed
    open_quarter: str | None  # the latest ended quarter, left open for the scheduler

    @property
    def pools(self) -> tuple[str, ...]:
        return tuple(self.events_by_pool)


def ledger_is_empty(ledger: Ledger) -> bool:
    with ledger.engine.connect() as conn:
        return es.read_head(conn).position == 0


def load_demo(ledger: Ledger, today: date) -> DemoSummary:
    """Load the demo partnership into an empty ledger, with data up to ``today``.

    ``today`` should be the ledger clock's London date: quarters are closed only
    once they have ended. Raises ``RuleViolation`` if the ledger is not empty."""
    if not ledger_is_empty(ledger):
        raise RuleViolation("the ledger is not empty: the demo loads only into an empty ledger")
    return _Loader(ledger, today).load()


class StoryClock:
    """A clock a loader sets to the moment each fact happened: never backwards, and
    never past ``until`` (the real now), so later real postings still come after."""

    def __init__(self, start: datetime, until: datetime) -> None:
        self._at, self._until = start, until

    def now(self) -> datetime:
        return self._at

    def move_to(self, at: datetime) -> None:
        self._at = min(max(self._at, at), self._until)


def _happened_on(command: c.Command) -> date | None:
    for name in ("effective_date", "as_of_date", "assessed_on"):
        value = getattr(command, name, None)
        if isinstance(value, date):
            return value
    period = getattr(command, "period", None) or getattr(command, "quarter", None)
    return parse_period(period).end if isinstance(period, str) else None


class _StoryLedger(Ledger):
    """Records each command at 17:00 London on the day it happened."""

    story: StoryClock

    def execute(self, command: c.Command, actor: c.Actor, **kw: Any) -> Outcome:
        day = _happened_on(command)
        if day is not None:
            self.story.move_to(datetime(day.year, day.month, day.day, 17, tzinfo=LONDON))
        return super().execute(command, actor, **kw)


def load_demo_as_it_happened(
    engine: Engine, reference: ReferenceSource, hooks: Sequence[AppendHook], now: datetime
) -> DemoSummary:
    """Load the demo with recorded times on the days the facts happened (up to ``now``),
    so "as the board saw it on 30 September" has something to show."""
    story = StoryClock(datetime(2025, 3, 1, 9, tzinfo=UTC), now)
    ledger = _StoryLedger(engine, story, reference, hooks=hooks)
    ledger.story = story
    return load_demo(ledger, now.astimezone(LONDON).date())


def _monthly(total: int, rng: random.Random, spread: int) -> list[int]:
    """Split a year's amount into twelve months that vary by up to ``spread`` per mille."""
    weights = {m: Fraction(1000 + rng.randint(-spread, spread)) for m in range(1, 13)}
    parts = allocate(total, weights, list(weights))
    return [parts[m] for m in range(1, 13)]


def _even(total: int, n: int) -> list[int]:
    parts = allocate(total, dict.fromkeys(range(n), Fraction(1)), list(range(n)))
    return [parts[i] for i in range(n)]


def _on(month: Month, day: int) -> date:
    return min(month.start + timedelta(days=day - 1), month.end)


@dataclass
class _Loader:
    ledger: Ledger
    today: date
    rng: random.Random = field(default_factory=lambda: random.Random(20250401))
    seq: int = 0
    written: int = 0
    by_pool: dict[str, int] = field(default_factory=dict)
    first_position: int = 0
    last_position: int = 0
    closed: dict[str, list[str]] = field(default_factory=dict)
    spend: dict[tuple[str, int, str], list[int]] = field(default_factory=dict)
    rapid_spend: dict[str, int] = field(default_factory=dict)  # quarter -> spend so far
    marks: dict[str, str] = field(default_factory=dict)  # named events -> event id

    # -- plumbing ----------------------------------------------------------------------

    def run(self, command: c.Command, actor: c.Actor) -> Outcome:
        self.seq += 1
        out = self.ledger.execute(command, actor, request_id=f"demo-{self.seq:05d}")
        for e in out.events:
            self.written += 1
            self.first_position = self.first_position or e.position
            self.last_position = e.position
            if e.stream_id.startswith("pool:"):
                pid = e.stream_id[len("pool:") :]
                self.by_pool[pid] = self.by_pool.get(pid, 0) + 1
        return out

    def _mark(self, name: str, out: Outcome | None) -> str | None:
        """Remember the event a later correction names."""
        if out is not None:
            self.marks[name] = out.events[-1].event_id
        return self.marks.get(name)

    def _months(self) -> Iterator[Month]:
        for fy in YEARS:
            for m in fy.months:
                if m.start <= self.today:
                    yield m

    def _ended(self) -> list[Quarter]:
        return [q for fy in YEARS for q in fy.quarters if q.end < self.today]

    def _closable(self, q: Quarter) -> bool:
        ended = self._ended()
        if q not in ended:
            return False
        return q.year == YEARS[0] or q != ended[-1]

    def _open_quarter(self) -> str | None:
        ended = self._ended()
        if ended and ended[-1].year != YEARS[0]:
            return ended[-1].label
        return None

    def _contribution(
        self, pool: str, partner: str, stream: str, amount: int, when: date, reference: str
    ) -> Outcome | None:
        if when > self.today:  # nothing is dated after today
            return None
        return self.run(
            c.PostContribution(
                pool_id=pool,
                partner_id=partner,
                funding_stream=stream,
                amount=amount,
                effective_date=when,
                reference=reference,
            ),
            officer(partner),
        )

    def _spend(
        self, pool: str, scheme: str, amount: int, when: date, reference: str
    ) -> Outcome | None:
        if when > self.today:  # nothing is dated after today
            return None
        return self.run(
            c.RecordExpenditure(
                pool_id=pool, scheme_id=scheme, amount=amount, effective_date=when,
                reference=reference,
            ),
            officer(HOST),
        )  # fmt: skip

    # -- the story ---------------------------------------------------------------------

    def load(self) -> DemoSummary:
        self._precompute()
        self._setup()
        for month in self._months():
            fy = month.year
            if month.number == 1:
                if fy != YEARS[0]:
                    self._agree_plans(fy)
                self._populations(fy)
            self._contributions(month)
            self._spending(month)
            self._specials(month)
            if month.number % 3 == 0 and month.quarter.end < self.today:
                self._quarter_end(month.quarter)
            if month.number % 3 == 1:
                self._close(month.quarter.previous())
        for q in self._ended():  # anything not closed in the loop (e.g. the last quarter)
            self._close(q)
        self._prior_period_adjustment()
        return DemoSummary(
            events_written=self.written,
            events_by_pool=dict(self.by_pool),
            partners=tuple(p.partner_id for p in DEMO_PARTNERS),
            first_position=self.first_position,
            last_position=self.last_position,
            closed_quarters={k: tuple(v) for k, v in self.closed.items()},
            open_quarter=self._open_quarter(),
        )

    def _precompute(self) -> None:
        """Each scheme's monthly spend for each year, drawn once in a fixed order."""
        for fy in YEARS:
            y = fy.start_year
            planned = {s.id: s.planned for s in ices_plan(fy).schemes}
            for sid, factor in ICES_SPEND_FACTOR[y].items():
                self.spend[(ICES, y, sid)] = _monthly(_scaled(planned[sid], factor), self.rng, 70)
            bcf = bcf_planned(fy)
            for s in BCF_SCHEMES:
                factor = s.factor_2025 if y == 2025 else s.factor_2026
                self.spend[(BCF, y, s.id)] = _monthly(
                    _scaled(bcf[s.id], factor), self.rng, s.spread
                )
            plan = alliance_plan(fy)
            community = next(s for s in plan.schemes if s.id == "community-health")
            self.spend[(ALLIANCE, y, "community-health")] = _even(community.planned, 12)
            rapid = _scaled(RAPID_RESPONSE_PLANNED[y], _f("1.03") if y == 2025 else _f("0.99"))
            self.spend[(ALLIANCE, y, "rapid-response")] = _monthly(rapid, self.rng, 80)

    def _setup(self) -> None:
        for p in DEMO_PARTNERS:
            self.run(
                c.RegisterPartner(
                    partner_id=p.partner_id,
                    name=p.name,
                    kind=p.kind,
                    ods_code=p.ods_code,
                    ons_code=p.ons_code,
                ),
                ADMIN,
            )
        self.run(
            c.EstablishPool(
                pool_id=ICES,
                name="Integrated Community Equipment Service (ICES)",
                kind="section_75",
                host_partner_id=HOST,
                members=ICES_MEMBERS,
            ),
            ADMIN,
        )
        self.run(
            c.EstablishPool(
                pool_id=BCF,
                name="Mid-Nottinghamshire Better Care Fund",
                kind="bcf",
                host_partner_id=HOST,
                members=BCF_MEMBERS[:2],
                hwb_area=BCF_HWB,
            ),
            ADMIN,
        )
        # the district council joined once the DFG was pooled with the county's money
        self.run(c.JoinPool(pool_id=BCF, partner_id="mansfield-dc"), ADMIN)
        self.run(
            c.EstablishPool(
                pool_id=ALLIANCE,
                name="Mid-Nottinghamshire Better Together Alliance",
                kind="alliance",
                host_partner_id=HOST,
                members=ALLIANCE_MEMBERS,
            ),
            ADMIN,
        )
        self._agree_plans(YEARS[0])
        self.run(
            c.RecordOpeningBalance(
                pool_id=ICES,
                year=YEARS[0].label,
                amount=ICES_OPENING_BALANCE,
                note="Balance brought forward from the 2024-25 ICES pooled fund memorandum "
                "account (spreadsheet, agreed at the partnership board)",
            ),
            ADMIN,
        )

    def _agree_plans(self, fy: FinancialYear) -> None:
        self.run(c.AgreePlan(pool_id=ICES, year=fy.label, plan=ices_plan(fy)), ADMIN)
        self.run(c.AgreePlan(pool_id=BCF, year=fy.label, plan=bcf_plan(fy)), ADMIN)
        self.run(c.AgreePlan(pool_id=ALLIANCE, year=fy.label, plan=alliance_plan(fy)), ADMIN)

    def _populations(self, fy: FinancialYear) -> None:
        if fy.start > self.today:
            return
        cohorts = [k for k, _ in COHORT_WEIGHTS]
        for loc, counts in populations(fy).items():
            for cohort, count in zip(cohorts, counts, strict=True):
                self.run(
                    c.RecordPopulation(
                        pool_id=ALLIANCE,
                        unit_id=loc,
                        cohort=cohort,
                        count=count,
                        effective_date=fy.start,
                    ),
                    officer(HOST),
                )

    # -- each month --------------------------------------------------------------------

    def _contributions(self, month: Month) -> None:
        fy, n = month.year, month.number
        tag = f"{fy.start_year % 100:02d}{n:02d}"
        when = _on(month, 8)
        for pid, annual in ices_contributions(fy).items():
            amount = _monthly_share(annual, n)
            self._contribution(ICES, pid, "contribution", amount, when, f"BACS ICES-{pid}-{tag}")
            if (fy, n, pid) == (YEARS[0], 10, "nottm-city"):
                # the city's January instalment was paid twice; the pool pays it back
                dup = self._contribution(
                    ICES, pid, "contribution", amount, _on(month, 9),
                    f"BACS ICES-{pid}-{tag} (second payment)",
                )  # fmt: skip
                self._mark("ices-duplicate-payment", dup)
        for (pid, stream), annual in bcf_contributions(fy).items():
            if stream == "dfg":  # the DFG is passed on in two instalments
                if n in (2, 7):
                    self._contribution(
                        BCF, pid, stream, _even(annual, 2)[0 if n == 2 else 1],
                        _on(month, 12), f"DFG capital grant {fy.label} instalment {n // 5 + 1}",
                    )  # fmt: skip
            elif stream in ("additional_icb",) or pid == "mansfield-dc":  # quarterly
                if n % 3 == 1:
                    self._contribution(
                        BCF, pid, stream, _even(annual, 4)[n // 3], _on(month, 15),
                        f"{pid.upper()} BCF {stream} {fy.label} Q{n // 3 + 1}",
                    )  # fmt: skip
            else:
                self._contribution(
                    BCF, pid, stream, _monthly_share(annual, n), when,
                    f"{pid.upper()} BCF {stream} {tag}",
                )  # fmt: skip
        for pid, annual in ALLIANCE_CONTRIBUTIONS[fy.start_year].items():
            self._contribution(
                ALLIANCE, pid, "contribution", _monthly_share(annual, n), _on(month, 10),
                f"BACS ALLIANCE-{pid}-{tag}",
            )  # fmt: skip

    def _spending(self, month: Month) -> None:
        fy, n, y = month.year, month.number, month.year.start_year
        tag = f"{y % 100:02d}{n:02d}"
        when = _on(month, 26)
        for sid, _, _ in ICES_SCHEMES:
            amount = self.spend[(ICES, y, sid)][n - 1]
            ref = f"INV-ICES-{sid[:5].upper()}-{tag}"
            out = self._spend(ICES, sid, amount, when, ref)
            if sid == "equipment-purchase":
                self._mark(f"ices-equipment-{fy.label}-{n}", out)
            if (fy, n, sid) == (YEARS[0], 5, "equipment-purchase"):
                # the accounts payable interface sent August's invoice twice
                duplicate = self._mark(
                    "ices-duplicate-invoice", self._spend(ICES, sid, amount, when, ref)
                )
                if duplicate is not None:
                    self.run(
                        c.ReverseEvent(
                            event_id=duplicate,
                            reason=f"Duplicate of invoice {ref}: posted twice by the AP interface",
                        ),
                        officer(HOST),
                    )
        for s in BCF_SCHEMES:
            amount = self.spend[(BCF, y, s.id)][n - 1]
            self._spend(BCF, s.id, amount, when, f"BCF-{s.id.upper()}-{tag}")
        hours = home_care_hours(fy)
        base = sum(
            outcome_payment(h, HOME_CARE_RATE, Decimal(95), OUTCOMES, ()).base
            for h in hours.values()
        )
        self._spend(
            ALLIANCE, "home-care", _even(base, 3)[(n - 1) % 3], _on(month, 28),
            f"MEARS-HC-{tag} (95% of commissioned hours)",
        )  # fmt: skip
        for sid in ("community-health", "rapid-response"):
            amount = self.spend[(ALLIANCE, y, sid)][n - 1]
            self._spend(ALLIANCE, sid, amount, when, f"ALLIANCE-{sid.upper()}-{tag}")
            if sid == "rapid-response" and when <= self.today:
                q = month.quarter.label
                self.rapid_spend[q] = self.rapid_spend.get(q, 0) + amount

    def _specials(self, month: Month) -> None:
        fy, n = month.year, month.number
        first = fy == YEARS[0]
        if first and n == 7:  # s.256: the ICB funds the council's discharge pathways
            self._when(
                _on(month, 1),
                lambda d: self.run(
                    c.PostTransfer(
                        pool_id=BCF,
                        from_party=Party(partner_id="nn-icb"),
                        to_party=Party(partner_id="ncc"),
                        amount=_p(900_000),
                        purpose="s256",
                        effective_date=d,
                        reference="s.256 agreement 2025/26: reablement and pathways out of "
                        "hospital (STARR)",
                    ),
                    officer("nn-icb"),
                ),
            )
        if first and n == 9:  # a specialist bed returned unused: the supplier credits it
            target = self.marks.get(f"ices-equipment-{fy.label}-8")
            self._when(
                _on(month, 3),
                lambda d: self.run(
                    c.CreditExpenditure(
                        pool_id=ICES,
                        scheme_id="equipment-purchase",
                        amount=_p("18640.00"),
                        effective_date=d,
                        reference="CN-ICES-1187: bariatric bed returned unused",
                        credits_event_id=target,
                    ),
                    officer(HOST),
                ),
            )
        if first and n == 10:  # forecast at the end of Q3
            self._forecast(ICES, fy, _p(5_571_000), None, date(2025, 12, 31))
        if first and n == 11 and "ices-duplicate-payment" in self.marks:
            amount = _monthly_share(ices_contributions(fy)["nottm-city"], 10)
            self._when(
                _on(month, 10),
                lambda d: self.run(
                    c.RefundContribution(
                        pool_id=ICES,
                        partner_id="nottm-city",
                        funding_stream="contribution",
                        amount=amount,
                        effective_date=d,
                        reference="Refund of January instalment paid twice",
                        refunds_event_id=self.marks["ices-duplicate-payment"],
                    ),
                    officer(HOST),
                ),
            )
        if not first and n == 7:  # Q2 forecasts: the whole pool, and the pressured schemes
            as_of = date(fy.start_year, 9, 30)
            self._forecast(ICES, fy, _p(5_748_000), None, as_of)
            planned = bcf_planned(fy)
            for sid, factor in (("home-care", "1.055"), ("reablement", "1.04"), ("ucr", "0.98")):
                amount = _scaled_pounds(planned[sid], _f(factor))
                self._forecast(BCF, fy, amount, sid, as_of)

    def _when(self, d: date, action: Callable[[date], object]) -> None:
        if d <= self.today:
            action(d)

    def _forecast(
        self, pool: str, fy: FinancialYear, amount: int, scheme: str | None, as_of: date
    ) -> None:
        if as_of > self.today:
            return
        self.run(
            c.RecordForecast(
                pool_id=pool, year=fy.label, amount=amount, scheme_id=scheme, as_of_date=as_of
            ),
            officer(HOST),
        )

    # -- each quarter ------------------------------------------------------------------

    def _quarter_index(self, q: Quarter) -> int:
        return (q.year.start_year - YEARS[0].start_year) * 4 + q.number - 1

    def _quarter_end(self, q: Quarter) -> None:
        i = self._quarter_index(q)
        for metric, values in BCF_METRICS.items():
            target, actual = values[i % len(values)]
            self.run(
                c.RecordMetric(
                    pool_id=BCF, metric_id=metric, period=q.label,
                    target=Decimal(target), actual=Decimal(actual),
                ),
                officer(HOST),
            )  # fmt: skip
        for metric, values in ALLIANCE_METRICS.items():
            target, actual = values[i % len(values)]
            self.run(
                c.RecordMetric(
                    pool_id=ALLIANCE, metric_id=metric, period=q.label,
                    target=Decimal(target), actual=Decimal(actual),
                ),
                officer(HOST),
            )  # fmt: skip
        # rapid response: the council's costs against the ICB's bed days saved
        saved = BED_DAYS_SAVED[i % len(BED_DAYS_SAVED)] * BED_DAY_COST
        self.run(
            c.RecordRiskRewardResult(
                pool_id=ALLIANCE,
                scheme_id="rapid-response",
                period=q.label,
                costs=(PartnerAmount(partner_id="ncc", amount=self.rapid_spend.get(q.label, 0)),),
                savings=(PartnerAmount(partner_id="nn-icb", amount=saved),),
            ),
            officer(HOST),
        )
        # home care outcomes, assessed a fortnight after the quarter; the met outcomes'
        # 5% is then paid
        assessed = q.end + timedelta(days=14)
        if assessed > self.today:
            return
        hours = home_care_hours(q.year)
        released = 0
        for loc in LOCALITIES:
            met = [o for o in OUTCOMES if self.rng.random() < 0.75]
            for outcome in OUTCOMES:
                self.run(
                    c.AssessOutcome(
                        pool_id=ALLIANCE,
                        service_id=service_id(loc, q),
                        outcome_id=outcome,
                        period=q.label,
                        met=outcome in met,
                        assessed_on=assessed,
                    ),
                    officer(HOST),
                )
            released += outcome_payment(
                hours[loc], HOME_CARE_RATE, Decimal(95), OUTCOMES, met
            ).released
        if released:  # accrued to the quarter it pays for, which is still open
            self._spend(
                ALLIANCE, "home-care", released, q.end,
                f"MEARS-HC-OUTCOMES-{q.label} (released on assessment {assessed.isoformat()})",
            )  # fmt: skip

    def _close(self, q: Quarter) -> None:
        if not self._closable(q):
            return
        for pool in (ICES, BCF, ALLIANCE):
            done = self.closed.setdefault(pool, [])
            if q.label in done:
                continue
            self.run(c.ClosePeriod(pool_id=pool, quarter=q.label), ADMIN)
            done.append(q.label)

    def _prior_period_adjustment(self) -> None:
        """A provider's invoice for a closed quarter arrived late: posted as a
        prior-period adjustment, so the next BCF return lists it."""
        closed = self.closed.get(BCF, [])
        if not closed:
            return
        quarter = closed[-1]
        target = next(x for fy in YEARS for x in fy.quarters if x.label == quarter)
        self.run(
            c.RecordExpenditure(
                pool_id=BCF,
                scheme_id="discharge",
                amount=_p("23418.60"),
                effective_date=target.end - timedelta(days=4),
                reference=f"INV-BCF-DISCHARGE-LATE-{quarter} (received after the quarter closed)",
                prior_period_adjustment=True,
            ),
            officer(HOST),
        )


def _monthly_share(annual: int, month_number: int) -> int:
    """An annual amount paid in twelve instalments; the pennies go to the first months."""
    return _even(annual, 12)[month_number - 1]


def demo_actors() -> Sequence[tuple[str, str | None]]:
    """(role, partner) pairs the demo uses: one token each is enough to explore it."""
    return [("admin", None), ("board", None), ("auditor", None)] + [
        ("finance_officer", p.partner_id) for p in DEMO_PARTNERS
    ]

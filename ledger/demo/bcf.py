"""The Mid-Nottinghamshire Better Care Fund: its members and Health and Wellbeing Board
area, the funding streams' contributions and uplifts, the twelve schemes, the plan
agreed for each year and the quarterly BCF metrics."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from ledger.demo.amounts import _f, _p, _rescale, _scaled_pounds
from ledger.domain.events import HwbArea
from ledger.domain.periods import FinancialYear
from ledger.domain.plan import (
    JointSplit,
    Plan,
    PlannedContribution,
    RiskRule,
    RiskShareRules,
    Scheme,
)

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

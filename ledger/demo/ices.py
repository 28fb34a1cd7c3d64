"""The Integrated Community Equipment Service (ICES): a Section 75 pool of five
partners hosted by the county council. Its members, contributions, schemes, uplift,
spend factors and opening balance, and the plan agreed for each year."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from ledger.demo.amounts import _f, _p, _rescale, _scaled_pounds
from ledger.demo.partnership import HOST
from ledger.domain.periods import FinancialYear
from ledger.domain.plan import (
    Cap,
    Plan,
    PlannedContribution,
    RiskRule,
    RiskShareRules,
    Scheme,
    Share,
    Tier,
)

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

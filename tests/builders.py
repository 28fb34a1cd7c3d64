"""Small builders for actors, partners, pools and plans used across the tests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from ledger.domain import commands as c
from ledger.domain.events import HwbArea
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
from ledger.handlers import Ledger

ADMIN = c.Actor(name="Pat Admin", role="admin", token_id="tok-admin")
BOARD = c.Actor(name="Board member", role="board", token_id="tok-board")
AUDITOR = c.Actor(name="Auditor", role="auditor", token_id="tok-audit")


def officer(partner_id: str) -> c.Actor:
    return c.Actor(
        name=f"Officer of {partner_id}",
        role="finance_officer",
        partner_id=partner_id,
        token_id=f"tok-{partner_id}",
    )


def pounds(text: str) -> int:
    whole, _, frac = text.replace(",", "").partition(".")
    return int(whole) * 100 + int((frac or "0").ljust(2, "0"))


PARTNERS: dict[str, tuple[str, str]] = {
    "ncc": ("Nottinghamshire County Council", "local_authority"),
    "city": ("Nottingham City Council", "local_authority"),
    "icb-a": ("NHS Nottingham and Nottinghamshire ICB", "icb"),
    "trust": ("Sherwood Forest Hospitals NHS FT", "nhs_trust"),
}


def register_partners(ledger: Ledger, ids: Sequence[str] = ("ncc", "city", "icb-a")) -> None:
    for pid in ids:
        name, kind = PARTNERS[pid]
        ledger.execute(c.RegisterPartner(partner_id=pid, name=name, kind=kind), ADMIN)


def equipment_plan(
    *,
    overspend: RiskRule | None = None,
    underspend: RiskRule | None = None,
    schemes: Sequence[Scheme] | None = None,
) -> Plan:
    """Worked example A's plan: ncc £2m, city £1m, icb-a £0.5m; one equipment scheme."""
    return Plan(
        contributions=(
            PlannedContribution(
                partner_id="ncc", funding_stream="contribution", amount=pounds("2000000")
            ),
            PlannedContribution(
                partner_id="city", funding_stream="contribution", amount=pounds("1000000")
            ),
            PlannedContribution(
                partner_id="icb-a", funding_stream="contribution", amount=pounds("500000")
            ),
        ),
        schemes=tuple(schemes)
        if schemes is not None
        else (
            Scheme(
                id="equipment",
                name="Community equipment",
                scheme_type="Assistive Technologies and Equipment",
                commissioner="ncc",
                provider_type="Private Sector",
                funding_stream="contribution",
                planned=pounds("3500000"),
            ),
        ),
        risk_share=RiskShareRules(
            overspend=overspend or RiskRule(method="proportional"),
            underspend=underspend or RiskRule(method="proportional"),
        ),
    )


def tiered_with_cap() -> RiskRule:
    """Worked example B's rule."""
    return RiskRule(
        method="tiered",
        tiers=(
            Tier(up_to=pounds("50000"), shares=(Share(partner_id="ncc", pct=Decimal(100)),)),
            Tier(
                up_to=None,
                shares=(
                    Share(partner_id="ncc", pct=Decimal(50)),
                    Share(partner_id="city", pct=Decimal(30)),
                    Share(partner_id="icb-a", pct=Decimal(20)),
                ),
            ),
        ),
        caps=(Cap(partner_id="icb-a", amount=pounds("20000")),),
    )


def given_equipment_pool(
    ledger: Ledger, *, pool_id: str = "eq", year: str = "2025-26", plan: Plan | None = None
) -> None:
    """Partners ncc, city, icb-a; a Section 75 pool hosted by ncc with the A plan."""
    register_partners(ledger)
    ledger.execute(
        c.EstablishPool(
            pool_id=pool_id,
            name="Community equipment",
            kind="section_75",
            host_partner_id="ncc",
            members=("ncc", "city", "icb-a"),
        ),
        ADMIN,
    )
    ledger.execute(c.AgreePlan(pool_id=pool_id, year=year, plan=plan or equipment_plan()), ADMIN)


def given_bcf_pool(ledger: Ledger, *, pool_id: str = "bcf", year: str = "2025-26") -> None:
    register_partners(ledger)
    ledger.execute(
        c.EstablishPool(
            pool_id=pool_id,
            name="Better Care Fund",
            kind="bcf",
            host_partner_id="ncc",
            members=("ncc", "icb-a"),
            hwb_area=HwbArea(name="Nottinghamshire", ons_code="E10000024"),
        ),
        ADMIN,
    )
    ledger.execute(
        c.AgreePlan(
            pool_id=pool_id,
            year=year,
            plan=Plan(
                contributions=(
                    PlannedContribution(
                        partner_id="icb-a",
                        funding_stream="minimum_nhs_contribution",
                        amount=pounds("1000000"),
                    ),
                    PlannedContribution(
                        partner_id="ncc", funding_stream="dfg", amount=pounds("200000")
                    ),
                ),
                schemes=(
                    Scheme(
                        id="carers",
                        name="Carers' breaks",
                        scheme_type="Carers Services",
                        commissioner="joint",
                        joint_split={"la": Decimal(60), "icb": Decimal(40)},
                        provider_type="Charity / Voluntary Sector",
                        funding_stream="minimum_nhs_contribution",
                        planned=pounds("450000"),
                    ),
                    Scheme(
                        id="adaptations",
                        name="Home adaptations",
                        scheme_type="DFG Related Schemes",
                        commissioner="la",
                        provider_type="Local Authority",
                        funding_stream="dfg",
                        planned=pounds("200000"),
                    ),
                ),
            ),
        ),
        ADMIN,
    )


def contribution(
    pool_id: str,
    partner_id: str,
    amount: str,
    on: date,
    *,
    stream: str = "contribution",
    ppa: bool = False,
    reference: str = "REF",
) -> c.PostContribution:
    return c.PostContribution(
        pool_id=pool_id,
        partner_id=partner_id,
        funding_stream=stream,
        amount=pounds(amount),
        effective_date=on,
        reference=reference,
        prior_period_adjustment=ppa,
    )


def spend(
    pool_id: str,
    scheme_id: str,
    amount: str,
    on: date,
    *,
    ppa: bool = False,
    reference: str = "INV",
) -> c.RecordExpenditure:
    return c.RecordExpenditure(
        pool_id=pool_id,
        scheme_id=scheme_id,
        amount=pounds(amount),
        effective_date=on,
        reference=reference,
        prior_period_adjustment=ppa,
    )

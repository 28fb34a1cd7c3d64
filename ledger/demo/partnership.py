"""The demo partnership's cast: its two financial years, the pools' ids and host, the
partners, and the actors who post (the administrator and each partner's finance
officer)."""

from __future__ import annotations

from dataclasses import dataclass

from ledger.domain import commands as c
from ledger.domain.events import PartnerKind
from ledger.domain.periods import FinancialYear

YEARS = (FinancialYear(2025), FinancialYear(2026))
ICES, BCF, ALLIANCE = "ices", "mid-notts-bcf", "mid-notts-alliance"
HOST = "ncc"


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

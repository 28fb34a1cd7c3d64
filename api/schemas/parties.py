"""Partners and pools: the bodies that register them and the views that show them."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from api.schemas.fields import Code, Name, Slug, request_config, response_config
from ledger.domain import commands as c
from ledger.domain.events import HwbArea, PartnerKind, PoolKind
from projections import views as v

# --- requests ------------------------------------------------------------------------------


class PartnerCreate(BaseModel):
    model_config = request_config(
        {
            "id": "ncc",
            "name": "Nottinghamshire County Council",
            "kind": "local_authority",
            "ons_code": "E10000024",
        }
    )
    id: Slug
    name: Name
    kind: PartnerKind
    ods_code: Code | None = None
    ons_code: Code | None = None

    def command(self) -> c.RegisterPartner:
        return c.RegisterPartner(
            partner_id=self.id,
            name=self.name,
            kind=self.kind,
            ods_code=self.ods_code,
            ons_code=self.ons_code,
        )


class HwbAreaIn(BaseModel):
    model_config = request_config({"name": "Nottinghamshire", "ons_code": "E10000024"})
    name: Name
    ons_code: Code


class PoolCreate(BaseModel):
    model_config = request_config(
        {
            "id": "bcf-notts",
            "name": "Nottinghamshire Better Care Fund",
            "kind": "bcf",
            "host_partner_id": "ncc",
            "members": ["ncc", "icb-a"],
            "hwb_area": {"name": "Nottinghamshire", "ons_code": "E10000024"},
        }
    )
    id: Slug
    name: Name
    kind: PoolKind
    host_partner_id: Slug
    members: list[Slug] = Field(default_factory=list, max_length=200)
    hwb_area: HwbAreaIn | None = None

    def command(self) -> c.EstablishPool:
        return c.EstablishPool(
            pool_id=self.id,
            name=self.name,
            kind=self.kind,
            host_partner_id=self.host_partner_id,
            members=tuple(self.members),
            hwb_area=HwbArea(name=self.hwb_area.name, ons_code=self.hwb_area.ons_code)
            if self.hwb_area
            else None,
        )


class MemberCreate(BaseModel):
    model_config = request_config({"partner_id": "city"})
    partner_id: Slug

    def command(self, pool: str) -> c.JoinPool:
        return c.JoinPool(pool_id=pool, partner_id=self.partner_id)


# --- responses -----------------------------------------------------------------------------


class PartnerPublic(BaseModel):
    model_config = response_config(
        {
            "id": "ncc",
            "name": "Nottinghamshire County Council",
            "kind": "local_authority",
            "ods_code": None,
            "ons_code": "E10000024",
        }
    )
    id: str
    name: str
    kind: str
    ods_code: str | None = None
    ons_code: str | None = None


class PartnersPublic(BaseModel):
    model_config = response_config(
        {
            "as_at_position": 12,
            "partners": [
                {"id": "ncc", "name": "Nottinghamshire County Council", "kind": "local_authority"}
            ],
        }
    )
    as_at_position: int
    partners: list[PartnerPublic]


def partner_public(x: v.PartnerView) -> PartnerPublic:
    return PartnerPublic(
        id=x.partner_id, name=x.name, kind=x.kind, ods_code=x.ods_code, ons_code=x.ons_code
    )


class HwbAreaPublic(BaseModel):
    model_config = response_config({"name": "Nottinghamshire", "ons_code": "E10000024"})
    name: str | None
    ons_code: str | None


_POOL_EXAMPLE: dict[str, Any] = {
    "id": "eq",
    "name": "Community equipment",
    "kind": "section_75",
    "host_partner_id": "ncc",
    "members": ["city", "icb-a", "ncc"],
    "hwb_area": None,
    "years": ["2025-26"],
    "closed_quarters": ["2025-26-Q1"],
    "settled_years": [],
}


class PoolPublic(BaseModel):
    model_config = response_config(_POOL_EXAMPLE)
    id: str
    name: str
    kind: str
    host_partner_id: str
    members: list[str]
    hwb_area: HwbAreaPublic | None = None
    years: list[str] = Field(description="years with a plan in force")
    closed_quarters: list[str]
    settled_years: list[str]


class PoolDetail(PoolPublic):
    model_config = response_config({**_POOL_EXAMPLE, "as_at_position": 42})
    as_at_position: int


class PoolsPublic(BaseModel):
    model_config = response_config({"as_at_position": 42, "pools": [_POOL_EXAMPLE]})
    as_at_position: int
    pools: list[PoolPublic]


def pool_public(x: v.PoolView) -> PoolPublic:
    return PoolPublic(
        id=x.pool_id,
        name=x.name,
        kind=x.kind,
        host_partner_id=x.host_partner_id,
        members=list(x.members),
        hwb_area=HwbAreaPublic(name=x.hwb_name, ons_code=x.hwb_ons_code)
        if x.hwb_name or x.hwb_ons_code
        else None,
        years=list(x.years),
        closed_quarters=list(x.closed_quarters),
        settled_years=list(x.settled_years),
    )

"""Partners, pools, members and plans."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

from api.deps import AsAt, CurrentActor, PoolReadDep, ReaderDep, WriterDep, visible_pools
from api.routes import new_router
from api.schemas.events import WriteResult
from api.schemas.fields import Slug, Year
from api.schemas.parties import (
    MemberCreate,
    PartnerCreate,
    PartnersPublic,
    PoolCreate,
    PoolDetail,
    PoolsPublic,
    partner_public,
    pool_public,
)
from api.schemas.plan import PlanPut
from ledger.domain.errors import NotFound
from projections.parties import partners_at, pool_at, pools_at

reads = new_router(tags=["partners and pools"])
writes = new_router(tags=["partners and pools"], write=True)

PoolPath = Annotated[Slug, Path(description="the pool's id", examples=["eq"])]
YearPath = Annotated[Year, Path(description="a financial year", examples=["2025-26"])]


@writes.post("/v1/partners", status_code=201, summary="Register a partner (admin)")
def register_partner(body: PartnerCreate, write: WriterDep) -> WriteResult:
    return write.one(body.command())


@reads.get("/v1/partners", summary="List partners (any role)")
def list_partners(reader: ReaderDep, actor: CurrentActor, as_at: AsAt = None) -> PartnersPublic:
    del actor  # any role may list the partners
    with reader.at(as_at) as (conn, at):
        partners = partners_at(conn, at)
    return PartnersPublic(as_at_position=at, partners=[partner_public(x) for x in partners])


@writes.post("/v1/pools", status_code=201, summary="Establish a pool (admin)")
def establish_pool(body: PoolCreate, write: WriterDep) -> WriteResult:
    return write.one(body.command())


@reads.get("/v1/pools", summary="List pools (officers: their partner's pools)")
def list_pools(reader: ReaderDep, actor: CurrentActor, as_at: AsAt = None) -> PoolsPublic:
    only = visible_pools(reader, actor)
    with reader.at(as_at) as (conn, at):
        pools = pools_at(conn, at, only)
    return PoolsPublic(as_at_position=at, pools=[pool_public(x) for x in pools])


@reads.get("/v1/pools/{pool}", summary="A pool's detail (officers: their partner's pools)")
def get_pool(pool: PoolReadDep, as_at: AsAt = None) -> PoolDetail:
    found, at = pool.answer(as_at, lambda conn, at: (pool_at(conn, pool.pool, at), at))
    if found is None:
        raise NotFound(f"pool '{pool.pool}' did not exist as at position {at}")
    return PoolDetail(**pool_public(found).model_dump(), as_at_position=at)


@writes.post("/v1/pools/{pool}/members", status_code=201, summary="Join a partner (admin)")
def join_pool(pool: PoolPath, body: MemberCreate, write: WriterDep) -> WriteResult:
    return write.one(body.command(pool))


@writes.put(
    "/v1/pools/{pool}/years/{year}/plan",
    status_code=201,
    summary="Agree the year's whole plan (admin); supersedes the previous plan",
)
def agree_plan(pool: PoolPath, year: YearPath, body: PlanPut, write: WriterDep) -> WriteResult:
    return write.one(body.command(pool, year))

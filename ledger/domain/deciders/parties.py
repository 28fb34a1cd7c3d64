"""Deciders for partners and pools: register a partner, establish a pool, join one.
Each independent check runs under ``Problems`` naming the fields it reads, so every
bad field of a body is answered at once."""

from __future__ import annotations

from ledger.domain import commands as c
from ledger.domain import events as ev
from ledger.domain.deciders.checks import Problems, check_slug, check_text, pool_in_context
from ledger.domain.deciders.context import Context
from ledger.domain.errors import AlreadyExists, RuleViolation


def decide_register_partner(cmd: c.RegisterPartner, ctx: Context) -> list[ev.Event]:
    problems = Problems(ctx.refused)
    with problems.check("id"):
        check_slug(cmd.partner_id, "id")
    with problems.check("name"):
        check_text(cmd.name, "name", max_len=200)
    problems.raise_any()
    if cmd.partner_id in ctx.partners:
        raise AlreadyExists(f"partner '{cmd.partner_id}' is already registered")
    return [ev.PartnerRegistered(**cmd.model_dump())]


def decide_establish_pool(cmd: c.EstablishPool, ctx: Context) -> list[ev.Event]:
    problems = Problems(ctx.refused)
    with problems.check("id"):
        check_slug(cmd.pool_id, "id")
    with problems.check("name"):
        check_text(cmd.name, "name", max_len=200)
    if ctx.pool is not None and "id" not in ctx.refused:
        raise AlreadyExists(f"pool '{cmd.pool_id}' already exists")
    members = tuple(dict.fromkeys((cmd.host_partner_id, *cmd.members)))
    for i, m in enumerate(members):
        host = m == cmd.host_partner_id
        with problems.check("host_partner_id" if host else "members"):
            if m not in ctx.partners:
                name = "host_partner_id" if host else f"members[{i}]"
                raise RuleViolation.field(name, f"partner '{m}' is not registered")
    with problems.check("hwb_area", "kind"):
        if cmd.kind == "bcf" and cmd.hwb_area is None:
            raise RuleViolation.field(
                "hwb_area", "a BCF pool needs its Health and Wellbeing Board area"
            )
    problems.raise_any()
    return [
        ev.PoolEstablished(
            pool_id=cmd.pool_id,
            name=cmd.name,
            kind=cmd.kind,
            host_partner_id=cmd.host_partner_id,
            members=members,
            hwb_area=cmd.hwb_area,
        )
    ]


def decide_join_pool(cmd: c.JoinPool, ctx: Context) -> list[ev.Event]:
    pool = pool_in_context(ctx, cmd.pool_id)
    problems = Problems(ctx.refused)
    with problems.check("partner_id"):
        if cmd.partner_id not in ctx.partners:
            raise RuleViolation.field("partner_id", f"partner '{cmd.partner_id}' is not registered")
    problems.raise_any()
    if cmd.partner_id in pool.members:
        raise AlreadyExists(f"'{cmd.partner_id}' is already a member of pool '{pool.pool_id}'")
    return [ev.PartnerJoined(pool_id=pool.pool_id, partner_id=cmd.partner_id)]

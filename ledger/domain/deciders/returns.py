"""Deciders for returns: generate (filing, and perhaps closing the quarter), approve,
submit."""

from __future__ import annotations

from ledger.domain import commands as c
from ledger.domain import events as ev
from ledger.domain.deciders.checks import pool_in_context
from ledger.domain.deciders.context import Context
from ledger.domain.errors import (
    AlreadyExists,
    FieldError,
    NotFound,
    ReturnIncomplete,
    RuleViolation,
)
from ledger.domain.periods import parse_quarter
from ledger.domain.return_parts import describe, missing_parts


def decide_generate_return(cmd: c.GenerateReturn, ctx: Context) -> list[ev.Event]:
    pool = pool_in_context(ctx, cmd.pool_id)
    if pool.filed(cmd.quarter) is not None:
        raise AlreadyExists(
            f"the return for {cmd.quarter} is already filed for pool '{pool.pool_id}'"
        )
    out: list[ev.Event] = [
        ev.ReturnGenerated(
            pool_id=pool.pool_id,
            quarter=cmd.quarter,
            kind=cmd.kind,
            as_at_position=cmd.as_at_position,
            data_as_at=cmd.data_as_at,
            chain_head=cmd.chain_head,
            content_hash=cmd.content_hash,
            documents=cmd.documents,
        )
    ]
    if cmd.kind == "bcf_quarterly" and cmd.close_quarter and not pool.is_closed(cmd.quarter):
        q = parse_quarter(cmd.quarter)
        nxt = parse_quarter(pool.closed_quarters[-1]).next() if pool.closed_quarters else q
        if q == nxt and q.end < ctx.today:
            out.append(ev.PeriodClosed(pool_id=pool.pool_id, quarter=q.label, automatic=True))
    return out


def decide_approve(cmd: c.ApproveReturn, ctx: Context) -> list[ev.Event]:
    pool = pool_in_context(ctx, cmd.pool_id)
    r = pool.filed(cmd.quarter)
    if r is None:
        raise NotFound(f"no filed return for {cmd.quarter} in pool '{pool.pool_id}'")
    if r.approved:
        raise AlreadyExists(f"the {cmd.quarter} return is already approved")
    if r.kind == "bcf_quarterly":
        year = parse_quarter(cmd.quarter).year.label
        missing = missing_parts(cmd.quarter, pool.plan(year), ctx.reference.for_year(year), r.parts)
        if missing:
            raise ReturnIncomplete(
                f"the {cmd.quarter} return of pool '{pool.pool_id}' was filed without "
                f"{len(missing)} required part(s): {', '.join(missing)}",
                errors=tuple(FieldError(k, f"missing: {describe(k)}") for k in missing),
            )
    return [
        ev.ReturnApproved(
            pool_id=pool.pool_id, quarter=cmd.quarter, approved_by=ctx.actor.name, note=cmd.note
        )
    ]


def decide_submit(cmd: c.SubmitReturn, ctx: Context) -> list[ev.Event]:
    pool = pool_in_context(ctx, cmd.pool_id)
    r = pool.filed(cmd.quarter)
    if r is None:
        raise NotFound(f"no filed return for {cmd.quarter} in pool '{pool.pool_id}'")
    if not r.approved:
        raise RuleViolation(f"the {cmd.quarter} return must be approved before it is submitted")
    if r.submitted:
        raise AlreadyExists(f"the {cmd.quarter} return is already submitted")
    return [
        ev.ReturnSubmitted(
            pool_id=pool.pool_id,
            quarter=cmd.quarter,
            submitted_by=ctx.actor.name,
            reference=cmd.reference,
        )
    ]

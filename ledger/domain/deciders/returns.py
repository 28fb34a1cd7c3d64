"""Deciders for returns: generate (filing, and perhaps closing the quarter), re-file
(a new version of a return not yet approved), approve, submit."""

from __future__ import annotations

from ledger.domain import commands as c
from ledger.domain import events as ev
from ledger.domain.deciders.checks import check_text, pool_in_context
from ledger.domain.deciders.context import Context
from ledger.domain.errors import (
    AlreadyExists,
    ConcurrencyError,
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


MAX_VERSION = 99  # ledger.store.tables.MAX_RETURN_VERSION: the documents' key holds two digits


def decide_refile(cmd: c.RefileReturn, ctx: Context) -> list[ev.Event]:
    """A new version of a filed BCF return that is not approved, once it has every
    required part, while it is the pool's latest filed return (so the next quarter's
    baseline is the version it supersedes' successor), and only over the version the
    admin saw."""
    pool = pool_in_context(ctx, cmd.pool_id)
    q = parse_quarter(cmd.quarter)
    r = pool.filed(q.label)
    if r is None or r.kind != "bcf_quarterly":
        raise NotFound(f"no filed return for {q.label} in pool '{pool.pool_id}'; file it first")
    if r.approved:
        raise RuleViolation(
            f"the {q.label} return is approved: it cannot be re-filed; report corrections "
            "as prior-period adjustments in the next return"
        )
    if pool.filed(q.next().label) is not None:
        raise RuleViolation(
            f"the {q.next().label} return is filed: {q.label} can no longer be re-filed "
            "(the next return is reconciled to it); report corrections there"
        )
    if cmd.supersedes_version != r.version:
        raise ConcurrencyError(
            f"the {q.label} return is at version {r.version}, not {cmd.supersedes_version}; "
            "read it again"
        )
    if r.version >= MAX_VERSION:
        raise RuleViolation(f"the {q.label} return has been filed {MAX_VERSION} times already")
    check_text(cmd.reason, "reason", max_len=500)
    year = q.year.label
    have = pool.return_parts.get(q.label, ())
    missing = missing_parts(q.label, pool.plan(year), ctx.reference.for_year(year), have)
    if missing:
        raise ReturnIncomplete(
            f"the {q.label} return of pool '{pool.pool_id}' still lacks {len(missing)} "
            f"required part(s): {', '.join(missing)}; record them, then file it again",
            errors=tuple(FieldError(k, f"missing: {describe(k)}") for k in missing),
        )
    return [
        ev.ReturnRefiled(
            pool_id=pool.pool_id,
            quarter=q.label,
            version=r.version + 1,
            supersedes_event_id=cmd.supersedes_event_id,
            reason=cmd.reason.strip(),
            as_at_position=cmd.as_at_position,
            data_as_at=cmd.data_as_at,
            chain_head=cmd.chain_head,
            content_hash=cmd.content_hash,
            documents=cmd.documents,
        )
    ]


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

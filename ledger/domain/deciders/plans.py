"""Decider for a year's plan: validated, and the reference data it relied on recorded."""

from __future__ import annotations

from ledger.domain import commands as c
from ledger.domain import events as ev
from ledger.domain.deciders.checks import pool_in_context
from ledger.domain.deciders.context import Context
from ledger.domain.errors import FieldError, RuleViolation
from ledger.domain.periods import parse_year
from ledger.domain.plan_rules import validate_plan


def decide_agree_plan(cmd: c.AgreePlan, ctx: Context) -> list[ev.Event]:
    pool = pool_in_context(ctx, cmd.pool_id)
    year = parse_year(cmd.year).label
    if year in pool.settled_years:
        raise RuleViolation(f"{year} is settled for pool '{pool.pool_id}'; its plan is fixed")
    ref = ctx.reference.for_year(year)
    if pool.kind == "bcf" and ref is None:
        raise RuleViolation.field("year", f"no BCF reference data is shipped for {year}")
    kinds = {m: ctx.partners[m].kind for m in pool.members if m in ctx.partners}
    problems = validate_plan(
        cmd.plan,
        pool_kind=pool.kind,
        host=pool.host_partner_id,
        member_kinds=kinds,
        reference=ref,
        year=year,
    )
    if problems:  # cross-checks of the plan's parts and the pool: rules, not shape
        raise RuleViolation(
            f"the plan for {year} has {len(problems)} problem(s); "
            f"first: {problems[0][0]}: {problems[0][1]}",
            errors=tuple(FieldError(f, m) for f, m in problems),
        )
    out: list[ev.Event] = []
    ref_hash = None
    if ref is not None:
        ref_hash = ref.content_hash()
        if ref_hash not in ctx.recorded_reference:
            out.append(
                ev.ReferenceDataRecorded(
                    year=year, content_hash=ref_hash, content=ref.canonical_json()
                )
            )
    out.append(
        ev.PlanAgreed(pool_id=pool.pool_id, year=year, plan=cmd.plan, reference_hash=ref_hash)
    )
    return out

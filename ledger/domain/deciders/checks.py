"""The checks the deciders share: ids, pool membership, open periods, years, streams,
schemes, amounts and texts. Each raises the domain error naming the field."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from ledger.domain.deciders.context import Context
from ledger.domain.errors import FieldError, NotFound, PeriodClosed, ValidationFailed
from ledger.domain.periods import FinancialYear, Quarter, parse_year
from ledger.domain.state import PoolState

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,39}$")


def check_slug(value: str, name: str) -> None:
    if not SLUG.match(value):
        raise ValidationFailed.field(
            name, f"'{value}' is not an id: use 2-40 lower-case letters, digits and hyphens"
        )


def pool_in_context(ctx: Context, pool_id: str) -> PoolState:
    if ctx.pool is None or ctx.pool.pool_id != pool_id:
        raise NotFound(f"pool '{pool_id}' does not exist")
    return ctx.pool


def check_member(pool: PoolState, partner_id: str, name: str = "partner_id") -> None:
    if partner_id not in pool.members:
        raise ValidationFailed.field(
            name, f"'{partner_id}' is not a member of pool '{pool.pool_id}'"
        )


def check_open_or_adjustment(
    pool: PoolState, when: date, ppa: bool, name: str = "effective_date"
) -> None:
    q = Quarter.of(when).label
    if pool.is_closed(q):
        if not ppa:
            raise PeriodClosed(
                f"{q} is closed for pool '{pool.pool_id}'; post it as a prior-period "
                "adjustment (prior_period_adjustment: true) to have it reported in the next return",
                errors=(FieldError(name, f"falls in closed quarter {q}"),),
            )
    elif ppa:
        raise ValidationFailed.field(
            "prior_period_adjustment", f"{q} is not closed for pool '{pool.pool_id}'; post normally"
        )


def year_for(effective: date, year: str | None, name: str = "year") -> str:
    natural = FinancialYear.of(effective)
    if year is None:
        return natural.label
    fy = parse_year(year, name)
    if abs(fy.start_year - natural.start_year) > 1:
        raise ValidationFailed.field(
            name, f"{fy.label} is too far from the effective date's year {natural.label}"
        )
    return fy.label


def check_stream(pool: PoolState, ctx: Context, year: str, stream: str, name: str) -> None:
    if pool.kind == "bcf":
        ref = ctx.reference.for_year(year)
        if ref is None:
            raise ValidationFailed.field("year", f"no BCF reference data for {year}")
        if stream not in ref.stream_ids():
            raise ValidationFailed.field(
                name,
                f"'{stream}' is not a BCF funding stream in {year} "
                f"(one of: {', '.join(sorted(ref.stream_ids()))})",
            )
        return
    plan = pool.plan(year)
    allowed = {p.funding_stream for p in plan.contributions} if plan else set()
    allowed |= {s.funding_stream for s in plan.schemes} if plan else set()
    allowed.add("contribution")
    if stream not in allowed:
        raise ValidationFailed.field(
            name, f"'{stream}' is not a funding stream of pool '{pool.pool_id}' in {year}"
        )


def scheme_in_plan(pool: PoolState, year: str, scheme_id: str, name: str = "scheme_id") -> Any:
    plan = pool.plan(year)
    scheme = plan.scheme(scheme_id) if plan else None
    if scheme is None:
        raise ValidationFailed.field(
            name, f"'{scheme_id}' is not a scheme in pool '{pool.pool_id}''s plan for {year}"
        )
    return scheme


def check_positive(amount: int, name: str = "amount") -> None:
    if amount <= 0:
        raise ValidationFailed.field(name, "must be more than zero")


def check_text(value: str, name: str, *, max_len: int = 500, required: bool = True) -> None:
    if required and not value.strip():
        raise ValidationFailed.field(name, "must not be empty")
    if len(value) > max_len:
        raise ValidationFailed.field(name, f"must be at most {max_len} characters")

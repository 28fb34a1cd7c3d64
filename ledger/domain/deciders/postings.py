"""Deciders for money postings: the opening balance, contributions and their refunds,
expenditure and its credits, and transfers."""

from __future__ import annotations

from typing import Any

from ledger.domain import commands as c
from ledger.domain import events as ev
from ledger.domain.deciders.checks import (
    Problems,
    check_in_life,
    check_limit,
    check_member,
    check_open_or_adjustment,
    check_positive,
    check_stream,
    check_text,
    pool_in_context,
    scheme_in_plan,
    year_for,
)
from ledger.domain.deciders.context import Context
from ledger.domain.errors import AlreadyExists, RuleViolation, ValidationFailed
from ledger.domain.periods import FinancialYear, parse_year


def decide_opening_balance(cmd: c.RecordOpeningBalance, ctx: Context) -> list[ev.Event]:
    pool = pool_in_context(ctx, cmd.pool_id)
    if pool.opening_balance is not None:
        raise AlreadyExists(
            f"pool '{pool.pool_id}' already has an opening balance; reverse it first"
        )
    problems = Problems(ctx.refused)
    first = pool.first_plan_year()
    fy: FinancialYear | None = None
    with problems.check("year"):
        fy = parse_year(cmd.year)
        if first is not None and fy.label > first:
            raise RuleViolation.field(
                "year", f"an opening balance is for the pool's first year ({first})"
            )
    with problems.check("amount"):
        if cmd.amount == 0:
            raise ValidationFailed.field("amount", "an opening balance of zero needs no posting")
    with problems.check("note"):
        check_text(cmd.note, "note", required=False)
    problems.raise_any()
    assert fy is not None
    check_open_or_adjustment(pool, fy.start, False, "year")
    return [
        ev.OpeningBalanceRecorded(
            pool_id=pool.pool_id,
            year=fy.label,
            amount=cmd.amount,
            note=cmd.note,
            effective_date=fy.start,
        )
    ]


def decide_contribution(
    cmd: c.PostContribution | c.RefundContribution, ctx: Context
) -> list[ev.Event]:
    pool = pool_in_context(ctx, cmd.pool_id)
    problems = Problems(ctx.refused)
    with problems.check("amount"):
        check_positive(cmd.amount)
    with problems.check("reference"):
        check_text(cmd.reference, "reference", max_len=200)
    with problems.check("partner_id"):
        check_member(pool, cmd.partner_id)
    year: str | None = None
    dated = ("effective_date", "year")  # the year is the named one, else the date's
    with problems.check(*dated):
        year = year_for(cmd.effective_date, cmd.year)
    if year is not None:
        with problems.check(*dated):
            check_in_life(pool, year, "effective_date" if cmd.year is None else "year")
        with problems.check("funding_stream", *dated):
            check_stream(pool, ctx, year, cmd.funding_stream, "funding_stream")
        if isinstance(cmd, c.RefundContribution) and cmd.amount > 0:
            with problems.check("amount", "partner_id", "funding_stream", *dated):
                check_limit(
                    cmd.amount,
                    ctx.refundable or 0,
                    f"more than '{cmd.partner_id}' has paid into '{cmd.funding_stream}' "
                    f"for {year}, net of earlier refunds",
                )
    problems.raise_any()
    assert year is not None
    check_open_or_adjustment(pool, cmd.effective_date, cmd.prior_period_adjustment)
    common = {
        "pool_id": pool.pool_id,
        "partner_id": cmd.partner_id,
        "funding_stream": cmd.funding_stream,
        "amount": cmd.amount,
        "effective_date": cmd.effective_date,
        "year": year,
        "reference": cmd.reference,
        "prior_period_adjustment": cmd.prior_period_adjustment,
    }
    if isinstance(cmd, c.RefundContribution):
        return [ev.ContributionRefunded(**common, refunds_event_id=cmd.refunds_event_id)]
    return [ev.ContributionPosted(**common)]


def decide_expenditure(
    cmd: c.RecordExpenditure | c.CreditExpenditure, ctx: Context
) -> list[ev.Event]:
    pool = pool_in_context(ctx, cmd.pool_id)
    problems = Problems(ctx.refused)
    with problems.check("amount"):
        check_positive(cmd.amount)
    with problems.check("reference"):
        check_text(cmd.reference, "reference", max_len=200)
    year = FinancialYear.of(cmd.effective_date).label
    scheme: Any = None
    in_life = False
    with problems.check("effective_date"):
        check_in_life(pool, year, "effective_date")
        in_life = True
    if in_life:
        with problems.check("effective_date", "scheme_id"):
            # spend and credits need the plan's lines: a plan in force for their year
            scheme = scheme_in_plan(pool, year, cmd.scheme_id)
    if isinstance(cmd, c.CreditExpenditure) and scheme is not None and cmd.amount > 0:
        with problems.check("amount", "effective_date", "scheme_id"):
            check_limit(
                cmd.amount,
                ctx.refundable or 0,
                f"more than scheme '{cmd.scheme_id}''s spend for {year}, net of earlier credits",
            )
    problems.raise_any()
    check_open_or_adjustment(pool, cmd.effective_date, cmd.prior_period_adjustment)
    common = {
        "pool_id": pool.pool_id,
        "scheme_id": cmd.scheme_id,
        "funding_stream": scheme.funding_stream,
        "amount": cmd.amount,
        "effective_date": cmd.effective_date,
        "year": year,
        "reference": cmd.reference,
        "prior_period_adjustment": cmd.prior_period_adjustment,
    }
    if isinstance(cmd, c.CreditExpenditure):
        return [ev.ExpenditureCredited(**common, credits_event_id=cmd.credits_event_id)]
    return [ev.ExpenditureRecorded(**common)]


def decide_transfer(cmd: c.PostTransfer, ctx: Context) -> list[ev.Event]:
    pool = pool_in_context(ctx, cmd.pool_id)
    problems = Problems(ctx.refused)
    with problems.check("amount"):
        check_positive(cmd.amount)
    with problems.check("reference"):
        check_text(cmd.reference, "reference", max_len=200)
    with problems.check("effective_date"):
        check_in_life(pool, FinancialYear.of(cmd.effective_date).label, "effective_date")
    for side, party in (("from", cmd.from_party), ("to", cmd.to_party)):
        with problems.check(side, "pool_id"):
            if (party.partner_id is None) == (party.pool_id is None):
                raise ValidationFailed.field(side, "name exactly one of partner_id or pool_id")
            if party.pool_id is not None and party.pool_id != pool.pool_id:
                raise RuleViolation.field(
                    f"{side}.pool_id", f"must be this transfer's pool '{pool.pool_id}'"
                )
            if party.partner_id is not None:
                check_member(pool, party.partner_id, f"{side}.partner_id")
    with problems.check("from", "to"):
        if cmd.from_party.pool_id and cmd.to_party.pool_id:
            raise RuleViolation.field("to", "a transfer between a pool and itself moves nothing")
        if cmd.from_party == cmd.to_party:
            raise RuleViolation.field("to", "a partner cannot transfer to itself")
    if cmd.purpose == "s256":
        src = ctx.partners.get(cmd.from_party.partner_id or "")
        dst = ctx.partners.get(cmd.to_party.partner_id or "")
        with problems.check("purpose", "from"):
            if src is None or src.kind not in ("icb", "nhs_trust"):
                raise RuleViolation.field(
                    "from.partner_id", "an s256 transfer comes from an ICB or NHS trust"
                )
        with problems.check("purpose", "to"):
            if dst is None or dst.kind != "local_authority":
                raise RuleViolation.field(
                    "to.partner_id", "an s256 transfer goes to a local authority"
                )
    problems.raise_any()
    check_open_or_adjustment(pool, cmd.effective_date, cmd.prior_period_adjustment)
    return [
        ev.TransferPosted(
            pool_id=pool.pool_id,
            from_party=cmd.from_party,
            to_party=cmd.to_party,
            purpose=cmd.purpose,
            amount=cmd.amount,
            effective_date=cmd.effective_date,
            year=FinancialYear.of(cmd.effective_date).label,
            reference=cmd.reference,
            prior_period_adjustment=cmd.prior_period_adjustment,
        )
    ]

"""Decider for reversing an event: reversible, not already reversed, in an open period."""

from __future__ import annotations

from ledger.domain import commands as c
from ledger.domain import events as ev
from ledger.domain.deciders.checks import check_open_or_adjustment, check_text
from ledger.domain.deciders.context import Context
from ledger.domain.errors import AlreadyReversed, NotFound, RuleViolation


def decide_reverse(cmd: c.ReverseEvent, ctx: Context) -> list[ev.Event]:
    target = ctx.target
    if target is None:
        raise NotFound(f"event '{cmd.event_id}' does not exist")
    check_text(cmd.reason, "reason")
    cls = ev.EVENT_TYPES.get(target.type)
    if cls is None or not cls.reversible:
        raise RuleViolation(
            f"a '{target.type}' event cannot be reversed"
            + ("; post the fact again instead" if target.type == ev.EventReversed.type else "")
        )
    if target.reversed:
        raise AlreadyReversed(
            f"event '{target.event_id}' (position {target.position}) is already reversed"
        )
    # a forecast's date is an as-of date, not an accounting date: forecasts may change
    # while the year is open, so reversing one is never a closed-period matter
    dated = target.effective_date is not None and target.type != ev.ForecastRecorded.type
    if ctx.pool is not None and dated and target.effective_date is not None:
        check_open_or_adjustment(ctx.pool, target.effective_date, cmd.prior_period_adjustment)
    return [
        ev.EventReversed(
            reversed_event_id=target.event_id,
            reversed_type=target.type,
            reversed_position=target.position,
            pool_id=target.pool_id,
            reason=cmd.reason,
            effective_date=target.effective_date,
            prior_period_adjustment=cmd.prior_period_adjustment,
        )
    ]

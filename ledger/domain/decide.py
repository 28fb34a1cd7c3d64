"""``decide(command, context) -> events``: every rule check of the ledger, pure.

The handler loads the context (pool state, partners, the event a reversal names,
today's date, reference data) and appends what this returns; nothing here touches
a database or a clock. This module checks the pool and permissions, then dispatches
on the command's type to a decider in the ``deciders`` module of its family.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ledger.domain import commands as c
from ledger.domain import events as ev
from ledger.domain.deciders.alliance import (
    decide_metric,
    decide_outcome,
    decide_population,
    decide_risk_reward,
)
from ledger.domain.deciders.checks import pool_in_context
from ledger.domain.deciders.context import Context, ReferenceSource
from ledger.domain.deciders.parties import (
    decide_establish_pool,
    decide_join_pool,
    decide_register_partner,
)
from ledger.domain.deciders.periods import decide_close, decide_forecast, decide_settle
from ledger.domain.deciders.plans import decide_agree_plan
from ledger.domain.deciders.postings import (
    decide_contribution,
    decide_expenditure,
    decide_opening_balance,
    decide_transfer,
)
from ledger.domain.deciders.return_parts import (
    decide_assurance,
    decide_contacts,
    decide_fee_rates,
    decide_income_variance,
    decide_metric_assessment,
    decide_scheme_activity,
    decide_sign_off,
    decide_year_end_feedback,
)
from ledger.domain.deciders.returns import (
    decide_approve,
    decide_generate_return,
    decide_refile,
    decide_submit,
)
from ledger.domain.deciders.reversals import decide_reverse
from ledger.domain.errors import NotFound
from ledger.domain.permissions import authorize

__all__ = ["Context", "ReferenceSource", "decide"]


def decide(command: c.Command, ctx: Context) -> list[ev.Event]:
    handler = _DECIDERS.get(type(command))
    if handler is None:  # pragma: no cover - a programming error
        raise TypeError(f"no decider for {type(command).__name__}")
    if isinstance(command, c.ReverseEvent) and ctx.target is None:
        raise NotFound(f"event '{command.event_id}' does not exist")
    pool_id = getattr(command, "pool_id", None)
    if pool_id is not None and not isinstance(command, c.EstablishPool):
        pool_in_context(ctx, pool_id)
    authorize(ctx.actor, command, ctx.pool, ctx.target)
    return handler(command, ctx)


_DECIDERS: dict[type[c.Command], Callable[[Any, Context], list[ev.Event]]] = {
    c.RegisterPartner: decide_register_partner,
    c.EstablishPool: decide_establish_pool,
    c.JoinPool: decide_join_pool,
    c.AgreePlan: decide_agree_plan,
    c.RecordOpeningBalance: decide_opening_balance,
    c.PostContribution: decide_contribution,
    c.RefundContribution: decide_contribution,
    c.RecordExpenditure: decide_expenditure,
    c.CreditExpenditure: decide_expenditure,
    c.PostTransfer: decide_transfer,
    c.RecordForecast: decide_forecast,
    c.RecordRiskRewardResult: decide_risk_reward,
    c.RecordPopulation: decide_population,
    c.AssessOutcome: decide_outcome,
    c.RecordMetric: decide_metric,
    c.ReverseEvent: decide_reverse,
    c.ClosePeriod: decide_close,
    c.SettleRiskShare: decide_settle,
    c.GenerateReturn: decide_generate_return,
    c.RefileReturn: decide_refile,
    c.ApproveReturn: decide_approve,
    c.SubmitReturn: decide_submit,
    c.AssureNationalCondition: decide_assurance,
    c.AssessMetric: decide_metric_assessment,
    c.RecordSchemeActivity: decide_scheme_activity,
    c.RecordFeeRates: decide_fee_rates,
    c.RecordReturnContacts: decide_contacts,
    c.SignOffReturn: decide_sign_off,
    c.ExplainIncomeVariance: decide_income_variance,
    c.GiveYearEndFeedback: decide_year_end_feedback,
}

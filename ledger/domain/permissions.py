"""Roles' limits (api.md "Roles"), checked by the domain so every entrypoint agrees.

- admin: registration, pools, plans, opening balances, closing, settlement, returns,
  and reversals of anything reversible;
- finance_officer of a partner: contributions and transfers it pays, reversals of
  what its partner posted; the host's officers (the pooled fund manager) also post
  any member's contributions, refunds, spend, credits, forecasts, risk/reward
  results, populations, outcome assessments and metrics, and the BCF return's parts
  (national-condition assurances, metric assessments, scheme activity, fee rates,
  contacts, the income variance commentary and the year-end feedback); the HWB's
  sign-off of a return is recorded by an admin;
- board and auditor: read only.
"""

from __future__ import annotations

from ledger.domain import commands as c
from ledger.domain.errors import Forbidden
from ledger.domain.state import PoolState, TargetEvent

ADMIN_ONLY = (
    c.RegisterPartner,
    c.EstablishPool,
    c.JoinPool,
    c.AgreePlan,
    c.RecordOpeningBalance,
    c.ClosePeriod,
    c.SettleRiskShare,
    c.GenerateReturn,
    c.RefileReturn,
    c.ApproveReturn,
    c.SubmitReturn,
    c.SignOffReturn,
)
HOST_ONLY = (
    c.RefundContribution,
    c.RecordExpenditure,
    c.CreditExpenditure,
    c.RecordForecast,
    c.RecordRiskRewardResult,
    c.RecordPopulation,
    c.AssessOutcome,
    c.RecordMetric,
    c.AssureNationalCondition,
    c.AssessMetric,
    c.RecordSchemeActivity,
    c.RecordFeeRates,
    c.RecordReturnContacts,
    c.ExplainIncomeVariance,
    c.GiveYearEndFeedback,
)


def authorize(
    actor: c.Actor, command: c.Command, pool: PoolState | None, target: TargetEvent | None = None
) -> None:
    """Raise ``Forbidden`` unless ``actor`` may issue ``command``."""
    if actor.role in ("board", "auditor"):
        raise Forbidden(f"the {actor.role} role reads the ledger and cannot write to it")
    if isinstance(command, ADMIN_ONLY):
        if actor.role != "admin":
            raise Forbidden(f"only an admin may {_verb(command)}")
        return
    if actor.role == "admin":
        if isinstance(command, c.ReverseEvent):
            return
        raise Forbidden(
            f"an admin does not {_verb(command)}; a finance officer of the partner does"
        )
    # finance officer from here on
    me = actor.partner_id
    if pool is not None and me not in pool.members:
        raise Forbidden(f"partner '{me}' is not a member of pool '{pool.pool_id}'")
    is_host = pool is not None and me == pool.host_partner_id
    if isinstance(command, HOST_ONLY):
        if not is_host:
            raise Forbidden(
                f"only the host partner's finance officers may {_verb(command)} for pool "
                f"'{pool.pool_id if pool else '?'}'"
            )
        return
    if isinstance(command, c.PostContribution):
        if command.partner_id != me and not is_host:
            raise Forbidden(
                f"a finance officer of '{me}' may post only its own partner's contributions"
            )
        return
    if isinstance(command, c.PostTransfer):
        payer = command.from_party.partner_id
        if payer != me and not (command.from_party.pool_id is not None and is_host):
            raise Forbidden(f"a finance officer of '{me}' may post only transfers '{me}' pays")
        return
    if isinstance(command, c.ReverseEvent):
        if target is None or target.poster_partner_id != me:
            raise Forbidden(f"a finance officer of '{me}' may reverse only what '{me}' posted")
        return
    raise Forbidden(f"a finance officer may not {_verb(command)}")


def _verb(command: c.Command) -> str:
    name = type(command).__name__
    words = "".join(f" {ch.lower()}" if ch.isupper() else ch for ch in name).strip()
    return words

"""Settling a year's risk share: the one path, for the API's route and for
``settle_year`` (the CLI, the scheduler, scripts).

The figures are the read side's risk share as at the head (``risk_share_at``), and the
command carries the position they were read at (``as_at_position``). The write side
refuses it with ``ConcurrencyError`` (409) when the pool has an event after that
position (``ledger.batch``): a posting that lands between the read and the append
would otherwise be left out of figures fixed for ever. Whether the actor is an admin,
Q4 is closed and the year not already settled are the decider's checks
(``ledger.domain.deciders.periods``), the same on either path.
"""

from __future__ import annotations

from sqlalchemy import Engine

from filing.records import read_at
from ledger.domain import commands as c
from ledger.domain.events import PartnerAmount
from ledger.domain.periods import parse_year
from ledger.handlers import Ledger, Outcome
from projections.balances import risk_share_at


def settlement_command(engine: Engine, pool_id: str, year: str) -> c.SettleRiskShare:
    """The command fixing each partner's risk share of ``year`` as the read side has it
    now, guarded by the position it was read at."""
    label = parse_year(year).label
    with read_at(engine) as (conn, at):
        share = risk_share_at(conn, pool_id, label, at)
    return c.SettleRiskShare(
        pool_id=pool_id,
        year=label,
        variance=share.variance,
        direction=share.direction,
        method=share.method,
        allocations=tuple(PartnerAmount(partner_id=k, amount=a) for k, a in share.allocations),
        carried_forward=share.carried_forward,
        as_at_position=share.as_at_position,
    )


def settle_year(ledger: Ledger, pool_id: str, year: str, actor: c.Actor) -> Outcome:
    """Settle ``year`` for ``pool_id`` now (see ``settlement_command``)."""
    return ledger.execute(settlement_command(ledger.engine, pool_id, year), actor)

"""What a refund or a credit note may come to (domain.md 5, "what may be refunded"),
read for the decider from the facts the ledger holds and those pending in the batch.

The rule itself is the decider's (``ledger.domain.deciders.postings``); this loads its
one input, as the handler loads the event a reversal names. It is read from the store
rather than kept as a running figure in the pool's write-side state because refunds
and credits are rare and postings are not: a running figure would rewrite the pool's
state row on every posting (see docs/DECISIONS.md).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence

from sqlalchemy import Connection, and_, exists, select
from sqlalchemy.orm import aliased

from ledger.domain import commands as c
from ledger.domain import events as ev
from ledger.domain.periods import FinancialYear
from ledger.store import eventstore as es
from ledger.store import tables as t


def refundable(
    conn: Connection,
    command: c.RefundContribution | c.CreditExpenditure,
    pending: Sequence[es.PendingEvent] = (),
    reversed_here: Collection[str] = (),
) -> int:
    """For a refund: what its partner has paid into its stream for its year, net of
    refunds; for a credit note: its scheme's spend for the year, net of credits. Facts
    reversed (in the store, or earlier in this batch) are left out."""
    e = t.events.c
    if isinstance(command, c.RefundContribution):
        year = command.year or FinancialYear.of(command.effective_date).label
        plus, minus = ev.ContributionPosted, ev.ContributionRefunded
        same = [e.partner_id == command.partner_id, e.funding_stream == command.funding_stream]

        def mine(x: ev.Event) -> bool:
            return (
                isinstance(x, plus | minus)
                and x.partner_id == command.partner_id
                and x.funding_stream == command.funding_stream
            )
    else:
        year = FinancialYear.of(command.effective_date).label
        plus, minus = ev.ExpenditureRecorded, ev.ExpenditureCredited  # type: ignore[assignment]
        same = [e.scheme_id == command.scheme_id]

        def mine(x: ev.Event) -> bool:
            spend = isinstance(x, ev.ExpenditureRecorded | ev.ExpenditureCredited)
            return spend and getattr(x, "scheme_id", None) == command.scheme_id

    r = aliased(t.events)
    rows = conn.execute(
        select(e.event_id, e.type, e.payload).where(
            e.pool_id == command.pool_id,
            e.year == year,
            e.type.in_((plus.type, minus.type)),
            *same,
            ~exists().where(and_(r.c.reverses_event_id == e.event_id)),
        )
    ).all()
    total = 0
    for row in rows:
        if row.event_id in reversed_here:
            continue
        amount = int(json.loads(row.payload)["amount"])
        total += amount if row.type == plus.type else -amount
    for p in pending:
        x = p.event
        here = getattr(x, "pool_id", None) == command.pool_id
        if mine(x) and here and getattr(x, "year", None) == year:
            amount = int(getattr(x, "amount", 0))
            total += amount if isinstance(x, plus) else -amount
    return total

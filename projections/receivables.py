"""Who owes what, as at a position and to a date: each partner's instalments (from
the plan in force) against its contributions (``ledger.domain.calc.receivables``).

The figures trace to the plan's position (the instalments) and to the money lines of
the partner's contributions, refunds and their reversals (the receipts), each listed
with its event id, effective date and reference."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection

from ledger.domain.calc.receivables import Receipt, Receivable, receivable
from ledger.domain.periods import parse_year
from ledger.domain.plan import Plan
from ledger.store.reads import get_by_positions
from projections.balances import INCOME_KINDS
from projections.base import plan_fact
from projections.money_lines import lines


@dataclass(frozen=True)
class ReceivablesView:
    pool_id: str
    year: str
    as_at_position: int
    through: date
    plan_position: int | None
    partners: list[Receivable]
    references: dict[int, str]  # a receipt's position -> its reference (or reason)


def receivables_at(
    conn: Connection, pool_id: str, year: str, at: int, through: date
) -> ReceivablesView:
    fy = parse_year(year)
    fact = plan_fact(conn, pool_id, fy.label, at)
    if fact is None:
        return ReceivablesView(pool_id, fy.label, at, through, None, [], {})
    plan = Plan.model_validate(fact.data["plan"])
    receipts: dict[str, list[Receipt]] = {}
    for line in lines(conn, pool_id, fy.label, at, kinds=INCOME_KINDS):
        if line.partner_id is None or line.effective_date is None:
            continue
        signed = -line.amount if line.kind == "refund" else line.amount
        receipts.setdefault(line.partner_id, []).append(
            Receipt(
                line.position,
                line.event_id,
                line.kind,
                line.effective_date,
                signed,
                line.reversal,
            )
        )
    out = [
        receivable(pid, planned, plan.schedule_of(pid), fy, receipts.get(pid, []), through)
        for pid, planned in sorted(plan.planned_by_partner().items())
    ]
    positions = sorted({r.position for p in out for r in p.receipts})
    references: dict[int, str] = {}
    for e in get_by_positions(conn, positions) if positions else []:
        data = json.loads(e.payload)
        references[e.position] = str(data.get("reference") or data.get("reason") or "")
    return ReceivablesView(pool_id, fy.label, at, through, fact.position, out, references)

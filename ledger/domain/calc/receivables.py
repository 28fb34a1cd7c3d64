"""Who owes what: a partner's instalments against what it has paid, to a date.

Instalments come from the plan (``ContributionSchedule``). Receipts (contributions,
less refunds and reversals, by effective date) pay the instalments oldest first. To
a date ``through``:

- due to date: the instalments due on or before ``through``;
- received to date: the receipts dated on or before ``through``;
- outstanding: due less received (negative when the partner has paid ahead);
- overdue: the unpaid part of instalments due *before* ``through`` (an instalment is
  not late on its due day); each such part is aged by the days since its due date,
  in buckets 0-30 (1 to 30 days), 31-60, 61-90 and over 90; a partner's days overdue
  are those of its oldest unpaid instalment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ledger.domain.money import allocate
from ledger.domain.periods import FinancialYear
from ledger.domain.plan import ContributionSchedule

BUCKETS = ("0-30", "31-60", "61-90", "over_90")


def bucket_of(days: int) -> str:
    if days <= 30:
        return "0-30"
    if days <= 60:
        return "31-60"
    if days <= 90:
        return "61-90"
    return "over_90"


@dataclass(frozen=True)
class Instalment:
    due: date
    amount: int  # pence


@dataclass(frozen=True)
class Receipt:
    position: int
    event_id: str
    kind: str  # contribution | refund (a reversal's line keeps its target's kind)
    effective_date: date
    amount: int  # pence, signed: what it adds to the received total
    reversal: bool


@dataclass(frozen=True)
class InstalmentStatus:
    due: date
    amount: int
    paid: int
    unpaid: int
    overdue: int  # the unpaid part, once past its due date; else 0
    days_overdue: int  # 0 unless overdue
    bucket: str | None  # the ageing bucket of an overdue part


@dataclass(frozen=True)
class Receivable:
    partner_id: str
    planned: int
    schedule: ContributionSchedule
    due_to_date: int
    received_to_date: int
    outstanding: int
    overdue: int
    days_overdue: int
    ageing: dict[str, int]
    instalments: tuple[InstalmentStatus, ...]  # every instalment of the year
    receipts: tuple[Receipt, ...]  # those dated on or before ``through``


def instalments(
    total: int, schedule: ContributionSchedule, year: FinancialYear
) -> list[Instalment]:
    """``total`` pence in equal instalments over ``year`` (largest remainder, the
    leftover pennies to the earliest instalments)."""
    if schedule.frequency == "quarterly":
        firsts = [q.start for q in year.quarters]
    else:
        firsts = [m.start for m in year.months]
    dues = [d.replace(day=schedule.day_of_month) for d in firsts]
    parts = allocate(total, dict.fromkeys(range(len(dues)), 1), list(range(len(dues))))
    return [Instalment(due, parts[i]) for i, due in enumerate(dues)]


def receivable(
    partner_id: str,
    planned: int,
    schedule: ContributionSchedule,
    year: FinancialYear,
    receipts: list[Receipt],
    through: date,
) -> Receivable:
    counted = tuple(r for r in receipts if r.effective_date <= through)
    received = sum(r.amount for r in counted)
    left = max(received, 0)  # pays instalments oldest first
    statuses: list[InstalmentStatus] = []
    ageing = dict.fromkeys(BUCKETS, 0)
    for inst in instalments(planned, schedule, year):
        paid = min(inst.amount, left)
        left -= paid
        unpaid = inst.amount - paid
        late = unpaid > 0 and inst.due < through
        days = (through - inst.due).days if late else 0
        bucket = bucket_of(days) if late else None
        if bucket is not None:
            ageing[bucket] += unpaid
        statuses.append(
            InstalmentStatus(
                inst.due, inst.amount, paid, unpaid, unpaid if late else 0, days, bucket
            )
        )
    due = sum(s.amount for s in statuses if s.due <= through)
    return Receivable(
        partner_id=partner_id,
        planned=planned,
        schedule=schedule,
        due_to_date=due,
        received_to_date=received,
        outstanding=due - received,
        overdue=sum(ageing.values()),
        days_overdue=max((s.days_overdue for s in statuses), default=0),
        ageing=ageing,
        instalments=tuple(statuses),
        receipts=counted,
    )

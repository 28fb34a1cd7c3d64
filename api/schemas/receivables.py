"""Who owes what (``GET /v1/pools/{pool}/receivables``): per partner, due, received,
overdue and its ageing, with the instalments and receipts behind each figure."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel

from api.schemas.fields import response_config
from ledger.domain.money import format_pence
from projections.receivables import ReceivablesView


class InstalmentPublic(BaseModel):
    due_date: date
    amount: str
    paid: str
    unpaid: str
    overdue: str
    days_overdue: int
    bucket: str | None


class ReceiptPublic(BaseModel):
    position: int
    event_id: str
    kind: str
    reversal: bool
    effective_date: date
    amount: str  # what it adds to the received total (a refund or a reversal: negative)
    reference: str


class PartnerReceivablePublic(BaseModel):
    partner_id: str
    planned: str
    frequency: str
    day_of_month: int
    due_to_date: str
    received_to_date: str
    outstanding: str
    overdue: str
    days_overdue: int
    ageing: dict[str, str]
    instalments: list[InstalmentPublic]
    receipts: list[ReceiptPublic]


class ReceivablesPublic(BaseModel):
    model_config = response_config(
        {
            "pool_id": "eq",
            "year": "2025-26",
            "as_at_position": 1200,
            "through": "2025-11-20",
            "plan_position": 12,
            "partners": [],
            "totals": {"due_to_date": "0.00", "received_to_date": "0.00", "overdue": "0.00"},
        }
    )
    pool_id: str
    year: str
    as_at_position: int
    through: date
    plan_position: int | None
    partners: list[PartnerReceivablePublic]
    totals: dict[str, str]


def receivables_public(v: ReceivablesView) -> ReceivablesPublic:
    f = format_pence
    partners = [
        PartnerReceivablePublic(
            partner_id=p.partner_id,
            planned=f(p.planned),
            frequency=p.schedule.frequency,
            day_of_month=p.schedule.day_of_month,
            due_to_date=f(p.due_to_date),
            received_to_date=f(p.received_to_date),
            outstanding=f(p.outstanding),
            overdue=f(p.overdue),
            days_overdue=p.days_overdue,
            ageing={k: f(x) for k, x in p.ageing.items()},
            instalments=[
                InstalmentPublic(
                    due_date=i.due,
                    amount=f(i.amount),
                    paid=f(i.paid),
                    unpaid=f(i.unpaid),
                    overdue=f(i.overdue),
                    days_overdue=i.days_overdue,
                    bucket=i.bucket,
                )
                for i in p.instalments
            ],
            receipts=[
                ReceiptPublic(
                    position=r.position,
                    event_id=r.event_id,
                    kind=r.kind,
                    reversal=r.reversal,
                    effective_date=r.effective_date,
                    amount=f(r.amount),
                    reference=v.references.get(r.position, ""),
                )
                for r in p.receipts
            ],
        )
        for p in v.partners
    ]
    totals = {
        "due_to_date": f(sum(p.due_to_date for p in v.partners)),
        "received_to_date": f(sum(p.received_to_date for p in v.partners)),
        "overdue": f(sum(p.overdue for p in v.partners)),
    }
    return ReceivablesPublic(
        pool_id=v.pool_id,
        year=v.year,
        as_at_position=v.as_at_position,
        through=v.through,
        plan_position=v.plan_position,
        partners=partners,
        totals=totals,
    )

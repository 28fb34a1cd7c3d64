"""The Section 75 annual memorandum statement's sheets: statement, income,
expenditure, transfers and risk share."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from filing.render.table import (
    COVER_DEFAULTS,
    NO_SCHEME_FORECAST,
    SHARE_FORMAT,
    Cell,
    Number,
    Sheet,
    money,
    pool_figure_rows,
    table,
)
from projections.returns.memorandum_document import MemorandumContent


def memorandum_sheets(c: MemorandumContent) -> list[Sheet]:
    v, p, rs = c.cover, c.pool, c.risk_share
    statement: list[tuple[Cell, ...]] = [
        ("Statement", "Section 75 annual memorandum statement"),
        ("Pool", v.pool_name),
        ("Pool ID", v.pool_id),
        ("Pool Kind", v.pool_kind),
        ("Host Partner (Lead Commissioner)", v.host_partner_name),
        ("Financial Year", v.year),
        ("Period Start", v.period_start),
        ("Period End", v.period_end),
        ("Data As At", v.data_as_at),
        ("As-At Position", v.as_at_position),
        ("Chain Head (SHA-256)", v.chain_head),
        ("Content Hash (SHA-256)", v.content_hash),
        ("Q4 Closed", v.q4_closed),
        ("Risk Share Settled", v.settled),
        *pool_figure_rows(p, rs),
        ("Carried Forward (£)", money(rs.carried_forward)),
        *((("Scheme Outturns", c.expenditure_note),) if c.expenditure_note else ()),
    ]

    def total(items: Sequence[Any], *names: str) -> list[Cell]:
        out: list[Cell] = []
        for n in names:
            values = [getattr(x, n) for x in items]
            known = [v for v in values if v is not None]
            out.append(money(sum(known)) if len(known) == len(values) else NO_SCHEME_FORECAST)
        return out

    income_rows: list[list[Cell]] = [
        [
            x.partner_id,
            x.name,
            x.funding_stream,
            money(x.planned),
            money(x.received),
            money(x.variance),
        ]
        for x in c.income
    ]
    income_rows.append(["total", "Total", "", *total(c.income, "planned", "received", "variance")])
    spend_rows: list[list[Cell]] = [
        [
            x.scheme_id,
            x.name,
            x.scheme_type,
            x.commissioner,
            x.funding_stream,
            money(x.planned),
            money(x.actual),
            money(x.outturn) if x.outturn is not None else NO_SCHEME_FORECAST,
            money(x.variance) if x.variance is not None else None,
        ]
        for x in c.expenditure
    ]
    spend_rows.append(
        [
            "total",
            "Total",
            "",
            "",
            "",
            *total(c.expenditure, "planned", "actual", "outturn"),
            *total(c.expenditure, "variance"),
        ]
    )
    labels = {
        "partner_to_pool": "Partner to pool",
        "pool_to_partner": "Pool to partner",
        "partner_to_partner": "Partner to partner",
    }
    transfer_rows: list[list[Cell]] = [
        [labels[t.kind], t.from_party, t.to_party, money(t.amount)] for t in c.transfers
    ]
    risk_rows: list[list[Cell]] = [
        [
            x.partner_id,
            x.name,
            Number(x.share, SHARE_FORMAT),
            money(x.planned),
            money(x.received),
            money(x.transfers_in),
            money(x.transfers_out),
            money(x.risk_share),
            x.status,
            money(x.net_obligation),
            money(x.outstanding),
        ]
        for x in c.partners
    ]
    money_fields = ("planned", "received", "transfers_in", "transfers_out", "risk_share")
    risk_rows.append(
        [
            "total",
            "Total",
            None,
            *total(c.partners, *money_fields),
            None,
            *total(c.partners, "net_obligation", "outstanding"),
        ]
    )
    return [
        table("statement", "Statement", (), COVER_DEFAULTS, (), [list(r) for r in statement]),
        table(
            "income",
            "Income",
            (),
            (
                "Partner ID",
                "Partner",
                "Funding Stream",
                "Planned (£)",
                "Received (£)",
                "Variance (£)",
            ),
            (),
            income_rows,
            totals=1,
        ),
        table(
            "expenditure",
            "Expenditure",
            (),
            (
                "Scheme ID",
                "Scheme Name",
                "Scheme Type",
                "Commissioner",
                "Funding Stream",
                "Planned (£)",
                "Actual (£)",
                "Outturn (£)",
                "Variance (£)",
            ),
            (),
            spend_rows,
            totals=1,
        ),
        table(
            "transfers",
            "Transfers",
            (),
            ("Transfer", "From", "To", "Amount (£)"),
            (),
            transfer_rows,
        ),
        table(
            "risk_share",
            "Risk Share",
            (),
            (
                "Partner ID",
                "Partner",
                "Share of Pool",
                "Planned Contribution (£)",
                "Received (£)",
                "Transfers In (£)",
                "Transfers Out (£)",
                "Risk Share (£)",
                "Status",
                "Net Obligation (£)",
                "Outstanding (£)",
            ),
            (),
            risk_rows,
            totals=1,
        ),
    ]

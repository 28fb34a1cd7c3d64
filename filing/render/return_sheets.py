"""The quarterly return's sheets, in the order and with the column titles of the
year's return layout (reference data), then the reconciliation columns the national
template lacks (year to date at the previous return, prior-period adjustments)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from filing.render.table import (
    COVER_DEFAULTS,
    NO_SCHEME_FORECAST,
    SHARE_FORMAT,
    Cell,
    Money,
    Number,
    Rag,
    Sheet,
    money,
    pool_figure_rows,
    table,
)
from projections.returns.return_document import Adjustment, ReturnContent, SchemeLine, TotalLine

RECONCILIATION = ("Year to Date at Previous Return (£)", "Prior-Period Adjustments (£)")
# a joint scheme's split, as the template asks it beside the commissioner (after the
# layout's columns, so a layout recorded without them still lines up)
JOINT_SPLIT = ("% NHS (if Joint Commissioner)", "% LA (if Joint Commissioner)")
ADJUSTMENT_EXTRA = ("Position", "Marked as Prior-Period Adjustment")


def _money_row(line: TotalLine | SchemeLine) -> list[Cell]:
    forecast = line.forecast_outturn
    return [
        money(line.planned),
        money(line.actual_in_quarter),
        money(line.actual_year_to_date),
        money(forecast) if forecast is not None else NO_SCHEME_FORECAST,
    ]


def _cover_rows(c: ReturnContent) -> list[tuple[Cell, ...]]:
    v = c.cover
    p, rs = c.pool, c.risk_share
    return [
        ("Template", v.template_name),
        ("Health and Wellbeing Board", v.hwb_area_name),
        ("HWB ONS Code", v.hwb_area_ons_code),
        ("Pool", v.pool_name),
        ("Pool ID", v.pool_id),
        ("Host Partner (Lead Commissioner)", v.host_partner_name),
        ("Financial Year", v.year),
        ("Quarter", v.quarter),
        ("Period Start", v.period_start),
        ("Period End", v.period_end),
        ("Due Date", v.due_date),
        ("Data As At", v.data_as_at),
        ("As-At Position", v.as_at_position),
        ("Chain Head (SHA-256)", v.chain_head),
        ("Content Hash (SHA-256)", v.content_hash),
        ("Reference Data Hash (SHA-256)", v.reference_data_hash or ""),
        ("Previous Return", v.previous_return_quarter or ""),
        ("Previous Return As-At Position", v.previous_return_position),
        *(
            (("Version", v.version), ("Supersedes Filing (Event ID)", v.supersedes_event_id))
            if v.version is not None
            else ()
        ),
        *pool_figure_rows(p, rs),
        ("Risk Share Settled", rs.settled),
        *((("Scheme Outturns", c.expenditure_note),) if c.expenditure_note else ()),
        *_checkpoint_rows(v.checkpoint),
    ]


def _checkpoint_rows(cp: dict[str, str | int] | None) -> list[tuple[Cell, ...]]:
    """A filed return's signed checkpoint (ledger.domain.checkpoint), for the cover."""
    if cp is None:
        return []
    return [
        ("Checkpoint Ledger ID", cp["ledger_id"]),
        ("Checkpoint Position", cp["position"]),
        ("Checkpoint Tree Root (RFC 9162)", cp["root"]),
        ("Checkpoint Chain Head", cp["chain_head"]),
        ("Checkpoint Recorded At", cp["recorded_at"]),
        ("Checkpoint Signing Key (SHA-256)", cp["key_id"]),
        ("Checkpoint Signature (Ed25519)", cp["signature"]),
    ]


def _event_type(a: Adjustment) -> str:
    if a.reversal and a.event_type == "event_reversed":
        return f"event_reversed ({a.kind})"
    return a.event_type


def _party(a: Adjustment) -> str:
    if a.partner_id and a.counterparty_id:
        return f"{a.partner_id} -> {a.counterparty_id}"
    return a.partner_id or ""


def _balance_rows(c: ReturnContent) -> list[list[Cell]]:
    rows: list[list[Cell]] = [
        [
            p.partner_id,
            p.name,
            money(p.planned),
            money(p.received),
            money(p.transfers_in),
            money(p.transfers_out),
            Number(p.share, SHARE_FORMAT),
            money(p.risk_share),
            money(p.net_obligation),
            money(p.outstanding),
        ]
        for p in c.partners
    ]

    def total(name: str) -> Money:
        return money(sum(getattr(p, name) for p in c.partners))

    rows.append(
        [
            "total",
            "Total",
            *(total(f) for f in ("planned", "received", "transfers_in", "transfers_out")),
            None,
            *(total(f) for f in ("risk_share", "net_obligation", "outstanding")),
        ]
    )
    return rows


def return_sheets(c: ReturnContent) -> list[Sheet]:
    """The return's sheets in the layout's order."""
    built: dict[str, Callable[[str, Sequence[str]], Sheet]] = {
        "cover": lambda t, cols: table(
            "cover", t, cols, COVER_DEFAULTS, (), [list(r) for r in _cover_rows(c)]
        ),
        "income": lambda t, cols: table(
            "income",
            t,
            cols,
            (
                "Source of Funding",
                "Funding Stream ID",
                "Planned Income (£)",
                "Income Received in Quarter (£)",
                "Income Received Year to Date (£)",
            ),
            RECONCILIATION,
            [
                [
                    x.name,
                    x.funding_stream,
                    money(x.planned),
                    money(x.received_in_quarter),
                    money(x.received_year_to_date),
                    money(x.previous_year_to_date),
                    money(x.adjustments),
                ]
                for x in (*c.income, c.totals.income)
            ],
            totals=1,
        ),
        "expenditure": lambda t, cols: table(
            "expenditure",
            t,
            cols,
            (
                "Scheme ID",
                "Scheme Name",
                "Scheme Type",
                "Commissioner",
                "Provider Type",
                "Source of Funding",
                "Planned Expenditure (£)",
                "Actual Expenditure in Quarter (£)",
                "Actual Expenditure Year to Date (£)",
                "Forecast Outturn (£)",
            ),
            (*JOINT_SPLIT, *RECONCILIATION),
            [
                [
                    x.scheme_id,
                    x.name,
                    x.scheme_type,
                    x.commissioner_label,
                    x.provider_type,
                    x.funding_stream_name,
                    *_money_row(x),
                    x.nhs_pct,
                    x.la_pct,
                    money(x.previous_year_to_date),
                    money(x.adjustments),
                ]
                for x in (*c.expenditure, c.totals.expenditure)
            ],
            totals=1,
        ),
        "expenditure_by_scheme_type": lambda t, cols: table(
            "expenditure_by_scheme_type",
            t,
            cols,
            ("Scheme Type", *_TOTAL_TITLES),
            (),
            [[x.label, *_money_row(x)] for x in c.by_scheme_type],
            totals=1,
        ),
        "expenditure_by_commissioner": lambda t, cols: table(
            "expenditure_by_commissioner",
            t,
            cols,
            ("Commissioner", *_TOTAL_TITLES),
            (),
            [[x.label, *_money_row(x)] for x in c.by_commissioner],
            totals=1,
        ),
        "metrics": lambda t, cols: table(
            "metrics",
            t,
            cols,
            (
                "Metric ID",
                "Metric",
                "Unit",
                "Period",
                "Planned Ambition",
                "Actual Performance",
                "Assessment of Progress (RAG)",
            ),
            (),
            [
                [
                    m.metric_id,
                    m.name,
                    m.unit,
                    m.period,
                    Number(m.target),
                    Number(m.actual),
                    Rag(m.status),
                ]
                for m in c.metrics
            ],
        ),
        "balances": lambda t, cols: table(
            "balances",
            t,
            cols,
            (
                "Partner ID",
                "Partner",
                "Planned Contribution (£)",
                "Contributions Received Year to Date (£)",
                "Transfers In (£)",
                "Transfers Out (£)",
                "Share of Pool",
                "Provisional Risk Share (£)",
                "Net Obligation (£)",
                "Outstanding (£)",
            ),
            (),
            _balance_rows(c),
            totals=1,
        ),
        "prior_period_adjustments": lambda t, cols: table(
            "prior_period_adjustments",
            t,
            cols,
            (
                "Event ID",
                "Event Type",
                "Effective Date",
                "Period Adjusted",
                "Partner",
                "Scheme ID",
                "Source of Funding",
                "Amount (£)",
                "Reference",
                "Recorded At",
            ),
            ADJUSTMENT_EXTRA,
            [
                [
                    a.event_id,
                    _event_type(a),
                    a.effective_date,
                    a.quarter,
                    _party(a),
                    a.scheme_id or "",
                    a.funding_stream or "",
                    money(a.amount) if a.amount is not None else None,
                    a.reference,
                    a.recorded_at,
                    a.position,
                    a.marked,
                ]
                for a in c.prior_period_adjustments
            ],
        ),
    }
    return [built[s.key](s.title, s.columns) for s in c.layout.sheets]


_TOTAL_TITLES = (
    "Planned Expenditure (£)",
    "Actual Expenditure in Quarter (£)",
    "Actual Expenditure Year to Date (£)",
    "Forecast Outturn (£)",
)

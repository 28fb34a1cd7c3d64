"""Sections of a pool's year page built apart: the quarterly trend (rows and chart),
income by funding stream, the risk-share chart and a risk-share rule in words."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from api.board import charts, fmt
from api.board.pages.shared import QUARTERS, Fig, Tracer
from projections.views import IncomeStream, QuarterTrend, RiskShareView


def trend_row(r: QuarterTrend, t: Tracer) -> dict[str, Any]:
    short = r.quarter[-2:]
    return {
        "quarter": r.quarter,
        "short": short,
        "income": t.fig(r.income, f"quarter:{short}:income", f"{short} income"),
        "spend": t.fig(r.spend, f"quarter:{short}:spend", f"{short} spend"),
        "transfers_in": t.fig(
            r.transfers_in, f"quarter:{short}:transfers_in", f"{short} transfers in"
        ),
        "transfers_out": t.fig(
            r.transfers_out, f"quarter:{short}:transfers_out", f"{short} transfers out"
        ),
        "net": Fig(r.net, signed=True),
        "balance": Fig(r.closing_balance),
    }


def trend_chart(rows: Sequence[dict[str, Any]], year: str, opening: int) -> charts.Chart:
    labels = [r["short"] for r in rows]
    income = tuple(r["income"].pence for r in rows)
    spend = tuple(r["spend"].pence for r in rows)
    balance = tuple(r["balance"].pence for r in rows)
    desc = "; ".join(
        f"{r['short']}: income {r['income'].text}, spend {r['spend'].text}, "
        f"balance at quarter end {r['balance'].text}"
        for r in rows
    )
    return charts.trend_chart(
        "chart-trend",
        f"Quarterly trend, {year}",
        f"Income received and spend in each quarter of {year}, with the pool balance at "
        f"the end of each quarter (opening balance {fmt.pounds(opening)}). {desc}.",
        labels,
        [
            charts.Series("Income received", income, charts.BLUE),
            charts.Series("Spend", spend, charts.GREY),
        ],
        charts.Series("Balance at quarter end", balance, charts.INK),
        caption=f"Quarterly trend, {year}",
    )


def stream_row(s: IncomeStream, t: Tracer, names: dict[str, str]) -> dict[str, Any]:
    sid = s.funding_stream
    name = names.get(sid, sid.replace("_", " ").capitalize())
    return {
        "stream": sid,
        "name": name,
        "planned": t.fig(s.planned, f"stream:{sid}:planned", f"{name} planned"),
        "quarters": [
            t.fig(
                s.received_by_quarter.get(f"{t.year}-{qn}", 0),
                f"stream:{sid}:received",
                f"{name} received in {qn}",
                quarter=qn,
            )
            for qn in QUARTERS
        ],
        "received": t.fig(s.received, f"stream:{sid}:received", f"{name} received"),
    }


def risk_chart(risk: RiskShareView, names: dict[str, str], year: str) -> charts.Chart:
    cats = [names.get(pid, pid) for pid, _ in risk.allocations]
    values = tuple(v for _, v in risk.allocations)
    state = "settled" if risk.settled else "provisional"
    if risk.direction == "none":
        summary = "No risk share is allocated: " + (
            "there is no outturn yet (no forecast), so spend to date is not an outturn."
            if risk.basis == "actual_to_date"
            else "the variance is nil."
        )
    else:
        summary = (
            f"The {state} {risk.direction} of {fmt.pounds(abs(risk.variance))} is shared: "
            + "; ".join(f"{c} {fmt.pounds(v)}" for c, v in zip(cats, values, strict=True))
            + "."
        )
    return charts.bar_chart(
        "chart-risk-share",
        f"{'Settled' if risk.settled else 'Provisional'} risk share by partner, {year}",
        summary,
        cats,
        [charts.Series("Risk share", values, charts.BLUE)],
        caption=f"{'Settled' if risk.settled else 'Provisional'} risk share by partner, {year}",
    )


def rule_text(rule: dict[str, Any], names: dict[str, str]) -> str:
    """A risk-share rule (in the plan's JSON form) in words."""
    method = str(rule.get("method", "none"))
    text = {
        "proportional": "in proportion to planned contributions",
        "fixed": "in fixed agreed percentages",
        "tiered": "in bands of the variance, each with its own percentages",
        "by_commissioner": "each scheme's variance falls on its commissioner; the rest on the host",
        "carry_forward": "carried forward as next year's opening balance",
        "none": "no rule applies",
    }.get(method, method)
    parts = [f"{method.replace('_', ' ').capitalize()}: {text}"]
    shares = rule.get("shares")
    if isinstance(shares, list) and shares:
        parts.append(
            ", ".join(f"{names.get(s['partner_id'], s['partner_id'])} {s['pct']}%" for s in shares)
        )
    tiers = rule.get("tiers")
    if isinstance(tiers, list):
        for tier in tiers:
            top = tier.get("up_to")
            band = f"up to {fmt.pounds(int(top))}" if top is not None else "the rest"
            parts.append(
                f"{band}: "
                + ", ".join(
                    f"{names.get(s['partner_id'], s['partner_id'])} {s['pct']}%"
                    for s in tier.get("shares", [])
                )
            )
    caps = rule.get("caps")
    if isinstance(caps, list) and caps:
        parts.append(
            "capped: "
            + ", ".join(
                f"{names.get(c['partner_id'], c['partner_id'])} at {fmt.pounds(int(c['amount']))}"
                for c in caps
            )
        )
    return "; ".join(parts) + "."

"""Figures a quarterly return, the annual memorandum and the board's charts need, as
at a position: income by funding stream, prior-period adjustments and the quarterly
trend of a pool-year.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from sqlalchemy import Connection

from ledger.domain import events as ev
from ledger.domain.periods import Quarter, parse_year
from projections.balances import INCOME_KINDS, SPEND_KINDS, signed, year_position
from projections.base import facts, pool_row
from projections.money_lines import lines
from projections.projector import LINE_TYPES
from projections.views import (
    IncomeByStreamView,
    IncomeStream,
    PriorPeriodAdjustment,
    PriorPeriodAdjustmentsView,
    QuarterlyTrendView,
    QuarterTrend,
    StreamPartner,
)

# dated facts that a closed quarter protects, and so may come as adjustments
ADJUSTABLE_FACTS = (
    ev.RiskRewardResultRecorded.type,
    ev.PopulationRecorded.type,
    ev.OutcomeAssessed.type,
    ev.MetricRecorded.type,
    ev.EventReversed.type,
)


def income_by_stream_at(
    conn: Connection, pool_id: str, year: str, at: int, *, through: date | None = None
) -> IncomeByStreamView:
    """Per funding stream: planned for the year, received per quarter and year to date
    (contributions net of refunds and reversals), and the same per partner. Streams
    in the plan or with money received, sorted by id; partners likewise. ``through``:
    only contributions and refunds effective by then."""
    fy = parse_year(year)
    yp = year_position(conn, pool_id, fy.label, at, through=through)
    quarters = [q.label for q in fy.quarters]
    planned: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for c in yp.plan.contributions if yp.plan else ():
        planned[c.funding_stream][c.partner_id] += c.amount
    received: dict[str, dict[str, dict[str, int]]] = defaultdict(
        lambda: defaultdict(lambda: dict.fromkeys(quarters, 0))
    )
    for s in yp.sums:
        if s.kind in INCOME_KINDS:
            by_q = received[s.funding_stream or ""][s.partner_id or ""]
            by_q[s.quarter] = by_q.get(s.quarter, 0) + signed(s)
    streams = []
    for stream in sorted(set(planned) | set(received)):
        partners = []
        for pid in sorted(set(planned.get(stream, {})) | set(received.get(stream, {}))):
            by_q = dict(received[stream][pid]) if pid in received.get(stream, {}) else {}
            by_q = {q: by_q.get(q, 0) for q in quarters}
            partners.append(
                StreamPartner(pid, planned.get(stream, {}).get(pid, 0), by_q, sum(by_q.values()))
            )
        totals = {q: sum(p.received_by_quarter[q] for p in partners) for q in quarters}
        streams.append(
            IncomeStream(
                stream,
                sum(p.planned for p in partners),
                totals,
                sum(totals.values()),
                tuple(partners),
            )
        )
    return IncomeByStreamView(pool_id, fy.label, at, tuple(streams))


def quarterly_trend_at(
    conn: Connection, pool_id: str, year: str, at: int, *, through: date | None = None
) -> QuarterlyTrendView:
    """Per quarter: income, spend, pool transfers in and out, their net and the pool
    balance at the quarter's end, starting from the year's opening balance."""
    fy = parse_year(year)
    yp = year_position(conn, pool_id, fy.label, at, through=through)
    figures = {q.label: dict.fromkeys(("income", "spend", "in", "out"), 0) for q in fy.quarters}
    for s in yp.sums:
        f = figures.get(s.quarter)
        if f is None:
            continue
        if s.kind in INCOME_KINDS:
            f["income"] += signed(s)
        elif s.kind in SPEND_KINDS:
            f["spend"] += signed(s)
        elif s.kind == "transfer_in":
            f["in"] += s.amount
        elif s.kind == "transfer_out":
            f["out"] += s.amount
    balance = yp.opening
    out = []
    for label, f in figures.items():
        net = f["income"] + f["in"] - f["out"] - f["spend"]
        balance += net
        out.append(QuarterTrend(label, f["income"], f["spend"], f["in"], f["out"], net, balance))
    return QuarterlyTrendView(pool_id, fy.label, at, yp.opening, tuple(out))


def prior_period_adjustments_at(
    conn: Connection, pool_id: str, year: str, at: int, reported_after: int | None = None
) -> PriorPeriodAdjustmentsView:
    """The money lines and facts of the year marked as prior-period adjustments
    (reversals so marked included), recorded by ``at`` and, with ``reported_after``,
    after that position (what a return has not yet listed). In position order. Each
    counts in its own (closed) quarter; a reversal's line carries a negative amount."""
    fy = parse_year(year)
    pool_row(conn, pool_id, at)
    found = lines(conn, pool_id, fy.label, at, adjustments_only=True, after=reported_after)
    out = [
        PriorPeriodAdjustment(
            position=x.position,
            event_id=x.event_id,
            recorded_at=x.recorded_at,
            kind=x.kind,
            reversal=x.reversal,
            year=x.year,
            quarter=x.quarter,
            effective_date=x.effective_date,
            partner_id=x.partner_id,
            counterparty_id=x.counterparty_id,
            scheme_id=x.scheme_id,
            funding_stream=x.funding_stream,
            amount=x.amount,
        )
        for x in found
    ]
    for f in facts(
        conn,
        pool_id,
        ADJUSTABLE_FACTS,
        at,
        year=fy.label,
        include_reversed=True,
        after=reported_after,
    ):
        d = f.data
        if not d.get("prior_period_adjustment"):
            continue
        reversal = f.type == ev.EventReversed.type
        if reversal and d["reversed_type"] in LINE_TYPES:
            continue  # its negated lines are listed above
        out.append(
            PriorPeriodAdjustment(
                position=f.position,
                event_id=f.event_id,
                recorded_at=f.recorded_at,
                kind=d["reversed_type"] if reversal else f.type,
                reversal=reversal,
                year=f.year or fy.label,
                quarter=Quarter.of(f.effective_date).label if f.effective_date else "",
                effective_date=f.effective_date,
                detail=_detail(f.type, d),
            )
        )
    out.sort(key=lambda a: a.position)
    return PriorPeriodAdjustmentsView(pool_id, fy.label, at, reported_after, tuple(out))


def _detail(type_: str, d: dict[str, object]) -> str:
    if type_ == ev.MetricRecorded.type:
        return (
            f"metric {d['metric_id']} for {d['period']}: target {d['target']}, actual {d['actual']}"
        )
    if type_ == ev.PopulationRecorded.type:
        return f"population of {d['unit_id']}, cohort {d['cohort']}: {d['count']}"
    if type_ == ev.OutcomeAssessed.type:
        met = "met" if d["met"] else "not met"
        return f"outcome {d['outcome_id']} of {d['service_id']} for {d['period']}: {met}"
    if type_ == ev.RiskRewardResultRecorded.type:
        return f"risk/reward result of {d['scheme_id']} for {d['period']}"
    return (
        f"reversal of the {d['reversed_type']} at position {d['reversed_position']}: {d['reason']}"
    )

"""The figures a quarterly return and the board's charts need: income by funding
stream, prior-period adjustments and the quarterly trend, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import Engine

from ledger.domain import commands as c
from ledger.domain.events import Party
from ledger.handlers import Ledger
from projections.queries import Reader
from tests.builders import (
    ADMIN,
    contribution,
    given_bcf_pool,
    given_equipment_pool,
    officer,
    pounds,
    spend,
)

YEAR = "2025-26"
HOST = officer("ncc")
Q = [f"{YEAR}-Q{n}" for n in (1, 2, 3, 4)]


def test_income_by_stream_gives_planned_received_per_quarter_and_to_date_per_partner(
    ledger: Ledger, engine: Engine
) -> None:
    # given the BCF plan: icb-a £1m minimum NHS contribution, ncc £200k DFG
    given_bcf_pool(ledger)
    nhs = "minimum_nhs_contribution"
    ledger.execute(contribution("bcf", "icb-a", "250000.00", date(2025, 4, 30), stream=nhs), HOST)
    ledger.execute(contribution("bcf", "icb-a", "250000.00", date(2025, 7, 31), stream=nhs), HOST)
    ledger.execute(contribution("bcf", "ncc", "200000.00", date(2025, 5, 15), stream="dfg"), HOST)
    extra = ledger.execute(
        contribution("bcf", "ncc", "50000.00", date(2025, 10, 1), stream="additional_la"), HOST
    )
    ledger.execute(
        c.RefundContribution(
            pool_id="bcf",
            partner_id="icb-a",
            funding_stream=nhs,
            amount=pounds("10000.00"),
            effective_date=date(2025, 11, 1),
            reference="over-payment",
        ),
        HOST,
    )
    ledger.execute(contribution("bcf", "ncc", "1.00", date(2025, 10, 2), stream="dfg"), HOST)
    ledger.execute(
        c.ReverseEvent(event_id=extra.events[0].event_id, reason="x"),
        HOST,
    )
    view = Reader(engine).income_by_stream("bcf", YEAR)
    # then each stream: planned, received per quarter (net of refunds and reversals), to date
    assert [
        (s.funding_stream, s.planned, [s.received_by_quarter[q] for q in Q], s.received)
        for s in view.streams
    ] == [
        ("additional_la", 0, [0, 0, 0, 0], 0),
        (
            "dfg",
            pounds("200000.00"),
            [pounds("200000.00"), 0, pounds("1.00"), 0],
            pounds("200001.00"),
        ),
        (
            nhs,
            pounds("1000000.00"),
            [pounds("250000.00"), pounds("250000.00"), -pounds("10000.00"), 0],
            pounds("490000.00"),
        ),
    ]
    (icb,) = view.streams[2].partners
    assert (icb.partner_id, icb.planned, icb.received) == (
        "icb-a",
        pounds("1000000.00"),
        pounds("490000.00"),
    )
    (ncc,) = view.streams[1].partners
    assert ncc.received_by_quarter[Q[2]] == pounds("1.00")


def test_prior_period_adjustments_list_lines_and_facts_entered_after_a_position(
    ledger: Ledger, engine: Engine
) -> None:
    # given a BCF pool with Q1 postings and a Q1 metric, then Q1 closed
    given_bcf_pool(ledger)
    bill = ledger.execute(spend("bcf", "carers", "1000.00", date(2025, 5, 1)), HOST)
    metric = ledger.execute(
        c.RecordMetric(
            pool_id="bcf",
            metric_id="average-discharge-delay",
            period=Q[0],
            target=Decimal("1.5"),
            actual=Decimal("1.4"),
        ),
        HOST,
    )
    close = ledger.execute(c.ClosePeriod(pool_id="bcf", quarter=Q[0]), ADMIN).events[0]
    # when adjustments come into Q1: a contribution, a reversal of the spend, a
    # restated metric and the reversal of the first metric
    late = ledger.execute(
        contribution(
            "bcf", "icb-a", "99.99", date(2025, 6, 1), stream="minimum_nhs_contribution", ppa=True
        ),
        HOST,
    ).events[0]
    undone = ledger.execute(
        c.ReverseEvent(
            event_id=bill.events[0].event_id, reason="wrong scheme", prior_period_adjustment=True
        ),
        HOST,
    ).events[0]
    restated = ledger.execute(
        c.RecordMetric(
            pool_id="bcf",
            metric_id="average-discharge-delay",
            period=Q[0],
            target=Decimal("1.5"),
            actual=Decimal("1.6"),
            prior_period_adjustment=True,
        ),
        HOST,
    ).events[0]
    withdrawn = ledger.execute(
        c.ReverseEvent(
            event_id=metric.events[0].event_id, reason="restated", prior_period_adjustment=True
        ),
        HOST,
    ).events[0]
    ledger.execute(contribution("bcf", "ncc", "5.00", date(2025, 7, 1), stream="dfg"), HOST)
    # then the next return lists the four, in order, in Q1
    view = Reader(engine).prior_period_adjustments("bcf", YEAR, reported_after=close.position)
    assert [(a.position, a.kind, a.reversal, a.quarter, a.amount) for a in view.adjustments] == [
        (late.position, "contribution", False, Q[0], pounds("99.99")),
        (undone.position, "expenditure", True, Q[0], -pounds("1000.00")),
        (restated.position, "metric_recorded", False, Q[0], None),
        (withdrawn.position, "metric_recorded", True, Q[0], None),
    ]
    first = view.adjustments[0]
    assert (first.event_id, first.partner_id, first.funding_stream) == (
        late.event_id,
        "icb-a",
        "minimum_nhs_contribution",
    )
    assert view.adjustments[1].scheme_id == "carers"
    assert view.adjustments[1].event_id == undone.event_id
    assert view.adjustments[2].detail == (
        f"metric average-discharge-delay for {Q[0]}: target 1.5, actual 1.6"
    )
    assert "restated" in (view.adjustments[3].detail or "")
    # a later return lists only what came after it
    later = Reader(engine).prior_period_adjustments("bcf", YEAR, reported_after=undone.position)
    assert [a.position for a in later.adjustments] == [restated.position, withdrawn.position]
    # and another year has none
    assert Reader(engine).prior_period_adjustments("bcf", "2024-25").adjustments == ()
    # and the balances count the adjustments in the year
    assert Reader(engine).balances("bcf", YEAR).pool.spend == 0


def test_the_quarterly_trend_runs_the_balance_from_the_opening_through_each_quarter(
    ledger: Ledger, engine: Engine
) -> None:
    given_equipment_pool(ledger)
    ledger.execute(
        c.RecordOpeningBalance(pool_id="eq", year=YEAR, amount=pounds("1000.00"), note="b/f"),
        ADMIN,
    )
    ledger.execute(contribution("eq", "city", "10000.00", date(2025, 4, 2)), officer("city"))
    ledger.execute(spend("eq", "equipment", "4000.00", date(2025, 6, 2)), HOST)
    ledger.execute(spend("eq", "equipment", "8000.00", date(2026, 1, 2)), HOST)
    for src, dst, who, amount in (
        (Party(partner_id="city"), Party(pool_id="eq"), "city", "500.00"),
        (Party(pool_id="eq"), Party(partner_id="city"), "ncc", "200.00"),
    ):
        ledger.execute(
            c.PostTransfer(
                pool_id="eq",
                from_party=src,
                to_party=dst,
                amount=pounds(amount),
                purpose="other",
                effective_date=date(2025, 5, 2),
                reference="t",
            ),
            officer(who),
        )
    view = Reader(engine).quarterly_trend("eq", YEAR)
    assert view.opening_balance == pounds("1000.00")
    assert [
        (t.quarter, t.income, t.spend, t.transfers_in, t.transfers_out, t.net, t.closing_balance)
        for t in view.quarters
    ] == [
        (Q[0], pounds("10000.00"), pounds("4000.00"), pounds("500.00"), pounds("200.00"),
         pounds("6300.00"), pounds("7300.00")),
        (Q[1], 0, 0, 0, 0, 0, pounds("7300.00")),
        (Q[2], 0, 0, 0, 0, 0, pounds("7300.00")),
        (Q[3], 0, pounds("8000.00"), 0, 0, -pounds("8000.00"), -pounds("700.00")),
    ]  # fmt: skip
    assert view.quarters[-1].closing_balance == Reader(engine).balances("eq", YEAR).pool.balance

"""Every figure traces to the positions of the events behind it (api.md "trace"), as at
any position, on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy import Engine

from ledger.domain import commands as c
from ledger.domain.errors import ValidationFailed
from ledger.domain.events import PartnerAmount, Party
from ledger.domain.plan import RiskRule
from ledger.handlers import Ledger, Outcome
from projections.queries import Reader
from tests.builders import (
    ADMIN,
    contribution,
    equipment_plan,
    given_equipment_pool,
    officer,
    pounds,
    spend,
)

YEAR = "2025-26"
HOST = officer("ncc")


def pos(out: Outcome) -> int:
    return out.events[-1].position


@dataclass
class Story:
    plan: int
    ncc: int
    city: int
    icb: int
    spend_q1: int
    spend_q2: int


@pytest.fixture
def story(ledger: Ledger) -> Story:
    """Example A's postings: three contributions and two spends (Q1, Q2)."""
    given_equipment_pool(ledger)
    plan = Reader(ledger.engine).position()
    return Story(
        plan=plan,
        ncc=pos(ledger.execute(contribution("eq", "ncc", "1500000.00", date(2025, 4, 10)), HOST)),
        city=pos(
            ledger.execute(
                contribution("eq", "city", "1000000.00", date(2025, 4, 11)), officer("city")
            )
        ),
        icb=pos(
            ledger.execute(
                contribution("eq", "icb-a", "250000.00", date(2025, 7, 1)), officer("icb-a")
            )
        ),
        spend_q1=pos(
            ledger.execute(spend("eq", "equipment", "900000.00", date(2025, 6, 30)), HOST)
        ),
        spend_q2=pos(
            ledger.execute(spend("eq", "equipment", "400000.00", date(2025, 8, 15)), HOST)
        ),
    )


def trace(engine: Engine, figure: str, as_at: int | None = None) -> list[int]:
    return Reader(engine).trace("eq", YEAR, figure, as_at)


def test_money_figures_trace_to_their_postings(story: Story, engine: Engine) -> None:
    assert trace(engine, "partner:city:received") == [story.city]
    assert trace(engine, "pool:income") == [story.ncc, story.city, story.icb]
    assert trace(engine, "pool:spend") == [story.spend_q1, story.spend_q2]
    assert trace(engine, "scheme:equipment:actual") == [story.spend_q1, story.spend_q2]
    assert trace(engine, "stream:contribution:received") == [story.ncc, story.city, story.icb]
    assert trace(engine, "quarter:Q1:income") == [story.ncc, story.city]
    assert trace(engine, "quarter:Q2:spend") == [story.spend_q2]
    assert trace(engine, "quarter:Q3:spend") == []
    assert trace(engine, "pool:balance") == [
        story.ncc,
        story.city,
        story.icb,
        story.spend_q1,
        story.spend_q2,
    ]


def test_planned_figures_trace_to_the_plan_in_force(
    story: Story, ledger: Ledger, engine: Engine
) -> None:
    for figure in (
        "pool:planned",
        "partner:ncc:planned",
        "partner:icb-a:share",
        "scheme:equipment:planned",
        "scheme:equipment:forecast",
        "stream:contribution:planned",
    ):
        assert trace(engine, figure) == [story.plan], figure
    newer = pos(ledger.execute(c.AgreePlan(pool_id="eq", year=YEAR, plan=equipment_plan()), ADMIN))
    assert trace(engine, "pool:planned") == [newer]
    assert trace(engine, "pool:planned", as_at=newer - 1) == [story.plan]


def test_a_reversed_posting_traces_to_the_posting_and_its_reversal_from_then_on(
    story: Story, ledger: Ledger, engine: Engine
) -> None:
    posted = ledger.execute(contribution("eq", "city", "10.00", date(2025, 5, 1)), officer("city"))
    reversal = pos(
        ledger.execute(
            c.ReverseEvent(event_id=posted.events[0].event_id, reason="x"), officer("city")
        )
    )
    assert trace(engine, "partner:city:received") == [story.city, pos(posted), reversal]
    assert trace(engine, "partner:city:received", as_at=reversal - 1) == [story.city, pos(posted)]


def test_the_outturn_traces_by_its_basis(story: Story, ledger: Ledger, engine: Engine) -> None:
    # spend to date
    assert trace(engine, "pool:outturn") == [story.spend_q1, story.spend_q2]
    # a scheme forecast (the plan's only scheme has one, so the plan is not needed)
    scheme_fc = pos(
        ledger.execute(
            c.RecordForecast(
                pool_id="eq",
                year=YEAR,
                amount=pounds("3600000"),
                scheme_id="equipment",
                as_of_date=date(2025, 9, 30),
            ),
            HOST,
        )
    )
    assert trace(engine, "pool:outturn") == [scheme_fc]
    assert trace(engine, "scheme:equipment:forecast") == [scheme_fc]
    # a whole-pool forecast
    whole = pos(
        ledger.execute(
            c.RecordForecast(
                pool_id="eq", year=YEAR, amount=pounds("3600000"), as_of_date=date(2025, 10, 31)
            ),
            HOST,
        )
    )
    assert trace(engine, "pool:outturn") == [whole]
    # the variance and every partner's risk share: the outturn and the plan
    assert trace(engine, "pool:variance") == [story.plan, whole]
    assert trace(engine, "partner:city:risk_share") == [story.plan, whole]
    assert trace(engine, "partner:city:net_obligation") == [story.plan, whole]
    assert trace(engine, "partner:city:outstanding") == [story.plan, story.city, whole]
    # once Q4 is closed: the close and the spend
    closes = [
        pos(ledger.execute(c.ClosePeriod(pool_id="eq", quarter=f"{YEAR}-Q{n}"), ADMIN))
        for n in (1, 2, 3, 4)
    ]
    assert trace(engine, "pool:outturn") == [story.spend_q1, story.spend_q2, closes[3]]
    assert trace(engine, "scheme:equipment:outturn") == [story.spend_q1, story.spend_q2, closes[3]]
    # settled: the settlement joins the risk share's trail
    rs = Reader(engine).risk_share("eq", YEAR)
    settled = pos(
        ledger.execute(
            c.SettleRiskShare(
                pool_id="eq",
                year=YEAR,
                variance=rs.variance,
                direction=rs.direction,
                method=rs.method,
                allocations=tuple(PartnerAmount(partner_id=p, amount=a) for p, a in rs.allocations),
            ),
            ADMIN,
        )
    )
    assert trace(engine, "pool:risk_share") == [
        story.plan,
        story.spend_q1,
        story.spend_q2,
        closes[3],
        settled,
    ]


def test_transfers_trace_to_each_side(story: Story, ledger: Ledger, engine: Engine) -> None:
    def transfer(src: Party, dst: Party, who: str) -> int:
        return pos(
            ledger.execute(
                c.PostTransfer(
                    pool_id="eq",
                    from_party=src,
                    to_party=dst,
                    amount=pounds("10.00"),
                    purpose="other",
                    effective_date=date(2025, 5, 1),
                    reference="t",
                ),
                officer(who),
            )
        )

    p2p = transfer(Party(partner_id="icb-a"), Party(partner_id="city"), "icb-a")
    into = transfer(Party(partner_id="city"), Party(pool_id="eq"), "city")
    out = transfer(Party(pool_id="eq"), Party(partner_id="city"), "ncc")
    assert trace(engine, "partner:city:transfers_in") == [p2p, out]
    assert trace(engine, "partner:city:transfers_out") == [into]
    assert trace(engine, "partner:icb-a:transfers_out") == [p2p]
    assert trace(engine, "pool:transfers_in") == [into]
    assert trace(engine, "pool:transfers_out") == [out]
    assert trace(engine, "quarter:Q1:transfers_in") == [into]
    assert into in trace(engine, "pool:balance") and p2p not in trace(engine, "pool:balance")


def test_the_opening_balance_traces_to_its_recording_and_to_a_carried_forward_settlement(
    ledger: Ledger, engine: Engine
) -> None:
    given_equipment_pool(ledger, plan=equipment_plan(underspend=RiskRule(method="carry_forward")))
    opening = pos(
        ledger.execute(
            c.RecordOpeningBalance(pool_id="eq", year=YEAR, amount=pounds("100.00"), note="b/f"),
            ADMIN,
        )
    )
    assert trace(engine, "pool:opening_balance") == [opening]
    for n in (1, 2, 3, 4):
        ledger.execute(c.ClosePeriod(pool_id="eq", quarter=f"{YEAR}-Q{n}"), ADMIN)
    rs = Reader(engine).risk_share("eq", YEAR)
    assert rs.carried_forward == pounds("3500100.00")
    settled = pos(
        ledger.execute(
            c.SettleRiskShare(
                pool_id="eq",
                year=YEAR,
                variance=rs.variance,
                direction=rs.direction,
                method=rs.method,
                allocations=tuple(PartnerAmount(partner_id=p, amount=a) for p, a in rs.allocations),
                carried_forward=rs.carried_forward,
            ),
            ADMIN,
        )
    )
    ledger.execute(c.AgreePlan(pool_id="eq", year="2026-27", plan=equipment_plan()), ADMIN)
    assert Reader(engine).trace("eq", "2026-27", "pool:opening_balance") == [settled]


@pytest.mark.parametrize(
    "figure",
    [
        "nonsense",
        "pool:nothing",
        "partner:ncc",
        "partner:nobody:received",
        "scheme:nowhere:actual",
        "quarter:Q5:spend",
        "stream:contribution:spend",
        "pool:income; DROP TABLE events",
    ],
)
def test_an_unknown_figure_is_refused_naming_the_trace_field(
    story: Story, engine: Engine, figure: str
) -> None:
    with pytest.raises(ValidationFailed) as e:
        trace(engine, figure)
    assert e.value.errors[0].field == "trace"
    assert "partner:{id}:" in e.value.errors[0].message

"""Partner balances, the outturn and the risk share (domain.md 6.1, 6.1.1, 6.2) through
the ledger, on SQLite and PostgreSQL, every figure checked by hand to the penny."""

from __future__ import annotations

from datetime import date
from fractions import Fraction

import pytest
from sqlalchemy import Engine

from ledger.domain import commands as c
from ledger.domain.errors import NotFound, PeriodClosed, ValidationFailed
from ledger.domain.events import PartnerAmount, Party
from ledger.domain.plan import RiskRule, Scheme
from ledger.handlers import Ledger
from projections.queries import Reader
from projections.views import Balances, PartnerBalance
from tests.builders import (
    ADMIN,
    contribution,
    equipment_plan,
    given_equipment_pool,
    officer,
    pounds,
    spend,
    tiered_with_cap,
)

YEAR = "2025-26"
HOST = officer("ncc")


def _head(ledger: Ledger) -> int:
    return Reader(ledger.engine).position()


def _partner(b: Balances, pid: str) -> PartnerBalance:
    return next(p for p in b.partners if p.partner_id == pid)


def _forecast(amount: str, on: date, scheme_id: str | None = None) -> c.RecordForecast:
    return c.RecordForecast(
        pool_id="eq", year=YEAR, amount=pounds(amount), scheme_id=scheme_id, as_of_date=on
    )


def _close_year(ledger: Ledger, year: str = YEAR) -> None:
    for n in (1, 2, 3, 4):
        ledger.execute(c.ClosePeriod(pool_id="eq", quarter=f"{year}-Q{n}"), ADMIN)


def _given_example_a_postings(ledger: Ledger) -> None:
    """Contributions of £2.75m and spend of £1.3m against the A plan."""
    given_equipment_pool(ledger)
    ledger.execute(contribution("eq", "ncc", "1500000.00", date(2025, 4, 10)), officer("ncc"))
    ledger.execute(contribution("eq", "city", "1000000.00", date(2025, 4, 11)), officer("city"))
    ledger.execute(contribution("eq", "icb-a", "250000.00", date(2025, 7, 1)), officer("icb-a"))
    ledger.execute(spend("eq", "equipment", "900000.00", date(2025, 6, 30)), HOST)
    ledger.execute(spend("eq", "equipment", "400000.00", date(2025, 8, 15)), HOST)


def test_example_a_a_forecast_overspend_of_100000_is_shared_in_proportion_to_plans(
    ledger: Ledger, engine: Engine
) -> None:
    # given the A plan (ncc £2m, city £1m, icb-a £0.5m), £2.75m received, £1.3m spent
    _given_example_a_postings(ledger)
    # when the pool manager forecasts an outturn of £3.6m
    ledger.execute(_forecast("3600000.00", date(2025, 9, 30)), HOST)
    b = Reader(engine).balances("eq", YEAR)
    # then the pool's figures
    assert b.pool.opening_balance == 0
    assert b.pool.planned == pounds("3500000.00")
    assert b.pool.income == pounds("2750000.00")
    assert b.pool.spend == pounds("1300000.00")
    assert (b.pool.transfers_in, b.pool.transfers_out) == (0, 0)
    assert b.pool.balance == pounds("1450000.00")
    assert (b.pool.outturn, b.pool.outturn_basis) == (pounds("3600000.00"), "forecast")
    assert b.pool.variance == pounds("100000.00")
    # and each partner's, the overspend shared 57142.86 / 28571.43 / 14285.71
    ncc, city, icb = _partner(b, "ncc"), _partner(b, "city"), _partner(b, "icb-a")
    assert (ncc.planned, ncc.received) == (pounds("2000000.00"), pounds("1500000.00"))
    assert ncc.share == Fraction(4, 7)
    assert ncc.risk_share == pounds("57142.86")
    assert ncc.net_obligation == pounds("2057142.86")
    assert ncc.outstanding == pounds("557142.86")
    assert (city.planned, city.received, city.share) == (
        pounds("1000000.00"),
        pounds("1000000.00"),
        Fraction(2, 7),
    )
    assert city.risk_share == pounds("28571.43")
    assert city.net_obligation == pounds("1028571.43")
    assert city.outstanding == pounds("28571.43")
    assert (icb.planned, icb.received, icb.share) == (
        pounds("500000.00"),
        pounds("250000.00"),
        Fraction(1, 7),
    )
    assert icb.risk_share == pounds("14285.71")
    assert icb.net_obligation == pounds("514285.71")
    assert icb.outstanding == pounds("264285.71")
    assert all(p.transfers_in == p.transfers_out == 0 for p in b.partners)
    # and the risk share says the same, with its rule
    rs = Reader(engine).risk_share("eq", YEAR)
    assert (rs.variance, rs.direction, rs.basis, rs.settled, rs.method) == (
        pounds("100000.00"),
        "overspend",
        "forecast",
        False,
        "proportional",
    )
    assert rs.rule["method"] == "proportional"
    assert dict(rs.allocations) == {
        "city": pounds("28571.43"),
        "icb-a": pounds("14285.71"),
        "ncc": pounds("57142.86"),
    }


def test_spend_to_date_is_not_an_outturn_so_no_risk_share_is_allocated(
    ledger: Ledger, engine: Engine
) -> None:
    # given postings but no forecast
    _given_example_a_postings(ledger)
    b = Reader(engine).balances("eq", YEAR)
    # then the outturn is spend to date and nobody bears a share of the "underspend"
    assert (b.pool.outturn, b.pool.outturn_basis) == (pounds("1300000.00"), "actual_to_date")
    # and there is no year variance (a part year's spend against the year's plan is not
    # an underspend); the to-date figures carry the comparison
    assert b.pool.variance is None
    assert all(p.risk_share == 0 for p in b.partners)
    assert _partner(b, "ncc").outstanding == pounds("500000.00")
    rs = Reader(engine).risk_share("eq", YEAR)
    assert (rs.direction, rs.method, rs.rule) == ("none", "none", {})
    assert dict(rs.allocations) == {"city": 0, "icb-a": 0, "ncc": 0}


def test_example_b_the_plans_tiered_rule_with_a_cap_shares_an_overspend_of_210000(
    ledger: Ledger, engine: Engine
) -> None:
    # given the B rule: the first £50,000 to ncc, the rest 50/30/20, icb-a capped at £20,000
    given_equipment_pool(ledger, plan=equipment_plan(overspend=tiered_with_cap()))
    ledger.execute(spend("eq", "equipment", "1000000.00", date(2025, 5, 1)), HOST)
    # when the forecast outturn is £3,710,000 (plan £3.5m)
    ledger.execute(_forecast("3710000.00", date(2025, 9, 30)), HOST)
    b = Reader(engine).balances("eq", YEAR)
    # then ncc 142,000.00, city 48,000.00, icb-a 20,000.00
    assert b.pool.variance == pounds("210000.00")
    assert [(p.partner_id, p.risk_share) for p in b.partners] == [
        ("city", pounds("48000.00")),
        ("icb-a", pounds("20000.00")),
        ("ncc", pounds("142000.00")),
    ]
    assert _partner(b, "icb-a").net_obligation == pounds("520000.00")
    assert _partner(b, "icb-a").outstanding == pounds("520000.00")
    assert _partner(b, "ncc").net_obligation == pounds("2142000.00")
    rs = Reader(engine).risk_share("eq", YEAR)
    assert rs.method == "tiered"
    assert rs.rule["caps"] == [{"partner_id": "icb-a", "amount": pounds("20000.00")}]


def test_a_reversal_takes_a_posting_out_from_its_position_on_but_not_before(
    ledger: Ledger, engine: Engine
) -> None:
    # given a contribution of £1,000.00 from city
    given_equipment_pool(ledger)
    posted = ledger.execute(
        contribution("eq", "city", "1000.00", date(2025, 5, 1)), officer("city")
    )
    ledger.execute(contribution("eq", "city", "250.00", date(2025, 5, 2)), officer("city"))
    before = _head(ledger)
    assert Reader(engine).balances("eq", YEAR).pool.income == pounds("1250.00")
    # when city reverses the first one
    ledger.execute(
        c.ReverseEvent(event_id=posted.events[0].event_id, reason="posted twice"), officer("city")
    )
    # then it no longer counts, in its own quarter
    after = Reader(engine).balances("eq", YEAR)
    assert after.pool.income == pounds("250.00")
    assert _partner(after, "city").received == pounds("250.00")
    assert _partner(after, "city").outstanding == pounds("999750.00")
    assert after.pool.balance == pounds("250.00")
    trend = Reader(engine).quarterly_trend("eq", YEAR)
    assert [q.income for q in trend.quarters] == [pounds("250.00"), 0, 0, 0]
    # and as at the position before the reversal, the answer is what it was
    then = Reader(engine).balances("eq", YEAR, as_at=f"position:{before}")
    assert then.pool.income == pounds("1250.00")
    assert _partner(then, "city").received == pounds("1250.00")
    assert then.as_at_position == before


def test_a_refund_and_a_credit_note_are_movements_of_their_own_dates(
    ledger: Ledger, engine: Engine
) -> None:
    # given £1,000,000.00 from city and £300,000.00 spent in Q1
    given_equipment_pool(ledger)
    ledger.execute(contribution("eq", "city", "1000000.00", date(2025, 4, 1)), officer("city"))
    bill = ledger.execute(spend("eq", "equipment", "300000.00", date(2025, 5, 1)), HOST)
    # when the host refunds city £12,345.67 in Q2 and receives a £4,000.01 credit in Q3
    ledger.execute(
        c.RefundContribution(
            pool_id="eq",
            partner_id="city",
            funding_stream="contribution",
            amount=pounds("12345.67"),
            effective_date=date(2025, 8, 1),
            reference="overpaid",
        ),
        HOST,
    )
    ledger.execute(
        c.CreditExpenditure(
            pool_id="eq",
            scheme_id="equipment",
            amount=pounds("4000.01"),
            effective_date=date(2025, 11, 3),
            reference="returned hoists",
            credits_event_id=bill.events[0].event_id,
        ),
        HOST,
    )
    b = Reader(engine).balances("eq", YEAR)
    # then income and spend are net, and the balance identity holds
    assert _partner(b, "city").received == pounds("987654.33")
    assert _partner(b, "city").outstanding == pounds("12345.67")
    assert b.pool.income == pounds("987654.33")
    assert b.pool.spend == pounds("295999.99")
    assert b.pool.balance == pounds("691654.34")
    # and each in the quarter of its own date
    trend = Reader(engine).quarterly_trend("eq", YEAR)
    assert [(q.income, q.spend) for q in trend.quarters] == [
        (pounds("1000000.00"), pounds("300000.00")),
        (-pounds("12345.67"), 0),
        (0, -pounds("4000.01")),
        (0, 0),
    ]
    assert [q.closing_balance for q in trend.quarters] == [
        pounds("700000.00"),
        pounds("687654.33"),
        pounds("691654.34"),
        pounds("691654.34"),
    ]
    (scheme,) = Reader(engine).scheme_spend("eq", YEAR)
    assert scheme.actual_by_quarter == {
        "2025-26-Q1": pounds("300000.00"),
        "2025-26-Q2": 0,
        "2025-26-Q3": -pounds("4000.01"),
        "2025-26-Q4": 0,
    }
    assert scheme.actual_year_to_date == pounds("295999.99")


def test_transfers_between_partners_leave_the_pool_balance_alone_and_pool_transfers_move_it(
    ledger: Ledger, engine: Engine
) -> None:
    # given £100,000.00 from ncc in the pool
    given_equipment_pool(ledger)
    ledger.execute(contribution("eq", "ncc", "100000.00", date(2025, 4, 1)), HOST)
    # when icb-a makes an s256 transfer of £10,000.00 to ncc (partner to partner)
    ledger.execute(
        c.PostTransfer(
            pool_id="eq",
            from_party=Party(partner_id="icb-a"),
            to_party=Party(partner_id="ncc"),
            amount=pounds("10000.00"),
            purpose="s256",
            effective_date=date(2025, 5, 1),
            reference="s256 2025-26",
        ),
        officer("icb-a"),
    )
    b = Reader(engine).balances("eq", YEAR)
    # then the partners' transfers show it and the pool balance does not move
    assert (_partner(b, "icb-a").transfers_out, _partner(b, "ncc").transfers_in) == (
        pounds("10000.00"),
        pounds("10000.00"),
    )
    assert b.partner_transfers == (("icb-a", "ncc", pounds("10000.00")),)
    assert (b.pool.transfers_in, b.pool.transfers_out) == (0, 0)
    assert b.pool.balance == pounds("100000.00")
    # when city pays £5,000.00 into the pool and the pool pays £2,000.00 to ncc
    ledger.execute(
        c.PostTransfer(
            pool_id="eq",
            from_party=Party(partner_id="city"),
            to_party=Party(pool_id="eq"),
            amount=pounds("5000.00"),
            purpose="s75",
            effective_date=date(2025, 5, 2),
            reference="top-up",
        ),
        officer("city"),
    )
    ledger.execute(
        c.PostTransfer(
            pool_id="eq",
            from_party=Party(pool_id="eq"),
            to_party=Party(partner_id="ncc"),
            amount=pounds("2000.00"),
            purpose="other",
            effective_date=date(2025, 5, 3),
            reference="repayment",
        ),
        HOST,
    )
    b = Reader(engine).balances("eq", YEAR)
    # then they are the pool's transfers in and out, not income
    assert (b.pool.transfers_in, b.pool.transfers_out) == (pounds("5000.00"), pounds("2000.00"))
    assert b.pool.income == pounds("100000.00")
    assert b.pool.balance == pounds("103000.00")
    assert (_partner(b, "city").transfers_out, _partner(b, "city").received) == (
        pounds("5000.00"),
        0,
    )
    assert _partner(b, "ncc").transfers_in == pounds("12000.00")
    assert _partner(b, "ncc").received == pounds("100000.00")
    # and the identity of 6.1 holds
    p = b.pool
    assert p.balance == p.opening_balance + p.income + p.transfers_in - p.transfers_out - p.spend


def test_a_prior_period_adjustment_is_accepted_into_a_closed_quarter_and_counts_there(
    ledger: Ledger, engine: Engine
) -> None:
    # given Q1 closed with £1,000.00 from city in it
    given_equipment_pool(ledger)
    ledger.execute(contribution("eq", "city", "1000.00", date(2025, 5, 1)), officer("city"))
    closed = ledger.execute(c.ClosePeriod(pool_id="eq", quarter=f"{YEAR}-Q1"), ADMIN)
    close_position = closed.events[0].position
    # when a late Q1 contribution is posted plainly, it is refused
    with pytest.raises(PeriodClosed):
        ledger.execute(contribution("eq", "city", "500.00", date(2025, 6, 30)), officer("city"))
    # but as a prior-period adjustment it is accepted
    late = ledger.execute(
        contribution("eq", "city", "500.00", date(2025, 6, 30), ppa=True), officer("city")
    )
    # then it counts in Q1 and the year
    assert _partner(Reader(engine).balances("eq", YEAR), "city").received == pounds("1500.00")
    trend = Reader(engine).quarterly_trend("eq", YEAR)
    assert trend.quarters[0].income == pounds("1500.00")
    # and the next return lists it among the adjustments entered after the close
    listed = Reader(engine).prior_period_adjustments("eq", YEAR, reported_after=close_position)
    (adj,) = listed.adjustments
    assert (adj.position, adj.kind, adj.quarter, adj.partner_id, adj.amount, adj.reversal) == (
        late.events[0].position,
        "contribution",
        f"{YEAR}-Q1",
        "city",
        pounds("500.00"),
        False,
    )
    assert adj.effective_date == date(2025, 6, 30)
    assert adj.recorded_at == late.events[0].recorded_at
    # and as at the close, nothing was adjusted yet
    assert not Reader(engine).prior_period_adjustments("eq", YEAR, as_at=close_position).adjustments


def _two_scheme_plan() -> c.AgreePlan:
    schemes = (
        Scheme(
            id="equipment",
            name="Community equipment",
            scheme_type="Assistive Technologies and Equipment",
            commissioner="ncc",
            provider_type="Private Sector",
            funding_stream="contribution",
            planned=pounds("2500000.00"),
        ),
        Scheme(
            id="reablement",
            name="Reablement",
            scheme_type="Home-based intermediate care services",
            commissioner="icb",
            provider_type="NHS Community Provider",
            funding_stream="contribution",
            planned=pounds("1000000.00"),
        ),
    )
    return c.AgreePlan(pool_id="eq", year=YEAR, plan=equipment_plan(schemes=schemes))


def test_the_outturn_moves_from_spend_to_date_to_scheme_forecasts_to_a_whole_forecast_to_actual(
    ledger: Ledger, engine: Engine
) -> None:
    # given a plan with two schemes (equipment £2.5m, reablement £1m) and £3.45m spent
    given_equipment_pool(ledger, plan=_two_scheme_plan().plan)
    ledger.execute(spend("eq", "equipment", "2480000.00", date(2025, 9, 1)), HOST)
    ledger.execute(spend("eq", "reablement", "970000.00", date(2026, 3, 1)), HOST)
    reader = Reader(engine)
    b = reader.balances("eq", YEAR)
    assert (b.pool.outturn, b.pool.outturn_basis) == (pounds("3450000.00"), "actual_to_date")
    # when equipment alone is forecast at £2.6m: that forecast plus reablement's plan
    ledger.execute(_forecast("2600000.00", date(2025, 10, 31), "equipment"), HOST)
    b = reader.balances("eq", YEAR)
    assert (b.pool.outturn, b.pool.outturn_basis) == (pounds("3600000.00"), "forecast")
    assert b.pool.variance == pounds("100000.00")
    assert _partner(b, "ncc").risk_share == pounds("57142.86")
    # a later-dated scheme forecast supersedes, an earlier-dated one does not
    ledger.execute(_forecast("2550000.00", date(2025, 11, 30), "equipment"), HOST)
    ledger.execute(_forecast("9999999.00", date(2025, 10, 1), "equipment"), HOST)
    assert reader.balances("eq", YEAR).pool.outturn == pounds("3550000.00")
    # when a whole-pool forecast of £3,570,000.00 is recorded, it is the outturn
    ledger.execute(_forecast("3570000.00", date(2025, 12, 31)), HOST)
    b = reader.balances("eq", YEAR)
    assert (b.pool.outturn, b.pool.outturn_basis) == (pounds("3570000.00"), "forecast")
    assert b.pool.variance == pounds("70000.00")
    assert [(p.partner_id, p.risk_share) for p in b.partners] == [
        ("city", pounds("20000.00")),
        ("icb-a", pounds("10000.00")),
        ("ncc", pounds("40000.00")),
    ]
    # when every quarter of the year is closed, the outturn is the actual spend
    _close_year(ledger)
    b = reader.balances("eq", YEAR)
    assert (b.pool.outturn, b.pool.outturn_basis) == (pounds("3450000.00"), "actual")
    assert b.pool.variance == -pounds("50000.00")
    assert [(p.partner_id, p.risk_share) for p in b.partners] == [
        ("city", -pounds("14285.71")),
        ("icb-a", -pounds("7142.86")),
        ("ncc", -pounds("28571.43")),
    ]
    assert _partner(b, "ncc").net_obligation == pounds("1971428.57")
    spend_by_scheme = {s.scheme_id: (s.planned, s.outturn) for s in reader.scheme_spend("eq", YEAR)}
    assert spend_by_scheme == {
        "equipment": (pounds("2500000.00"), pounds("2480000.00")),
        "reablement": (pounds("1000000.00"), pounds("970000.00")),
    }


def test_by_commissioner_each_schemes_variance_falls_on_its_commissioner_the_rest_on_the_host(
    ledger: Ledger, engine: Engine
) -> None:
    # given the two-scheme plan with a by_commissioner overspend rule
    plan = _two_scheme_plan().plan.model_copy(
        update={
            "risk_share": equipment_plan(overspend=RiskRule(method="by_commissioner")).risk_share
        }
    )
    given_equipment_pool(ledger, plan=plan)
    # when equipment (ncc) is forecast £60,000 over and reablement (icb) £40,000 over
    ledger.execute(_forecast("2560000.00", date(2025, 10, 31), "equipment"), HOST)
    ledger.execute(_forecast("1040000.00", date(2025, 10, 31), "reablement"), HOST)
    rs = Reader(engine).risk_share("eq", YEAR)
    # then ncc bears £60,000.00 and icb-a £40,000.00
    assert (rs.variance, rs.method) == (pounds("100000.00"), "by_commissioner")
    assert dict(rs.allocations) == {
        "city": 0,
        "icb-a": pounds("40000.00"),
        "ncc": pounds("60000.00"),
    }


def test_after_settlement_the_settled_figures_stand_whatever_is_adjusted_later(
    ledger: Ledger, engine: Engine
) -> None:
    # given the A plan, £3.6m spent and every quarter closed (an actual overspend of £100k)
    given_equipment_pool(ledger)
    ledger.execute(spend("eq", "equipment", "3600000.00", date(2025, 12, 1)), HOST)
    _close_year(ledger)
    reader = Reader(engine)
    provisional = reader.risk_share("eq", YEAR)
    assert (provisional.variance, provisional.basis, provisional.settled) == (
        pounds("100000.00"),
        "actual",
        False,
    )
    # when the admin settles with the figures the read side gives
    settled_at = (
        ledger.execute(
            c.SettleRiskShare(
                pool_id="eq",
                year=YEAR,
                variance=provisional.variance,
                direction=provisional.direction,
                method=provisional.method,
                allocations=tuple(
                    PartnerAmount(partner_id=p, amount=a) for p, a in provisional.allocations
                ),
                carried_forward=provisional.carried_forward,
            ),
            ADMIN,
        )
        .events[0]
        .position
    )
    # then the risk share is settled
    rs = reader.risk_share("eq", YEAR)
    assert (rs.settled, rs.direction, rs.method, rs.variance) == (
        True,
        "overspend",
        "proportional",
        pounds("100000.00"),
    )
    assert rs.allocations == provisional.allocations
    # when a credit of £10,000.00 into closed Q4 comes later as an adjustment
    ledger.execute(
        c.CreditExpenditure(
            pool_id="eq",
            scheme_id="equipment",
            amount=pounds("10000.00"),
            effective_date=date(2026, 2, 1),
            reference="late credit",
            prior_period_adjustment=True,
        ),
        HOST,
    )
    b = reader.balances("eq", YEAR)
    # then the spend and variance move, but each partner's risk share stays settled
    assert b.pool.spend == pounds("3590000.00")
    assert b.pool.variance == pounds("90000.00")
    assert _partner(b, "ncc").risk_share == pounds("57142.86")
    assert reader.risk_share("eq", YEAR).variance == pounds("100000.00")
    assert not reader.risk_share("eq", YEAR, as_at=settled_at - 1).settled


def test_a_carried_forward_underspend_becomes_next_years_opening_balance_once_settled(
    ledger: Ledger, engine: Engine
) -> None:
    # given an underspend rule of carry_forward, £3.5m received and £3.4m spent
    given_equipment_pool(ledger, plan=equipment_plan(underspend=RiskRule(method="carry_forward")))
    ledger.execute(contribution("eq", "ncc", "2000000.00", date(2025, 4, 1)), HOST)
    ledger.execute(contribution("eq", "city", "1000000.00", date(2025, 4, 1)), officer("city"))
    ledger.execute(contribution("eq", "icb-a", "500000.00", date(2025, 4, 1)), officer("icb-a"))
    ledger.execute(spend("eq", "equipment", "3400000.00", date(2026, 1, 15)), HOST)
    _close_year(ledger)
    ledger.execute(c.AgreePlan(pool_id="eq", year="2026-27", plan=equipment_plan()), ADMIN)
    reader = Reader(engine)
    rs = reader.risk_share("eq", YEAR)
    assert (rs.variance, rs.direction, rs.method, rs.carried_forward) == (
        -pounds("100000.00"),
        "underspend",
        "carry_forward",
        pounds("100000.00"),
    )
    assert all(a == 0 for _, a in rs.allocations)
    assert reader.balances("eq", "2026-27").pool.opening_balance == 0
    # when it is settled
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
    # then 2026-27 opens with £100,000.00, which counts in its balance (and in its
    # variance once it has an outturn: with spend to date only, it has none)
    nxt = reader.balances("eq", "2026-27")
    assert nxt.pool.opening_balance == pounds("100000.00")
    assert nxt.pool.balance == pounds("100000.00")
    assert nxt.pool.variance is None
    # and the closed year itself ends with no partner bearing anything
    assert all(p.risk_share == 0 for p in reader.balances("eq", YEAR).partners)
    assert reader.balances("eq", YEAR).pool.balance == pounds("100000.00")


def test_reading_an_unknown_pool_or_a_bad_year_is_refused(ledger: Ledger, engine: Engine) -> None:
    given_equipment_pool(ledger)
    with pytest.raises(NotFound):
        Reader(engine).balances("nope", YEAR)
    with pytest.raises(NotFound):
        Reader(engine).balances("eq", YEAR, as_at="position:1")  # before the pool existed
    with pytest.raises(ValidationFailed) as e:
        Reader(engine).balances("eq", "2025-27")
    assert e.value.errors[0].field == "year"

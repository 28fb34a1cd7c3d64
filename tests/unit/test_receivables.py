"""Who owes what, worked by hand: instalments, receipts oldest first, ageing."""

from __future__ import annotations

from datetime import date

from ledger.domain.calc.receivables import Receipt, instalments, receivable
from ledger.domain.periods import FinancialYear
from ledger.domain.plan import ContributionSchedule

FY = FinancialYear(2025)
QUARTERLY = ContributionSchedule(partner_id="city")
MONTHLY = ContributionSchedule(partner_id="icb-a", frequency="monthly")


def paid(on: str, pence: int, position: int = 1) -> Receipt:
    return Receipt(position, f"e{position}", "contribution", date.fromisoformat(on), pence, False)


def test_by_default_four_equal_instalments_fall_due_on_each_quarters_first_day() -> None:
    assert [(i.due.isoformat(), i.amount) for i in instalments(100_000_001, QUARTERLY, FY)] == [
        ("2025-04-01", 25_000_001),  # the leftover penny to the earliest
        ("2025-07-01", 25_000_000),
        ("2025-10-01", 25_000_000),
        ("2026-01-01", 25_000_000),
    ]


def test_monthly_instalments_share_the_leftover_pennies_from_april() -> None:
    # 500,000.00 / 12 = 41,666.666...: eight months of 41,666.67, four of 41,666.66
    found = instalments(50_000_000, MONTHLY, FY)
    assert [i.amount for i in found] == [4_166_667] * 8 + [4_166_666] * 4
    assert found[0].due == date(2025, 4, 1) and found[-1].due == date(2026, 3, 1)
    assert sum(i.amount for i in found) == 50_000_000


def test_a_partner_two_instalments_behind_is_aged_to_the_penny() -> None:
    # given city's 1,000,000.00 due quarterly; it paid Q1 and 100,000.50 towards Q2
    r = receivable(
        "city",
        100_000_000,
        QUARTERLY,
        FY,
        [paid("2025-04-03", 25_000_000, 1), paid("2025-07-10", 10_000_050, 2)],
        through=date(2025, 11, 20),
    )
    # then three instalments are due, and the unpaid parts of two are overdue
    assert r.due_to_date == 75_000_000
    assert r.received_to_date == 35_000_050
    assert r.outstanding == 39_999_950
    assert r.overdue == 39_999_950
    # July's 149,999.50 is 142 days late; October's 250,000.00 is 50 days late
    assert r.ageing == {"0-30": 0, "31-60": 25_000_000, "61-90": 0, "over_90": 14_999_950}
    assert r.days_overdue == 142
    assert [(i.paid, i.unpaid, i.days_overdue, i.bucket) for i in r.instalments] == [
        (25_000_000, 0, 0, None),
        (10_000_050, 14_999_950, 142, "over_90"),
        (0, 25_000_000, 50, "31-60"),
        (0, 25_000_000, 0, None),  # January's: not yet due
    ]


def test_every_bucket_of_a_partner_that_has_paid_nothing() -> None:
    r = receivable("icb-a", 50_000_000, MONTHLY, FY, [], through=date(2025, 11, 20))
    # April to November are due: 233, 203, 172, 142, 111, 80, 50 and 19 days late
    assert [i.days_overdue for i in r.instalments[:8]] == [233, 203, 172, 142, 111, 80, 50, 19]
    assert r.ageing == {
        "0-30": 4_166_667,
        "31-60": 4_166_667,
        "61-90": 4_166_667,
        "over_90": 20_833_335,
    }
    assert r.overdue == r.due_to_date == 33_333_336
    assert r.days_overdue == 233


def test_an_instalment_is_due_but_not_late_on_its_due_day() -> None:
    on_the_20th = ContributionSchedule(partner_id="icb-a", frequency="monthly", day_of_month=20)
    r = receivable("icb-a", 1_200, on_the_20th, FY, [], through=date(2025, 4, 20))
    assert (r.due_to_date, r.overdue, r.days_overdue) == (100, 0, 0)
    r = receivable("icb-a", 1_200, on_the_20th, FY, [], through=date(2025, 4, 21))
    assert (r.overdue, r.days_overdue, r.ageing["0-30"]) == (100, 1, 100)


def test_receipts_after_the_date_and_refunds_count_as_they_fall() -> None:
    receipts = [
        paid("2025-04-01", 10_000_000, 1),
        Receipt(2, "e2", "refund", date(2025, 5, 1), -2_000_000, False),
        paid("2025-12-01", 30_000_000, 3),  # after the date: not counted
    ]
    r = receivable("city", 40_000_000, QUARTERLY, FY, receipts, through=date(2025, 7, 2))
    assert r.received_to_date == 8_000_000
    assert [x.position for x in r.receipts] == [1, 2]
    # April's 100,000.00 is 80,000.00 paid: 20,000.00 late since April, July's whole
    assert r.ageing == {"0-30": 10_000_000, "31-60": 0, "61-90": 0, "over_90": 2_000_000}


def test_a_partner_that_paid_ahead_owes_nothing_and_is_in_credit() -> None:
    r = receivable(
        "ncc", 200_000_000, QUARTERLY, FY, [paid("2025-04-01", 200_000_000)], date(2025, 11, 20)
    )
    assert (r.due_to_date, r.overdue, r.outstanding) == (150_000_000, 0, -50_000_000)


def test_a_plan_without_schedules_is_stored_as_before_the_field_existed() -> None:
    from ledger.domain.events import PlanAgreed
    from ledger.domain.plan import Plan
    from ledger.store.serialization import decode_event, encode_payload

    plain = PlanAgreed(pool_id="eq", year="2025-26", plan=Plan())
    assert "contribution_schedules" not in encode_payload(plain)
    scheduled = PlanAgreed(
        pool_id="eq", year="2025-26", plan=Plan(contribution_schedules=(MONTHLY,))
    )
    stored = encode_payload(scheduled)
    assert '"contribution_schedules":[{"day_of_month":1' in stored
    assert decode_event("plan_agreed", PlanAgreed.schema_version, stored) == scheduled

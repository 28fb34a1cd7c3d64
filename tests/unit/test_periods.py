"""The financial calendar: 1 April to 31 March, quarters and months counted from April."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.domain.errors import ValidationFailed
from ledger.domain.periods import (
    FinancialYear,
    Month,
    Quarter,
    parse_month,
    parse_period,
    parse_quarter,
    parse_year,
    year_of,
)

FY25 = FinancialYear(2025)


@pytest.mark.parametrize(
    ("day", "year", "quarter", "month"),
    [
        (date(2025, 4, 1), "2025-26", "2025-26-Q1", "2025-26-M01"),
        (date(2025, 6, 30), "2025-26", "2025-26-Q1", "2025-26-M03"),
        (date(2025, 7, 1), "2025-26", "2025-26-Q2", "2025-26-M04"),
        (date(2025, 12, 31), "2025-26", "2025-26-Q3", "2025-26-M09"),
        (date(2026, 1, 1), "2025-26", "2025-26-Q4", "2025-26-M10"),
        (date(2026, 3, 31), "2025-26", "2025-26-Q4", "2025-26-M12"),
        (date(2026, 4, 1), "2026-27", "2026-27-Q1", "2026-27-M01"),
        (date(2025, 3, 31), "2024-25", "2024-25-Q4", "2024-25-M12"),
    ],
)
def test_a_date_falls_in_its_financial_year_quarter_and_month(
    day: date, year: str, quarter: str, month: str
) -> None:
    assert FinancialYear.of(day).label == year
    assert Quarter.of(day).label == quarter
    assert Month.of(day).label == month


def test_the_year_runs_from_1_april_to_31_march() -> None:
    assert (FY25.start, FY25.end) == (date(2025, 4, 1), date(2026, 3, 31))
    assert FY25.contains(date(2026, 3, 31))
    assert not FY25.contains(date(2026, 4, 1))


def test_quarters_and_months_have_the_right_bounds() -> None:
    q4 = Quarter(FY25, 4)
    assert (q4.start, q4.end) == (date(2026, 1, 1), date(2026, 3, 31))
    assert [m.label for m in q4.months] == ["2025-26-M10", "2025-26-M11", "2025-26-M12"]
    assert Month(FinancialYear(2027), 11).end == date(2028, 2, 29)  # a leap February


def test_quarters_step_across_the_year_end() -> None:
    assert Quarter(FY25, 4).next() == Quarter(FinancialYear(2026), 1)
    assert Quarter(FinancialYear(2026), 1).previous() == Quarter(FY25, 4)


def test_year_of_a_period_is_its_financial_year() -> None:
    assert year_of(Month(FY25, 7)) == FY25
    assert year_of(FY25) == FY25


@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2200, 12, 31)))
def test_labels_round_trip_for_any_date(day: date) -> None:
    # given the year, quarter and month a date falls in
    year, quarter, month = FinancialYear.of(day), Quarter.of(day), Month.of(day)
    # then each label parses back to the same period, which contains the date
    assert parse_year(year.label) == year
    assert parse_quarter(quarter.label) == quarter
    assert parse_month(month.label) == month
    assert parse_period(quarter.label) == quarter
    assert parse_period(month.label) == month
    assert parse_period(year.label) == year
    assert year.contains(day) and quarter.contains(day) and month.contains(day)
    assert month.quarter == quarter


@pytest.mark.parametrize(
    "label",
    [
        "2025-27",
        "2025/26",
        "25-26",
        "2025-26-Q0",
        "2025-26-Q5",
        "2025-26-M13",
        "2025-26-M00",
        "2025-26-M7",
        "2025-26-q1",
        " 2025-26",
        "1899-00",
        "",
        2025,
        None,
    ],
)
def test_a_bad_period_label_is_refused(label: object) -> None:
    with pytest.raises(ValidationFailed, match=r"is not a (period|financial year)"):
        parse_period(label)


def test_a_year_label_must_name_consecutive_years() -> None:
    with pytest.raises(ValidationFailed, match="not a financial year"):
        parse_year("2025-27")
    with pytest.raises(ValidationFailed, match="not a financial year"):
        parse_quarter("2025-27-Q1")
    with pytest.raises(ValidationFailed, match="not a month"):
        parse_month("2025-26-M13")
    assert parse_year("2099-00") == FinancialYear(2099)

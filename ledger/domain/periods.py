"""The financial calendar: years (``2025-26``), quarters (``2025-26-Q2``) and months
(``2025-26-M07``). Year 2025-26 runs 1 April 2025 to 31 March 2026."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cached_property, lru_cache

from ledger.domain.errors import ValidationFailed

_YEAR = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-(\d{2})-Q([1-4])$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})-M(0[1-9]|1[0-2])$")


@dataclass(frozen=True, order=True)
class FinancialYear:
    start_year: int  # 2025 for 2025-26

    @cached_property
    def label(self) -> str:
        return f"{self.start_year}-{(self.start_year + 1) % 100:02d}"

    @property
    def start(self) -> date:
        return date(self.start_year, 4, 1)

    @property
    def end(self) -> date:
        return date(self.start_year + 1, 3, 31)

    @property
    def quarters(self) -> tuple[Quarter, ...]:
        return tuple(Quarter(self, n) for n in (1, 2, 3, 4))

    @property
    def months(self) -> tuple[Month, ...]:
        return tuple(Month(self, n) for n in range(1, 13))

    def next(self) -> FinancialYear:
        return FinancialYear(self.start_year + 1)

    def previous(self) -> FinancialYear:
        return FinancialYear(self.start_year - 1)

    def contains(self, d: date) -> bool:
        return self.start <= d <= self.end

    def __str__(self) -> str:
        return self.label

    @staticmethod
    def of(d: date) -> FinancialYear:
        return _year_of(d.year if d.month >= 4 else d.year - 1)


@dataclass(frozen=True, order=True)
class Quarter:
    year: FinancialYear
    number: int  # 1..4

    @cached_property
    def label(self) -> str:
        return f"{self.year.label}-Q{self.number}"

    @property
    def start(self) -> date:
        return _month_start(self.year, (self.number - 1) * 3 + 1)

    @property
    def end(self) -> date:
        return _month_end(self.year, self.number * 3)

    @property
    def months(self) -> tuple[Month, ...]:
        return tuple(Month(self.year, (self.number - 1) * 3 + i) for i in (1, 2, 3))

    def next(self) -> Quarter:
        return (
            Quarter(self.year, self.number + 1) if self.number < 4 else Quarter(self.year.next(), 1)
        )

    def previous(self) -> Quarter:
        if self.number > 1:
            return Quarter(self.year, self.number - 1)
        return Quarter(self.year.previous(), 4)

    def contains(self, d: date) -> bool:
        return self.start <= d <= self.end

    def __str__(self) -> str:
        return self.label

    @staticmethod
    def of(d: date) -> Quarter:
        return _quarter_of(d.year, d.month)


# Every posting asks for its year and quarter several times: the values are immutable,
# so one instance per year and quarter is shared (and its label computed once).
@lru_cache(maxsize=256)
def _year_of(start_year: int) -> FinancialYear:
    return FinancialYear(start_year)


@lru_cache(maxsize=1024)
def _quarter_of(year: int, month: int) -> Quarter:
    fy = _year_of(year if month >= 4 else year - 1)
    return Quarter(fy, (month - 4) % 12 // 3 + 1)  # April is month 0 of the year


@dataclass(frozen=True, order=True)
class Month:
    year: FinancialYear
    number: int  # 1 (April) .. 12 (March)

    @property
    def label(self) -> str:
        return f"{self.year.label}-M{self.number:02d}"

    @property
    def start(self) -> date:
        return _month_start(self.year, self.number)

    @property
    def end(self) -> date:
        return _month_end(self.year, self.number)

    @property
    def quarter(self) -> Quarter:
        return Quarter(self.year, (self.number - 1) // 3 + 1)

    def contains(self, d: date) -> bool:
        return self.start <= d <= self.end

    def __str__(self) -> str:
        return self.label

    @staticmethod
    def of(d: date) -> Month:
        return Month(FinancialYear.of(d), (d.month - 4) % 12 + 1)


Period = FinancialYear | Quarter | Month


def _month_start(fy: FinancialYear, n: int) -> date:
    calendar_month = (n + 2) % 12 + 1  # 1 -> April (4)
    year = fy.start_year if calendar_month >= 4 else fy.start_year + 1
    return date(year, calendar_month, 1)


def _month_end(fy: FinancialYear, n: int) -> date:
    start = _month_start(fy, n)
    following = date(start.year + (start.month // 12), start.month % 12 + 1, 1)
    return following - timedelta(days=1)


def _check_year(first: str, second: str, text: str, field: str) -> FinancialYear:
    start = int(first)
    if (start + 1) % 100 != int(second) or not 1900 <= start <= 2998:
        raise ValidationFailed.field(field, f"'{text}' is not a financial year such as 2025-26")
    return FinancialYear(start)


def parse_year(text: object, field: str = "year") -> FinancialYear:
    if not isinstance(text, str) or not (m := _YEAR.match(text)):
        raise ValidationFailed.field(field, f"'{text}' is not a financial year such as 2025-26")
    return _check_year(m.group(1), m.group(2), text, field)


def parse_quarter(text: object, field: str = "quarter") -> Quarter:
    if not isinstance(text, str) or not (m := _QUARTER.match(text)):
        raise ValidationFailed.field(field, f"'{text}' is not a quarter such as 2025-26-Q2")
    return Quarter(_check_year(m.group(1), m.group(2), text, field), int(m.group(3)))


def parse_month(text: object, field: str = "month") -> Month:
    if not isinstance(text, str) or not (m := _MONTH.match(text)):
        raise ValidationFailed.field(field, f"'{text}' is not a month such as 2025-26-M07")
    return Month(_check_year(m.group(1), m.group(2), text, field), int(m.group(3)))


def parse_period(text: object, field: str = "period") -> Period:
    """A year, quarter or month label."""
    if isinstance(text, str):
        if _QUARTER.match(text):
            return parse_quarter(text, field)
        if _MONTH.match(text):
            return parse_month(text, field)
        if _YEAR.match(text):
            return parse_year(text, field)
    raise ValidationFailed.field(
        field, f"'{text}' is not a period such as 2025-26, 2025-26-Q2 or 2025-26-M07"
    )


def year_of(period: Period) -> FinancialYear:
    return period if isinstance(period, FinancialYear) else period.year

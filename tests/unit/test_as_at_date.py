"""The London date an as-at counts to (``projections.asat.as_at_london_date``), the one
home of what the balances' plan-to-date and the receivables' "owed by" read."""

from __future__ import annotations

from datetime import date

import pytest

from ledger.domain.errors import ValidationFailed
from projections.asat import as_at_london_date

TODAY = date(2026, 11, 23)


@pytest.mark.parametrize(
    ("as_at", "recorded_at", "expected"),
    [
        (None, None, TODAY),
        ("  ", None, TODAY),
        ("2025-09-30", None, date(2025, 9, 30)),
        # British Summer Time: London's 30 September ended at 23:00 UTC
        ("2025-09-30T22:30:00Z", None, date(2025, 9, 30)),
        ("2025-09-30T23:30:00Z", None, date(2025, 10, 1)),
        ("2025-10-01T00:30:00+02:00", None, date(2025, 9, 30)),  # 22:30 UTC
        # Greenwich Mean Time: London's date is UTC's
        ("2025-12-31T23:30:00Z", None, date(2025, 12, 31)),
        # a position: the London date it was recorded on, if known
        ("position:12", "2025-09-30T23:30:00.000000Z", date(2025, 10, 1)),
        ("position:12", None, None),
    ],
)
def test_the_london_date_an_as_at_counts_to(
    as_at: str | None, recorded_at: str | None, expected: date | None
) -> None:
    assert as_at_london_date(as_at, TODAY, recorded_at) == expected


@pytest.mark.parametrize("as_at", ["2025-02-30", "yesterday", "2025-09-30T12:00:00"])
def test_a_malformed_as_at_is_refused_naming_the_field(as_at: str) -> None:
    with pytest.raises(ValidationFailed) as e:
        as_at_london_date(as_at, TODAY)
    assert [f.field for f in e.value.errors] == ["as_at"]

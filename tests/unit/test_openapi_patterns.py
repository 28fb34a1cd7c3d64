"""The OpenAPI document's patterns say exactly what the server's parsers accept: a date
of a posting (1 April 1999 to 31 March 2099), an as-at and a recorded time (1900-2999),
a traced figure's form."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from api.schemas.fields import DAY_PATTERN, _day
from ledger.domain.errors import ValidationFailed
from projections.asat import AS_AT_PATTERN, WHEN_PATTERN, parse_as_at
from projections.trace import FIGURE_PATTERN


def _day_accepted(text: str) -> bool:
    try:
        _day(text)
    except Exception:
        return False
    return True


def test_the_day_pattern_matches_every_day_the_server_accepts_and_no_other() -> None:
    pattern = re.compile(DAY_PATTERN)
    d = date(1998, 1, 1)
    while d <= date(2100, 12, 31):
        assert bool(pattern.match(d.isoformat())) is (date(1999, 4, 1) <= d <= date(2099, 3, 31))
        d += timedelta(days=1)
    for text in ("2024-02-29", "2000-02-29", "2025-02-29", "2025-04-31", "2025-13-01", "1999-3-31"):
        assert bool(pattern.match(text)) is _day_accepted(text), text


@pytest.mark.parametrize(
    ("text", "matches"),
    [
        ("position:0", True),
        ("position:1200", True),
        ("1900-01-01", True),
        ("2999-12-31", True),
        ("1899-12-31", False),
        ("3000-01-01", False),
        ("2000-02-29", True),
        ("1900-02-29", False),  # 1900 is not a leap year
        ("2025-09-30T17:00:00Z", True),
        ("2025-09-30T17:00:00.123456+01:00", True),
        ("2025-09-30T17:00:00", False),  # no offset
        ("2025-09-30T24:00:00Z", False),
        ("1900-01-01T00:00:00+01:00", True),  # read as written: 1899 in UTC is fine
        ("9999-12-31T23:59:59-01:00", False),
    ],
)
def test_the_as_at_pattern_states_the_as_at_parser(text: str, matches: bool) -> None:
    assert bool(re.match(AS_AT_PATTERN, text)) is matches
    if matches:
        parse_as_at(text)  # every value the document allows is read
    else:
        with pytest.raises(ValidationFailed):
            parse_as_at(text)
    if not text.startswith("position:"):
        assert bool(re.match(WHEN_PATTERN, text)) is matches
    else:
        assert re.match(WHEN_PATTERN, text) is None


@pytest.mark.parametrize(
    ("figure", "matches"),
    [
        ("partner:ncc:received", True),
        ("pool:spend", True),
        ("scheme:equipment:actual", True),
        ("stream:contribution:planned", True),
        ("quarter:Q4:income", True),
        ("quarter:Q5:income", False),
        ("pool:received", False),
        ("partner:ncc:spend", False),
    ],
)
def test_the_figure_pattern_lists_every_figure_a_trace_names(figure: str, matches: bool) -> None:
    assert bool(re.match(FIGURE_PATTERN, figure)) is matches

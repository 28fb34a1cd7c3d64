"""Clocks, injected wherever time is needed (never read inside the domain)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")


class Clock(Protocol):
    def now(self) -> datetime:
        """The current UTC instant (timezone-aware)."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock for tests: fixed, or advanced by hand."""

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self._at = at.astimezone(UTC)

    def now(self) -> datetime:
        return self._at

    def advance(self, **delta: float) -> None:
        self._at += timedelta(**delta)


def london_today(clock: Clock) -> date:
    return clock.now().astimezone(LONDON).date()


def format_instant(at: datetime) -> str:
    """RFC 3339 UTC with microseconds and ``Z``: the form stored and hashed."""
    return at.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def parse_instant(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def end_of_london_day(d: date) -> datetime:
    """A plain date given as an as-at means the end of that day in Europe/London."""
    nxt = datetime(d.year, d.month, d.day, tzinfo=LONDON) + timedelta(days=1)
    return nxt.astimezone(UTC) - timedelta(microseconds=1)

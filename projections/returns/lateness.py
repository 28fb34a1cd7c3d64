"""Whether a return was (or is being) filed late: what the listing, the board and the
cover show beside each return."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from ledger.clock import parse_instant

LONDON = ZoneInfo("Europe/London")


def london_date(instant: str) -> date:
    """The Europe/London date of an RFC 3339 instant (what "filed on" means)."""
    return parse_instant(instant).astimezone(LONDON).date()


def is_late(filed_at: str | None, due: date, today: date | None) -> bool:
    """Filed after its due date; or, not filed yet, still unfiled after it."""
    if filed_at is not None:
        return london_date(filed_at) > due
    return today is not None and today > due

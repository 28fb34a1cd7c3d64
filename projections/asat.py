"""Resolving an as-at: an RFC 3339 instant, a date (the end of that day in
Europe/London), or ``position:N``; none means the ledger head."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from sqlalchemy import Connection, select

from ledger.clock import LONDON, end_of_london_day, format_instant, parse_instant
from ledger.domain.errors import RuleViolation, ValidationFailed
from ledger.store import tables as lt
from ledger.store.reads import position_at

_POSITION = re.compile(r"^position:([0-9]{1,18})$")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def head_position(conn: Connection) -> int:
    return int(
        conn.execute(select(lt.ledger_head.c.position).where(lt.ledger_head.c.id == 1)).scalar_one()
    )


EARLIEST, LATEST = date(1900, 1, 1), date(2999, 12, 31)
"""The calendar an as-at may name (a date, or an instant's day as written): wide enough
for any question a ledger of this century is asked, far from the limits of Python's
calendar (``9999-12-31T23:59:59-01:00`` and ``0001-01-01T00:00:00+01:00`` overflow it
when converted to UTC; an instant written within these years never does)."""

# The same rules as OpenAPI patterns (the document states what ``parse_as_at``
# accepts; the server also takes a few more spellings that Python reads, such as
# surrounding spaces). Every real day of 1900-2999; 29 February in its leap years.
_MD = (
    "((01|03|05|07|08|10|12)-(0[1-9]|[12][0-9]|3[01])"
    "|(04|06|09|11)-(0[1-9]|[12][0-9]|30)|02-(0[1-9]|1[0-9]|2[0-8]))"
)
_LEAP = "((19|2[0-9])(0[48]|[2468][048]|[13579][26])|2000|2400|2800)"
_DAY = f"((19[0-9][0-9]|2[0-9][0-9][0-9])-{_MD}|{_LEAP}-02-29)"
_INSTANT = (
    f"{_DAY}T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{{1,6}})?"
    "(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])"
)
WHEN_PATTERN = f"^({_DAY}|{_INSTANT})$"
"""A date or an RFC 3339 instant with its offset (``recorded_from``, ``recorded_to``)."""
AS_AT_PATTERN = f"^(position:[0-9]{{1,18}}|{_DAY}|{_INSTANT})$"
"""``WHEN_PATTERN`` or ``position:N`` (``as_at``)."""


def _in_range(d: date, field: str, text: str) -> None:
    if not EARLIEST <= d <= LATEST:
        raise ValidationFailed.field(
            field, f"'{text[:40]}' is outside the dates an as-at may name ({EARLIEST} to {LATEST})"
        )


def parse_as_at(text: str, field: str = "as_at") -> int | str:
    """An as-at as given (``position:N``, a date, an RFC 3339 instant with a time zone):
    the position it names, or the stored form (UTC, ``format_instant``) of the instant
    it means. Every instant or date a client sends is read here, so every parameter
    that takes one (``as_at``, ``through``, ...) is checked against the same calendar."""
    text = text.strip()
    m = _POSITION.match(text)
    if m:
        return int(m.group(1))
    if _DATE.match(text):
        try:
            d = date.fromisoformat(text)
        except ValueError as e:
            raise ValidationFailed.field(field, f"'{text}' is not a real date") from e
        _in_range(d, field, text)
        return format_instant(end_of_london_day(d))
    try:
        instant = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as e:
        raise ValidationFailed.field(
            field, "must be an RFC 3339 instant, a date (YYYY-MM-DD) or position:N"
        ) from e
    if instant.tzinfo is None:
        raise ValidationFailed.field(field, "an instant needs a time zone (Z or +01:00)")
    _in_range(instant.date(), field, text)  # as written: converting then cannot overflow
    return format_instant(instant.astimezone(UTC))


def as_at_london_date(
    as_at: str | None, today: date, recorded_at: str | None = None
) -> date | None:
    """The London date an as-at counts to (the plan to date, what is owed by then):
    ``today`` for none; the date given; an instant's London date; for a position, the
    London date it was recorded on (``recorded_at``, the event's), None when not given.
    The as-at is read by ``parse_as_at`` (a malformed one is a 422 naming ``as_at``)."""
    text = (as_at or "").strip()
    if not text:
        return today
    parsed = parse_as_at(text)
    if isinstance(parsed, int):
        return parse_instant(recorded_at).astimezone(LONDON).date() if recorded_at else None
    if _DATE.match(text):
        return date.fromisoformat(text)
    return parse_instant(parsed).astimezone(LONDON).date()


def resolve(conn: Connection, as_at: str | int | None, field: str = "as_at") -> int:
    """The position an as-at names, never beyond the head."""
    head = head_position(conn)
    if as_at is None or as_at == "":
        return head
    parsed = as_at if isinstance(as_at, int) else parse_as_at(as_at, field)
    if isinstance(parsed, str):
        return position_at(conn, parsed)
    pos = parsed
    if pos > head:  # of the right form, but the ledger has not reached it: a rule
        raise RuleViolation.field(field, f"position {pos} is beyond the ledger head ({head})")
    if pos < 0:
        raise ValidationFailed.field(field, "a position is not negative")
    return pos

"""Resolving an as-at: an RFC 3339 instant, a date (the end of that day in
Europe/London), or ``position:N``; none means the ledger head."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from sqlalchemy import Connection, select

from ledger.clock import end_of_london_day, format_instant
from ledger.domain.errors import ValidationFailed
from ledger.store import eventstore as es
from ledger.store import tables as lt

_POSITION = re.compile(r"^position:([0-9]{1,18})$")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def head_position(conn: Connection) -> int:
    return int(
        conn.execute(select(lt.ledger_head.c.position).where(lt.ledger_head.c.id == 1)).scalar_one()
    )


def resolve(conn: Connection, as_at: str | int | None, field: str = "as_at") -> int:
    """The position an as-at names, never beyond the head."""
    head = head_position(conn)
    if as_at is None or as_at == "":
        return head
    if isinstance(as_at, int):
        pos = as_at
    else:
        text = as_at.strip()
        m = _POSITION.match(text)
        if m:
            pos = int(m.group(1))
        elif _DATE.match(text):
            try:
                d = date.fromisoformat(text)
            except ValueError as e:
                raise ValidationFailed.field(field, f"'{text}' is not a real date") from e
            return es.position_at(conn, format_instant(end_of_london_day(d)))
        else:
            try:
                instant = datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError as e:
                raise ValidationFailed.field(
                    field, "must be an RFC 3339 instant, a date (YYYY-MM-DD) or position:N"
                ) from e
            if instant.tzinfo is None:
                raise ValidationFailed.field(field, "an instant needs a time zone (Z or +01:00)")
            return es.position_at(conn, format_instant(instant.astimezone(UTC)))
    if pos > head:
        raise ValidationFailed.field(field, f"position {pos} is beyond the ledger head ({head})")
    if pos < 0:
        raise ValidationFailed.field(field, "a position is not negative")
    return pos

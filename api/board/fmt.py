"""Formatting for people: pounds with thousands separators, a true minus sign for
negatives, dates written out, shares as percentages. Money arrives as integer pence
and is never a float."""

from __future__ import annotations

from datetime import date, datetime
from fractions import Fraction

from ledger.clock import LONDON, parse_instant

MINUS = "\u2212"  # a real minus sign: screen readers say "minus", not "hyphen"


def pounds(pence: int, *, symbol: bool = True, signed: bool = False) -> str:
    """``123456789`` -> ``£1,234,567.89``; ``-5`` -> ``−£0.05``.

    ``signed`` adds a plus sign to positive amounts (for variances and transfers)."""
    sign = MINUS if pence < 0 else ("+" if signed and pence > 0 else "")
    whole, pennies = divmod(abs(pence), 100)
    return f"{sign}{'£' if symbol else ''}{whole:,}.{pennies:02d}"


def pounds_short(pence: int) -> str:
    """Axis labels: ``£1.2m``, ``£350k``, ``£900`` (rounded, for charts only)."""
    sign = MINUS if pence < 0 else ""
    p = abs(pence)
    if p >= 99_950_000:  # £1m and over (after rounding): one decimal of millions
        tenths = (p + 5_000_000) // 10_000_000
        text = f"{tenths // 10}" + (f".{tenths % 10}" if tenths % 10 else "") + "m"
    elif p >= 100_000:  # £1,000 and over: whole thousands
        text = f"{(p + 50_000) // 100_000:,}k"
    else:
        text = f"{p // 100:,}"
    return f"{sign}£{text}"


def percent(share: Fraction, places: int = 2) -> str:
    """A fraction as a percentage, rounded half-even: ``Fraction(4, 7)`` -> ``57.14%``."""
    scaled = round(Fraction(share) * 100 * 10**places)
    sign = MINUS if scaled < 0 else ""
    whole, frac = divmod(abs(scaled), 10**places)
    return f"{sign}{whole}" + (f".{frac:0{places}d}" if places else "") + "%"


def long_date(d: date | None) -> str:
    """``30 September 2025`` (GOV.UK style)."""
    if d is None:
        return ""
    return f"{d.day} {d.strftime('%B %Y')}"


def instant(text: str | None) -> str:
    """A stored UTC instant shown in London time: ``30 September 2025, 16:05:09``."""
    if not text:
        return ""
    at = parse_instant(text).astimezone(LONDON)
    return f"{long_date(at.date())}, {at.strftime('%H:%M:%S')}"


def london_time(at: datetime) -> str:
    local = at.astimezone(LONDON)
    return f"{long_date(local.date())}, {local.strftime('%H:%M')}"


def short_hash(h: str | None, n: int = 12) -> str:
    return (h or "")[:n]


def basis_label(basis: str) -> str:
    return {
        "actual": "Actual (year closed)",
        "forecast": "Forecast",
        "actual_to_date": "Spend to date (no forecast yet)",
    }.get(basis, basis)


def direction_label(direction: str) -> str:
    return {"overspend": "Overspend", "underspend": "Underspend", "none": "None allocated"}.get(
        direction, direction
    )


def kind_label(kind: str) -> str:
    return {
        "section_75": "Section 75",
        "bcf": "Better Care Fund",
        "alliance": "Alliance",
    }.get(kind, kind.replace("_", " ").capitalize())


def event_type_label(type_: str) -> str:
    return type_.replace("_", " ").capitalize()

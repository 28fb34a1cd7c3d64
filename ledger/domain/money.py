"""Money: integer pence inside, decimal strings of pounds at the edges.

Every split of an amount goes through :func:`allocate` (largest remainder, exact
rationals, rounded once), so parts always sum to the whole.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from fractions import Fraction
from typing import TypeVar

from ledger.domain.errors import ValidationFailed

MAX_POSTING_PENCE = 10_000_000_000 * 100  # £10,000,000,000.00
_AMOUNT = re.compile(r"^(-?)(0|[1-9][0-9]*)(?:\.([0-9]{1,2}))?$")

K = TypeVar("K")


def parse_amount(
    value: object,
    field: str = "amount",
    *,
    allow_negative: bool = False,
    allow_zero: bool = False,
    limit: int | None = MAX_POSTING_PENCE,
) -> int:
    """Parse a decimal string of pounds (``"5360123.00"``, ``"17"``) into pence.

    Refuses floats and other non-strings, exponents, NaN and infinities, thousands
    separators, currency symbols or codes, white space, more than two decimals,
    negatives and zero (unless allowed), and amounts over ``limit`` pence.
    """
    if isinstance(value, bool) or not isinstance(value, str):
        kind = "a number" if isinstance(value, int | float) else type(value).__name__
        raise ValidationFailed.field(
            field, f'must be a decimal string of pounds such as "1234.50", not {kind}'
        )
    text = value
    m = _AMOUNT.match(text)
    if m is None:
        raise ValidationFailed.field(field, _why_not_amount(text))
    sign, whole, frac = m.groups()
    pence = int(whole) * 100 + int((frac or "").ljust(2, "0"))
    if sign:
        pence = -pence
    if pence < 0 and not allow_negative:
        raise ValidationFailed.field(
            field, "must be positive; the kind of posting gives the direction"
        )
    if pence == 0 and not allow_zero:
        raise ValidationFailed.field(
            field, "must not be zero" if allow_negative else "must be more than zero"
        )
    if limit is not None and abs(pence) > limit:
        raise ValidationFailed.field(
            field, f"is over the limit of £{format_pence(limit)} for one posting"
        )
    return pence


def _why_not_amount(text: str) -> str:
    lowered = text.strip().lower()
    if text != text.strip() or not text:
        return 'must be a decimal string of pounds with no spaces, such as "1234.50"'
    if lowered in {"nan", "inf", "-inf", "infinity", "-infinity", "+inf"}:
        return "must be a finite amount of pounds"
    if re.match(r"^[+-]?[0-9.]+e[+-]?[0-9]+$", lowered):
        return 'must not use an exponent; write the amount out, such as "1500000.00"'
    if "," in text or "_" in text:
        return "must not contain thousands separators"
    if any(c in text for c in "£$€") or any(c.isalpha() for c in text):
        return "must be plain pounds in GBP with no currency symbol or code"
    if re.match(r"^-?[0-9]+\.[0-9]{3,}$", text):
        return "must have at most two decimals (pence)"
    if text.startswith("+"):
        return "must not carry a plus sign"
    if re.match(r"^-?0[0-9]", text):
        return "must not have leading zeros"
    return 'must be a decimal string of pounds such as "1234.50"'


def format_pence(pence: int) -> str:
    """Format pence as a decimal string of pounds: ``-12345`` -> ``"-123.45"``."""
    sign = "-" if pence < 0 else ""
    whole, frac = divmod(abs(pence), 100)
    return f"{sign}{whole}.{frac:02d}"


def parse_decimal(
    value: object, field: str, *, places: int | None = None, allow_negative: bool = False
) -> Decimal:
    """Parse a percentage, weight, count or metric given as a decimal string."""
    if isinstance(value, bool) or not isinstance(value, str):
        raise ValidationFailed.field(field, 'must be a decimal string such as "33.3333"')
    if not re.match(r"^-?[0-9]+(\.[0-9]+)?$", value):
        raise ValidationFailed.field(field, 'must be a decimal string such as "33.3333"')
    d = Decimal(value)
    if d < 0 and not allow_negative:
        raise ValidationFailed.field(field, "must not be negative")
    if places is not None and -d.as_tuple().exponent > places:  # type: ignore[operator]
        raise ValidationFailed.field(field, f"must have at most {places} decimals")
    return d


def format_fraction(value: Fraction, places: int = 10) -> str:
    """A share as a decimal string with ``places`` decimals, rounded half-even."""
    scaled = Fraction(value) * (10**places)
    floor = scaled.numerator // scaled.denominator
    rem = scaled - floor
    if rem > Fraction(1, 2) or (rem == Fraction(1, 2) and floor % 2 == 1):
        floor += 1
    sign = "-" if floor < 0 else ""
    whole, frac = divmod(abs(floor), 10**places)
    return f"{sign}{whole}.{frac:0{places}d}" if places else f"{sign}{whole}"


def round_parts(
    parts: Mapping[K, Fraction], order: Sequence[K] | None = None, *, total: int | None = None
) -> dict[K, int]:
    """Round exact parts (of either sign) to whole pence that sum to their whole.

    Each part gets its floor; the leftover pennies go one each to the largest
    fractional remainders, ties to the key that comes first in ``order`` (default:
    sorted keys). The whole is the exact sum of the parts, which must be a whole
    number of pence, unless ``total`` names it (it must then lie between the sum of
    the floors and that sum plus the number of parts). Each part ends less than a
    penny from its exact value when the whole is the exact sum.
    """
    keys = list(order) if order is not None else sorted(parts)  # type: ignore[type-var]
    exact = {k: Fraction(parts[k]) for k in keys}
    floors = {k: exact[k].numerator // exact[k].denominator for k in keys}
    if total is None:
        whole = sum(exact.values(), Fraction(0))
        if whole.denominator != 1:
            raise ValueError(f"the parts sum to {whole}, not a whole number of pence")
        total = whole.numerator
    leftover = total - sum(floors.values())
    if not 0 <= leftover <= len(keys):
        raise ValueError(f"{total} pence cannot be reached by rounding these parts")
    rank = sorted(range(len(keys)), key=lambda i: (-(exact[keys[i]] - floors[keys[i]]), i))
    for i in rank[:leftover]:
        floors[keys[i]] += 1
    return floors


def allocate(
    total: int, weights: Mapping[K, Fraction | int | Decimal], order: Sequence[K] | None = None
) -> dict[K, int]:
    """Split ``total`` pence in proportion to ``weights`` by largest remainder.

    Exact in rationals, rounded once: each part gets the floor of its exact share,
    then the leftover pennies go one each to the largest fractional remainders,
    ties to the key that comes first in ``order`` (default: sorted keys). A
    negative total is allocated as its absolute value and the sign put back. A
    zero weight gets nothing. Raises ``ValueError`` if every weight is zero (the
    caller decides who then bears it: for the pool, the host).
    """
    keys = list(order) if order is not None else sorted(weights)  # type: ignore[type-var]
    ws = {k: Fraction(weights[k]) for k in keys}
    if any(w < 0 for w in ws.values()):
        raise ValueError("weights must not be negative")
    whole = sum(ws.values(), Fraction(0))
    if whole == 0:
        raise ValueError("every weight is zero")
    sign = -1 if total < 0 else 1
    amount = abs(total)
    parts = round_parts({k: amount * ws[k] / whole for k in keys}, keys, total=amount)
    return {k: sign * parts[k] for k in keys}


def round_half_up_pence(value: Fraction) -> int:
    """Round a non-negative exact amount of pence half-up to a whole penny."""
    if value < 0:
        return -round_half_up_pence(-value)
    floor = value.numerator // value.denominator
    return floor + 1 if value - floor >= Fraction(1, 2) else floor

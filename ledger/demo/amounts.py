"""Amount helpers the demo's data and loader share: pounds to pence, scaling by a
factor, sharing a total among lines, and splitting a year into months or instalments."""

from __future__ import annotations

import random
from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction

from ledger.domain.money import allocate, round_half_up_pence


def _p(pounds: int | str) -> int:
    """Pounds (an int, or a string with pence) to pence."""
    if isinstance(pounds, int):
        return pounds * 100
    whole, _, frac = pounds.partition(".")
    return int(whole) * 100 + int((frac or "0").ljust(2, "0"))


def _scaled(pence: int, factor: Fraction) -> int:
    """``pence x factor`` rounded half-up to the penny."""
    return round_half_up_pence(Fraction(pence) * factor)


def _scaled_pounds(pence: int, factor: Fraction) -> int:
    """``pence x factor`` rounded half-up to whole pounds (agreed budgets are in pounds)."""
    return round_half_up_pence(Fraction(pence) * factor / 100) * 100


def _f(text: str) -> Fraction:
    return Fraction(Decimal(text))


def _rescale(planned: Mapping[str, int], total: int) -> dict[str, int]:
    """Share a new whole-pound ``total`` among lines in proportion to ``planned``."""
    pounds = allocate(total // 100, {k: Fraction(v) for k, v in planned.items()}, list(planned))
    return {k: v * 100 for k, v in pounds.items()}


def _monthly(total: int, rng: random.Random, spread: int) -> list[int]:
    """Split a year's amount into twelve months that vary by up to ``spread`` per mille."""
    weights = {m: Fraction(1000 + rng.randint(-spread, spread)) for m in range(1, 13)}
    parts = allocate(total, weights, list(weights))
    return [parts[m] for m in range(1, 13)]


def _even(total: int, n: int) -> list[int]:
    parts = allocate(total, dict.fromkeys(range(n), Fraction(1)), list(range(n)))
    return [parts[i] for i in range(n)]


def _monthly_share(annual: int, month_number: int) -> int:
    """An annual amount paid in twelve instalments; the pennies go to the first months."""
    return _even(annual, 12)[month_number - 1]

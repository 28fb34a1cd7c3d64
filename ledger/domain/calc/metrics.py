"""Metric status (spec 6.6): green when the target is met, amber when missed by at
most 5% of the target (inclusive), red otherwise; a zero target has no amber band."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Literal

Status = Literal["green", "amber", "red"]
AMBER_BAND = Fraction(5, 100)


def metric_status(target: Decimal, actual: Decimal, lower_is_better: bool) -> Status:
    """RAG status of ``actual`` against ``target``, compared exactly (no context rounding)."""
    t, a = Fraction(target), Fraction(actual)
    met = a <= t if lower_is_better else a >= t
    if met:
        return "green"
    if t != 0 and abs(a - t) <= abs(t) * AMBER_BAND:
        return "amber"
    return "red"

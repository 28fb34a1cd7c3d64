"""Metric status (spec 6.6): green when met, amber within 5% of target (inclusive)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ledger.domain.calc.metrics import metric_status


@pytest.mark.parametrize(
    ("actual", "status"),
    [("90", "green"), ("100", "green"), ("105", "amber"), ("105.0001", "red"), ("100.01", "amber")],
)
def test_lower_is_better_is_amber_up_to_five_percent_over_target(actual: str, status: str) -> None:
    assert metric_status(Decimal(100), Decimal(actual), lower_is_better=True) == status


@pytest.mark.parametrize(
    ("actual", "status"),
    [("110", "green"), ("100", "green"), ("95", "amber"), ("94.9999", "red"), ("99.99", "amber")],
)
def test_higher_is_better_is_amber_up_to_five_percent_under_target(
    actual: str, status: str
) -> None:
    assert metric_status(Decimal(100), Decimal(actual), lower_is_better=False) == status


def test_the_amber_band_is_exact_for_awkward_decimals() -> None:
    # 5% of 833.33 is 41.6665, so 874.9965 is amber and 874.9966 is red
    assert metric_status(Decimal("833.33"), Decimal("874.9965"), True) == "amber"
    assert metric_status(Decimal("833.33"), Decimal("874.9966"), True) == "red"


@pytest.mark.parametrize(
    ("actual", "lower_is_better", "status"),
    [
        ("0", True, "green"),
        ("0.0001", True, "red"),
        ("0", False, "green"),
        ("0.0001", False, "green"),
        ("-0.0001", False, "red"),
    ],
)
def test_a_zero_target_is_only_ever_green_or_red(
    actual: str, lower_is_better: bool, status: str
) -> None:
    assert metric_status(Decimal(0), Decimal(actual), lower_is_better) == status

"""Outcome-based payments (spec 6.5): worked example E, and never more than V."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.domain.calc.outcomes import outcome_payment


def test_example_e_the_base_and_each_met_outcome_are_paid() -> None:
    # given 10,000 hours at £17.00, base 95%, two outcomes of which one is met
    payment = outcome_payment(Decimal(10_000), 1_700, Decimal(95), ["a", "b"], {"a"})
    # then £161,500.00 + £4,250.00 = £165,750.00
    assert payment.commissioned_value == 17_000_000
    assert payment.base == 16_150_000
    assert payment.parts == {"a": 425_000, "b": 425_000}
    assert payment.released == 425_000
    assert payment.total == 16_575_000


def test_the_value_is_rounded_half_up_once() -> None:
    # half an hour at 1p is half a penny: rounded up to 1p, all of it base (ties base first)
    payment = outcome_payment(Decimal("0.50"), 1, Decimal(95), ["a"], set())
    assert (payment.commissioned_value, payment.base, payment.parts) == (1, 1, {"a": 0})


def test_the_withheld_part_is_split_equally_among_outcomes_by_largest_remainder() -> None:
    # V = 100p: base 95p; 5p among three outcomes is 2, 2, 1 (ties to the earlier outcome)
    payment = outcome_payment(Decimal(1), 100, Decimal(95), ["x", "y", "z"], {"x", "y", "z"})
    assert payment.parts == {"x": 2, "y": 2, "z": 1}
    assert payment.total == payment.commissioned_value == 100


def test_an_outcome_not_agreed_is_refused() -> None:
    with pytest.raises(ValueError, match="not agreed outcomes"):
        outcome_payment(Decimal(1), 100, Decimal(95), ["a"], {"b"})


@given(
    hours=st.decimals(min_value=0, max_value=10**6, places=2),
    rate=st.integers(0, 10**6),
    base_pct=st.decimals(min_value=0, max_value=100, places=2),
    outcomes=st.lists(
        st.text("abcdef", min_size=1, max_size=3), min_size=1, max_size=6, unique=True
    ),
    data=st.data(),
)
def test_payment_never_exceeds_the_commissioned_value(
    hours: Decimal, rate: int, base_pct: Decimal, outcomes: list[str], data: st.DataObject
) -> None:
    met = data.draw(st.sets(st.sampled_from(outcomes)))
    payment = outcome_payment(hours, rate, base_pct, outcomes, met)
    assert payment.base + sum(payment.parts.values()) == payment.commissioned_value
    assert payment.total <= payment.commissioned_value
    if met == set(outcomes):
        assert payment.total == payment.commissioned_value

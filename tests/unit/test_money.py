"""Money (spec section 3): parsing and formatting at the edges, allocation inside."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.domain.errors import ValidationFailed
from ledger.domain.money import (
    MAX_POSTING_PENCE,
    allocate,
    format_fraction,
    format_pence,
    parse_amount,
    round_half_up_pence,
    round_parts,
)

# --- parsing -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "pence"),
    [
        ("5360123.00", 536012300),
        ("17", 1700),
        ("0.01", 1),
        ("1.5", 150),
        ("10000000000.00", MAX_POSTING_PENCE),
    ],
)
def test_a_decimal_string_of_pounds_parses_to_integer_pence(text: str, pence: int) -> None:
    assert parse_amount(text) == pence


@pytest.mark.parametrize("value", [1.5, 17, 0, True, False, Decimal("1.00"), None, b"1.00"])
def test_anything_but_a_string_is_refused(value: object) -> None:
    with pytest.raises(ValidationFailed, match="decimal string of pounds"):
        parse_amount(value)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("1e5", "exponent"),
        ("1.5E3", "exponent"),
        ("1e-2", "exponent"),
        ("NaN", "finite"),
        ("nan", "finite"),
        ("Infinity", "finite"),
        ("-inf", "finite"),
        ("1,000.00", "thousands separators"),
        ("1_000.00", "thousands separators"),
        ("£100.00", "currency"),
        ("$100", "currency"),
        ("€100", "currency"),
        ("GBP100.00", "currency"),
        ("EUR10", "currency"),
        ("100.00 USD", "spaces|currency"),
        ("1.234", "two decimals"),
        ("0.001", "two decimals"),
        (" 100.00", "spaces"),
        ("100.00 ", "spaces"),
        ("1 000.00", "decimal string"),
        ("", "spaces"),
        ("+100.00", "plus sign"),
        ("007.00", "leading zeros"),
        (".50", "decimal string"),
        ("5.", "decimal string"),
    ],
)
def test_a_malformed_amount_is_refused_saying_why(text: str, why: str) -> None:
    with pytest.raises(ValidationFailed, match=why) as refused:
        parse_amount(text, "amount")
    assert refused.value.errors[0].field == "amount"


def test_a_negative_amount_is_refused_because_the_kind_of_posting_gives_the_direction() -> None:
    with pytest.raises(ValidationFailed, match="must be positive"):
        parse_amount("-5.00")


def test_a_negative_amount_is_accepted_where_the_caller_allows_it() -> None:
    assert parse_amount("-123.45", allow_negative=True) == -12345


@pytest.mark.parametrize("text", ["0", "0.00", "0.0"])
def test_a_zero_amount_is_refused(text: str) -> None:
    with pytest.raises(ValidationFailed, match="more than zero"):
        parse_amount(text)


def test_an_amount_over_ten_billion_pounds_is_refused() -> None:
    with pytest.raises(ValidationFailed, match="over the limit"):
        parse_amount("10000000000.01")


# --- formatting ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("pence", "text"),
    [
        (0, "0.00"),
        (5, "0.05"),
        (12345, "123.45"),
        (-12345, "-123.45"),
        (-5, "-0.05"),
        (-100, "-1.00"),
        (MAX_POSTING_PENCE, "10000000000.00"),
    ],
)
def test_pence_format_as_two_decimal_pounds_with_a_leading_minus(pence: int, text: str) -> None:
    assert format_pence(pence) == text


@given(st.integers(min_value=-MAX_POSTING_PENCE, max_value=MAX_POSTING_PENCE))
def test_formatting_then_parsing_gives_back_the_same_pence(pence: int) -> None:
    assert parse_amount(format_pence(pence), allow_negative=True, allow_zero=True) == pence


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Fraction(1, 3), "0.3333333333"),
        (Fraction(2, 3), "0.6666666667"),
        (Fraction(5, 10**11), "0.0000000000"),  # half to even: 0
        (Fraction(15, 10**11), "0.0000000002"),  # half to even: 2
        (Fraction(25, 10**11), "0.0000000002"),  # half to even: 2
        (Fraction(-15, 10**11), "-0.0000000002"),
        (Fraction(-1, 3), "-0.3333333333"),
        (Fraction(1), "1.0000000000"),
    ],
)
def test_a_share_formats_with_ten_decimals_rounded_half_even(value: Fraction, text: str) -> None:
    assert format_fraction(value) == text


def test_round_half_up_rounds_a_half_penny_up() -> None:
    assert round_half_up_pence(Fraction(5, 2)) == 3
    assert round_half_up_pence(Fraction(7, 3)) == 2
    assert round_half_up_pence(Fraction(-5, 2)) == -3


# --- allocation ----------------------------------------------------------------


def test_allocate_gives_leftover_pennies_to_the_largest_remainders() -> None:
    # given planned 4:2:1 (worked example A), when £100,000.00 is split
    parts = allocate(10_000_000, {"ncc": 4, "city": 2, "icb-a": 1})
    # then the two leftover pennies go to city (.857) and ncc (.714)
    assert parts == {"city": 2857143, "icb-a": 1428571, "ncc": 5714286}


def test_allocate_breaks_ties_to_the_earlier_key() -> None:
    assert allocate(1, {"b": 1, "a": 1}) == {"a": 1, "b": 0}
    assert allocate(1, {"b": 1, "a": 1}, order=["b", "a"]) == {"b": 1, "a": 0}


def test_allocate_puts_the_sign_back_on_a_negative_whole() -> None:
    assert allocate(-1, {"a": 1, "b": 1}) == {"a": -1, "b": 0}


def test_allocate_refuses_when_every_weight_is_zero() -> None:
    with pytest.raises(ValueError, match="every weight is zero"):
        allocate(100, {"a": 0, "b": 0})


def test_a_zero_weight_gets_nothing() -> None:
    assert allocate(101, {"a": 0, "b": 1, "c": 1}) == {"a": 0, "b": 51, "c": 50}


def test_round_parts_rounds_mixed_signs_to_their_integer_sum() -> None:
    parts = {"a": Fraction(-7, 2), "b": Fraction(5, 3), "c": Fraction(17, 6)}  # sum 1
    # floors -4, 1, 2 leave two pennies: to c (remainder 5/6) and b (2/3), not a (1/2)
    rounded = round_parts(parts)
    assert rounded == {"a": -4, "b": 2, "c": 3}


def test_round_parts_refuses_parts_that_do_not_sum_to_whole_pence() -> None:
    with pytest.raises(ValueError, match="whole number"):
        round_parts({"a": Fraction(1, 2)})


def test_round_parts_can_be_told_the_whole_to_reach() -> None:
    assert round_parts({"a": Fraction(1, 2), "b": Fraction(1, 4)}, total=1) == {"a": 1, "b": 0}
    with pytest.raises(ValueError, match="cannot be reached"):
        round_parts({"a": Fraction(1, 2)}, total=3)


totals = st.integers(min_value=-MAX_POSTING_PENCE, max_value=MAX_POSTING_PENCE)
weight_maps = st.dictionaries(
    st.text(alphabet="abcdefgh", min_size=1, max_size=3),
    st.one_of(
        st.integers(min_value=0, max_value=10**9),
        st.fractions(min_value=0, max_value=1000, max_denominator=10**6),
    ),
    min_size=1,
    max_size=8,
).filter(lambda ws: any(w > 0 for w in ws.values()))


@given(totals, weight_maps)
def test_allocate_parts_sum_to_the_whole_each_within_a_penny(
    total: int, weights: dict[str, Fraction]
) -> None:
    parts = allocate(total, weights)
    assert sum(parts.values()) == total
    whole = sum((Fraction(w) for w in weights.values()), Fraction(0))
    for key, part in parts.items():
        assert abs(part - Fraction(total) * Fraction(weights[key]) / whole) < 1


@given(
    st.lists(
        st.fractions(min_value=-(10**12), max_value=10**12, max_denominator=10**4),
        min_size=1,
        max_size=10,
    ),
    st.integers(min_value=-(10**12), max_value=10**12),
)
def test_round_parts_sum_to_the_whole_each_within_a_penny(
    fractions: list[Fraction], total: int
) -> None:
    # given exact parts of either sign, adjusted so that they sum to whole pence
    parts = dict(enumerate(fractions))
    parts[0] += total - sum(fractions, Fraction(0))
    # when rounded once
    rounded = round_parts(parts)
    # then the parts sum to the whole and none is a penny or more from its exact value
    assert sum(rounded.values()) == total
    assert all(abs(rounded[k] - parts[k]) < 1 for k in parts)

"""Capitated allocations (spec 6.4): worked example D to the penny."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from ledger.domain.calc.capitation import capitated_allocations

WEIGHTS = {"0-64": Decimal("1.0"), "65-84": Decimal("2.5"), "85+": Decimal("6.0")}
POPULATION = {
    "north": {"0-64": 80_000, "65-84": 15_000, "85+": 2_000},
    "south": {"0-64": 60_000, "65-84": 12_000, "85+": 2_500},
    "east": {"0-64": 40_000, "65-84": 6_000, "85+": 1_000},
}
BUDGET = 1_200_000_000  # £12,000,000.00


def test_example_d_the_budget_is_shared_by_weighted_population() -> None:
    result = capitated_allocations(BUDGET, WEIGHTS, dict.fromkeys((1, 2, 3, 4), POPULATION))
    annual = {u.unit_id: u.annual for u in result.units}
    assert annual == {"east": 247_715_736, "north": 525_888_325, "south": 426_395_939}
    assert result.allocated_total == BUDGET and result.unallocated == {}
    north = next(u for u in result.units if u.unit_id == "north")
    # then north's odd penny goes to the earliest quarter
    assert north.quarters == {1: 131_472_082, 2: 131_472_081, 3: 131_472_081, 4: 131_472_081}
    assert north.weighted_population[1] == Fraction(129_500)


def test_a_quarter_with_no_population_is_not_allocated_and_says_why() -> None:
    # given populations for Q1, Q2 and Q4 only, and a Q3 in which everyone weighs nothing
    populations = {1: POPULATION, 2: POPULATION, 3: {"north": {"0-64": 0}}, 4: POPULATION}
    result = capitated_allocations(BUDGET, WEIGHTS, populations)
    # then Q3 keeps its quarter of the budget and the other three are shared as usual
    assert set(result.unallocated) == {3}
    assert "weighted population" in result.unallocated[3]
    assert result.allocated_total == BUDGET * 3 // 4
    assert sum(u.annual for u in result.units) == result.allocated_total
    assert all(u.quarters[3] == 0 for u in result.units)


def test_a_quarter_without_populations_recorded_says_so() -> None:
    result = capitated_allocations(BUDGET, WEIGHTS, {1: POPULATION})
    assert set(result.unallocated) == {2, 3, 4}
    assert "no population recorded" in result.unallocated[2]
    assert result.allocated_total == BUDGET // 4


def test_a_fraction_of_a_penny_left_by_an_unallocated_quarter_is_rounded_down() -> None:
    result = capitated_allocations(10, WEIGHTS, {1: POPULATION, 2: POPULATION, 3: POPULATION})
    assert result.allocated_total == 7  # three quarters of 10p is 7.5p


counts = st.integers(0, 10**6)
units = st.dictionaries(
    st.sampled_from(["east", "north", "south", "west"]),
    st.fixed_dictionaries({"0-64": counts, "65-84": counts, "85+": counts}),
    min_size=1,
)


@given(st.integers(0, 10**12), st.dictionaries(st.integers(1, 4), units, min_size=1))
def test_annual_figures_and_quarters_always_sum_exactly(
    budget: int, populations: dict[int, dict[str, dict[str, int]]]
) -> None:
    result = capitated_allocations(budget, WEIGHTS, populations)
    assert sum(u.annual for u in result.units) == result.allocated_total
    for u in result.units:
        assert sum(u.quarters.values()) == u.annual
    if not result.unallocated:
        assert result.allocated_total == budget

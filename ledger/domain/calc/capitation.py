"""Capitated allocations (spec 6.4): a budget shared by weighted population.

Each quarter's quarter of the budget goes to the units (providers or localities) in
proportion to their weighted population on the first day of that quarter. A unit's
annual figure is its four exact quarterly shares added up and rounded once across
the units; only then is it split into quarters, so annual figures and quarters both
sum exactly and no rounding is compounded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from ledger.domain.money import round_parts

QUARTERS = (1, 2, 3, 4)


@dataclass(frozen=True)
class UnitAllocation:
    unit_id: str
    weighted_population: dict[int, Fraction]  # W(p, q) for each quarter 1..4
    annual: int  # pence
    quarters: dict[int, int]  # pence per quarter 1..4 (0 for an unallocated quarter)


@dataclass(frozen=True)
class CapitationResult:
    units: tuple[UnitAllocation, ...]  # sorted by unit id
    unallocated: dict[int, str]  # quarter -> why it was not allocated
    allocated_total: int  # pence; the budget when every quarter is allocated


def _weighted(cohorts: Mapping[str, int], weights: Mapping[str, Fraction], q: int) -> Fraction:
    total = Fraction(0)
    for cohort, count in cohorts.items():
        if cohort not in weights:
            raise ValueError(f"Q{q}: cohort '{cohort}' has no weight in the plan")
        if count < 0:
            raise ValueError(f"Q{q}: cohort '{cohort}' has a negative population")
        total += count * weights[cohort]
    return total


def capitated_allocations(
    budget: int,
    weights: Mapping[str, Decimal],
    populations: Mapping[int, Mapping[str, Mapping[str, int]]],
) -> CapitationResult:
    """Share ``budget`` pence among units by weighted population, per quarter.

    ``populations[q][unit][cohort]`` is the count in force on the first day of
    quarter ``q``. A quarter with no weighted population is left unallocated (its
    quarter of the budget stays with the pool) and ``unallocated`` says why; if that
    leaves a fraction of a penny in the whole, it is rounded down.
    """
    if budget < 0:
        raise ValueError("the capitated budget must not be negative")
    if any(q not in QUARTERS for q in populations):
        raise ValueError("populations are keyed by quarter 1 to 4")
    ws = {c: Fraction(w) for c, w in weights.items()}
    if any(w < 0 for w in ws.values()):
        raise ValueError("cohort weights must not be negative")
    units = sorted({u for by_unit in populations.values() for u in by_unit})
    w = {
        u: {q: _weighted(populations.get(q, {}).get(u, {}), ws, q) for q in QUARTERS} for u in units
    }
    exact: dict[str, dict[int, Fraction]] = {u: dict.fromkeys(QUARTERS, Fraction(0)) for u in units}
    unallocated: dict[int, str] = {}
    for q in QUARTERS:
        whole = sum((w[u][q] for u in units), Fraction(0))
        if whole == 0:
            unallocated[q] = (
                f"no population recorded for the first day of Q{q}"
                if not populations.get(q)
                else f"the total weighted population on the first day of Q{q} is zero"
            )
            continue
        for u in units:
            exact[u][q] = Fraction(budget, 4) * w[u][q] / whole
    annual_exact = {u: sum(exact[u].values(), Fraction(0)) for u in units}
    whole_exact = Fraction(budget, 4) * (4 - len(unallocated))
    total = whole_exact.numerator // whole_exact.denominator
    annual = round_parts(annual_exact, units, total=total)
    return CapitationResult(
        units=tuple(
            UnitAllocation(
                unit_id=u,
                weighted_population=w[u],
                annual=annual[u],
                quarters=round_parts(exact[u], QUARTERS, total=annual[u]),
            )
            for u in units
        ),
        unallocated=unallocated,
        allocated_total=total,
    )

"""Outcome-based payments (spec 6.5): a base paid whatever, the rest on outcomes.

The commissioned value is rounded once; the base and the outcome parts are one
allocation of it, so they sum to the value exactly and the payment can never
exceed it, whatever is assessed as met.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from ledger.domain.money import allocate, round_half_up_pence


@dataclass(frozen=True)
class OutcomePayment:
    commissioned_value: int  # V = hours x rate, pence, rounded half-up once
    base: int  # paid whatever was delivered
    parts: dict[str, int]  # each outcome's part, in the plan's order
    released: int  # the parts of the outcomes met
    total: int  # base + released, never more than V


def outcome_payment(
    hours: Decimal, rate: int, base_pct: Decimal, outcomes: Sequence[str], met: Collection[str]
) -> OutcomePayment:
    """What a commissioned service earns in a period, given the outcomes met."""
    if hours < 0 or rate < 0:
        raise ValueError("hours and rate must not be negative")
    if not Decimal(0) <= base_pct <= Decimal(100):
        raise ValueError("the base percentage must be between 0 and 100")
    if len(set(outcomes)) != len(outcomes):
        raise ValueError("an outcome is named twice")
    if not outcomes and base_pct != 100:
        raise ValueError("a base below 100% needs outcomes to release the rest")
    unknown = sorted(set(met) - set(outcomes))
    if unknown:
        raise ValueError(f"not agreed outcomes of this service: {', '.join(unknown)}")
    value = round_half_up_pence(Fraction(hours) * rate)
    weights: dict[int, Fraction] = {0: Fraction(base_pct)}  # keys: 0 base, then outcomes
    for i in range(len(outcomes)):
        weights[i + 1] = (100 - Fraction(base_pct)) / len(outcomes)
    split = allocate(value, weights, list(weights))
    parts = {o: split[i + 1] for i, o in enumerate(outcomes)}
    released = sum(parts[o] for o in outcomes if o in met)
    return OutcomePayment(value, split[0], parts, released, split[0] + released)

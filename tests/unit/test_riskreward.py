"""Alliance gain/loss share (spec 6.3): worked example C and its invariants."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.domain.calc.riskreward import PartnerOutcome, Settlement, gain_loss_share, settle

GAIN = {"ncc": Decimal(50), "icb": Decimal(50)}
LOSS = {"ncc": Decimal(70), "icb": Decimal(30)}


def test_example_c_a_net_gain_is_shared_and_icb_pays_ncc_400000() -> None:
    # given ncc's community service costs £300,000 and icb saves £500,000
    result = gain_loss_share({"ncc": 30_000_000}, {"icb": 50_000_000}, GAIN, LOSS)
    # then the £200,000 net benefit is shared 50/50 and icb pays ncc £400,000
    assert result.net_benefit == 20_000_000
    assert result.partners == (
        PartnerOutcome("icb", 0, 50_000_000, 10_000_000, -40_000_000),
        PartnerOutcome("ncc", 30_000_000, 0, 10_000_000, 40_000_000),
    )
    assert result.settlements == (Settlement("icb", "ncc", 40_000_000),)


def test_example_c_a_net_loss_is_shared_by_loss_shares_and_icb_pays_ncc_230000() -> None:
    # given savings of only £200,000: a net loss of £100,000, shared ncc 70 / icb 30
    result = gain_loss_share({"ncc": 30_000_000}, {"icb": 20_000_000}, GAIN, LOSS)
    assert result.net_benefit == -10_000_000
    assert [(p.partner_id, p.outcome, p.transfer) for p in result.partners] == [
        ("icb", -3_000_000, -23_000_000),
        ("ncc", -7_000_000, 23_000_000),
    ]
    assert result.settlements == (Settlement("icb", "ncc", 23_000_000),)


def test_payers_are_matched_to_receivers_in_partner_id_order() -> None:
    assert settle({"a": -5, "b": 3, "c": -2, "d": 4}) == (
        Settlement("a", "b", 3),
        Settlement("a", "d", 2),
        Settlement("c", "d", 2),
    )


def test_transfers_that_do_not_sum_to_zero_cannot_be_settled() -> None:
    with pytest.raises(ValueError, match="sum to zero"):
        settle({"a": -5, "b": 4})


ids = st.sampled_from(["a-council", "b-icb", "c-trust", "d-vcs"])
money = st.dictionaries(ids, st.integers(0, 10**11), max_size=4)
pcts = st.dictionaries(ids, st.integers(0, 100).map(Decimal), min_size=1, max_size=4).filter(
    lambda d: sum(d.values()) > 0
)


@given(money, money, pcts, pcts)
def test_transfers_sum_to_zero_and_settlements_move_exactly_the_transfers(
    costs: dict[str, int],
    savings: dict[str, int],
    gain: dict[str, Decimal],
    loss: dict[str, Decimal],
) -> None:
    result = gain_loss_share(costs, savings, gain, loss)
    assert sum(p.outcome for p in result.partners) == result.net_benefit
    assert sum(p.transfer for p in result.partners) == 0
    # each partner's settlements net to its transfer
    for p in result.partners:
        received = sum(s.amount for s in result.settlements if s.to_partner == p.partner_id)
        paid = sum(s.amount for s in result.settlements if s.from_partner == p.partner_id)
        assert received - paid == p.transfer
    assert sum(s.amount for s in result.settlements) == sum(
        p.transfer for p in result.partners if p.transfer > 0
    )
    assert all(s.amount > 0 for s in result.settlements)

"""Risk share (spec 6.2) and commissioners (section 4), to the penny."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.domain.calc.riskshare import (
    SchemeVariance,
    allocate_risk_share,
    commissioner_weights,
    validate_rules,
)
from ledger.domain.plan import Cap, JointSplit, RiskRule, RiskShareRules, Share, Tier

KINDS = {"ncc": "local_authority", "city": "local_authority", "icb-a": "icb"}
PLANNED = {"ncc": 200_000_000, "city": 100_000_000, "icb-a": 50_000_000}  # example A


def shares(**pcts: str) -> tuple[Share, ...]:
    return tuple(Share(partner_id=p.replace("_", "-"), pct=Decimal(v)) for p, v in pcts.items())


def share_of(variance: int, rules: RiskShareRules, **kw: object) -> dict[str, int]:
    args: dict[str, object] = {"host": "ncc", "member_kinds": KINDS, "planned": PLANNED} | kw
    return allocate_risk_share(variance, rules, **args).allocations  # type: ignore[arg-type]


TIERED_B = RiskRule(
    method="tiered",
    tiers=(
        Tier(up_to=5_000_000, shares=shares(ncc="100")),
        Tier(up_to=None, shares=shares(ncc="50", city="30", icb_a="20")),
    ),
    caps=(Cap(partner_id="icb-a", amount=2_000_000),),
)


# --- worked examples -------------------------------------------------------------


def test_example_a_a_proportional_overspend_is_shared_by_planned_contributions() -> None:
    result = allocate_risk_share(
        10_000_000, RiskShareRules(), host="ncc", member_kinds=KINDS, planned=PLANNED
    )
    assert result.direction == "overspend"
    assert result.allocations == {"city": 2_857_143, "icb-a": 1_428_571, "ncc": 5_714_286}
    assert list(result.allocations) == ["city", "icb-a", "ncc"]


def test_example_b_a_tiered_overspend_with_a_cap_sends_the_excess_to_the_host() -> None:
    # given the first £50,000 to ncc, the rest 50/30/20, icb-a capped at £20,000
    rules = RiskShareRules(overspend=TIERED_B)
    # when the overspend is £210,000: band two is £160,000 (80,000/48,000/32,000)
    # then icb-a's £32,000 is capped at £20,000 and the £12,000 removed falls on ncc
    assert share_of(21_000_000, rules) == {"ncc": 14_200_000, "city": 4_800_000, "icb-a": 2_000_000}


def test_an_overspend_inside_the_first_band_falls_on_the_host_alone() -> None:
    rules = RiskShareRules(overspend=TIERED_B)
    assert share_of(3_000_000, rules) == {"ncc": 3_000_000, "city": 0, "icb-a": 0}


def test_a_tiered_underspend_is_banded_by_its_size_and_the_sign_put_back() -> None:
    rules = RiskShareRules(underspend=TIERED_B.model_copy(update={"caps": ()}))
    assert share_of(-21_000_000, rules) == {
        "ncc": -13_000_000,
        "city": -4_800_000,
        "icb-a": -3_200_000,
    }


# --- methods ---------------------------------------------------------------------


def test_a_fixed_rule_splits_by_the_agreed_percentages() -> None:
    rules = RiskShareRules(
        overspend=RiskRule(
            method="fixed", shares=shares(ncc="33.3333", city="33.3333", icb_a="33.3334")
        )
    )
    assert share_of(100, rules) == {"city": 33, "icb-a": 34, "ncc": 33}


def test_an_underspend_is_shared_proportionally_with_its_sign() -> None:
    result = allocate_risk_share(
        -10_000_000, RiskShareRules(), host="ncc", member_kinds=KINDS, planned=PLANNED
    )
    assert result.direction == "underspend"
    assert result.allocations == {"city": -2_857_143, "icb-a": -1_428_571, "ncc": -5_714_286}


def test_when_every_planned_contribution_is_zero_the_host_bears_it_all() -> None:
    zero = dict.fromkeys(KINDS, 0)
    assert share_of(12_345, RiskShareRules(), planned=zero) == {
        "city": 0,
        "icb-a": 0,
        "ncc": 12_345,
    }


def test_no_variance_allocates_nothing() -> None:
    result = allocate_risk_share(
        0, RiskShareRules(), host="ncc", member_kinds=KINDS, planned=PLANNED
    )
    assert (result.direction, result.carried_forward) == ("none", 0)
    assert result.allocations == {"city": 0, "icb-a": 0, "ncc": 0}


def test_an_underspend_carried_forward_allocates_nothing_and_carries_the_surplus() -> None:
    rules = RiskShareRules(underspend=RiskRule(method="carry_forward"))
    result = allocate_risk_share(-750_000, rules, host="ncc", member_kinds=KINDS, planned=PLANNED)
    assert result.method == "carry_forward"
    assert result.allocations == {"city": 0, "icb-a": 0, "ncc": 0}
    assert result.carried_forward == 750_000


def test_carry_forward_cannot_take_an_overspend() -> None:
    rules = RiskShareRules(overspend=RiskRule(method="carry_forward"))
    with pytest.raises(ValueError, match="underspend only"):
        share_of(100, rules)


def test_by_commissioner_each_scheme_falls_on_its_commissioner_and_the_rest_on_the_host() -> None:
    # given an la scheme £300 over, a joint 60/40 scheme £100 over, an icb scheme £50 under
    rules = RiskShareRules(overspend=RiskRule(method="by_commissioner"))
    schemes = [
        SchemeVariance("home-care", "la", None, 30_000),
        SchemeVariance("reablement", "joint", JointSplit(la=Decimal(60), icb=Decimal(40)), 10_000),
        SchemeVariance("ucr", "icb", None, -5_000),
    ]
    # when the pool is £400 over in all (£50 more than the schemes explain)
    allocations = share_of(40_000, rules, scheme_variances=schemes)
    # then la's £360 is shared ncc 2 : city 1, icb-a bears £40 - £50 = -£10,
    # and the unexplained £50 falls on the host ncc
    assert allocations == {"ncc": 24_000 + 5_000, "city": 12_000, "icb-a": -1_000}


def test_by_commissioner_rounds_once_so_the_parts_sum_to_the_variance() -> None:
    # given one la scheme 1p over (ncc 2/3p, city 1/3p) in a pool 1p under overall
    rules = RiskShareRules(underspend=RiskRule(method="by_commissioner"))
    allocations = share_of(-1, rules, scheme_variances=[SchemeVariance("s", "la", None, 1)])
    # then the host also bears the -2p the scheme does not explain: exact -4/3, 1/3, 0
    assert allocations == {"city": 0, "icb-a": 0, "ncc": -1}


def test_by_commissioner_a_named_member_bears_its_own_scheme() -> None:
    rules = RiskShareRules(underspend=RiskRule(method="by_commissioner"))
    allocations = share_of(
        -1_000, rules, scheme_variances=[SchemeVariance("s", "city", None, -1_500)]
    )
    assert allocations == {"city": -1_500, "icb-a": 0, "ncc": 500}


def test_caps_are_refused_on_the_host_and_on_underspends() -> None:
    on_host = RiskShareRules(
        overspend=RiskRule(method="proportional", caps=(Cap(partner_id="ncc", amount=1),))
    )
    with pytest.raises(ValueError, match="cannot be capped"):
        share_of(100, on_host)
    on_under = RiskShareRules(
        underspend=RiskRule(method="proportional", caps=(Cap(partner_id="city", amount=1),))
    )
    with pytest.raises(ValueError, match="overspend rule only"):
        share_of(-100, on_under)


# --- commissioners ---------------------------------------------------------------


def test_la_means_every_council_sharing_by_planned_contributions() -> None:
    assert commissioner_weights("la", None, KINDS, PLANNED) == {
        "city": Fraction(1, 3),
        "ncc": Fraction(2, 3),
    }


def test_several_icbs_share_equally_when_none_has_planned_anything() -> None:
    kinds = {"ncc": "district_council", "icb-a": "icb", "icb-b": "icb"}
    assert commissioner_weights("icb", None, kinds, {"ncc": 5}) == {
        "icb-a": Fraction(1, 2),
        "icb-b": Fraction(1, 2),
    }


def test_a_joint_scheme_splits_between_la_and_icb() -> None:
    weights = commissioner_weights(
        "joint", JointSplit(la=Decimal(75), icb=Decimal(25)), KINDS, PLANNED
    )
    assert weights == {"city": Fraction(1, 4), "icb-a": Fraction(1, 4), "ncc": Fraction(1, 2)}
    assert sum(weights.values()) == 1


def test_a_commissioner_the_pool_lacks_is_refused() -> None:
    with pytest.raises(ValueError, match="no 'icb' member"):
        commissioner_weights("icb", None, {"ncc": "local_authority"}, {})
    with pytest.raises(ValueError, match="not la, icb, joint or a member"):
        commissioner_weights("elsewhere", None, KINDS, PLANNED)
    with pytest.raises(ValueError, match="la/icb split"):
        commissioner_weights("joint", None, KINDS, PLANNED)


# --- validation ------------------------------------------------------------------


def test_well_formed_rules_have_no_problems() -> None:
    rules = RiskShareRules(overspend=TIERED_B, underspend=RiskRule(method="carry_forward"))
    assert validate_rules(rules, host="ncc", members=KINDS.keys()) == []


def test_every_problem_with_the_rules_is_reported_with_its_field_path() -> None:
    rules = RiskShareRules(
        overspend=RiskRule(
            method="tiered",
            tiers=(
                Tier(up_to=None, shares=shares(ncc="100")),
                Tier(up_to=1_000, shares=shares(ncc="50", city="30", stranger="20")),
                Tier(up_to=500, shares=shares(ncc="90")),
            ),
            caps=(Cap(partner_id="ncc", amount=5), Cap(partner_id="stranger", amount=5)),
        ),
        underspend=RiskRule(
            method="fixed",
            shares=shares(ncc="60", city="30"),
            caps=(Cap(partner_id="city", amount=5),),
        ),
    )
    problems = dict(validate_rules(rules, host="ncc", members=KINDS.keys()))
    assert set(problems) == {
        "risk_share.overspend.tiers[0].up_to",
        "risk_share.overspend.tiers[1].shares[2].partner_id",
        "risk_share.overspend.tiers[2].up_to",
        "risk_share.overspend.tiers[2].shares",
        "risk_share.overspend.caps[0].partner_id",
        "risk_share.overspend.caps[1].partner_id",
        "risk_share.underspend.shares",
        "risk_share.underspend.caps",
    }
    assert "cannot be capped" in problems["risk_share.overspend.caps[0].partner_id"]
    assert "exactly 100" in problems["risk_share.underspend.shares"]


def test_carry_forward_is_refused_as_an_overspend_rule() -> None:
    rules = RiskShareRules(overspend=RiskRule(method="carry_forward"))
    assert validate_rules(rules, host="ncc", members=KINDS.keys()) == [
        ("risk_share.overspend.method", "carry_forward applies to an underspend only")
    ]


# --- invariants ------------------------------------------------------------------

ids = st.sampled_from(["ncc", "city", "icb-a"])
rule_strategy = st.one_of(
    st.just(RiskRule(method="proportional")),
    st.just(TIERED_B.model_copy(update={"caps": ()})),
    st.just(
        RiskRule(method="fixed", shares=shares(ncc="33.3333", city="33.3333", icb_a="33.3334"))
    ),
    st.just(RiskRule(method="by_commissioner")),
)


@given(
    variance=st.integers(min_value=-(10**12), max_value=10**12),
    rule=rule_strategy,
    cap=st.integers(min_value=0, max_value=10**9),
    planned=st.fixed_dictionaries({p: st.integers(0, 10**10) for p in KINDS}),
    scheme_amounts=st.lists(
        st.tuples(st.sampled_from(["la", "icb", "city", "ncc"]), st.integers(-(10**9), 10**9)),
        max_size=5,
    ),
)
def test_allocations_always_sum_exactly_to_the_variance(
    variance: int,
    rule: RiskRule,
    cap: int,
    planned: dict[str, int],
    scheme_amounts: list[tuple[str, int]],
) -> None:
    if variance > 0:
        rule = rule.model_copy(update={"caps": (Cap(partner_id="city", amount=cap),)})
    schemes = [SchemeVariance(f"s{i}", c, None, v) for i, (c, v) in enumerate(scheme_amounts)]
    allocations = share_of(
        variance,
        RiskShareRules(overspend=rule, underspend=rule),
        planned=planned,
        scheme_variances=schemes,
    )
    assert sum(allocations.values()) == variance
    assert set(allocations) == set(KINDS)
    if variance > 0:
        assert allocations["city"] <= cap  # a capped partner never bears more than its cap

"""A plan's quarterly profiles (domain.md 6.1, plan to date): straight-line quarters by
largest remainder with the extra pennies to Q1 first, a profile when given, and a
profile that does not add up refused naming its field."""

from __future__ import annotations

from ledger.domain.plan import Plan, PlannedContribution, Scheme, phased
from ledger.domain.plan_rules import validate_plan


def test_straight_line_quarters_give_the_extra_pennies_to_the_earlier_quarters() -> None:
    assert phased(100_003, None) == (25_001, 25_001, 25_001, 25_000)
    assert phased(100_001, None) == (25_001, 25_000, 25_000, 25_000)
    assert phased(350_000_000, None) == (87_500_000,) * 4
    assert phased(1000, (100, 200, 300, 400)) == (100, 200, 300, 400)


def _plan(quarters: tuple[int, int, int, int] | None) -> Plan:
    return Plan(
        contributions=(
            PlannedContribution(
                partner_id="ncc", funding_stream="contribution", amount=1000, quarters=quarters
            ),
        ),
        schemes=(
            Scheme(
                id="s",
                name="S",
                scheme_type="Other",
                commissioner="ncc",
                provider_type="Other",
                funding_stream="contribution",
                planned=1003,
                quarters=None,
            ),
        ),
    )


def test_the_plan_to_date_sums_the_ended_quarters_of_each_profile() -> None:
    plan = _plan((400, 300, 200, 100))
    assert plan.planned_to_date(0) == ({"ncc": 0}, 0)
    assert plan.planned_to_date(1) == ({"ncc": 400}, 251)  # 1003 straight: 251, 251, 251, 250
    assert plan.planned_to_date(2) == ({"ncc": 700}, 502)
    assert plan.planned_to_date(4) == ({"ncc": 1000}, 1003)


def test_a_profile_that_does_not_add_up_to_the_annual_figure_is_refused() -> None:
    def problems(quarters: tuple[int, int, int, int]) -> list[tuple[str, str]]:
        return validate_plan(
            _plan(quarters),
            pool_kind="section_75",
            host="ncc",
            member_kinds={"ncc": "local_authority"},
            reference=None,
        )

    assert problems((250, 250, 250, 250)) == []
    assert problems((250, 250, 250, 251)) == [
        ("contributions[0].quarters", "the quarters must sum to the amount exactly")
    ]
    assert problems((500, 500, 100, -100)) == [
        ("contributions[0].quarters", "no quarter may be negative")
    ]

"""Alliance answers through the ledger, on SQLite and PostgreSQL: risk/reward (example
C, 6.3), capitation (example D, 6.4), outcome payments (example E, 6.5) and metrics
with status (6.6)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest
from sqlalchemy import Engine

from ledger.domain import commands as c
from ledger.domain.events import PartnerAmount
from ledger.domain.plan import (
    Capitation,
    CohortWeight,
    CommissionedService,
    MetricDefinition,
    Plan,
    RiskRewardScheme,
    Share,
)
from ledger.handlers import Ledger
from projections.queries import Reader
from tests.builders import ADMIN, officer, pounds, register_partners

YEAR = "2025-26"
HOST = officer("ncc")
POOL = "alliance"


def _plan(**parts: object) -> Plan:
    base: dict[str, object] = {
        "risk_reward_schemes": (
            RiskRewardScheme(
                id="rapid-response",
                name="Rapid response",
                gain_shares=(
                    Share(partner_id="ncc", pct=Decimal(50)),
                    Share(partner_id="icb-a", pct=Decimal(50)),
                ),
                loss_shares=(
                    Share(partner_id="ncc", pct=Decimal(70)),
                    Share(partner_id="icb-a", pct=Decimal(30)),
                ),
            ),
        ),
        "capitation": Capitation(
            budget=pounds("12000000.00"),
            excluded_personal_budgets=pounds("1500000.00"),
            weights=(
                CohortWeight(cohort="0-64", weight=Decimal("1.0")),
                CohortWeight(cohort="65-84", weight=Decimal("2.5")),
                CohortWeight(cohort="85+", weight=Decimal("6.0")),
            ),
        ),
        "commissioned_services": (
            CommissionedService(
                id="hc-bassetlaw-q1",
                provider_id="mears",
                period=f"{YEAR}-Q1",
                hours=Decimal("10000"),
                rate=pounds("17.00"),
                base_pct=Decimal(95),
                outcomes=("independence", "satisfaction"),
            ),
            CommissionedService(
                id="hc-mansfield-q1",
                provider_id="mears",
                period=f"{YEAR}-M02",
                hours=Decimal("100.50"),
                rate=pounds("18.25"),
                base_pct=Decimal(100),
                outcomes=(),
            ),
            CommissionedService(
                id="hc-newark-q2",
                provider_id="carers-trust",
                period=f"{YEAR}-Q2",
                hours=Decimal("200"),
                rate=pounds("20.00"),
                base_pct=Decimal(90),
                outcomes=("independence",),
            ),
        ),
        "metrics": (
            MetricDefinition(
                id="falls-admissions",
                name="Falls admissions",
                unit="admissions",
                lower_is_better=True,
            ),
        ),
    }
    base.update(parts)
    return Plan.model_validate(base)


@pytest.fixture
def alliance(ledger: Ledger) -> Ledger:
    """ncc (host), icb-a and a trust in an alliance with the plan above for 2025-26."""
    register_partners(ledger, ("ncc", "icb-a", "trust"))
    ledger.execute(
        c.EstablishPool(
            pool_id=POOL,
            name="Bassetlaw alliance",
            kind="alliance",
            host_partner_id="ncc",
            members=("ncc", "icb-a", "trust"),
        ),
        ADMIN,
    )
    ledger.execute(c.AgreePlan(pool_id=POOL, year=YEAR, plan=_plan()), ADMIN)
    return ledger


def _result(
    period: str, costs: dict[str, str], savings: dict[str, str]
) -> c.RecordRiskRewardResult:
    return c.RecordRiskRewardResult(
        pool_id=POOL,
        scheme_id="rapid-response",
        period=period,
        costs=tuple(PartnerAmount(partner_id=p, amount=pounds(a)) for p, a in costs.items()),
        savings=tuple(PartnerAmount(partner_id=p, amount=pounds(a)) for p, a in savings.items()),
    )


# --- 6.3 risk/reward --------------------------------------------------------------------


def test_example_c_a_net_gain_shared_50_50_means_the_icb_pays_ncc_400000(
    alliance: Ledger, engine: Engine
) -> None:
    # given ncc's community service cost £300,000 and the ICB saved £500,000 in Q1
    alliance.execute(_result(f"{YEAR}-Q1", {"ncc": "300000.00"}, {"icb-a": "500000.00"}), HOST)
    view = Reader(engine).risk_reward(POOL, f"{YEAR}-Q1")
    (scheme,) = view.schemes
    # then the net benefit of £200,000 is shared 50/50 and the ICB pays ncc £400,000
    assert (scheme.scheme_id, scheme.name, scheme.net_benefit) == (
        "rapid-response",
        "Rapid response",
        pounds("200000.00"),
    )
    assert [(p.partner_id, p.costs, p.savings, p.outcome, p.transfer) for p in scheme.partners] == [
        ("icb-a", 0, pounds("500000.00"), pounds("100000.00"), -pounds("400000.00")),
        ("ncc", pounds("300000.00"), 0, pounds("100000.00"), pounds("400000.00")),
    ]
    assert scheme.settlements == (("icb-a", "ncc", pounds("400000.00")),)


def test_example_c_a_later_result_for_the_period_supersedes_and_a_net_loss_uses_loss_shares(
    alliance: Ledger, engine: Engine
) -> None:
    # given the first Q1 result, then a corrected one with savings of only £200,000
    alliance.execute(_result(f"{YEAR}-Q1", {"ncc": "300000.00"}, {"icb-a": "500000.00"}), HOST)
    before = Reader(engine).position()
    alliance.execute(_result(f"{YEAR}-Q1", {"ncc": "300000.00"}, {"icb-a": "200000.00"}), HOST)
    (scheme,) = Reader(engine).risk_reward(POOL, f"{YEAR}-Q1").schemes
    # then the net loss of £100,000 is shared 70/30 and the ICB pays ncc £230,000
    assert scheme.net_benefit == -pounds("100000.00")
    assert {p.partner_id: p.outcome for p in scheme.partners} == {
        "icb-a": -pounds("30000.00"),
        "ncc": -pounds("70000.00"),
    }
    assert scheme.settlements == (("icb-a", "ncc", pounds("230000.00")),)
    # and as at before the correction, the answer is unchanged
    (then,) = Reader(engine).risk_reward(POOL, f"{YEAR}-Q1", as_at=before).schemes
    assert then.settlements == (("icb-a", "ncc", pounds("400000.00")),)


def test_a_years_risk_reward_adds_up_the_results_of_its_quarters_and_months(
    alliance: Ledger, engine: Engine
) -> None:
    # given Q1 as in example C and a July (M04) result: costs £100,000, savings £100,000
    alliance.execute(_result(f"{YEAR}-Q1", {"ncc": "300000.00"}, {"icb-a": "500000.00"}), HOST)
    alliance.execute(_result(f"{YEAR}-M04", {"ncc": "100000.00"}, {"icb-a": "100000.00"}), HOST)
    (year,) = Reader(engine).risk_reward(POOL, YEAR).schemes
    # then the year: costs £400,000, savings £600,000, N £200,000, ICB pays ncc £500,000
    assert year.net_benefit == pounds("200000.00")
    assert year.settlements == (("icb-a", "ncc", pounds("500000.00")),)
    # Q2 holds only July (no net benefit, yet ncc's cost is made good by the ICB);
    # Q3 holds nothing (a scheme with no results nets to zero)
    (q2,) = Reader(engine).risk_reward(POOL, f"{YEAR}-Q2").schemes
    assert (q2.net_benefit, q2.settlements) == (0, (("icb-a", "ncc", pounds("100000.00")),))
    (q3,) = Reader(engine).risk_reward(POOL, f"{YEAR}-Q3").schemes
    assert (q3.net_benefit, q3.settlements) == (0, ())
    assert all(p.transfer == 0 for p in q3.partners)


# --- 6.4 capitation --------------------------------------------------------------------

EXAMPLE_D = {
    "north": (80_000, 15_000, 2_000),
    "south": (60_000, 12_000, 2_500),
    "east": (40_000, 6_000, 1_000),
}


def _populations(ledger: Ledger, on: date, rows: dict[str, tuple[int, int, int]]) -> list[int]:
    out = []
    for unit, counts in rows.items():
        for cohort, count in zip(("0-64", "65-84", "85+"), counts, strict=True):
            done = ledger.execute(
                c.RecordPopulation(
                    pool_id=POOL, unit_id=unit, cohort=cohort, count=count, effective_date=on
                ),
                HOST,
            )
            out.append(done.events[0].position)
    return out


def test_example_d_capitated_budget_is_shared_by_weighted_population(
    alliance: Ledger, engine: Engine
) -> None:
    # given example D's populations in force from the first day of the year
    _populations(alliance, date(2025, 4, 1), EXAMPLE_D)
    view = Reader(engine).capitation(POOL, YEAR)
    # then north £5,258,883.25, south £4,263,959.39, east £2,477,157.36
    assert (view.budget, view.excluded_personal_budgets) == (
        pounds("12000000.00"),
        pounds("1500000.00"),
    )
    assert [(u.unit_id, u.annual) for u in view.units] == [
        ("east", pounds("2477157.36")),
        ("north", pounds("5258883.25")),
        ("south", pounds("4263959.39")),
    ]
    north = next(u for u in view.units if u.unit_id == "north")
    assert north.quarters == {
        "Q1": pounds("1314720.82"),
        "Q2": pounds("1314720.81"),
        "Q3": pounds("1314720.81"),
        "Q4": pounds("1314720.81"),
    }
    assert north.weighted_population == dict.fromkeys(("Q1", "Q2", "Q3", "Q4"), Fraction(129_500))
    assert sum(u.annual for u in view.units) == pounds("12000000.00")
    assert view.unallocated == {}


def test_populations_count_from_the_first_quarter_day_on_or_after_their_date_unless_reversed(
    alliance: Ledger, engine: Engine
) -> None:
    # given example D from 1 April, then north's 85+ doubling from 15 August
    _populations(alliance, date(2025, 4, 1), EXAMPLE_D)
    d = Reader(engine).capitation(POOL, YEAR)
    changed = alliance.execute(
        c.RecordPopulation(
            pool_id=POOL,
            unit_id="north",
            cohort="85+",
            count=4_000,
            effective_date=date(2025, 8, 15),
        ),
        HOST,
    )
    # then Q1 and Q2 are as before; Q3 and Q4 use north's new weight (141,500)
    view = Reader(engine).capitation(POOL, YEAR)
    north = next(u for u in view.units if u.unit_id == "north")
    assert north.weighted_population["Q2"] == Fraction(129_500)
    assert north.weighted_population["Q3"] == Fraction(141_500)
    # (Q1's exact shares are unchanged; its rounding may move by a penny with the annual)
    for now, then in zip(view.units, d.units, strict=True):
        assert abs(now.quarters["Q1"] - then.quarters["Q1"]) <= 1
    assert north.quarters["Q3"] > north.quarters["Q2"]
    assert sum(u.annual for u in view.units) == pounds("12000000.00")
    # when the change is reversed, example D's figures are back
    alliance.execute(c.ReverseEvent(event_id=changed.events[0].event_id, reason="wrong unit"), HOST)
    assert Reader(engine).capitation(POOL, YEAR).units == d.units


def test_a_quarter_with_no_population_is_not_allocated_and_the_answer_says_why(
    alliance: Ledger, engine: Engine
) -> None:
    # given populations only from 1 July (the first day of Q2)
    _populations(alliance, date(2025, 7, 1), EXAMPLE_D)
    view = Reader(engine).capitation(POOL, YEAR)
    # then Q1 is unallocated, with the reason, and three quarters' budget is shared
    assert view.unallocated == {"Q1": "no population recorded for the first day of Q1"}
    assert all(u.quarters["Q1"] == 0 for u in view.units)
    assert sum(u.annual for u in view.units) == pounds("9000000.00")
    # and a year with no capitated budget says so for every quarter
    empty = Reader(engine).capitation(POOL, "2026-27")
    assert empty.units == ()
    assert empty.unallocated == dict.fromkeys(
        ("Q1", "Q2", "Q3", "Q4"), "there is no plan for 2026-27"
    )


# --- 6.5 outcome payments ----------------------------------------------------------------


def _assess(service: str, outcome: str, period: str, met: bool) -> c.AssessOutcome:
    return c.AssessOutcome(
        pool_id=POOL,
        service_id=service,
        outcome_id=outcome,
        period=period,
        met=met,
        assessed_on=date(2025, 7, 20),
    )


def test_example_e_the_base_plus_the_part_of_each_outcome_met_is_paid(
    alliance: Ledger, engine: Engine
) -> None:
    # given 10,000 hours at £17.00, base 95%, two outcomes: independence met, satisfaction not
    alliance.execute(_assess("hc-bassetlaw-q1", "independence", f"{YEAR}-Q1", True), HOST)
    alliance.execute(_assess("hc-bassetlaw-q1", "satisfaction", f"{YEAR}-Q1", False), HOST)
    before = Reader(engine).position()
    view = Reader(engine).outcome_payments(POOL, f"{YEAR}-Q1")
    # then £161,500.00 + £4,250.00 = £165,750.00 for that service
    (mears,) = view.providers
    svc = next(s for s in mears.services if s.service_id == "hc-bassetlaw-q1")
    assert (svc.commissioned_value, svc.base, svc.released, svc.total) == (
        pounds("170000.00"),
        pounds("161500.00"),
        pounds("4250.00"),
        pounds("165750.00"),
    )
    assert svc.outcomes == (
        ("independence", pounds("4250.00"), True),
        ("satisfaction", pounds("4250.00"), False),
    )
    # and mears' May service (inside Q1, 100.50 h at £18.25 = £1,834.125 -> £1,834.13) in full
    may = next(s for s in mears.services if s.service_id == "hc-mansfield-q1")
    assert (may.commissioned_value, may.total) == (pounds("1834.13"), pounds("1834.13"))
    assert (mears.provider_id, mears.commissioned_value, mears.total) == (
        "mears",
        pounds("171834.13"),
        pounds("167584.13"),
    )
    # when satisfaction is reassessed as met, the latest assessment counts
    alliance.execute(_assess("hc-bassetlaw-q1", "satisfaction", f"{YEAR}-Q1", True), HOST)
    (mears,) = Reader(engine).outcome_payments(POOL, f"{YEAR}-Q1").providers
    assert mears.services[0].total == pounds("170000.00")
    # and as at before, it was not
    (then,) = Reader(engine).outcome_payments(POOL, f"{YEAR}-Q1", as_at=before).providers
    assert then.services[0].total == pounds("165750.00")


def test_a_years_outcome_payments_group_every_service_of_the_year_by_provider(
    alliance: Ledger, engine: Engine
) -> None:
    # given nothing assessed: each service earns only its base
    view = Reader(engine).outcome_payments(POOL, YEAR)
    assert [(p.provider_id, p.base, p.released, p.total) for p in view.providers] == [
        ("carers-trust", pounds("3600.00"), 0, pounds("3600.00")),
        ("mears", pounds("163334.13"), 0, pounds("163334.13")),
    ]
    assert view.providers[0].services[0].outcomes == (("independence", pounds("400.00"), None),)
    # and a month outside every service's period pays nothing
    assert Reader(engine).outcome_payments(POOL, f"{YEAR}-M12").providers == ()


# --- 6.6 metrics -----------------------------------------------------------------------


def _metric(metric_id: str, period: str, target: str, actual: str) -> c.RecordMetric:
    return c.RecordMetric(
        pool_id=POOL,
        metric_id=metric_id,
        period=period,
        target=Decimal(target),
        actual=Decimal(actual),
    )


def test_metrics_have_a_status_from_their_definitions_in_the_plan_or_the_recorded_reference(
    alliance: Ledger, engine: Engine
) -> None:
    # given ED attendances (a reference metric, lower is better) and the plan's own metric
    alliance.execute(_metric("ed-attendances", f"{YEAR}-Q1", "1000", "990"), HOST)
    alliance.execute(_metric("ed-attendances", f"{YEAR}-Q2", "1000", "1050"), HOST)
    alliance.execute(_metric("ed-attendances", f"{YEAR}-Q3", "1000", "1050.01"), HOST)
    alliance.execute(
        _metric("discharged-on-discharge-ready-date", f"{YEAR}-M02", "90.0", "86.0"), HOST
    )
    alliance.execute(_metric("falls-admissions", f"{YEAR}-Q1", "0", "1"), HOST)
    view = Reader(engine).metrics(POOL, YEAR)
    # then green when met, amber within 5% of the target (inclusive), red beyond; a zero
    # target has no amber
    assert [(m.metric_id, m.period, m.target, m.actual, m.status) for m in view.metrics] == [
        ("discharged-on-discharge-ready-date", f"{YEAR}-M02", "90.0", "86.0", "amber"),
        ("ed-attendances", f"{YEAR}-Q1", "1000", "990", "green"),
        ("ed-attendances", f"{YEAR}-Q2", "1000", "1050", "amber"),
        ("ed-attendances", f"{YEAR}-Q3", "1000", "1050.01", "red"),
        ("falls-admissions", f"{YEAR}-Q1", "0", "1", "red"),
    ]
    ed = view.metrics[1]
    assert (ed.name, ed.unit, ed.lower_is_better) == (
        "Attendances at the Emergency Department (Alliance target)",
        "attendances",
        True,
    )
    assert (view.metrics[-1].name, view.metrics[-1].lower_is_better) == ("Falls admissions", True)
    # and a quarter holds its own metrics and its months'
    q1 = Reader(engine).metrics(POOL, f"{YEAR}-Q1")
    assert [m.metric_id for m in q1.metrics] == [
        "discharged-on-discharge-ready-date",
        "ed-attendances",
        "falls-admissions",
    ]


def test_the_latest_metric_for_a_period_counts_and_a_reversed_one_does_not(
    alliance: Ledger, engine: Engine
) -> None:
    first = alliance.execute(_metric("ed-attendances", f"{YEAR}-Q1", "1000", "1100"), HOST)
    second = alliance.execute(_metric("ed-attendances", f"{YEAR}-Q1", "1000", "1000"), HOST)
    assert [m.status for m in Reader(engine).metrics(POOL, f"{YEAR}-Q1").metrics] == ["green"]
    alliance.execute(c.ReverseEvent(event_id=second.events[0].event_id, reason="typo"), HOST)
    (m,) = Reader(engine).metrics(POOL, f"{YEAR}-Q1").metrics
    assert (m.actual, m.status) == ("1100", "red")
    (then,) = Reader(engine).metrics(POOL, f"{YEAR}-Q1", as_at=first.events[0].position).metrics
    assert then.actual == "1100"

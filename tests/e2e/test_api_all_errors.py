"""Every error of a JSON body at once on the routes that are not money postings: a body
with a field refused for its shape and another against a rule is answered with both in
one 422 ``validation`` and writes nothing (issue 12, "All errors at once"; the money
postings are in ``test_api_rules.py``).

The world's pool ``eq`` has one plan, for 2025-26 (its life is 2025-26 to 2026-27), with
the metric ``falls-admissions``, the risk/reward scheme ``rapid-response``, capitation
cohorts 0-64, 65-84 and 85+, and the service ``hc-north-q2`` (outcomes independence and
satisfaction)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine

from tests.e2e.api_support import World, build_world


@pytest.fixture
def world(engine: Engine) -> Iterator[World]:
    w = build_world(engine)
    yield w
    w.client.close()


def fields(r: Any) -> list[str]:
    return sorted(e["field"] for e in r.json()["errors"])


CASES = [
    # a target that is not a number (shape) and a metric the year does not define (rule)
    (
        "ncc",
        "/v1/pools/eq/metrics",
        {"metric_id": "no-such-metric", "period": "2025-26-Q2", "target": "lots", "actual": "9"},
        ["metric_id", "target"],
    ),
    # a negative count (shape) and a cohort the capitation does not weigh (rule)
    (
        "ncc",
        "/v1/pools/eq/populations",
        {"unit_id": "north", "cohort": "18-64", "count": -5, "effective_date": "2025-04-01"},
        ["cohort", "count"],
    ),
    # an amount in fractions of a penny (shape) and a year after the first plan year (rule)
    (
        "admin",
        "/v1/pools/eq/opening-balance",
        {"year": "2026-27", "amount": "12.345", "note": "brought forward"},
        ["amount", "year"],
    ),
    # a negative cost (shape) and a scheme the plan does not share risk on (rule)
    (
        "ncc",
        "/v1/pools/eq/risk-reward-results",
        {
            "scheme_id": "no-such-scheme",
            "period": "2025-26-Q2",
            "costs": {"ncc": "-1.00"},
            "savings": {},
        },
        ["costs.ncc", "scheme_id"],
    ),
    # "met" as a word (shape) and an outcome the service was not commissioned for (rule)
    (
        "ncc",
        "/v1/pools/eq/outcome-assessments",
        {
            "service_id": "hc-north-q2",
            "outcome_id": "no-such-outcome",
            "period": "2025-26-Q2",
            "met": "yes",
            "assessed_on": "2025-10-20",
        },
        ["met", "outcome_id"],
    ),
    # no date (shape) and a year outside the pool's life (rule)
    (
        "ncc",
        "/v1/pools/eq/forecasts",
        {"year": "2030-31", "amount": "100.00"},
        ["as_of_date", "year"],
    ),
]


@pytest.mark.parametrize(
    ("who", "path", "body", "both"),
    CASES,
    ids=["metric", "population", "opening-balance", "risk-reward", "outcome", "forecast"],
)
def test_a_shape_error_and_a_rule_error_are_answered_together_and_nothing_is_written(
    world: World, who: str, path: str, body: dict[str, Any], both: list[str]
) -> None:
    head = world.head()
    r = world.post(who, path, body)
    assert r.status_code == 422, r.text
    assert r.json()["type"] == "urn:pooled:problem:validation"
    assert fields(r) == both
    assert world.head() == head


def test_each_alone_is_refused_as_before(world: World) -> None:
    # the rule error alone is a rule-violation naming only its field
    body = {"metric_id": "no-such-metric", "period": "2025-26-Q2", "target": "1", "actual": "9"}
    r = world.post("ncc", "/v1/pools/eq/metrics", body)
    assert r.status_code == 422, r.text
    assert r.json()["type"] == "urn:pooled:problem:rule-violation"
    assert fields(r) == ["metric_id"]
    # the same body with a good metric is recorded
    r = world.post("ncc", "/v1/pools/eq/metrics", {**body, "metric_id": "falls-admissions"})
    assert r.status_code == 201, r.text


def test_a_refused_period_leaves_the_checks_that_need_its_year_unrun(world: World) -> None:
    # whether the metric is defined depends on the period's year, which "Q2" cannot give
    body = {"metric_id": "no-such-metric", "period": "Q2", "target": "1", "actual": "9"}
    r = world.post("ncc", "/v1/pools/eq/metrics", body)
    assert r.status_code == 422, r.text
    assert fields(r) == ["period"]


def test_a_route_whose_decider_does_not_gather_its_checks_answers_the_shape_alone(
    world: World,
) -> None:
    # joining a pool is decided check by check: with a stand-in in play it would be
    # accepted, and the rule check must neither write nor report anything of its own
    head = world.head()
    r = world.post("admin", "/v1/pools/eq/members", {"partner_id": "trust", "role": "x"})
    assert r.status_code == 422, r.text
    assert fields(r) == ["role"]
    assert world.head() == head
    pool = world.get("admin", "/v1/pools/eq").json()
    assert "trust" not in str(pool)

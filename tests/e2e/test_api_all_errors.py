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

from ledger.store.reads import read_head
from tests.e2e.api_support import PLAN, World, build_world
from tests.integration import test_returns_api
from tests.integration.test_returns_api import Api

# the BCF pool ``bcf`` with its 2025-26 plan (schemes carers, ...), as at 31 July 2025
api = pytest.fixture(test_returns_api.api.__wrapped__, name="api")  # type: ignore[attr-defined]


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
    # a partner no one registered (rule) and a key the body may not have (shape)
    (
        "admin",
        "/v1/pools/eq/members",
        {"partner_id": "nobody", "role": "x"},
        ["partner_id", "role"],
    ),
    # a host no one registered (rule) and an area that is not an object (shape)
    (
        "admin",
        "/v1/pools",
        {
            "id": "second",
            "name": "Second pool",
            "kind": "bcf",
            "host_partner_id": "nobody",
            "hwb_area": "Nottinghamshire",
        },
        ["host_partner_id", "hwb_area"],
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
    ids=[
        "metric",
        "population",
        "opening-balance",
        "risk-reward",
        "outcome",
        "join-pool",
        "establish-pool",
        "forecast",
    ],
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
    # a reversal is decided check by check (its rules are of the event it names): with
    # a key the body may not have, the rest would be accepted, and the rule check must
    # neither write nor report anything of its own
    posted = world.post("city", "/v1/pools/eq/contributions", _CONTRIBUTION)
    assert posted.status_code == 201, posted.text
    event_id = posted.json()["events"][0]["event_id"]
    head = world.head()
    body = {"reason": "keyed twice", "undo": True}
    r = world.post("city", f"/v1/events/{event_id}/reversal", body)
    assert r.status_code == 422, r.text
    assert fields(r) == ["undo"]
    assert world.head() == head
    # the contribution was not reversed: reversing it properly still works
    r = world.post("city", f"/v1/events/{event_id}/reversal", {"reason": "keyed twice"})
    assert r.status_code == 201, r.text


_CONTRIBUTION = {
    "partner_id": "city",
    "funding_stream": "contribution",
    "amount": "10.00",
    "effective_date": "2025-07-01",
    "reference": "BACS 1",
}


def _head(api: Api) -> int:
    with api.ledger.engine.connect() as conn:
        return read_head(conn).position


@pytest.mark.parametrize(
    ("path", "body", "both"),
    [
        # an output sent as a number, not a string (shape), of a scheme not in the plan
        (
            "scheme-activity",
            {
                "scheme_id": "no-such-scheme",
                "planned_output": 1200,
                "output_delivered": "1",
                "unit": "Packages",
            },
            ["planned_output", "scheme_id"],
        ),
        # an answer as a word (shape) to a condition the year does not have (rule)
        ("national-conditions", {"condition_id": "99", "answer": "no"}, ["answer", "condition_id"]),
    ],
    ids=["scheme-activity", "national-condition"],
)
def test_a_return_part_with_a_shape_and_a_rule_error_names_both(
    api: Api, path: str, body: dict[str, Any], both: list[str]
) -> None:
    head = _head(api)
    r = api.post("ncc", f"/v1/pools/bcf/returns/2025-26-Q1/{path}", body)
    assert r.status_code == 422, r.text
    assert r.json()["type"] == "urn:pooled:problem:validation"
    assert fields(r) == both
    assert _head(api) == head


def test_a_plan_with_a_shape_error_answers_the_shape_alone(world: World) -> None:
    # a plan's cross-checks read its parts together: with a stand-in part they could
    # name a part that is fine, so a plan refused for its shape is not checked further
    plan = {**PLAN, "capitation": "lots"}
    plan["contributions"] = [{**PLAN["contributions"][0], "partner_id": "nobody"}]
    head = world.head()
    r = world.client.put("/v1/pools/eq/years/2026-27/plan", json=plan, headers=world.auth("admin"))
    assert r.status_code == 422, r.text
    assert fields(r) == ["capitation"]
    assert world.head() == head
    # the same rule error alone is a rule-violation naming the contribution
    r = world.client.put(
        "/v1/pools/eq/years/2026-27/plan",
        json={**plan, "capitation": PLAN["capitation"]},
        headers=world.auth("admin"),
    )
    assert r.status_code == 422, r.text
    assert r.json()["type"] == "urn:pooled:problem:rule-violation"
    assert "contributions[0].partner_id" in fields(r)

"""Corrections end to end through the API, on SQLite and PostgreSQL: an opening
balance recorded, reversed, then recorded right (issue 12 item 5), and every reversible
kind of fact reversed and posted again (domain.md section 5, "Corrections")."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import Engine

from ledger.domain.events import EVENT_TYPES
from ledger.snapshots import check
from projections.rebuild import compare_with_rebuild
from tests.e2e.api_support import PLAN, World, build_world, contribution, spend


@pytest.fixture
def world(engine: Engine) -> Iterator[World]:
    w = build_world(engine)
    yield w
    w.client.close()


def test_an_opening_balance_reversed_can_be_recorded_again_right(world: World) -> None:
    w = world
    # given an opening balance keyed wrongly (a deficit entered as a surplus)
    wrong = w.post(
        "admin",
        "/v1/pools/eq/opening-balance",
        {"year": "2025-26", "amount": "1500.00", "note": "brought forward"},
    )
    assert wrong.status_code == 201, wrong.text
    # when it is reversed and the right one recorded
    reversal = w.post(
        "admin",
        f"/v1/events/{wrong.json()['event_id']}/reversal",
        {"reason": "keyed as a surplus; it was a deficit"},
    )
    assert reversal.status_code == 201, reversal.text
    right = w.post(
        "admin",
        "/v1/pools/eq/opening-balance",
        {"year": "2025-26", "amount": "-1500.00", "note": "deficit brought forward"},
    )
    # then the right one is accepted and the balances show it alone
    assert right.status_code == 201, right.text
    pool = w.get("board", "/v1/pools/eq/balances", year="2025-26").json()["pool"]
    assert pool["opening_balance"] == "-1500.00"
    assert pool["balance"] == "-1500.00"
    # and a second one, while the right one stands, is still refused
    again = w.post(
        "admin",
        "/v1/pools/eq/opening-balance",
        {"year": "2025-26", "amount": "-1.00", "note": "again"},
    )
    assert again.status_code == 409, again.text
    assert "reverse it first" in again.json()["detail"]
    assert check(w.engine).ok


@dataclass(frozen=True)
class Kind:
    """A reversible kind of fact: who posts it, where, what (and what it needs first)."""

    who: str
    path: str
    body: dict[str, Any]
    setup: tuple[tuple[str, str, dict[str, Any]], ...] = ()
    figure: Callable[[World], Any] | None = None  # read after the repost
    expected: Any = None  # the figure with the fact counted once


def _pool(w: World) -> dict[str, Any]:
    return dict(w.get("board", "/v1/pools/eq/balances", year="2025-26").json()["pool"])


def _partner(w: World, pid: str) -> dict[str, Any]:
    partners = w.get("board", "/v1/pools/eq/balances", year="2025-26").json()["partners"]
    return dict(next(p for p in partners if p["partner_id"] == pid))


PAID = ("city", "/v1/pools/eq/contributions", contribution("city", "1000.00"))
SPENT = ("ncc", "/v1/pools/eq/expenditures", spend("100.00"))
ASSESSED = {
    "service_id": "hc-north-q2",
    "outcome_id": "independence",
    "period": "2025-26-Q2",
    "met": True,
    "assessed_on": "2025-10-10",
}
RESULT = {
    "scheme_id": "rapid-response",
    "period": "2025-26-Q2",
    "costs": {"ncc": "300000.00"},
    "savings": {"icb-a": "500000.00"},
}
KINDS: dict[str, Kind] = {
    "plan_agreed": Kind(
        "admin",
        "PUT /v1/pools/eq/years/2025-26/plan",
        PLAN,
        (),
        lambda w: _pool(w)["planned"],
        "3500000.00",
    ),
    "opening_balance_recorded": Kind(
        "admin",
        "/v1/pools/eq/opening-balance",
        {"year": "2025-26", "amount": "-1500.00", "note": "deficit"},
        (),
        lambda w: _pool(w)["opening_balance"],
        "-1500.00",
    ),
    "contribution_posted": Kind(
        "city",
        "/v1/pools/eq/contributions",
        contribution("city", "100.00"),
        (),
        lambda w: _pool(w)["income"],
        "100.00",
    ),
    "contribution_refunded": Kind(
        "ncc",
        "/v1/pools/eq/refunds",
        contribution("city", "1.00"),
        (PAID,),
        lambda w: _pool(w)["income"],
        "999.00",
    ),
    "expenditure_recorded": Kind(
        "ncc",
        "/v1/pools/eq/expenditures",
        spend("100.00"),
        (),
        lambda w: _pool(w)["spend"],
        "100.00",
    ),
    "expenditure_credited": Kind(
        "ncc",
        "/v1/pools/eq/credits",
        spend("1.00"),
        (SPENT,),
        lambda w: _pool(w)["spend"],
        "99.00",
    ),
    "transfer_posted": Kind(
        "city",
        "/v1/transfers",
        {
            "pool_id": "eq",
            "from": {"partner_id": "city"},
            "to": {"partner_id": "ncc"},
            "amount": "10.00",
            "purpose": "other",
            "effective_date": "2025-08-01",
            "reference": "TR-1",
        },
        (),
        lambda w: _partner(w, "city")["transfers_out"],
        "10.00",
    ),
    "forecast_recorded": Kind(
        "ncc",
        "/v1/pools/eq/forecasts",
        {"year": "2025-26", "amount": "3400000.00", "as_of_date": "2025-09-30"},
        (),
        lambda w: (_pool(w)["outturn"], _pool(w)["outturn_basis"]),
        ("3400000.00", "forecast"),
    ),
    "risk_reward_result_recorded": Kind("ncc", "/v1/pools/eq/risk-reward-results", RESULT),
    "population_recorded": Kind(
        "ncc",
        "/v1/pools/eq/populations",
        {"unit_id": "north", "cohort": "65-84", "count": 15000, "effective_date": "2025-04-01"},
    ),
    "outcome_assessed": Kind("ncc", "/v1/pools/eq/outcome-assessments", ASSESSED),
    "metric_recorded": Kind(
        "ncc",
        "/v1/pools/eq/metrics",
        {"metric_id": "falls-admissions", "period": "2025-26-Q2", "target": "100", "actual": "96"},
    ),
}


def test_every_reversible_kind_is_in_the_table() -> None:
    assert set(KINDS) == {k for k, cls in EVENT_TYPES.items() if cls.reversible}


def _send(w: World, who: str, path: str, body: dict[str, Any]) -> Any:
    if path.startswith("PUT "):
        return w.client.put(path[4:], json=body, headers=w.auth(who))
    return w.post(who, path, body)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_reversible_fact_can_be_reversed_and_posted_again(world: World, kind: str) -> None:
    w, k = world, KINDS[kind]
    for who, path, body in k.setup:
        assert _send(w, who, path, body).status_code == 201
    # given the fact posted, when it is reversed and posted again, each step is accepted
    first = _send(w, k.who, k.path, k.body)
    assert first.status_code == 201, first.text
    assert first.json()["type"] == kind
    reversed_ = w.post("admin", f"/v1/events/{first.json()['event_id']}/reversal", {"reason": "x"})
    assert reversed_.status_code == 201, reversed_.text
    again = _send(w, k.who, k.path, k.body)
    assert again.status_code == 201, again.text
    # then the figure counts the fact once, and the stored state and read models are
    # what a replay of the events gives
    if k.figure is not None:
        assert k.figure(w) == k.expected
    assert check(w.engine).ok
    assert compare_with_rebuild(w.engine) == []

"""A trace read through a date (issue 12): the API's ``trace=`` with ``through=`` and the
board's trace page with ``through`` (where a quarter view's links lead) list only the
events effective by that date, each with its signed amount, and those amounts sum to
the figure read through the same date."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.api_support import World, build_world, contribution, database, spend
from tests.e2e.test_board_pages import sign_in
from tests.e2e.test_traces_add_up import MINUS, TRACE, api_sum, board_trace, money, new_pool

THROUGH = "2025-06-30"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path
) -> Iterator[World]:
    with database(request.param, tmp_path_factory.mktemp("through"), sqlite_template) as db:
        w = build_world(db)
        sign_in(w.client, w.secrets["board"])
        yield w
        w.client.close()


def _post(w: World, who: str, path: str, body: dict[str, Any]) -> None:
    r = w.post(who, path, body)
    assert r.status_code == 201, r.text


@pytest.fixture(scope="module")
def pool(world: World) -> str:
    w = world
    pool = new_pool(w)
    _post(
        w, "city", f"/v1/pools/{pool}/contributions", contribution("city", "1000.00", "2025-05-01")
    )
    _post(w, "ncc", f"/v1/pools/{pool}/contributions", contribution("ncc", "250.00", "2025-06-30"))
    _post(
        w, "city", f"/v1/pools/{pool}/contributions", contribution("city", "400.00", "2025-07-01")
    )
    refund = {**contribution("city", "100.00", "2025-08-01"), "reference": "Refund"}
    _post(w, "ncc", f"/v1/pools/{pool}/refunds", refund)
    _post(w, "ncc", f"/v1/pools/{pool}/expenditures", spend("300.00", "2025-06-15"))
    _post(w, "ncc", f"/v1/pools/{pool}/expenditures", spend("50.00", "2025-09-01"))
    # a correction in July of June's spend: effective in June, so it counts through June
    late = w.post("ncc", f"/v1/pools/{pool}/expenditures", spend("20.00", "2025-06-20"))
    _post(w, "ncc", f"/v1/events/{late.json()['events'][0]['event_id']}/reversal", {"reason": "x"})
    return pool


def api_trace_through(w: World, pool: str, figure: str) -> dict[str, Any]:
    r = w.get("board", f"/v1/pools/{pool}/balances", year="2025-26", through=THROUGH, trace=figure)
    assert r.status_code == 200, r.text
    trace: dict[str, Any] = r.json()["trace"]
    return trace


@pytest.mark.parametrize(
    ("figure", "amounts", "value"),
    [
        ("pool:income", ["1000.00", "250.00"], "1250.00"),
        ("partner:city:received", ["1000.00"], "1000.00"),
        ("pool:spend", ["300.00", "20.00", "-20.00"], "300.00"),
        ("pool:balance", ["1000.00", "250.00", "-300.00", "-20.00", "20.00"], "950.00"),
        ("partner:ncc:received", ["250.00"], "250.00"),
    ],
)
def test_the_api_trace_through_30_june_lists_only_events_effective_by_then_and_adds_up(
    world: World, pool: str, figure: str, amounts: list[str], value: str
) -> None:
    trace = api_trace_through(world, pool, figure)
    assert [e["amount"] for e in trace["events"]] == amounts
    assert all(e["effective_date"] <= THROUGH for e in trace["events"])
    assert trace["value"] == value
    assert api_sum(trace) == money(value)


def test_without_through_the_trace_lists_the_whole_year(world: World, pool: str) -> None:
    r = world.get("board", f"/v1/pools/{pool}/balances", year="2025-26", trace="pool:income")
    trace = r.json()["trace"]
    assert [e["amount"] for e in trace["events"]] == ["1000.00", "250.00", "400.00", "-100.00"]
    assert trace["value"] == "1550.00"


@pytest.mark.parametrize(
    ("figure", "amounts", "value"),
    [
        ("pool:income", ["£1,000.00", "£250.00"], "1250.00"),
        (
            "pool:balance",
            ["£1,000.00", "£250.00", f"{MINUS}£300.00", f"{MINUS}£20.00", "£20.00"],
            "950.00",
        ),
        ("stream:contribution:received", ["£1,000.00", "£250.00"], "1250.00"),
    ],
)
def test_the_board_trace_page_honours_through_and_adds_up(
    world: World, pool: str, figure: str, amounts: list[str], value: str
) -> None:
    w = world
    got_value, total, listed = board_trace(w, pool, figure, through=THROUGH)
    assert listed == amounts
    assert got_value == total == money(value)
    page = w.client.get(TRACE.format(pool=pool), params={"figure": figure, "through": THROUGH})
    assert "through 30 June 2025" in page.text

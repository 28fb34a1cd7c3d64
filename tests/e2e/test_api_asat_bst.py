"""A plain date as an as-at means the end of that day in London, in summer time too.

On 30 September 2025 London keeps BST (UTC+1), so that London day ends at 23:00 UTC,
not at midnight UTC: a posting recorded at 22:30 UTC is in ``as_at=2025-09-30`` and one
recorded at 23:30 UTC (00:30 on 1 October in London) is not.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine

from ledger.clock import FixedClock
from tests.e2e.api_support import World, build_world, contribution


@pytest.fixture
def world(engine: Engine) -> Iterator[World]:
    w = build_world(engine, clock=FixedClock(datetime(2025, 9, 30, 20, 0, tzinfo=UTC)))
    yield w
    w.client.close()


def income(w: World, as_at: str) -> str:
    r = w.get("board", "/v1/pools/eq/balances", year="2025-26", as_at=as_at)
    assert r.status_code == 200, r.text
    income: str = r.json()["pool"]["income"]
    return income


def test_a_bst_date_as_at_ends_at_2300_utc(world: World) -> None:
    w = world
    # given a posting recorded at 22:30 UTC (23:30 in London) on 30 September
    w.clock.advance(hours=2, minutes=30)
    assert w.post("city", "/v1/pools/eq/contributions", contribution("city", "10")).is_success
    # and one recorded at 23:30 UTC (00:30 on 1 October in London)
    w.clock.advance(hours=1)
    assert w.post("city", "/v1/pools/eq/contributions", contribution("city", "5")).is_success

    # then the London day of 30 September holds the first only
    assert income(w, "2025-09-30") == "10.00"
    assert income(w, "2025-10-01") == "15.00"
    # and an instant names UTC exactly, whatever London's clocks say
    assert income(w, "2025-09-30T23:00:00Z") == "10.00"
    assert income(w, "2025-09-30T23:30:00Z") == "15.00"
    assert income(w, "2025-09-30T22:29:59Z") == "0.00"


def test_a_gmt_date_as_at_ends_at_midnight_utc(world: World) -> None:
    w = world
    # given postings either side of midnight UTC on 1 November (GMT: London = UTC)
    w.clock.advance(days=32, hours=3, minutes=30)  # 2025-11-01T23:30Z
    assert w.post("city", "/v1/pools/eq/contributions", contribution("city", "7")).is_success
    w.clock.advance(hours=1)  # 2025-11-02T00:30Z
    assert w.post("city", "/v1/pools/eq/contributions", contribution("city", "3")).is_success

    assert income(w, "2025-11-01") == "7.00"
    assert income(w, "2025-11-02") == "10.00"

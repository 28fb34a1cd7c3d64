"""Who owes what through the API: a hand-worked pool on 20 November 2025."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine

from ledger.clock import FixedClock
from tests.e2e.api_support import PLAN, World, build_world, contribution

TODAY = FixedClock(datetime(2025, 11, 20, 12, 0, tzinfo=UTC))


@pytest.fixture
def world(engine: Engine) -> Iterator[World]:
    """Plan: ncc 2,000,000.00 and city 1,000,000.00 quarterly (the default), icb-a
    500,000.00 monthly. city paid Q1's 250,000.00 and 100,000.50 towards Q2 (and
    10,000.00 it reversed); ncc paid the whole year in April; icb-a nothing."""
    w = build_world(engine, clock=FixedClock(TODAY.now()))
    plan = {**PLAN, "contribution_schedules": [{"partner_id": "icb-a", "frequency": "monthly"}]}
    r = w.client.put("/v1/pools/eq/years/2025-26/plan", json=plan, headers=w.auth("admin"))
    assert r.status_code == 201, r.text
    for who, body in (
        ("city", contribution("city", "250000.00", on="2025-04-03")),
        ("city", contribution("city", "100000.50", on="2025-07-10", reference="BACS 4471")),
        ("ncc", contribution("ncc", "2000000.00", on="2025-04-01")),
    ):
        assert w.post(who, "/v1/pools/eq/contributions", body).status_code == 201
    r = w.post("city", "/v1/pools/eq/contributions", contribution("city", "10000", on="2025-08-01"))
    r = w.post("city", f"/v1/events/{r.json()['event_id']}/reversal", {"reason": "bounced"})
    assert r.status_code == 201, r.text
    yield w
    w.client.close()


def by_partner(body: dict[str, object]) -> dict[str, dict[str, object]]:
    return {p["partner_id"]: p for p in body["partners"]}  # type: ignore[attr-defined,index]


def test_a_partner_two_instalments_behind_shows_its_overdue_amounts_aged(world: World) -> None:
    r = world.get("board", "/v1/pools/eq/receivables", year="2025-26")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["through"] == "2025-11-20"  # the clock's London date
    city = by_partner(body)["city"]
    assert (city["due_to_date"], city["received_to_date"]) == ("750000.00", "350000.50")
    assert (city["overdue"], city["days_overdue"]) == ("399999.50", 142)
    assert city["ageing"] == {
        "0-30": "0.00",
        "31-60": "250000.00",
        "61-90": "0.00",
        "over_90": "149999.50",
    }
    # traceable: the instalments and the receipts behind the figures
    assert [(i["due_date"], i["unpaid"], i["bucket"]) for i in city["instalments"]] == [
        ("2025-04-01", "0.00", None),
        ("2025-07-01", "149999.50", "over_90"),
        ("2025-10-01", "250000.00", "31-60"),
        ("2026-01-01", "250000.00", None),
    ]
    assert [(x["amount"], x["reversal"], x["reference"]) for x in city["receipts"]] == [
        ("250000.00", False, "BACS city 250000.00"),
        ("100000.50", False, "BACS 4471"),
        ("10000.00", False, "BACS city 10000"),
        ("-10000.00", True, "bounced"),
    ]
    assert body["plan_position"] is not None


def test_monthly_instalments_and_a_partner_in_credit(world: World) -> None:
    parts = by_partner(world.get("city", "/v1/pools/eq/receivables", year="2025-26").json())
    icb = parts["icb-a"]
    assert (icb["frequency"], icb["due_to_date"], icb["overdue"]) == (
        "monthly",
        "333333.36",
        "333333.36",
    )
    assert icb["ageing"]["over_90"] == "208333.35"
    ncc = parts["ncc"]
    assert (ncc["overdue"], ncc["outstanding"]) == ("0.00", "-500000.00")


def test_through_and_as_at_name_the_date_counted_to(world: World) -> None:
    w = world
    city = by_partner(
        w.get("board", "/v1/pools/eq/receivables", year="2025-26", through="2025-07-01").json()
    )["city"]
    assert (city["due_to_date"], city["overdue"], city["days_overdue"]) == (
        "500000.00",
        "0.00",
        0,
    )
    # (July's instalment is due, not late, on its due day)
    # as at before the payments nothing had been received
    head = w.head()
    early = w.get(
        "board", "/v1/pools/eq/receivables", year="2025-26", as_at=f"position:{head - 5}"
    ).json()
    assert early["through"] == "2025-11-20"
    assert by_partner(early)["city"]["received_to_date"] == "0.00"


def test_a_schedule_for_a_partner_without_a_planned_contribution_is_refused(
    world: World,
) -> None:
    plan = {**PLAN, "contribution_schedules": [{"partner_id": "trust", "frequency": "monthly"}]}
    r = world.client.put("/v1/pools/eq/years/2025-26/plan", json=plan, headers=world.auth("admin"))
    assert r.status_code == 422
    assert "contribution_schedules[0].partner_id" in r.text
    plan = {**PLAN, "contribution_schedules": [{"partner_id": "city", "day_of_month": 31}]}
    r = world.client.put("/v1/pools/eq/years/2025-26/plan", json=plan, headers=world.auth("admin"))
    assert r.status_code == 422
    assert "day_of_month" in r.text


def test_the_schedule_reads_back_with_the_plan(world: World) -> None:
    body = world.get("ncc", "/v1/pools/eq/years/2025-26/plan").json()
    assert body["plan"]["contribution_schedules"] == [
        {"partner_id": "icb-a", "frequency": "monthly", "day_of_month": 1}
    ]

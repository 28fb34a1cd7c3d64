"""Finding postings: filters, officers' scope, paging, as-at, CSV; and reading the plan."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine

from tests.e2e.api_support import PLAN, World, build_world, contribution, spend


@pytest.fixture
def world(engine: Engine) -> Iterator[World]:
    """Pool ``eq`` (host ncc; city, icb-a) with, in order:
    city 1500.00 "BACS 4471" (Jul), icb-a 500.00 (Aug), ncc posting ncc's 2000.00,
    ncc's spend 1600.01, city's transfer of 75.00 to icb-a, and icb-a's 500.00 reversed."""
    w = build_world(engine)
    ok = [
        w.post(
            "city",
            "/v1/pools/eq/contributions",
            contribution("city", "1500", reference="BACS 4471"),
        ),
        w.post(
            "icb-a", "/v1/pools/eq/contributions", contribution("icb-a", "500", on="2025-08-01")
        ),
        w.post("ncc", "/v1/pools/eq/contributions", contribution("ncc", "2000", on="2025-09-01")),
        w.post("ncc", "/v1/pools/eq/expenditures", spend("1600.01")),
        w.post(
            "city",
            "/v1/transfers",
            {
                "pool_id": "eq",
                "from": {"partner_id": "city"},
                "to": {"partner_id": "icb-a"},
                "amount": "75.00",
                "purpose": "other",
                "effective_date": "2025-08-15",
                "reference": '=HYPERLINK("x")',
            },
        ),
    ]
    assert all(r.status_code == 201 for r in ok), [r.text for r in ok]
    icb_event = ok[1].json()["event_id"]
    r = w.post("icb-a", f"/v1/events/{icb_event}/reversal", {"reason": "paid twice"})
    assert r.status_code == 201, r.text
    yield w
    w.client.close()


def listed(w: World, who: str, **params: Any) -> list[dict[str, Any]]:
    r = w.get(who, "/v1/pools/eq/postings", **params)
    assert r.status_code == 200, r.text
    return list(r.json()["postings"])


def summary(postings: list[dict[str, Any]]) -> list[tuple[str, str | None, str]]:
    return [(p["kind"], p["partner_id"], p["amount"]) for p in postings]


def test_a_board_member_sees_every_posting_of_the_pool_each_with_its_reference(
    world: World,
) -> None:
    found = listed(world, "board")
    assert summary(found) == [
        ("contribution", "city", "1500.00"),
        ("contribution", "icb-a", "500.00"),
        ("contribution", "ncc", "2000.00"),
        ("expenditure", None, "1600.01"),
        ("transfer", "city", "75.00"),
    ]
    assert [p["reference"] for p in found] == [
        "BACS 4471",
        "BACS icb-a 500",
        "BACS ncc 2000",
        "INV 1600.01",
        '=HYPERLINK("x")',
    ]
    assert [p["reversed"] for p in found] == [False, True, False, False, False]
    assert found[4]["counterparty_id"] == "icb-a"
    assert listed(world, "auditor") == found


def test_an_officer_sees_exactly_its_own_partners_postings(world: World) -> None:
    # city: its contribution and the transfer it paid; not icb-a's, ncc's nor the spend
    assert summary(listed(world, "city")) == [
        ("contribution", "city", "1500.00"),
        ("transfer", "city", "75.00"),
    ]
    # icb-a: its (reversed) contribution and the transfer it received
    assert summary(listed(world, "icb-a")) == [
        ("contribution", "icb-a", "500.00"),
        ("transfer", "city", "75.00"),
    ]
    # the host's officer sees the pool's
    assert len(listed(world, "ncc")) == 5


def test_an_officer_of_a_partner_outside_the_pool_is_refused(world: World) -> None:
    r = world.get("trust", "/v1/pools/eq/postings")
    assert r.status_code == 403
    assert r.headers["content-type"].startswith("application/problem+json")


def test_a_reference_search_finds_bacs_4471_in_any_case(world: World) -> None:
    found = listed(world, "board", reference="bacs 4471")
    assert summary(found) == [("contribution", "city", "1500.00")]
    assert found[0]["reference"] == "BACS 4471"
    # a LIKE wildcard in the search is text, not a pattern
    assert listed(world, "board", reference="BACS%") == []


def test_a_trace_entry_carries_the_reference_the_postings_search_finds(world: World) -> None:
    r = world.get("board", "/v1/pools/eq/balances", year="2025-26", trace="partner:city:received")
    assert r.status_code == 200, r.text
    (entry,) = r.json()["trace"]["events"]
    assert (entry["amount"], entry["reference"]) == ("1500.00", "BACS 4471")
    # the same posting, found by its reference, is the traced event
    (found,) = listed(world, "board", reference="BACS 4471")
    assert found["event_id"] == entry["event_id"]
    # an event without a reference (a plan) has none in a trace
    planned = world.get("board", "/v1/pools/eq/balances", year="2025-26", trace="pool:planned")
    assert [e["reference"] for e in planned.json()["trace"]["events"]] == [None]


def test_filters_narrow_the_list(world: World) -> None:
    w = world
    assert summary(listed(w, "board", kind="expenditure")) == [("expenditure", None, "1600.01")]
    assert len(listed(w, "board", kind=["contribution", "transfer"])) == 4
    assert summary(listed(w, "board", partner="icb-a")) == [
        ("contribution", "icb-a", "500.00"),
        ("transfer", "city", "75.00"),
    ]
    assert summary(listed(w, "board", scheme="equipment")) == [("expenditure", None, "1600.01")]
    assert len(listed(w, "board", funding_stream="contribution")) == 4
    assert summary(listed(w, "board", effective_from="2025-08-01", effective_to="2025-08-31")) == [
        ("contribution", "icb-a", "500.00"),
        ("transfer", "city", "75.00"),
    ]
    assert summary(listed(w, "board", amount_min="500", amount_max="1600.01")) == [
        ("contribution", "city", "1500.00"),
        ("contribution", "icb-a", "500.00"),
        ("expenditure", None, "1600.01"),
    ]
    assert summary(listed(w, "board", reversed="true")) == [("contribution", "icb-a", "500.00")]
    assert len(listed(w, "board", reversed="false")) == 4
    assert len(listed(w, "board", year="2025-26")) == 5
    assert listed(w, "board", year="2024-25") == []
    # everything was recorded on 23 November 2026 (the world's fixed clock)
    assert len(listed(w, "board", recorded_from="2026-11-23", recorded_to="2026-11-23")) == 5
    assert listed(w, "board", recorded_from="2026-11-24") == []
    assert listed(w, "board", recorded_to="2026-11-23T08:59:59Z") == []


def test_bad_filters_are_refused_naming_the_field(world: World) -> None:
    for params, field in (
        ({"kind": "gift"}, "kind"),
        ({"amount_min": "1.234"}, "amount_min"),
        ({"recorded_from": "yesterday"}, "recorded_from"),
        ({"effective_from": "2025-02-30"}, "effective_from"),
    ):
        r = world.get("board", "/v1/pools/eq/postings", **params)
        assert r.status_code == 422, (params, r.text)
        assert field in r.text, (params, r.text)


def test_pages_follow_the_cursor_to_the_end(world: World) -> None:
    w = world
    first = w.get("board", "/v1/pools/eq/postings", limit=2).json()
    assert [p["amount"] for p in first["postings"]] == ["1500.00", "500.00"]
    second = w.get("board", "/v1/pools/eq/postings", limit=2, after=first["next_after"]).json()
    assert [p["amount"] for p in second["postings"]] == ["2000.00", "1600.01"]
    third = w.get("board", "/v1/pools/eq/postings", limit=2, after=second["next_after"]).json()
    assert [p["amount"] for p in third["postings"]] == ["75.00"]
    assert third["next_after"] is None


def test_as_at_a_past_position_the_reversal_had_not_happened(world: World) -> None:
    w = world
    head = w.head()
    before_reversal = listed(w, "board", as_at=f"position:{head - 1}")
    assert [p["reversed"] for p in before_reversal] == [False] * 5
    before_transfer = listed(w, "board", as_at=f"position:{head - 2}")
    assert len(before_transfer) == 4


def test_csv_lists_the_same_postings_with_formulae_neutralised(world: World) -> None:
    w = world
    for r in (
        w.client.get("/v1/pools/eq/postings.csv", headers=w.auth("city")),
        w.client.get("/v1/pools/eq/postings", headers={**w.auth("city"), "Accept": "text/csv"}),
    ):
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(r.text)))
        assert [(x["kind"], x["amount"], x["reference"]) for x in rows] == [
            ("contribution", "1500.00", "BACS 4471"),
            ("transfer", "75.00", '\'=HYPERLINK("x")'),
        ]


def test_every_role_that_reads_the_pool_reads_the_plan_as_agreed(world: World) -> None:
    w = world
    for who in ("board", "auditor", "admin", "ncc", "city"):
        r = w.get(who, "/v1/pools/eq/years/2025-26/plan")
        assert r.status_code == 200, (who, r.text)
        body = r.json()
        assert body["plan"]["contributions"] == PLAN["contributions"]
        assert body["plan"]["schemes"] == PLAN["schemes"]
        assert body["plan"]["capitation"] == PLAN["capitation"]
    assert w.get("trust", "/v1/pools/eq/years/2025-26/plan").status_code == 403
    # before the plan was agreed there was none
    early = w.get("board", "/v1/pools/eq/years/2025-26/plan", as_at="position:1").json()
    assert early["plan"] is None


def test_the_plan_read_goes_back_unchanged(world: World) -> None:
    w = world
    body = w.get("admin", "/v1/pools/eq/years/2025-26/plan").json()["plan"]
    r = w.client.put("/v1/pools/eq/years/2025-26/plan", json=body, headers=w.auth("admin"))
    assert r.status_code == 201, r.text
    again = w.get("admin", "/v1/pools/eq/years/2025-26/plan").json()["plan"]
    assert again == body

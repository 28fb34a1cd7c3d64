"""Reads: the exact shapes of api.md, as-at answers, CSV, the event log, health and the
OpenAPI document."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine

from tests.e2e.api_support import World, build_world, contribution, spend

MONEY = re.compile(r"^-?(0|[1-9][0-9]*)\.[0-9]{2}$")


@pytest.fixture
def world(engine: Engine) -> Iterator[World]:
    w = build_world(engine)
    yield w
    w.client.close()


def test_balances_have_exactly_the_shape_of_the_contract(world: World) -> None:
    w = world
    assert w.post("city", "/v1/pools/eq/contributions", contribution("city", "1500")).is_success
    assert w.post("ncc", "/v1/pools/eq/expenditures", spend("1600.01")).is_success
    b = w.get("board", "/v1/pools/eq/balances", year="2025-26").json()
    assert set(b) >= {"pool_id", "year", "as_at_position", "partners", "pool"}
    assert (b["pool_id"], b["year"], b["as_at_position"]) == ("eq", "2025-26", w.head())
    for p in b["partners"]:
        assert set(p) == {
            "partner_id",
            "planned",
            "received",
            "transfers_in",
            "transfers_out",
            "share",
            "risk_share",
            "net_obligation",
            "outstanding",
            "planned_to_date",
        }
        assert re.match(r"^[01]\.[0-9]{10}$", p["share"])
        for k in set(p) - {"partner_id", "share"}:
            assert MONEY.match(p[k]), (k, p[k])
    assert set(b["pool"]) == {
        "opening_balance",
        "planned",
        "income",
        "spend",
        "transfers_in",
        "transfers_out",
        "balance",
        "outturn",
        "outturn_basis",
        "variance",
        "to_date",
        "planned_to_date",
        "actual_to_date",
        "variance_to_date",
        "income_planned_to_date",
    }
    # a negative is written "-123.45"
    assert b["pool"]["balance"] == "-100.01"
    # spend to date is no outturn: no year variance, the to-date figures instead (as at
    # 23 November 2026 every quarter of 2025-26 has ended)
    assert b["pool"]["outturn_basis"] == "actual_to_date"
    assert b["pool"]["variance"] is None
    assert b["pool"]["to_date"] == "2026-03-31"
    assert b["pool"]["planned_to_date"] == "3500000.00"
    assert b["pool"]["actual_to_date"] == "1600.01"
    assert b["pool"]["variance_to_date"] == "-3498399.99"


def test_as_at_answers_as_the_ledger_knew_it(world: World) -> None:
    w = world
    before = w.head()
    w.clock.advance(days=1)
    assert w.post("city", "/v1/pools/eq/contributions", contribution("city", "10")).is_success

    def received(**as_at: str) -> tuple[int, str]:
        b = w.get("city", "/v1/pools/eq/balances", year="2025-26", **as_at).json()
        return b["as_at_position"], b["pool"]["income"]

    assert received() == (before + 1, "10.00")
    assert received(as_at=f"position:{before}") == (before, "0.00")
    assert received(as_at="2026-11-23") == (before, "0.00")  # the end of that London day
    assert received(as_at="2026-11-24T23:00:00Z") == (before + 1, "10.00")
    assert received(as_at="2026-11-23T09:00:00+00:00") == (before, "0.00")


def test_balances_as_csv_by_format_or_by_path(world: World) -> None:
    w = world
    assert w.post("city", "/v1/pools/eq/contributions", contribution("city", "1500")).is_success
    a = w.get("board", "/v1/pools/eq/balances", year="2025-26", format="csv")
    b = w.get("board", "/v1/pools/eq/balances.csv", year="2025-26")
    for r in (a, b):
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/csv")
        assert r.headers["x-as-at-position"] == str(w.head())
    assert a.text == b.text
    rows = list(csv.reader(io.StringIO(a.text)))
    assert rows[1][:3] == ["partner_id", "planned", "received"]
    city = next(r for r in rows if r and r[0] == "city")
    assert city[1:3] == ["1000000.00", "1500.00"]


def test_risk_share_names_the_rule_in_the_shape_of_the_plan(world: World) -> None:
    w = world
    plan = {
        "contributions": [
            {"partner_id": "ncc", "funding_stream": "contribution", "amount": "2000000.00"},
            {"partner_id": "city", "funding_stream": "contribution", "amount": "1000000.00"},
            {"partner_id": "icb-a", "funding_stream": "contribution", "amount": "500000.00"},
        ],
        "risk_share": {
            "overspend": {
                "method": "tiered",
                "tiers": [
                    {"up_to": "50000.00", "shares": {"ncc": "100"}},
                    {"up_to": None, "shares": {"ncc": "50", "city": "30", "icb-a": "20"}},
                ],
                "caps": {"icb-a": "20000.00"},
            }
        },
    }
    r = w.client.put("/v1/pools/eq/years/2025-26/plan", json=plan, headers=w.auth("admin"))
    assert r.status_code == 201, r.text
    r = w.post(
        "ncc",
        "/v1/pools/eq/forecasts",
        {"year": "2025-26", "amount": "3710000.00", "as_of_date": "2025-12-31"},
    )
    assert r.status_code == 201, r.text
    rs = w.get("auditor", "/v1/pools/eq/risk-share", year="2025-26").json()
    assert rs["variance"] == "210000.00"
    assert rs["direction"] == "overspend"
    assert rs["rule"] == plan["risk_share"]["overspend"]  # type: ignore[index]
    # worked example B
    assert {a["partner_id"]: a["amount"] for a in rs["allocations"]} == {
        "ncc": "142000.00",
        "city": "48000.00",
        "icb-a": "20000.00",
    }


def test_pools_and_partners_are_listed(world: World) -> None:
    w = world
    partners = w.get("trust", "/v1/partners").json()
    assert [p["id"] for p in partners["partners"]] == ["city", "icb-a", "ncc", "trust"]
    pool = w.get("city", "/v1/pools/eq").json()
    assert pool["host_partner_id"] == "ncc"
    assert sorted(pool["members"]) == ["city", "icb-a", "ncc"]
    assert pool["years"] == ["2025-26"]
    assert w.get("admin", "/v1/pools/nope").status_code == 404


def test_the_event_log_pages_by_position_and_filters_by_pool(world: World) -> None:
    w = world
    head = w.head()
    seen: list[int] = []
    after = 0
    while True:
        page = w.get("auditor", "/v1/events", after=after, limit=2).json()
        assert page["head_position"] == head
        seen += [e["position"] for e in page["events"]]
        if page["next_after"] is None:
            break
        after = page["next_after"]
    assert seen == list(range(1, head + 1))
    pool_only = w.get("board", "/v1/events", pool="eq", limit=1000).json()["events"]
    assert pool_only and all(e["pool_id"] == "eq" for e in pool_only)
    plan = next(e for e in pool_only if e["type"] == "plan_agreed")
    assert plan["payload"]["plan"]["contributions"][0]["amount"] == 200000000
    assert plan["fact"]["plan"]["contributions"][0]["amount"] == "2000000.00"
    assert len(plan["hash"]) == 64


def test_a_plan_write_lists_each_event_it_recorded(world: World) -> None:
    w = world
    r = w.client.put(
        "/v1/pools/eq/years/2026-27/plan",
        json={
            "contributions": [
                {"partner_id": "ncc", "funding_stream": "contribution", "amount": "17"}
            ]
        },
        headers=w.auth("admin"),
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["type"] == "plan_agreed"
    types = [e["type"] for e in body["events"]]
    assert types[-1] == "plan_agreed"
    assert body["events"][-1]["event_id"] == body["event_id"]
    assert body["plan"]["contributions"][0]["amount"] == "17.00"


def test_health_reports_the_database(world: World) -> None:
    r = world.client.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "database": "ok", "head_position": world.head()}


API_MD_ROUTES = {
    ("post", "/v1/partners"),
    ("get", "/v1/partners"),
    ("post", "/v1/pools"),
    ("get", "/v1/pools"),
    ("get", "/v1/pools/{pool}"),
    ("post", "/v1/pools/{pool}/members"),
    ("put", "/v1/pools/{pool}/years/{year}/plan"),
    ("post", "/v1/pools/{pool}/opening-balance"),
    ("post", "/v1/pools/{pool}/contributions"),
    ("post", "/v1/pools/{pool}/refunds"),
    ("post", "/v1/pools/{pool}/expenditures"),
    ("post", "/v1/pools/{pool}/credits"),
    ("post", "/v1/transfers"),
    ("post", "/v1/pools/{pool}/forecasts"),
    ("post", "/v1/pools/{pool}/risk-reward-results"),
    ("post", "/v1/pools/{pool}/populations"),
    ("post", "/v1/pools/{pool}/outcome-assessments"),
    ("post", "/v1/pools/{pool}/metrics"),
    ("post", "/v1/events/{event_id}/reversal"),
    ("post", "/v1/pools/{pool}/periods/{quarter}/close"),
    ("post", "/v1/pools/{pool}/years/{year}/settle"),
    ("get", "/v1/pools/{pool}/balances"),
    ("get", "/v1/pools/{pool}/risk-share"),
    ("get", "/v1/pools/{pool}/risk-reward"),
    ("get", "/v1/pools/{pool}/capitation"),
    ("get", "/v1/pools/{pool}/outcome-payments"),
    ("get", "/v1/pools/{pool}/metrics"),
    ("get", "/v1/events"),
    ("get", "/v1/verify"),
    ("get", "/healthz"),
    ("post", "/v1/pools/{pool}/imports"),
    ("get", "/v1/pools/{pool}/balances.csv"),
}


def _resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def test_the_openapi_document_describes_every_route_with_examples(world: World) -> None:
    doc = world.client.get("/openapi.json").json()
    ops = {(m, p): op for p, item in doc["paths"].items() for m, op in item.items()}
    assert set(ops) >= API_MD_ROUTES
    missing: list[str] = []
    for (method, path), op in ops.items():
        if (method, path) not in API_MD_ROUTES:
            continue
        body = op.get("requestBody", {}).get("content", {})
        for media, spec in body.items():
            schema = _resolve(doc, spec.get("schema", {}))
            if not (spec.get("example") or spec.get("examples") or schema.get("examples")):
                missing.append(f"{method} {path} request {media}")
        ok = next(r for s, r in op["responses"].items() if s.startswith("2"))
        for media, spec in ok.get("content", {}).items():
            schema = _resolve(doc, spec.get("schema", {}))
            documented = spec.get("example") or spec.get("examples") or schema.get("examples")
            if media == "application/json" and not documented:
                missing.append(f"{method} {path} response {media}")
        for status, r in op["responses"].items():
            if status.startswith("4"):
                assert "application/problem+json" in r.get("content", {}), (method, path, status)
        for param in op.get("parameters", []):
            documented = (
                param.get("example") or param.get("examples") or param["schema"].get("examples")
            )
            if param["in"] in ("query", "path") and not documented:
                missing.append(f"{method} {path} parameter {param['name']}")
    assert missing == []


def test_a_figure_traces_to_the_events_behind_it(world: World) -> None:
    w = world
    first = w.post("city", "/v1/pools/eq/contributions", contribution("city", "100")).json()
    second = w.post("ncc", "/v1/pools/eq/contributions", contribution("city", "50")).json()
    w.post("ncc", "/v1/pools/eq/contributions", contribution("ncc", "7"))
    undo = w.post(
        "city", f"/v1/events/{first['event_id']}/reversal", {"reason": "duplicate"}
    ).json()
    b = w.get(
        "auditor", "/v1/pools/eq/balances", year="2025-26", trace="partner:city:received"
    ).json()
    t = b["trace"]
    assert t["figure"] == "partner:city:received"
    assert t["value"] == "50.00"
    # the reversed posting and its reversal both appear: they cancel in the figure
    assert t["positions"] == [first["position"], second["position"], undo["position"]]
    assert [e["type"] for e in t["events"]] == [
        "contribution_posted",
        "contribution_posted",
        "event_reversed",
    ]
    assert t["events"][1]["amount"] == "50.00"
    # as at before the reversal, the trace is what the ledger knew then
    then = w.get(
        "auditor",
        "/v1/pools/eq/balances",
        year="2025-26",
        trace="pool:income",
        as_at=f"position:{second['position']}",
    ).json()["trace"]
    assert then["positions"] == [first["position"], second["position"]]
    assert then["value"] == "150.00"
    rs = w.get("auditor", "/v1/pools/eq/risk-share", year="2025-26", trace="pool:variance")
    assert rs.status_code == 200
    assert rs.json()["trace"]["positions"]

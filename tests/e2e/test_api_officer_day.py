"""A finance officer's day through the HTTP API, on SQLite and PostgreSQL: postings move
the balances at once, a posting for another partner is refused, the board reads, and
the auditor verifies the chain."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine

from ledger.store.serialization import ZERO_HASH, chain_hash
from tests.e2e.api_support import World, build_world, contribution, spend


@pytest.fixture
def world(engine: Engine) -> Iterator[World]:
    w = build_world(engine)
    yield w
    w.client.close()


def balances(w: World, who: str = "city", **params: str) -> dict[str, Any]:
    r = w.get(who, "/v1/pools/eq/balances", year="2025-26", **params)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def partner(b: dict[str, Any], pid: str) -> dict[str, Any]:
    return next(p for p in b["partners"] if p["partner_id"] == pid)  # type: ignore[no-any-return]


def test_a_finance_officers_day(world: World) -> None:
    w = world
    # morning: the city's officer posts the city's first instalment
    r = w.post("city", "/v1/pools/eq/contributions", contribution("city", "250000"), key="c-1")
    assert r.status_code == 201, r.text
    posted = r.json()
    assert posted["type"] == "contribution_posted"
    assert posted["amount"] == "250000.00"
    assert posted["partner_id"] == "city"
    assert posted["position"] == w.head()
    assert [e["event_id"] for e in posted["events"]] == [posted["event_id"]]

    # ...and the balances move at once
    b = balances(w)
    assert partner(b, "city")["received"] == "250000.00"
    assert partner(b, "city")["outstanding"] == "750000.00"
    assert b["pool"]["income"] == "250000.00"
    assert b["as_at_position"] == posted["position"]

    # the host's officer (the pooled fund manager) records spend and posts the ICB's money
    r = w.post("ncc", "/v1/pools/eq/expenditures", spend("48250.00"))
    assert r.status_code == 201, r.text
    r = w.post("ncc", "/v1/pools/eq/contributions", contribution("icb-a", "125000.50"))
    assert r.status_code == 201, r.text
    b = balances(w, "ncc")
    assert b["pool"]["spend"] == "48250.00"
    assert b["pool"]["balance"] == "326750.50"
    assert partner(b, "icb-a")["received"] == "125000.50"

    # the city's officer may not post for another partner, nor record spend: nothing is written
    head = w.head()
    r = w.post("city", "/v1/pools/eq/contributions", contribution("ncc", "10.00"))
    assert r.status_code == 403
    assert r.headers["content-type"].startswith("application/problem+json")
    r = w.post("city", "/v1/pools/eq/expenditures", spend("10.00"))
    assert r.status_code == 403
    assert w.head() == head

    # a forecast outturn of £3.6m makes a £100,000 overspend: worked example A
    r = w.post(
        "ncc",
        "/v1/pools/eq/forecasts",
        {"year": "2025-26", "amount": "3600000.00", "as_of_date": "2025-09-30"},
    )
    assert r.status_code == 201, r.text
    b = balances(w)
    assert b["pool"]["outturn"] == "3600000.00"
    assert b["pool"]["outturn_basis"] == "forecast"
    assert b["pool"]["variance"] == "100000.00"
    assert {p["partner_id"]: p["risk_share"] for p in b["partners"]} == {
        "ncc": "57142.86",
        "city": "28571.43",
        "icb-a": "14285.71",
    }
    assert partner(b, "ncc")["share"] == "0.5714285714"
    assert partner(b, "ncc")["net_obligation"] == "2057142.86"
    r = w.get("city", "/v1/pools/eq/risk-share", year="2025-26")
    assert r.status_code == 200, r.text
    assert r.json()["direction"] == "overspend"
    assert r.json()["rule"] == {"method": "proportional"}

    # a mistake corrected: the city reverses its own posting; the balances drop it
    r = w.post("city", f"/v1/events/{posted['event_id']}/reversal", {"reason": "wrong amount"})
    assert r.status_code == 201, r.text
    assert partner(balances(w), "city")["received"] == "0.00"
    # ...but as at before the reversal the ledger still shows it
    then = balances(w, as_at=f"position:{posted['position']}")
    assert partner(then, "city")["received"] == "250000.00"

    # an officer of a partner outside the pool cannot read it
    assert w.get("trust", "/v1/pools/eq/balances", year="2025-26").status_code == 403
    assert w.get("trust", "/v1/pools").json()["pools"] == []
    assert [p["id"] for p in w.get("city", "/v1/pools").json()["pools"]] == ["eq"]

    # the board reads everything and writes nothing
    assert w.get("board", "/v1/pools/eq/balances", year="2025-26").status_code == 200
    assert w.get("board", "/v1/events").status_code == 200
    assert w.post("board", "/v1/pools/eq/expenditures", spend("1.00")).status_code == 403

    # the auditor verifies the chain and recomputes it from the log
    r = w.get("auditor", "/v1/verify")
    assert r.status_code == 200
    v = r.json()
    assert v["ok"] is True
    assert v["events_checked"] == w.head()
    prev, after = ZERO_HASH, 0
    while True:
        page = w.get("auditor", "/v1/events", after=after, limit=3).json()
        for e in page["events"]:
            row = {k: e[k] for k in e if k not in ("payload", "fact")}
            row["payload"] = _canonical(e["payload"])
            assert chain_hash(prev, row) == e["hash"], e["position"]
            prev = e["hash"]
        if page["next_after"] is None:
            break
        after = page["next_after"]
    assert prev == v["head_hash"]


def _canonical(payload: object) -> str:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def test_a_closed_quarter_takes_only_prior_period_adjustments(world: World) -> None:
    w = world
    r = w.client.post("/v1/pools/eq/periods/2025-26-Q1/close", headers=w.auth("admin"))
    assert r.status_code == 201, r.text
    assert r.json()["type"] == "period_closed"
    head = w.head()
    r = w.post("city", "/v1/pools/eq/contributions", contribution("city", "10.00", "2025-05-01"))
    assert r.status_code == 409
    assert r.json()["errors"][0]["field"] == "effective_date"
    assert w.head() == head
    r = w.post(
        "city",
        "/v1/pools/eq/contributions",
        contribution("city", "10.00", "2025-05-01", prior_period_adjustment=True),
    )
    assert r.status_code == 201, r.text
    assert r.json()["prior_period_adjustment"] is True


def test_the_request_id_is_echoed_and_recorded(world: World) -> None:
    w = world
    r = w.client.post(
        "/v1/pools/eq/contributions",
        json=contribution("city", "5.00"),
        headers={**w.auth("city"), "X-Request-ID": "req-2025-07-01.001", "User-Agent": "ledgerbot"},
    )
    assert r.status_code == 201
    assert r.headers["x-request-id"] == "req-2025-07-01.001"
    logged = w.get("auditor", "/v1/events", after=w.head() - 1).json()["events"][0]
    assert logged["request_id"] == "req-2025-07-01.001"
    assert '"user_agent": "ledgerbot"' in logged["request_meta"]
    assert logged["token_id"] == w.token_ids["city"]
    # an unusable id is replaced, never stored as sent
    r = w.client.get("/v1/pools", headers={**w.auth("city"), "X-Request-ID": "bad id; drop"})
    assert r.status_code == 200
    assert len(r.headers["x-request-id"]) == 32

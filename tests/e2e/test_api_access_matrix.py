"""Who may do what: every route of api.md (but the returns and board pages, tested with
them) against every kind of caller, every cell asserted.

Callers: no token, a revoked token, admin, board, auditor, and finance officers of the
host (ncc), of a member (city) and of a partner outside the pool (trust, which hosts
another pool). Writes are permitted by the ledger's rules (403 from the domain); reads
by the API's scoping (403 for an officer outside the pool)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import Engine

from tests.e2e.api_support import World, build_world, contribution, spend

CALLERS = ("anonymous", "revoked", "admin", "board", "auditor", "ncc", "city", "trust")
UNAUTHENTICATED = ("anonymous", "revoked")


@dataclass(frozen=True)
class Route:
    name: str
    method: str
    path: Callable[[str], str]
    body: Callable[[str], Any] | None
    allowed: dict[str, int]  # caller -> status; everyone else gets `otherwise`
    otherwise: int = 403


def only(status: int, *callers: str) -> dict[str, int]:
    return dict.fromkeys(callers, status)


READ_ALL = dict.fromkeys(("admin", "board", "auditor", "ncc", "city", "trust"), 200)
READ_EQ = {**READ_ALL, "trust": 403}

TARGETS: dict[str, str] = {}  # caller -> an event city posted, for that caller to reverse

ROUTES: tuple[Route, ...] = (
    # --- writes --------------------------------------------------------------------------
    Route(
        "register partner",
        "POST",
        lambda who: "/v1/partners",
        lambda who: {"id": f"p-{who}", "name": f"Partner {who}", "kind": "voluntary_sector"},
        only(201, "admin"),
    ),
    Route(
        "establish pool",
        "POST",
        lambda who: "/v1/pools",
        lambda who: {
            "id": f"pool-{who}",
            "name": "A pool",
            "kind": "section_75",
            "host_partner_id": "ncc",
            "members": ["ncc", "city"],
        },
        only(201, "admin"),
    ),
    Route(
        "join pool",
        "POST",
        lambda who: "/v1/pools/eq/members",
        lambda who: {"partner_id": "extra"},
        only(201, "admin"),
    ),
    Route(
        "agree plan",
        "PUT",
        lambda who: "/v1/pools/eq/years/2026-27/plan",
        lambda who: {
            "contributions": [
                {"partner_id": "ncc", "funding_stream": "contribution", "amount": "100.00"}
            ]
        },
        only(201, "admin"),
    ),
    Route(
        "opening balance",
        "POST",
        lambda who: "/v1/pools/eq/opening-balance",
        lambda who: {"year": "2025-26", "amount": "-1500.00", "note": "deficit brought in"},
        only(201, "admin"),
    ),
    Route(
        "contribution",
        "POST",
        lambda who: "/v1/pools/eq/contributions",
        lambda who: contribution("city", "100.00"),
        only(201, "ncc", "city"),
    ),
    Route(
        "refund",
        "POST",
        lambda who: "/v1/pools/eq/refunds",
        lambda who: contribution("city", "1.00"),
        only(201, "ncc"),
    ),
    Route(
        "expenditure",
        "POST",
        lambda who: "/v1/pools/eq/expenditures",
        lambda who: spend("100.00"),
        only(201, "ncc"),
    ),
    Route(
        "credit",
        "POST",
        lambda who: "/v1/pools/eq/credits",
        lambda who: spend("1.00"),
        only(201, "ncc"),
    ),
    Route(
        "transfer",
        "POST",
        lambda who: "/v1/transfers",
        lambda who: {
            "pool_id": "eq",
            "from": {"partner_id": "city"},
            "to": {"partner_id": "ncc"},
            "amount": "10.00",
            "purpose": "other",
            "effective_date": "2025-08-01",
            "reference": "TR-1",
        },
        only(201, "city"),
    ),
    Route(
        "forecast",
        "POST",
        lambda who: "/v1/pools/eq/forecasts",
        lambda who: {"year": "2025-26", "amount": "3500000.00", "as_of_date": "2025-09-30"},
        only(201, "ncc"),
    ),
    Route(
        "risk/reward result",
        "POST",
        lambda who: "/v1/pools/eq/risk-reward-results",
        lambda who: {
            "scheme_id": "rapid-response",
            "period": "2025-26-Q2",
            "costs": {"ncc": "300000.00"},
            "savings": {"icb-a": "500000.00"},
        },
        only(201, "ncc"),
    ),
    Route(
        "population",
        "POST",
        lambda who: "/v1/pools/eq/populations",
        lambda who: {
            "unit_id": "north",
            "cohort": "65-84",
            "count": 15000,
            "effective_date": "2025-04-01",
        },
        only(201, "ncc"),
    ),
    Route(
        "outcome assessment",
        "POST",
        lambda who: "/v1/pools/eq/outcome-assessments",
        lambda who: {
            "service_id": "hc-north-q2",
            "outcome_id": "independence",
            "period": "2025-26-Q2",
            "met": True,
            "assessed_on": "2025-10-10",
        },
        only(201, "ncc"),
    ),
    Route(
        "metric",
        "POST",
        lambda who: "/v1/pools/eq/metrics",
        lambda who: {
            "metric_id": "falls-admissions",
            "period": "2025-26-Q2",
            "target": "100",
            "actual": "96",
        },
        only(201, "ncc"),
    ),
    Route(
        "reversal",
        "POST",
        lambda who: f"/v1/events/{TARGETS[who]}/reversal",
        lambda who: {"reason": "posted twice"},
        only(201, "admin", "city"),
    ),
    Route(
        "close quarter",
        "POST",
        lambda who: "/v1/pools/eq/periods/2025-26-Q1/close",
        None,
        only(201, "admin"),
    ),
    Route(
        "settle year",
        "POST",
        lambda who: "/v1/pools/eq/years/2025-26/settle",
        None,
        only(422, "admin"),  # allowed, but Q4 is not closed: a rule, not a permission
    ),
    # --- reads ---------------------------------------------------------------------------
    Route("list partners", "GET", lambda who: "/v1/partners", None, READ_ALL),
    Route("list pools", "GET", lambda who: "/v1/pools", None, READ_ALL),
    Route("pool detail", "GET", lambda who: "/v1/pools/eq", None, READ_EQ),
    Route(
        "other pool detail",
        "GET",
        lambda who: "/v1/pools/other",
        None,
        {**READ_ALL, "ncc": 403, "city": 403},
    ),
    Route("balances", "GET", lambda who: "/v1/pools/eq/balances?year=2025-26", None, READ_EQ),
    Route(
        "balances csv",
        "GET",
        lambda who: "/v1/pools/eq/balances.csv?year=2025-26",
        None,
        READ_EQ,
    ),
    Route(
        "balances of the other pool",
        "GET",
        lambda who: "/v1/pools/other/balances?year=2025-26",
        None,
        {**READ_ALL, "ncc": 403, "city": 403},
    ),
    Route("risk share", "GET", lambda who: "/v1/pools/eq/risk-share?year=2025-26", None, READ_EQ),
    Route(
        "risk/reward",
        "GET",
        lambda who: "/v1/pools/eq/risk-reward?period=2025-26-Q2",
        None,
        READ_EQ,
    ),
    Route("capitation", "GET", lambda who: "/v1/pools/eq/capitation?year=2025-26", None, READ_EQ),
    Route(
        "outcome payments",
        "GET",
        lambda who: "/v1/pools/eq/outcome-payments?period=2025-26-Q2",
        None,
        READ_EQ,
    ),
    Route("metrics", "GET", lambda who: "/v1/pools/eq/metrics?period=2025-26-Q2", None, READ_EQ),
    Route("postings", "GET", lambda who: "/v1/pools/eq/postings", None, READ_EQ),
    Route("postings csv", "GET", lambda who: "/v1/pools/eq/postings.csv", None, READ_EQ),
    Route(
        "postings of the other pool",
        "GET",
        lambda who: "/v1/pools/other/postings",
        None,
        {**READ_ALL, "ncc": 403, "city": 403},
    ),
    Route("plan", "GET", lambda who: "/v1/pools/eq/years/2025-26/plan", None, READ_EQ),
    Route("receivables", "GET", lambda who: "/v1/pools/eq/receivables?year=2025-26", None, READ_EQ),
    # officers find their own postings under /postings; the log (every pool's events,
    # with other users' request details) stays with auditors and the board
    Route("event log", "GET", lambda who: "/v1/events", None, only(200, "auditor", "board")),
    Route("verify", "GET", lambda who: "/v1/verify", None, only(200, "auditor")),
)


@pytest.fixture
def world(engine: Engine) -> Iterator[World]:
    w = build_world(engine)
    r = w.post(
        "admin", "/v1/partners", {"id": "extra", "name": "Extra", "kind": "voluntary_sector"}
    )
    assert r.status_code == 201, r.text
    r = w.post(
        "admin",
        "/v1/pools",
        {
            "id": "other",
            "name": "Another pool",
            "kind": "section_75",
            "host_partner_id": "trust",
            "members": ["trust", "icb-a"],
        },
    )
    assert r.status_code == 201, r.text
    for who in CALLERS:
        r = w.post("city", "/v1/pools/eq/contributions", contribution("city", "7.00"))
        assert r.status_code == 201, r.text
        TARGETS[who] = r.json()["event_id"]
    yield w
    w.client.close()


def _headers(w: World, who: str) -> dict[str, str]:
    if who == "anonymous":
        return {}
    return w.auth(who)


def test_every_caller_on_every_route_gets_the_answer_its_role_allows(world: World) -> None:
    w = world
    wrong: list[str] = []
    cells = 0
    for route in ROUTES:
        for who in CALLERS:
            expected = 401 if who in UNAUTHENTICATED else route.allowed.get(who, route.otherwise)
            before = w.head()
            body = route.body(who) if route.body is not None else None
            r = w.client.request(route.method, route.path(who), json=body, headers=_headers(w, who))
            cells += 1
            if r.status_code != expected:
                got = f"{r.status_code} (expected {expected}) {r.text[:160]}"
                wrong.append(f"{route.name} as {who}: {got}")
                continue
            if expected >= 400:
                if not r.headers["content-type"].startswith("application/problem+json"):
                    wrong.append(f"{route.name} as {who}: not problem+json")
                if w.head() != before:
                    wrong.append(f"{route.name} as {who}: a refused request wrote something")
            if expected == 401 and "Bearer" not in r.headers.get("www-authenticate", ""):
                wrong.append(f"{route.name} as {who}: 401 without WWW-Authenticate")
            if expected == 201 and w.head() == before:
                wrong.append(f"{route.name} as {who}: 201 but nothing written")
    assert cells == len(ROUTES) * len(CALLERS)
    assert wrong == []


def test_health_needs_no_token(world: World) -> None:
    r = world.client.get("/healthz")
    assert r.status_code == 200
    assert r.json()["database"] == "ok"

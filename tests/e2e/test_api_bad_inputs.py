"""A catalogue of bad requests. Each is answered 4xx with application/problem+json
naming what is wrong (the field, header or line), never a 5xx, and writes nothing.

One world per database for the whole module: every case leaves the ledger as it was,
which each case checks."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.api_support import SMALL_BODY_LIMIT, World, build_world, contribution, database

CONTRIB = "/v1/pools/eq/contributions"
SPEND = "/v1/pools/eq/expenditures"
BALANCES = "/v1/pools/eq/balances"


@dataclass(frozen=True)
class Bad:
    name: str
    status: int
    field: str | None  # the field (or header) the problem must name; None: no field
    method: str = "POST"
    path: str = CONTRIB
    json: Any = None
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    who: str | None = "city"  # None: no Authorization header


def amount(value: Any) -> dict[str, Any]:
    return {**contribution("city", "1.00"), "amount": value}


def with_(**changes: Any) -> dict[str, Any]:
    return {**contribution("city", "1.00"), **changes}


def without(name: str) -> dict[str, Any]:
    b = contribution("city", "1.00")
    del b[name]
    return b


def raw(**changes: str) -> bytes:
    """A contribution as JSON text, with ``changes`` spliced in verbatim (escapes kept)."""
    b = contribution("city", "1.00")
    for k in changes:
        b[k] = f"@{k}@"
    text = json.dumps(b)
    for k, v in changes.items():
        text = text.replace(f"@{k}@", v)
    return text.encode()


def chunks(total: int) -> Iterator[bytes]:
    sent = 0
    while sent < total:
        yield b" " * 4096
        sent += 4096


CASES: tuple[Bad, ...] = (
    # --- amounts ---------------------------------------------------------------------
    Bad("float amount", 422, "amount", json=amount(17.5)),
    Bad("integer amount", 422, "amount", json=amount(17)),
    Bad("three decimals", 422, "amount", json=amount("1.001")),
    Bad("exponent", 422, "amount", json=amount("1e3")),
    Bad("NaN", 422, "amount", json=amount("NaN")),
    Bad("infinity", 422, "amount", json=amount("Infinity")),
    Bad("thousands separator", 422, "amount", json=amount("1,000.00")),
    Bad("currency symbol", 422, "amount", json=amount("£100.00")),
    Bad("currency code", 422, "amount", json=amount("100.00 GBP")),
    Bad("another currency", 422, "amount", json=amount("EUR 100")),
    Bad("negative", 422, "amount", json=amount("-5.00")),
    Bad("zero", 422, "amount", json=amount("0")),
    Bad("zero with pence", 422, "amount", json=amount("0.00")),
    Bad("over £10bn", 422, "amount", json=amount("10000000000.01")),
    Bad("spaces around", 422, "amount", json=amount(" 5.00")),
    Bad("plus sign", 422, "amount", json=amount("+5")),
    Bad("leading zeros", 422, "amount", json=amount("007.00")),
    Bad("empty amount", 422, "amount", json=amount("")),
    Bad("null amount", 422, "amount", json=amount(None)),
    Bad("boolean amount", 422, "amount", json=amount(True)),
    Bad("missing amount", 422, "amount", json=without("amount")),
    # --- ids, references and the pool's agreement ---------------------------------------
    Bad("partner outside the pool", 422, "partner_id", json=with_(partner_id="trust"), who="ncc"),
    Bad("partner id not a slug", 422, "partner_id", json=with_(partner_id="City Council")),
    Bad("unknown funding stream", 422, "funding_stream", json=with_(funding_stream="lottery")),
    Bad(
        "unknown scheme",
        422,
        "scheme_id",
        path=SPEND,
        who="ncc",
        json={
            "scheme_id": "jetpacks",
            "amount": "1.00",
            "effective_date": "2025-07-01",
            "reference": "INV",
        },
    ),
    Bad("year too far from the date", 422, "year", json=with_(year="2019-20")),
    Bad("year not a year", 422, "year", json=with_(year="2025-27")),
    Bad("year outside the ledger", 422, "year", json=with_(year="9999-00")),
    Bad("closed quarter", 409, "effective_date", json=with_(effective_date="2025-05-01")),
    Bad(
        "adjustment flag on an open quarter",
        422,
        "prior_period_adjustment",
        json=with_(prior_period_adjustment=True),
    ),
    Bad(
        "adjustment flag as a string",
        422,
        "prior_period_adjustment",
        json=with_(prior_period_adjustment="yes"),
    ),
    Bad("reference with NUL", 422, "reference", json=with_(reference="BACS\u00001")),
    Bad("reference with a new line", 422, "reference", json=with_(reference="a\nb")),
    Bad("reference too long", 422, "reference", json=with_(reference="x" * 201)),
    Bad("blank reference", 422, "reference", json=with_(reference="   ")),
    Bad(
        "reference with a lone surrogate",
        422,
        "reference",
        content=raw(reference="\\ud800"),
        headers={"Content-Type": "application/json"},
    ),
    Bad(
        "partner id with a lone surrogate",
        422,
        "partner_id",
        content=raw(partner_id="c\\udc80ty"),
        headers={"Content-Type": "application/json"},
    ),
    Bad("unknown field", 422, "colour", json=with_(colour="blue")),
    Bad(
        "misspelt field",
        422,
        "efective_date",
        json={**without("effective_date"), "efective_date": "2025-07-01"},
    ),
    # --- dates -------------------------------------------------------------------------
    Bad("impossible date", 422, "effective_date", json=with_(effective_date="2025-02-30")),
    Bad("month 13", 422, "effective_date", json=with_(effective_date="2025-13-01")),
    Bad("British date", 422, "effective_date", json=with_(effective_date="01/07/2025")),
    Bad(
        "date with a time", 422, "effective_date", json=with_(effective_date="2025-07-01T00:00:00Z")
    ),
    Bad("date as a number", 422, "effective_date", json=with_(effective_date=20250701)),
    Bad("date in the far past", 422, "effective_date", json=with_(effective_date="1066-10-14")),
    Bad("date in the far future", 422, "effective_date", json=with_(effective_date="9999-12-31")),
    # --- bodies, types, sizes ------------------------------------------------------------
    Bad(
        "malformed JSON",
        400,
        "body",
        content=b'{"amount": "1.00",',
        headers={"Content-Type": "application/json"},
    ),
    Bad("a JSON list", 422, "body", json=[contribution("city", "1.00")]),
    Bad(
        "JSON nested too deep",
        400,
        "body",
        content=b"[" * 20000 + b"]" * 20000,
        headers={"Content-Type": "application/json"},
    ),
    Bad("empty JSON body", 422, "body", content=b"", headers={"Content-Type": "application/json"}),
    Bad(
        "body not UTF-8",
        400,
        "body",
        content=b'{"reference": "\xff\xfe"}',
        headers={"Content-Type": "application/json"},
    ),
    Bad(
        "text/plain body",
        415,
        "Content-Type",
        content=b'{"amount": "1.00"}',
        headers={"Content-Type": "text/plain"},
    ),
    Bad(
        "form body",
        415,
        "Content-Type",
        content=b"amount=1.00",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    ),
    Bad(
        "oversized body",
        413,
        "body",
        content=b'{"reference": "' + b"x" * SMALL_BODY_LIMIT + b'"}',
        headers={"Content-Type": "application/json"},
    ),
    # --- tokens --------------------------------------------------------------------------
    Bad("missing token", 401, "Authorization", json=amount("1.00"), who=None),
    Bad(
        "unknown token",
        401,
        "Authorization",
        json=amount("1.00"),
        who=None,
        headers={"Authorization": "Bearer pooled_not-a-real-token"},
    ),
    Bad("revoked token", 401, "Authorization", json=amount("1.00"), who="revoked"),
    Bad(
        "basic auth",
        401,
        "Authorization",
        json=amount("1.00"),
        who=None,
        headers={"Authorization": "Basic YWRtaW46YWRtaW4="},
    ),
    Bad(
        "bad idempotency key",
        422,
        "Idempotency-Key",
        json=amount("1.00"),
        headers={"Idempotency-Key": "has spaces in it"},
    ),
    # --- other routes ----------------------------------------------------------------------
    Bad(
        "transfer naming both a partner and a pool",
        422,
        "from",
        path="/v1/transfers",
        json={
            "pool_id": "eq",
            "from": {"partner_id": "city", "pool_id": "eq"},
            "to": {"partner_id": "ncc"},
            "amount": "1.00",
            "purpose": "other",
            "effective_date": "2025-07-01",
            "reference": "T",
        },
    ),
    Bad(
        "transfer purpose unknown",
        422,
        "purpose",
        path="/v1/transfers",
        json={
            "pool_id": "eq",
            "from": {"partner_id": "city"},
            "to": {"partner_id": "ncc"},
            "amount": "1.00",
            "purpose": "gift",
            "effective_date": "2025-07-01",
            "reference": "T",
        },
    ),
    Bad(
        "population count negative",
        422,
        "count",
        path="/v1/pools/eq/populations",
        who="ncc",
        json={"unit_id": "north", "cohort": "65-84", "count": -1, "effective_date": "2025-07-01"},
    ),
    Bad(
        "population count a fraction",
        422,
        "count",
        path="/v1/pools/eq/populations",
        who="ncc",
        json={"unit_id": "north", "cohort": "65-84", "count": 1.5, "effective_date": "2025-07-01"},
    ),
    Bad(
        "metric target not a number",
        422,
        "target",
        path="/v1/pools/eq/metrics",
        who="ncc",
        json={
            "metric_id": "falls-admissions",
            "period": "2025-26-Q2",
            "target": "lots",
            "actual": "3",
        },
    ),
    Bad(
        "metric period not a period",
        422,
        "period",
        path="/v1/pools/eq/metrics",
        who="ncc",
        json={"metric_id": "falls-admissions", "period": "Q2", "target": "1", "actual": "3"},
    ),
    Bad(
        "outcome met as a string",
        422,
        "met",
        path="/v1/pools/eq/outcome-assessments",
        who="ncc",
        json={
            "service_id": "hc-north-q2",
            "outcome_id": "independence",
            "period": "2025-26-Q2",
            "met": "yes",
            "assessed_on": "2025-10-01",
        },
    ),
    Bad(
        "negative forecast",
        422,
        "amount",
        path="/v1/pools/eq/forecasts",
        who="ncc",
        json={"year": "2025-26", "amount": "-1.00", "as_of_date": "2025-09-30"},
    ),
    Bad(
        "reversal of an unknown event",
        404,
        None,
        path="/v1/events/00000000-0000-4000-8000-000000000000/reversal",
        json={"reason": "typo"},
    ),
    Bad(
        "reversal of a malformed event id",
        422,
        "event_id",
        path="/v1/events/abc/reversal",
        json={"reason": "typo"},
    ),
    Bad(
        "reversal without a reason",
        422,
        "reason",
        path="/v1/events/00000000-0000-4000-8000-000000000000/reversal",
        json={},
    ),
    Bad(
        "plan shares not summing to 100",
        422,
        "risk_share.overspend.shares",
        method="PUT",
        path="/v1/pools/eq/years/2026-27/plan",
        who="admin",
        json={
            "risk_share": {"overspend": {"method": "fixed", "shares": {"ncc": "60", "city": "30"}}}
        },
    ),
    Bad(
        "plan amount as a float",
        422,
        "contributions[0].amount",
        method="PUT",
        path="/v1/pools/eq/years/2026-27/plan",
        who="admin",
        json={
            "contributions": [
                {"partner_id": "ncc", "funding_stream": "contribution", "amount": 2000000.0}
            ]
        },
    ),
    Bad(
        "plan for a year that is not one",
        422,
        "year",
        method="PUT",
        path="/v1/pools/eq/years/2025/plan",
        who="admin",
        json={},
    ),
    Bad(
        "partner of an unknown kind",
        422,
        "kind",
        path="/v1/partners",
        who="admin",
        json={"id": "x-1", "name": "X", "kind": "charity"},
    ),
    Bad(
        "partner already registered",
        409,
        None,
        path="/v1/partners",
        who="admin",
        json={"id": "ncc", "name": "Again", "kind": "local_authority"},
    ),
    Bad(
        "ODS code too long",
        422,
        "ods_code",
        path="/v1/partners",
        who="admin",
        json={"id": "x-2", "name": "X", "kind": "icb", "ods_code": "Q" * 21},
    ),
    Bad(
        "pool member not a slug",
        422,
        "members[1]",
        path="/v1/pools",
        who="admin",
        json={
            "id": "p-9",
            "name": "P",
            "kind": "section_75",
            "host_partner_id": "ncc",
            "members": ["ncc", "No Such"],
        },
    ),
    Bad(
        "BCF pool without its area",
        422,
        "hwb_area",
        path="/v1/pools",
        who="admin",
        json={
            "id": "p-10",
            "name": "P",
            "kind": "bcf",
            "host_partner_id": "ncc",
            "members": ["ncc"],
        },
    ),
    Bad(
        "close a quarter named wrongly",
        422,
        "quarter",
        path="/v1/pools/eq/periods/2025-Q1/close",
        who="admin",
    ),
    Bad(
        "close a quarter not yet ended",
        422,
        None,
        path="/v1/pools/eq/periods/2026-27-Q4/close",
        who="admin",
    ),
    Bad(
        "post to an unknown pool",
        404,
        None,
        path="/v1/pools/nowhere/contributions",
        json=contribution("city", "1.00"),
    ),
    # --- reads -----------------------------------------------------------------------------
    Bad(
        "as_at not understood",
        422,
        "as_at",
        method="GET",
        path=BALANCES,
        params={"year": "2025-26", "as_at": "yesterday"},
    ),
    Bad(
        "as_at beyond the head",
        422,
        "as_at",
        method="GET",
        path=BALANCES,
        params={"year": "2025-26", "as_at": "position:99999999"},
    ),
    Bad(
        "as_at without a time zone",
        422,
        "as_at",
        method="GET",
        path=BALANCES,
        params={"year": "2025-26", "as_at": "2025-07-01T10:00:00"},
    ),
    Bad(
        "as_at an impossible date",
        422,
        "as_at",
        method="GET",
        path=BALANCES,
        params={"year": "2025-26", "as_at": "2025-02-30"},
    ),
    Bad(
        "trace of no figure",
        422,
        "trace",
        method="GET",
        path=BALANCES,
        params={"year": "2025-26", "trace": "partner:city:happiness"},
    ),
    Bad("balances without a year", 422, "year", method="GET", path=BALANCES),
    Bad(
        "balances of a year that is not one",
        422,
        "year",
        method="GET",
        path=BALANCES,
        params={"year": "2025"},
    ),
    Bad(
        "balances in an unknown format",
        422,
        "format",
        method="GET",
        path=BALANCES,
        params={"year": "2025-26", "format": "pdf"},
    ),
    Bad(
        "balances of an unknown pool",
        404,
        None,
        method="GET",
        path="/v1/pools/nowhere/balances",
        params={"year": "2025-26"},
    ),
    Bad(
        "event page too large",
        422,
        "limit",
        method="GET",
        path="/v1/events",
        who="auditor",
        params={"limit": "5000"},
    ),
    Bad(
        "event page from a negative position",
        422,
        "after",
        method="GET",
        path="/v1/events",
        who="auditor",
        params={"after": "-1"},
    ),
    # --- ambiguous input: one meaning or none --------------------------------------------
    Bad(
        "amount given twice",
        422,
        "amount",
        content=b'{"amount":"-5.00","amount":"10.00","partner_id":"city",'
        b'"funding_stream":"contribution","effective_date":"2025-07-01","reference":"R"}',
        headers={"Content-Type": "application/json"},
    ),
    Bad(
        "a key given twice deep in a plan",
        422,
        "weight",
        method="PUT",
        path="/v1/pools/eq/years/2026-27/plan",
        who="admin",
        content=b'{"capitation":{"budget":"1.00","excluded_personal_budgets":"0.00",'
        b'"weights":{"0-64":"1.0"},"weight":"1","weight":"2"}}',
        headers={"Content-Type": "application/json"},
    ),
    Bad("reference of a zero-width space", 422, "reference", json=with_(reference="\u200b")),
    Bad(
        "reference of spaces and a byte-order mark",
        422,
        "reference",
        json=with_(reference=" \ufeff\u2060 "),
    ),
    Bad("reference with a C1 control", 422, "reference", json=with_(reference="INV\u00851")),
    Bad("reference with a tab", 422, "reference", json=with_(reference="INV\t1")),
    Bad(
        "reference with a right-to-left override",
        422,
        "reference",
        json=with_(reference="INV-1\u202e7"),
    ),
    Bad("reference with an isolate", 422, "reference", json=with_(reference="INV\u2066-1")),
    Bad(
        "partner name of a zero-width space",
        422,
        "name",
        path="/v1/partners",
        who="admin",
        json={"id": "zw", "name": "\u200b", "kind": "icb"},
    ),
    *(
        Bad(
            f"as_at at the calendar's limit {value} on {path.rsplit('/', 1)[-1]}",
            422,
            "as_at",
            method="GET",
            path=path,
            params={"as_at": value, **params},
        )
        for value in ("9999-12-31", "9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+01:00")
        for path, params in (
            (BALANCES, {"year": "2025-26"}),
            ("/v1/pools/eq", {}),
            ("/v1/pools", {}),
        )
    ),
    Bad(
        "as_at in the year 3000",
        422,
        "as_at",
        method="GET",
        path="/v1/pools/eq/risk-share",
        params={"year": "2025-26", "as_at": "3000-01-01T00:00:00Z"},
    ),
    Bad("unknown route", 404, None, method="GET", path="/v1/nothing-here"),
    Bad("wrong method", 405, None, method="DELETE", path=CONTRIB),
)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    sqlite_template: Path,
) -> Iterator[World]:
    with database(request.param, tmp_path_factory.mktemp("bad"), sqlite_template) as engine:
        w = build_world(engine)
        r = w.client.post("/v1/pools/eq/periods/2025-26-Q1/close", headers=w.auth("admin"))
        assert r.status_code == 201, r.text
        yield w
        w.client.close()


def test_the_catalogue_is_large_enough() -> None:
    assert len(CASES) >= 40
    assert len({c.name for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_a_bad_request_is_refused_naming_what_is_wrong_and_writes_nothing(
    world: World, case: Bad
) -> None:
    w = world
    head = w.head()
    headers = dict(case.headers)
    if case.who is not None and "Authorization" not in headers:
        headers["Authorization"] = f"Bearer {w.secrets[case.who]}"
    r = w.client.request(
        case.method,
        case.path,
        json=case.json,
        content=case.content,
        headers=headers,
        params=case.params,
    )
    assert r.status_code == case.status, r.text
    assert r.headers["content-type"].startswith("application/problem+json"), r.headers
    problem = r.json()
    assert problem["status"] == case.status
    assert problem["type"].startswith("urn:pooled:problem:")
    assert problem["title"]
    assert problem["detail"]
    if case.field is not None:
        named = [e["field"] for e in problem.get("errors", [])]
        assert case.field in named, problem
        for e in problem["errors"]:
            assert e["message"], e
            assert "pydantic" not in e["message"].lower()
            assert "input" not in e
    assert w.head() == head


def test_a_chunked_body_over_the_limit_is_refused(world: World) -> None:
    w = world
    head = w.head()
    r = w.client.post(
        CONTRIB,
        content=chunks(SMALL_BODY_LIMIT + 10_000),
        headers={**w.auth("city"), "Content-Type": "application/json"},
    )
    assert r.status_code == 413
    assert r.headers["content-type"].startswith("application/problem+json")
    assert w.head() == head


def test_an_unexpected_failure_is_a_logged_500_problem(world: World) -> None:
    from fastapi.testclient import TestClient

    w = world
    app: Any = w.client.app

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("disk on fire")

    original = app.state.reader.traced
    app.state.reader.traced = broken
    try:
        client = TestClient(app, raise_server_exceptions=False)
        r = client.get(
            BALANCES, params={"year": "2025-26", "trace": "pool:spend"}, headers=w.auth("city")
        )
    finally:
        app.state.reader.traced = original
    assert r.status_code == 500
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "disk on fire" not in r.text
    assert r.json()["request_id"]

"""Which problem a refusal is (issue 11): a request against a rule the OpenAPI document
states is ``validation``; one of the right shape that a rule of the agreement or the
ledger's contents refuses is ``rule-violation``, documented on every 422; a CSV file's
refused lines are ``import-refused``. And a 405 names every method of its path.

The world's pool ``eq`` has one plan, for 2025-26 (its life: 2025-26 to 2026-27)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine

from tests.e2e.api_support import World, build_world, contribution

VALIDATION = "urn:pooled:problem:validation"
RULE = "urn:pooled:problem:rule-violation"


@pytest.fixture
def world(engine: Engine) -> Iterator[World]:
    w = build_world(engine)
    yield w
    w.client.close()


def kind_and_fields(r: Any) -> tuple[int, str, list[str]]:
    body = r.json()
    return r.status_code, body["type"], sorted(e["field"] for e in body.get("errors", []))


def test_an_unknown_funding_stream_is_a_rule_violation(world: World) -> None:
    body = contribution("city", "10.00", funding_stream="lottery")
    r = world.post("city", "/v1/pools/eq/contributions", body)
    assert kind_and_fields(r) == (422, RULE, ["funding_stream"])


def test_two_rule_errors_are_one_rule_violation(world: World) -> None:
    body = contribution("city", "10.00", "2031-05-01", funding_stream="lottery")
    r = world.post("city", "/v1/pools/eq/contributions", body)
    assert kind_and_fields(r) == (422, RULE, ["effective_date", "funding_stream"])


def test_an_amount_of_three_decimals_is_a_validation_error(world: World) -> None:
    r = world.post("city", "/v1/pools/eq/contributions", contribution("city", "1.001"))
    assert kind_and_fields(r) == (422, VALIDATION, ["amount"])


def test_a_member_not_registered_and_a_bcf_pool_without_its_area_are_rule_violations(
    world: World,
) -> None:
    pool = {"id": "p2", "name": "P2", "kind": "section_75", "host_partner_id": "ncc"}
    r = world.post("admin", "/v1/pools", {**pool, "members": ["nobody"]})
    assert kind_and_fields(r) == (422, RULE, ["members[1]"])
    r = world.post("admin", "/v1/pools", {**pool, "kind": "bcf", "members": []})
    assert kind_and_fields(r) == (422, RULE, ["hwb_area"])


def test_a_zero_opening_balance_is_refused_by_its_shape(world: World) -> None:
    body = {"year": "2025-26", "amount": "0.00", "note": "nothing"}
    r = world.post("admin", "/v1/pools/eq/opening-balance", body)
    assert kind_and_fields(r) == (422, VALIDATION, ["amount"])
    assert r.json()["errors"][0]["message"] == "must not be zero"


@pytest.mark.parametrize(
    "side", [{}, {"partner_id": "city", "pool_id": "eq"}], ids=["neither", "both"]
)
def test_a_transfer_side_naming_not_exactly_one_party_is_a_validation_error(
    world: World, side: dict[str, str]
) -> None:
    body = {
        "pool_id": "eq",
        "from": side,
        "to": {"pool_id": "eq"},
        "amount": "10.00",
        "purpose": "other",
        "effective_date": "2025-08-01",
        "reference": "T1",
    }
    r = world.post("city", "/v1/transfers", body)
    assert kind_and_fields(r) == (422, VALIDATION, ["from"])


def test_an_as_at_position_beyond_the_head_is_a_rule_violation(world: World) -> None:
    r = world.get("admin", "/v1/pools/eq/balances", year="2025-26", as_at="position:999999")
    assert kind_and_fields(r) == (422, RULE, ["as_at"])


def test_an_instant_is_read_as_written_so_1900_with_an_offset_is_accepted(world: World) -> None:
    # in UTC it is 31 December 1899, but the date as written is in the calendar
    r = world.get("admin", "/v1/partners", as_at="1900-01-01T00:30:00+01:00")
    assert r.status_code == 200, r.text


def test_a_trace_naming_a_partner_not_in_the_pool_is_a_rule_violation(world: World) -> None:
    r = world.get("admin", "/v1/pools/eq/balances", year="2025-26", trace="partner:trust:received")
    assert kind_and_fields(r) == (422, RULE, ["trace"])


def test_a_csv_files_refused_lines_are_an_import_refused_problem(world: World) -> None:
    r = world.client.post(
        "/v1/pools/eq/imports",
        content=b"kind,amount,effective_date,reference\r\nexpenditure,1.001,2025-07-01,x\r\n",
        headers={**world.auth("ncc"), "Content-Type": "text/csv"},
    )
    assert r.status_code == 422, r.text
    assert r.json()["type"] == "urn:pooled:problem:import-refused"


def test_every_422_documents_both_kinds_of_refusal(world: World) -> None:
    doc = world.client.get("/openapi.json").json()
    for path, item in doc["paths"].items():
        for method, op in item.items():
            documented = op["responses"].get("422")
            if documented is None:
                continue
            text = str(documented)
            wanted = ("import-refused",) if path.endswith("/imports") else ("validation", RULE)
            for kind in wanted:
                assert kind in text, (method, path, kind)


# --- 405: every method of the path -------------------------------------------------------

SAMPLE = {
    "pool": "eq",
    "year": "2025-26",
    "quarter": "2025-26-Q1",
    "period": "2025-26-Q1",
    "event_id": "0b7a1f66-3c55-4a37-9a4e-2f1d6f0f8a11",
    "position": "1",
}
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def test_a_405_on_any_documented_path_names_exactly_the_documented_methods(world: World) -> None:
    doc = world.client.get("/openapi.json").json()
    checked = 0
    for path, item in doc["paths"].items():
        concrete = re.sub(r"\{(\w+)\}", lambda m: SAMPLE[m.group(1)], path)
        documented = sorted(m.upper() for m in item)
        for method in METHODS:
            if method in documented:
                continue
            r = world.client.request(method, concrete, headers=world.auth("admin"))
            assert r.status_code == 405, (method, concrete, r.status_code)
            assert r.headers["allow"] == ", ".join(documented), (method, concrete)
            checked += 1
    assert checked > 100

"""CSV import: all or nothing, every bad line reported with its line number and field."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import Engine

from tests.e2e.api_support import SMALL_BODY_LIMIT, World, build_world

PATH = "/v1/pools/eq/imports"
HEADER = "kind,partner_id,funding_stream,scheme_id,amount,effective_date,reference,year\r\n"


@pytest.fixture
def world(engine: Engine) -> Iterator[World]:
    w = build_world(engine)
    yield w
    w.client.close()


def send(w: World, text: str, who: str = "ncc", content_type: str = "text/csv") -> httpx.Response:
    return w.client.post(
        PATH, content=text.encode(), headers={**w.auth(who), "Content-Type": content_type}
    )


def test_a_good_file_posts_every_line_at_once(world: World) -> None:
    w = world
    head = w.head()
    r = send(
        w,
        HEADER
        + "contribution,city,contribution,,250000.00,2025-07-01,BACS 1,\r\n"
        + "contribution,icb-a,,,125000,2025-07-02,BACS 2,2025-26\r\n"
        + "\r\n"  # blank lines are skipped
        + 'expenditure,,,equipment,48250.50,2025-07-15,"INV 3, July",\r\n',
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["imported"] == 3
    assert [e["type"] for e in body["events"]] == [
        "contribution_posted",
        "contribution_posted",
        "expenditure_recorded",
    ]
    assert body["events"][2]["reference"] == "INV 3, July"
    assert (body["first_position"], body["last_position"]) == (head + 1, head + 3)
    b = w.get("ncc", "/v1/pools/eq/balances", year="2025-26").json()
    assert b["pool"]["income"] == "375000.00"
    assert b["pool"]["spend"] == "48250.50"


def test_one_bad_line_refuses_the_whole_file_naming_each_line(world: World) -> None:
    w = world
    head = w.head()
    r = send(
        w,
        HEADER
        + "contribution,city,contribution,,100.00,2025-07-01,OK,\r\n"  # line 2
        + "contribution,city,contribution,,1.001,2025-07-01,three decimals,\r\n"  # line 3
        + "expenditure,,,equipment,5.00,2025-07-40,bad date,\r\n"  # line 4
        + "refund,city,,,5.00,2025-07-01,bad kind,\r\n"  # line 5
        + "expenditure,city,,equipment,5.00,2025-07-01,partner on spend,\r\n",  # line 6
    )
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    errors = {(e["line"], e["field"]) for e in r.json()["errors"]}
    assert errors == {
        (3, "amount"),
        (4, "effective_date"),
        (5, "kind"),
        (6, "partner_id"),
    }
    assert w.head() == head


def test_a_line_the_ledger_refuses_refuses_the_file(world: World) -> None:
    w = world
    head = w.head()
    r = send(
        w,
        HEADER
        + "contribution,city,contribution,,100.00,2025-07-01,OK,\r\n"
        + "contribution,trust,contribution,,100.00,2025-07-01,not a member,\r\n"
        + "expenditure,,,jetpacks,100.00,2025-07-01,no such scheme,\r\n",
    )
    assert r.status_code == 422, r.text
    errors = {(e["line"], e["field"]) for e in r.json()["errors"]}
    assert errors == {(3, "partner_id"), (4, "scheme_id")}
    assert w.head() == head


def test_a_partner_may_not_import_another_partners_money(world: World) -> None:
    w = world
    head = w.head()
    r = send(w, HEADER + "contribution,ncc,contribution,,100.00,2025-07-01,not mine,\r\n", "city")
    assert r.status_code == 403, r.text  # the most serious cause of the refused lines
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["errors"] == [
        {
            "field": "row",
            "line": 2,
            "message": "a finance officer of 'city' may post only its own partner's contributions",
        }
    ]
    assert w.head() == head


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("", "body"),
        ("kind,amount,effective_date\r\n", "reference"),
        ("kind,amount,effective_date,reference,colour\r\n", "colour"),
        (HEADER, "body"),
    ],
    ids=["empty", "missing column", "unknown column", "header only"],
)
def test_an_unusable_file_is_refused(world: World, text: str, field: str) -> None:
    r = send(world, text)
    assert r.status_code == 422, r.text
    assert field in [e["field"] for e in r.json()["errors"]]


def test_a_file_must_be_csv_and_not_too_large(world: World) -> None:
    w = world
    r = send(w, HEADER, content_type="application/json")
    assert r.status_code == 415
    r = w.client.post(
        PATH,
        content=b"\xff\xfe not utf-8",
        headers={**w.auth("ncc"), "Content-Type": "text/csv"},
    )
    assert r.status_code == 400
    line = "contribution,city,contribution,,1.00,2025-07-01,x,\r\n"
    r = send(w, HEADER + line * (SMALL_BODY_LIMIT // len(line) + 1))
    assert r.status_code == 413

"""The money rules at the edges, through the API: a pool's life, what may be refunded
or credited, and every error of a request in one answer (JSON bodies and CSV files).

The world's pool ``eq`` has one plan, for 2025-26: its life is 2025-26 to 2026-27."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from tests.e2e.api_support import World, build_world, contribution, spend

HEADER = "kind,partner_id,funding_stream,scheme_id,amount,effective_date,reference,year\r\n"


@pytest.fixture
def world(engine: Engine) -> Iterator[World]:
    w = build_world(engine)
    yield w
    w.client.close()


def refund(partner: str, amount: str, on: str = "2025-09-01") -> dict[str, str]:
    return {
        "partner_id": partner,
        "funding_stream": "contribution",
        "amount": amount,
        "effective_date": on,
        "reference": f"Refund {amount}",
    }


def fields(r: object) -> list[str]:
    return sorted(e["field"] for e in r.json()["errors"])  # type: ignore[attr-defined]


@pytest.mark.parametrize("on", ["1999-05-01", "2030-10-01", "2025-03-31", "2027-04-01"])
def test_a_contribution_outside_the_pools_life_is_refused_naming_its_date(
    world: World, on: str
) -> None:
    head = world.head()
    r = world.post("city", "/v1/pools/eq/contributions", contribution("city", "100.00", on))
    assert r.status_code == 422, r.text
    assert fields(r) == ["effective_date"]
    assert "2025-26 (its first plan year) to 2026-27" in r.json()["errors"][0]["message"]
    assert world.head() == head
    b = world.get("city", "/v1/pools/eq/balances", year="1999-00")
    assert b.status_code != 200 or b.json()["pool"]["income"] == "0.00"


def test_a_contribution_in_the_year_after_the_latest_plan_is_accepted(world: World) -> None:
    r = world.post("city", "/v1/pools/eq/contributions", contribution("city", "1.00", "2026-05-01"))
    assert r.status_code == 201, r.text


def test_a_forecast_for_a_year_outside_the_life_is_refused_naming_the_year(world: World) -> None:
    r = world.post(
        "ncc",
        "/v1/pools/eq/forecasts",
        {"year": "2030-31", "amount": "1.00", "as_of_date": "2025-09-30"},
    )
    assert r.status_code == 422, r.text
    assert fields(r) == ["year"]


def test_a_refund_beyond_what_was_paid_net_of_refunds_is_refused_with_the_most_allowed(
    world: World,
) -> None:
    w = world
    assert w.post("city", "/v1/pools/eq/contributions", contribution("city", "1234.50")).is_success
    r = w.post("ncc", "/v1/pools/eq/refunds", refund("city", "1234.51"))
    assert r.status_code == 422, r.text
    assert fields(r) == ["amount"]
    assert r.json()["errors"][0]["message"].endswith("at most 1234.50")
    assert w.post("ncc", "/v1/pools/eq/refunds", refund("city", "1234.50")).status_code == 201
    head = w.head()
    r = w.post("ncc", "/v1/pools/eq/refunds", refund("city", "99999.00"))
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["message"].endswith("at most 0.00")
    assert w.head() == head


def test_a_reversed_contribution_no_longer_counts_towards_what_may_be_refunded(
    world: World,
) -> None:
    w = world
    assert w.post("city", "/v1/pools/eq/contributions", contribution("city", "500.00")).is_success
    posted = w.post("city", "/v1/pools/eq/contributions", contribution("city", "700.00"))
    w.post("city", f"/v1/events/{posted.json()['events'][0]['event_id']}/reversal", {"reason": "x"})
    r = w.post("ncc", "/v1/pools/eq/refunds", refund("city", "500.01"))
    assert r.json()["errors"][0]["message"].endswith("at most 500.00"), r.text
    refunded = w.post("ncc", "/v1/pools/eq/refunds", refund("city", "200.00"))
    assert refunded.status_code == 201
    w.post(
        "ncc", f"/v1/events/{refunded.json()['events'][0]['event_id']}/reversal", {"reason": "x"}
    )
    assert w.post("ncc", "/v1/pools/eq/refunds", refund("city", "500.00")).status_code == 201


def test_a_credit_note_beyond_the_schemes_net_spend_is_refused(world: World) -> None:
    w = world
    assert w.post("ncc", "/v1/pools/eq/expenditures", spend("800.00")).is_success
    assert w.post("ncc", "/v1/pools/eq/credits", spend("300.00")).status_code == 201
    r = w.post("ncc", "/v1/pools/eq/credits", spend("500.01"))
    assert r.status_code == 422, r.text
    assert (fields(r), r.json()["errors"][0]["message"][-14:]) == (["amount"], "at most 500.00")


def test_a_body_with_a_bad_funding_stream_and_a_bad_date_reports_both(world: World) -> None:
    body = contribution("city", "10.00", "2031-05-01", funding_stream="lottery")
    r = world.post("city", "/v1/pools/eq/contributions", body)
    assert r.status_code == 422, r.text
    assert fields(r) == ["effective_date", "funding_stream"]


def test_a_five_error_import_is_answered_with_all_five_lines_at_once(world: World) -> None:
    w = world
    head = w.head()
    r = w.client.post(
        "/v1/pools/eq/imports",
        content=(
            HEADER
            + "contribution,city,contribution,,100.00,2025-07-01,fine,\r\n"  # line 2
            + "contribution,city,contribution,,1.001,2025-07-01,three decimals,\r\n"  # 3
            + "expenditure,,,equipment,5.00,2025-07-40,no such day,\r\n"  # 4
            + "refund,city,,,5.00,2025-07-01,no such kind,\r\n"  # 5
            + "contribution,trust,contribution,,100.00,2025-07-01,not a member,\r\n"  # 6
            + "contribution,city,contribution,,100.00,1999-05-01,before the pool,\r\n"  # 7
        ).encode(),
        headers={**w.auth("ncc"), "Content-Type": "text/csv"},
    )
    assert r.status_code == 422, r.text
    got = [(e["line"], e["field"]) for e in r.json()["errors"]]
    assert got == [
        (3, "amount"),
        (4, "effective_date"),
        (5, "kind"),
        (6, "partner_id"),
        (7, "effective_date"),
    ]
    assert r.json()["detail"].startswith("5 of 6 lines were refused")
    assert w.head() == head


# --- shape and rule errors of one body together (issue 12, item 7) ----------------------


@pytest.mark.parametrize(
    ("body", "both"),
    [
        # an amount of three decimals (shape) and a stream the pool does not have (rule)
        (
            contribution("city", "10.001", funding_stream="lottery"),
            ["amount", "funding_stream"],
        ),
        # a stream that is not an id (shape) and a date before the pool's life (rule)
        (
            contribution("city", "10.00", "1999-05-01", funding_stream="Lottery Fund!"),
            ["effective_date", "funding_stream"],
        ),
        # a missing reference (shape) and a partner not in the pool (rule)
        (
            {k: v for k, v in contribution("trust", "10.00").items() if k != "reference"},
            ["partner_id", "reference"],
        ),
    ],
    ids=["amount-and-stream", "stream-and-date", "reference-and-partner"],
)
def test_a_body_with_a_shape_error_and_a_rule_error_reports_both_in_one_problem(
    world: World, body: dict[str, str], both: list[str]
) -> None:
    head = world.head()
    r = world.post("ncc", "/v1/pools/eq/contributions", body)
    assert r.status_code == 422, r.text
    assert r.json()["type"] == "urn:pooled:problem:validation"
    assert fields(r) == both
    assert world.head() == head


def test_spend_with_a_bad_amount_on_a_scheme_not_in_the_plan_reports_both(world: World) -> None:
    body = spend("-5.00", scheme_id="no-such-scheme")
    r = world.post("ncc", "/v1/pools/eq/expenditures", body)
    assert r.status_code == 422, r.text
    assert fields(r) == ["amount", "scheme_id"]


def test_a_transfer_with_a_bad_amount_to_a_non_member_reports_both(world: World) -> None:
    body = {
        "pool_id": "eq",
        "from": {"partner_id": "city"},
        "to": {"partner_id": "trust"},
        "amount": "ten pounds",
        "purpose": "other",
        "effective_date": "2025-08-01",
        "reference": "T1",
    }
    r = world.post("city", "/v1/transfers", body)
    assert r.status_code == 422, r.text
    assert fields(r) == ["amount", "to.partner_id"]


def test_a_shape_error_of_a_date_leaves_the_checks_that_need_its_year_unrun(world: World) -> None:
    # the stream's validity depends on the year, which the bad date cannot give
    body = contribution("city", "10.00", "2025-02-30", funding_stream="lottery")
    r = world.post("city", "/v1/pools/eq/contributions", body)
    assert r.status_code == 422, r.text
    assert fields(r) == ["effective_date"]

"""Every trace adds up (domain.md 8): each event behind a figure is listed with the
signed amount by which it counts in it, and those amounts (with the part a risk-share
rule computes, ``by_rule``) sum exactly to the figure, on the API (``trace=``) and on
the board's trace pages (their HTML amounts parsed), on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.e2e.api_support import PLAN, World, build_world, contribution, database, spend
from tests.e2e.test_board_pages import sign_in, table

MINUS = "\u2212"
TRACE = "/board/pools/{pool}/years/2025-26/trace"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path
) -> Iterator[World]:
    with database(request.param, tmp_path_factory.mktemp("traces"), sqlite_template) as db:
        w = build_world(db)
        sign_in(w.client, w.secrets["board"])
        yield w
        w.client.close()


def money(s: str) -> Decimal:
    """``−£1,234.50`` (as the board shows it) or ``-1234.50`` (as the API) -> Decimal."""
    return Decimal(s.strip().replace(MINUS, "-").replace("£", "").replace(",", ""))


def api_trace(w: World, pool: str, figure: str) -> dict[str, Any]:
    r = w.get("board", f"/v1/pools/{pool}/balances", year="2025-26", trace=figure)
    assert r.status_code == 200, r.text
    trace: dict[str, Any] = r.json()["trace"]
    return trace


def api_sum(trace: dict[str, Any]) -> Decimal:
    total = sum((money(e["amount"]) for e in trace["events"]), Decimal(0))
    return total + (money(trace["by_rule"]) if trace["by_rule"] is not None else 0)


def board_trace(
    w: World, pool: str, figure: str, **extra: str
) -> tuple[Decimal | None, Decimal, list[str]]:
    """(the figure's value, the sum of the amounts listed with by_rule, those amounts);
    ``extra``: more of the page's query (``through``)."""
    r = w.client.get(TRACE.format(pool=pool), params={"figure": figure, **extra})
    assert r.status_code == 200, r.text[:2000]
    html = r.text
    value = re.search(r'data-figure="value">([^<]+)<', html)
    rule = re.search(r'data-figure="by-rule">([^<]+)<', html)
    amounts = []
    if 'id="events"' in html:
        amounts = re.findall(r'<td class="num counts">([^<]*)</td>', table(html, "events"))
    total = sum((money(a) for a in amounts), Decimal(0))
    total += money(rule.group(1)) if rule else 0
    return (money(value.group(1)) if value else None), total, amounts


# --- hand-checked -----------------------------------------------------------------------


def test_a_credit_note_counts_against_spend_and_the_balance_trace_sums_to_the_balance(
    world: World,
) -> None:
    w = world
    pool = new_pool(w)
    post = w.post
    assert post(
        "city", f"/v1/pools/{pool}/contributions", contribution("city", "1000.00")
    ).is_success
    assert post("ncc", f"/v1/pools/{pool}/contributions", contribution("ncc", "2500.00")).is_success
    refund = {**contribution("city", "200.00"), "reference": "Refund"}
    assert post("ncc", f"/v1/pools/{pool}/refunds", refund).is_success
    assert post("ncc", f"/v1/pools/{pool}/expenditures", spend("3000.00")).is_success
    assert post("ncc", f"/v1/pools/{pool}/credits", spend("500.00")).is_success
    dup = post("ncc", f"/v1/pools/{pool}/expenditures", spend("100.00"))
    dup_id = dup.json()["events"][0]["event_id"]
    assert post("ncc", f"/v1/events/{dup_id}/reversal", {"reason": "paid twice"}).is_success

    spend_trace = api_trace(w, pool, "pool:spend")
    assert [(e["type"], e["amount"]) for e in spend_trace["events"]] == [
        ("expenditure_recorded", "3000.00"),
        ("expenditure_credited", "-500.00"),
        ("expenditure_recorded", "100.00"),
        ("event_reversed", "-100.00"),
    ]
    assert spend_trace["value"] == "2500.00"

    balance = api_trace(w, pool, "pool:balance")
    assert [e["amount"] for e in balance["events"]] == [
        "1000.00",
        "2500.00",
        "-200.00",
        "-3000.00",
        "500.00",
        "-100.00",
        "100.00",
    ]
    assert balance["value"] == "800.00" and api_sum(balance) == Decimal("800.00")

    value, total, amounts = board_trace(w, pool, "pool:spend")
    assert amounts == ["£3,000.00", f"{MINUS}£500.00", "£100.00", f"{MINUS}£100.00"]
    assert value == total == Decimal("2500.00")
    value, total, _ = board_trace(w, pool, "pool:balance")
    assert value == total == Decimal("800.00")


def test_a_provisional_risk_share_is_the_rules_part_and_adds_up(world: World) -> None:
    w = world
    pool = new_pool(w)
    forecast = {"year": "2025-26", "amount": "3600000.00", "as_of_date": "2025-09-30"}
    assert w.post("ncc", f"/v1/pools/{pool}/forecasts", forecast).is_success
    variance = api_trace(w, pool, "pool:variance")
    assert sorted(e["amount"] for e in variance["events"]) == ["-3500000.00", "3600000.00"]
    risk = api_trace(w, pool, "partner:ncc:risk_share")
    assert risk["by_rule"] == risk["value"] == "57142.86"  # worked example A
    assert {e["amount"] for e in risk["events"]} == {"0.00"}
    outstanding = api_trace(w, pool, "partner:ncc:outstanding")
    assert api_sum(outstanding) == money(outstanding["value"]) == Decimal("2057142.86")


# --- the property -----------------------------------------------------------------------

_pools = itertools.count(1)


def new_pool(w: World) -> str:
    pool = f"tr-{next(_pools)}"
    r = w.post(
        "admin",
        "/v1/pools",
        {
            "id": pool,
            "name": "Traced",
            "kind": "section_75",
            "host_partner_id": "ncc",
            "members": ["ncc", "city", "icb-a"],
        },
    )
    assert r.status_code == 201, r.text
    r = w.client.put(f"/v1/pools/{pool}/years/2025-26/plan", json=PLAN, headers=w.auth("admin"))
    assert r.status_code == 201, r.text
    return pool


PARTNER = st.sampled_from(["ncc", "city", "icb-a"])
PENCE = st.integers(min_value=1, max_value=500_000)
DAY = st.dates(min_value=date(2025, 4, 1), max_value=date(2026, 3, 31))
ACTION = st.one_of(
    st.tuples(st.just("contribution"), PARTNER, PENCE, DAY),
    st.tuples(st.just("refund"), PARTNER, PENCE, DAY),
    st.tuples(st.just("spend"), st.just("ncc"), PENCE, DAY),
    st.tuples(st.just("credit"), st.just("ncc"), PENCE, DAY),
    st.tuples(st.just("to_pool"), PARTNER, PENCE, DAY),
    st.tuples(st.just("to_partner"), PARTNER, PENCE, DAY),
    st.tuples(st.just("partner_to_partner"), PARTNER, PENCE, DAY),
    st.tuples(st.just("forecast"), st.just("ncc"), PENCE, DAY),
    st.tuples(st.just("reverse"), st.just("admin"), st.integers(0, 50), DAY),
)
FIGURES = (
    *(
        f"pool:{f}"
        for f in (
            "planned",
            "opening_balance",
            "income",
            "spend",
            "transfers_in",
            "transfers_out",
            "balance",
            "outturn",
            "variance",
        )
    ),
    *(
        f"partner:{p}:{f}"
        for p in ("ncc", "city")
        for f in (
            "planned",
            "received",
            "transfers_in",
            "transfers_out",
            "risk_share",
            "net_obligation",
            "outstanding",
        )
    ),
)
BOARD_ONLY = (
    "scheme:equipment:planned",
    "scheme:equipment:actual",
    "scheme:equipment:forecast",
    "scheme:equipment:outturn",
    "stream:contribution:planned",
    "stream:contribution:received",
    *(f"quarter:Q{n}:{f}" for n in (1, 2, 3, 4) for f in ("income", "spend", "transfers_in")),
)


def act(w: World, pool: str, action: tuple[Any, ...], posted: list[str]) -> None:
    kind, who, pence, day = action
    amount = f"{pence // 100}.{pence % 100:02d}"
    on = day.isoformat()
    base = f"/v1/pools/{pool}"
    if kind in ("contribution", "refund"):
        body: dict[str, Any] = contribution(who, amount, on)
        path, poster = (
            (f"{base}/contributions", who)
            if kind == "contribution"
            else (
                f"{base}/refunds",
                "ncc",
            )
        )
    elif kind in ("spend", "credit"):
        body = spend(amount, on)
        path, poster = f"{base}/{'expenditures' if kind == 'spend' else 'credits'}", "ncc"
    elif kind == "forecast":
        body = {"year": "2025-26", "amount": amount, "as_of_date": on}
        path, poster = f"{base}/forecasts", "ncc"
    elif kind == "reverse":
        if not posted:
            return
        target = posted[pence % len(posted)]
        r = w.post("admin", f"/v1/events/{target}/reversal", {"reason": "property"})
        assert r.status_code in (201, 409), r.text
        return
    else:
        other = {"ncc": "city", "city": "icb-a", "icb-a": "ncc"}[who]
        sides = {
            "to_pool": ({"partner_id": who}, {"pool_id": pool}),
            "to_partner": ({"pool_id": pool}, {"partner_id": who}),
            "partner_to_partner": ({"partner_id": who}, {"partner_id": other}),
        }[kind]
        body = {
            "pool_id": pool,
            "from": sides[0],
            "to": sides[1],
            "amount": amount,
            "purpose": "other",
            "effective_date": on,
            "reference": "T",
        }
        # posted by the payer's officer (the host's, for the pool)
        path, poster = "/v1/transfers", ("ncc" if kind == "to_partner" else who)
    r = w.post(poster, path, body)
    assert r.status_code in (201, 422), r.text  # 422: a refund or credit beyond the limit
    if r.status_code == 201:
        posted.append(r.json()["events"][0]["event_id"])


# Each example posts up to ten facts through the API and reads every figure's trace on
# the API and the board (~40 requests): a third of the profile's examples, at most 10,
# keeps this property to about a minute on both databases in `make test`.
@settings(max_examples=min(10, max(3, settings.default.max_examples // 3)))
@given(actions=st.lists(ACTION, min_size=1, max_size=10))
def test_every_traced_figure_is_the_sum_of_its_listed_signed_amounts(
    world: World, actions: list[tuple[Any, ...]]
) -> None:
    w = world
    pool = new_pool(w)
    posted: list[str] = []
    for a in actions:
        act(w, pool, a, posted)
    year = w.get("board", f"/v1/pools/{pool}/balances", year="2025-26").json()["pool"]
    for figure in FIGURES:
        trace = api_trace(w, pool, figure)
        if figure == "pool:variance" and year["outturn_basis"] == "actual_to_date":
            # no outturn yet, so no year variance (domain.md 6.1): nothing to add up
            assert year["variance"] is None and trace["value"] is None, trace
            continue
        assert trace["value"] is not None, figure
        assert all(e["amount"] is not None for e in trace["events"]), figure
        assert api_sum(trace) == money(trace["value"]), (figure, trace)
        value, total, _ = board_trace(w, pool, figure)
        assert value == money(trace["value"]), figure
        assert total == value, figure
    for figure in BOARD_ONLY:
        value, total, _ = board_trace(w, pool, figure)
        assert value is not None and total == value, figure

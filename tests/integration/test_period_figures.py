"""Figures true to their period (domain.md 6.1 "As at and through", plan to date; 6.7),
over HTTP on SQLite and PostgreSQL.

The BCF pool of ``tests.builders`` (plan: carers £450,000.00, adaptations £200,000.00;
icb-a £1,000,000.00 minimum NHS, ncc £200,000.00 DFG). Q1's money (``given_q1_activity``)
is recorded on 31 July 2025, after Q1's due date (30 July); on 20 August a late Q1
invoice of £5,000.00 (adaptations, dated 28 June) and Q2's money (icb-a £250,000.00 on
1 August, carers £40,000.00 on 10 August) and a whole-pool forecast as of 15 August;
the Q1 return is then filed on 25 August. Figures through 30 June, by hand:

- income 250,000.00 + 50,000.00 = 300,000.00 (icb-a 250,000.00, ncc 50,000.00);
- spend 100,000.00 + 30,000.00 - 1,000.00 + 5,000.00 = 134,000.00;
- balance 300,000.00 - 134,000.00 = 166,000.00;
- the forecast (as of 15 August) does not count through 30 June: basis actual_to_date,
  no year variance, no risk share;
- planned spend to date (Q1, straight line): 450,000.00 / 4 + 200,000.00 / 4 =
  112,500.00 + 50,000.00 = 162,500.00; variance to date 134,000.00 - 162,500.00 =
  -28,500.00; planned contributions to date 250,000.00 + 50,000.00 = 300,000.00.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime
from typing import Any

import openpyxl
import pytest
from sqlalchemy import Engine

from ledger.clock import FixedClock
from ledger.domain import commands as c
from tests.builders import contribution, officer, pounds, spend
from tests.integration.return_checks import assert_return_agrees
from tests.integration.test_returns import by_first, given_q1_activity, rows
from tests.integration.test_returns_api import Api

Q1 = "2025-26-Q1"
HOST = officer("ncc")
ICB = officer("icb-a")


def at(api: Api, when: datetime) -> None:
    api.clock.advance(seconds=(when - api.clock.now()).total_seconds())


@pytest.fixture
def api(engine: Engine) -> Api:
    clock = FixedClock(datetime(2025, 7, 31, 7, 0, tzinfo=UTC))  # after Q1's due date
    a = Api(engine, clock)
    given_q1_activity(a.ledger)
    for who, role, partner in (
        ("admin", "admin", None),
        ("board", "board", None),
        ("ncc", "finance_officer", "ncc"),
    ):
        a.issue(who, role, partner)
    at(a, datetime(2025, 8, 20, 9, 0, tzinfo=UTC))
    a.ledger.execute(spend("bcf", "adaptations", "5000.00", date(2025, 6, 28)), HOST)  # late Q1
    a.ledger.execute(
        contribution(
            "bcf", "icb-a", "250000.00", date(2025, 8, 1), stream="minimum_nhs_contribution"
        ),
        HOST,
    )
    a.ledger.execute(spend("bcf", "carers", "40000.00", date(2025, 8, 10)), HOST)
    a.ledger.execute(
        c.RecordForecast(
            pool_id="bcf", year="2025-26", amount=pounds("700000.00"), as_of_date=date(2025, 8, 15)
        ),
        HOST,
    )
    at(a, datetime(2025, 8, 25, 9, 0, tzinfo=UTC))
    return a


def test_a_late_filed_q1_return_counts_only_q1_facts_and_agrees_with_the_api_through_30_june(
    api: Api,
) -> None:
    # when Q1's return is filed late, after Q2's postings
    filed = api.post("admin", f"/v1/pools/bcf/returns/{Q1}")
    assert filed.status_code == 201, filed.text
    position = filed.json()["as_at_position"]
    doc = json.loads(api.get("board", f"/v1/pools/bcf/returns/{Q1}", format="json").content)

    # then every figure is through 30 June: the late Q1 invoice in, Q2's money out
    pool = doc["pool"]
    assert (pool["income"], pool["spend"], pool["balance"]) == (
        "300000.00",
        "134000.00",
        "166000.00",
    )
    assert (pool["outturn_basis"], pool["variance"]) == ("actual_to_date", None)
    assert (pool["planned_to_date"], pool["actual_to_date"], pool["variance_to_date"]) == (
        "162500.00",
        "134000.00",
        "-28500.00",
    )
    assert doc["totals"]["income"]["received_year_to_date"] == "300000.00"
    assert doc["totals"]["expenditure"]["actual_year_to_date"] == "134000.00"
    assert {p["partner_id"]: p["received"] for p in doc["partners"]} == {
        "icb-a": "250000.00",
        "ncc": "50000.00",
    }
    assert doc["risk_share"]["direction"] == "none"
    # and every sheet agrees with every other
    assert_return_agrees(doc)

    # and the workbook's cover states the sheets' totals
    wb = api.get("board", f"/v1/pools/bcf/returns/{Q1}", format="xlsx").content
    cover = {r[0]: r[1] for r in rows(wb, "Cover")[1:]}
    income = by_first(rows(wb, "Income"))
    expenditure = by_first(rows(wb, "Expenditure"))
    balances = by_first(rows(wb, "Partner Balances and Risk Share"))
    assert cover["Income Received (£)"] == income["Total"][4] == balances["total"][3] == 300000
    assert cover["Expenditure (£)"] == expenditure["total"][8] == 134000
    assert by_first(rows(wb, "Expenditure by Scheme Type"))["Total"][3] == 134000
    assert by_first(rows(wb, "Expenditure by Commissioner"))["Total"][3] == 134000
    assert cover["Outturn Basis"] == "actual_to_date"
    assert cover["Planned Spend to Date (£)"] == 162500
    assert cover["Variance to Date (£)"] == -28500

    # and the balances API through 30 June as at the return's position says the same
    b = api.get(
        "board",
        "/v1/pools/bcf/balances",
        year="2025-26",
        as_at=f"position:{position}",
        through="2025-06-30",
    ).json()
    assert b["as_at_position"] == position
    for key in ("income", "spend", "balance", "outturn_basis", "variance"):
        assert b["pool"][key] == pool[key], key
    for key in ("planned_to_date", "actual_to_date", "variance_to_date"):
        assert b["pool"][key] == pool[key], key
    assert b["pool"]["income_planned_to_date"] == "300000.00"
    assert {p["partner_id"]: p["received"] for p in b["partners"]} == {
        p["partner_id"]: p["received"] for p in doc["partners"]
    }
    assert {p["partner_id"]: p["outstanding"] for p in b["partners"]} == {
        p["partner_id"]: p["outstanding"] for p in doc["partners"]
    }
    # while read without ``through`` the same position counts Q2's money and forecast
    whole = api.get(
        "board", "/v1/pools/bcf/balances", year="2025-26", as_at=f"position:{position}"
    ).json()["pool"]
    assert (whole["income"], whole["spend"], whole["outturn_basis"]) == (
        "550000.00",
        "174000.00",
        "forecast",
    )
    assert whole["variance"] == "-500000.00"  # 700,000.00 - (1,200,000.00 + 0)


def test_through_mid_quarter_counts_only_the_days_up_to_it(api: Api) -> None:
    def pool(through: str) -> dict[str, Any]:
        r = api.get("board", "/v1/pools/bcf/balances", year="2025-26", through=through)
        assert r.status_code == 200, r.text
        return dict(r.json()["pool"])

    # 31 May: the minimum NHS contribution (1 May) only; no quarter has ended
    may = pool("2025-05-31")
    assert (may["income"], may["spend"], may["to_date"], may["planned_to_date"]) == (
        "250000.00",
        "0.00",
        None,
        "0.00",
    )
    # 20 June: + carers 100,000.00 (1 June) and the DFG (15 June), not adaptations (20th
    # counts: on or before), nor the credit (25 June) nor the late invoice (28 June)
    june = pool("2025-06-20")
    assert (june["income"], june["spend"]) == ("300000.00", "130000.00")
    # 12 August: + icb-a's 250,000.00 (1 August) and carers' 40,000.00 (10 August): Q1
    # has ended (plan to date Q1's); the forecast is as of 15 August, so not yet
    august = pool("2025-08-12")
    assert (august["income"], august["spend"], august["outturn_basis"]) == (
        "550000.00",
        "174000.00",
        "actual_to_date",
    )
    assert (august["to_date"], august["planned_to_date"]) == ("2025-06-30", "162500.00")
    # before the year began nothing counts
    assert pool("2025-03-31")["income"] == "0.00"


@pytest.mark.parametrize("bad", ["2025-02-30", "30/06/2025", "2025-6-30", "1900-01-01"])
def test_a_through_that_is_not_a_real_date_is_refused_naming_it(api: Api, bad: str) -> None:
    for path in ("/v1/pools/bcf/balances", "/v1/pools/bcf/risk-share"):
        r = api.get("board", path, year="2025-26", through=bad)
        assert r.status_code == 422, (path, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert [e["field"] for e in r.json()["errors"]] == ["through"]
    r = api.get("board", "/v1/pools/bcf/metrics", period=Q1, through=bad)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "through"


def test_metrics_and_the_risk_share_read_through_a_date(api: Api) -> None:
    # Q1's metrics are effective on 30 June: none counts through 29 June
    before = api.get("board", "/v1/pools/bcf/metrics", period=Q1, through="2025-06-29").json()
    assert before["metrics"] == []
    on = api.get("board", "/v1/pools/bcf/metrics", period=Q1, through="2025-06-30").json()
    assert len(on["metrics"]) == 3
    # the forecast of 15 August makes an underspend from then on, not before
    rs = api.get("board", "/v1/pools/bcf/risk-share", year="2025-26", through="2025-08-14")
    assert (rs.json()["basis"], rs.json()["variance"]) == ("actual_to_date", None)
    rs = api.get("board", "/v1/pools/bcf/risk-share", year="2025-26", through="2025-08-15")
    assert (rs.json()["basis"], rs.json()["variance"]) == ("forecast", "-500000.00")


def test_the_q1_workbook_says_no_scheme_forecast_rather_than_a_plan(api: Api) -> None:
    api.post("admin", f"/v1/pools/bcf/returns/{Q1}")
    wb = openpyxl.load_workbook(
        io.BytesIO(api.get("board", f"/v1/pools/bcf/returns/{Q1}", format="xlsx").content)
    )
    forecast_column = [r[9] for r in wb["Expenditure"].iter_rows(min_row=2, values_only=True)]
    assert forecast_column == ["no scheme forecast"] * 3

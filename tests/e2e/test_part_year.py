"""A part year (domain.md 6.1, plan to date): with no forecast the board's home page and
the balances API show the plan, spend and variance *to date*, never an over- or
underspend for the year, and allocate no risk share; once a forecast is recorded the
year variance returns. On SQLite and PostgreSQL.

Worked example A's pool (ncc £2,000,000.00, city £1,000,000.00, icb-a £500,000.00;
one equipment scheme planned at £3,500,000.00 with a quarterly profile of £1,000,000.00,
£900,000.00, £800,000.00, £800,000.00), recorded in June 2025: ncc pays £600,000.00
(2 May), equipment spend £700,000.00 (20 May) and £250,000.00 (25 June). By hand, as at
30 June (Q1 ended):
- planned spend to date: the profile's Q1, £1,000,000.00; spend to date £950,000.00;
  variance to date -£50,000.00;
- planned contributions to date (straight line, Q1 takes the pennies): ncc £500,000.00,
  city £250,000.00, icb-a £125,000.00 = £875,000.00.
On 1 July a whole-pool forecast of £3,570,000.00 (as of 1 July): variance +£70,000.00,
an overspend, shared by example A's proportions: ncc £40,000.00, city £20,000.00,
icb-a £10,000.00.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from api.app import create_app
from ledger.clock import FixedClock
from ledger.domain import commands as c
from ledger.domain.plan import Scheme
from ledger.handlers import Ledger
from ledger.settings import Settings
from ledger.store import tokens
from tests.builders import (
    ADMIN,
    contribution,
    equipment_plan,
    officer,
    pounds,
    register_partners,
    spend,
)
from tests.e2e.api_support import database
from tests.e2e.test_board_pages import MINUS, cell, figures, london, move_to, row, sign_in, text

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from fastapi.testclient import TestClient


class World:
    def __init__(self, client: TestClient, ledger: Ledger, clock: FixedClock, secret: str):
        self.client, self.ledger, self.clock, self.secret = client, ledger, clock, secret

    def balances(self, **params: str) -> dict[str, object]:
        r = self.client.get(
            "/v1/pools/eq/balances",
            params={"year": "2025-26", **params},
            headers={"Authorization": f"Bearer {self.secret}"},
        )
        assert r.status_code == 200, r.text
        return dict(r.json())

    def home(self, **params: str) -> str:
        r = self.client.get("/board/", params=params)
        assert r.status_code == 200, r.text[:1000]
        return r.text


@pytest.fixture(params=["sqlite", "postgresql"])
def world(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> Iterator[World]:
    with database(request.param, tmp_path, sqlite_template) as engine:
        clock = FixedClock(london(2025, 6, 20))
        app = create_app(Settings(scheduler=False), engine=engine, clock=clock)
        ledger: Ledger = app.state.ledger
        register_partners(ledger)
        ledger.execute(
            c.EstablishPool(
                pool_id="eq",
                name="Equipment pool",
                kind="section_75",
                host_partner_id="ncc",
                members=("ncc", "city", "icb-a"),
            ),
            ADMIN,
        )
        profiled = Scheme(
            id="equipment",
            name="Community equipment",
            scheme_type="Assistive Technologies and Equipment",
            commissioner="ncc",
            provider_type="Private Sector",
            funding_stream="contribution",
            planned=pounds("3500000"),
            quarters=(pounds("1000000"), pounds("900000"), pounds("800000"), pounds("800000")),
        )
        plan = equipment_plan(schemes=(profiled,))
        ledger.execute(c.AgreePlan(pool_id="eq", year="2025-26", plan=plan), ADMIN)
        ncc = officer("ncc")
        ledger.execute(contribution("eq", "ncc", "600000.00", date(2025, 5, 2)), ncc)
        ledger.execute(spend("eq", "equipment", "700000.00", date(2025, 5, 20)), ncc)
        move_to(clock, london(2025, 6, 25))
        ledger.execute(spend("eq", "equipment", "250000.00", date(2025, 6, 25)), ncc)
        move_to(clock, london(2025, 7, 1))
        _, secret = tokens.create_token(engine, role="board", name="Board", clock=clock)
        w = World(TestClient(app), ledger, clock, secret)
        sign_in(w.client, secret)
        yield w
        w.client.close()


def test_as_at_30_june_the_api_and_home_page_show_to_date_figures_and_no_year_variance(
    world: World,
) -> None:
    # the balances API as at 30 June
    b = world.balances(as_at="2025-06-30")
    pool = b["pool"]
    assert isinstance(pool, dict)
    assert (pool["outturn_basis"], pool["variance"]) == ("actual_to_date", None)
    assert (pool["to_date"], pool["planned_to_date"], pool["actual_to_date"]) == (
        "2025-06-30",
        "1000000.00",
        "950000.00",
    )
    assert pool["variance_to_date"] == "-50000.00"
    assert pool["income_planned_to_date"] == "875000.00"
    partners = b["partners"]
    assert isinstance(partners, list)
    assert {p["partner_id"]: (p["planned_to_date"], p["risk_share"]) for p in partners} == {
        "city": ("250000.00", "0.00"),
        "icb-a": ("125000.00", "0.00"),
        "ncc": ("500000.00", "0.00"),
    }
    # the board's home page as at 30 June: the same, labelled "to date"
    html = world.home(as_at="2025-06-30")
    eq = row(html, "pool", "eq")
    assert 'data-figure="variance"' not in eq
    assert cell(eq, "variance_to_date") == f"{MINUS}£50,000.00"
    assert "Variance to date: plan to 30 June 2025 £1,000,000.00" in text(eq)
    assert "Underspend" not in text(eq) and "Overspend" not in text(eq)
    # and the pool's page: plan and variance to date, no outturn or variance for the year
    page = world.client.get("/board/pools/eq/years/2025-26", params={"as_at": "2025-06-30"})
    key = figures(page.text)
    assert "variance" not in key
    assert (key["planned_to_date"], key["variance_to_date"]) == (
        "£1,000,000.00",
        f"{MINUS}£50,000.00",
    )


def test_with_a_forecast_recorded_the_year_variance_returns(world: World) -> None:
    world.ledger.execute(
        c.RecordForecast(
            pool_id="eq", year="2025-26", amount=pounds("3570000.00"), as_of_date=date(2025, 7, 1)
        ),
        officer("ncc"),
    )
    b = world.balances()
    pool, partners = b["pool"], b["partners"]
    assert isinstance(pool, dict) and isinstance(partners, list)
    assert {p["partner_id"]: p["risk_share"] for p in partners} == {
        "city": "20000.00",
        "icb-a": "10000.00",
        "ncc": "40000.00",
    }
    assert (pool["outturn_basis"], pool["outturn"], pool["variance"]) == (
        "forecast",
        "3570000.00",
        "70000.00",
    )
    assert pool["variance_to_date"] == "-50000.00"  # still given beside it
    eq = row(world.home(), "pool", "eq")
    assert cell(eq, "variance") == "+£70,000.00"
    assert "Overspend" in text(eq)
    # as at 30 June (before the forecast) it is still a part year with no variance
    assert world.balances(as_at="2025-06-30")["pool"]["variance"] is None  # type: ignore[index]

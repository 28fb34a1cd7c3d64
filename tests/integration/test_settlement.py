"""Settling a year's risk share has one path (``filing.settlement``) with the guard
against stale figures: a pool event landing between the read of the figures and the
append makes the settlement refused (409), over HTTP and through ``settle_year``
alike; settling again then fixes figures that include it.

Worked example A: planned contributions ncc £2m, city £1m, icb-a £0.5m (4/7, 2/7,
1/7), planned spend £3.5m, actual £3.6m: a £100,000 overspend shared proportionally.
The late invoice of £35,000 (a prior-period adjustment in the closed Q4) makes it
£135,000: in pence 13,500,000 x 4/7 = 7,714,285.71, x 2/7 = 3,857,142.86,
x 1/7 = 1,928,571.43; floors 7,714,285 + 3,857,142 + 1,928,571 = 13,499,998, the two
pence left go to the largest remainders (city .86, ncc .71): £77,142.86, £38,571.43,
£19,285.71.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import Engine

from api.app import create_app
from filing import settlement
from ledger.clock import FixedClock
from ledger.domain import commands as c
from ledger.domain.errors import ConcurrencyError
from ledger.handlers import Ledger
from ledger.settings import Settings
from ledger.store import tokens
from projections.balances import risk_share_at
from projections.queries import Reader
from tests.builders import ADMIN, contribution, given_equipment_pool, officer, spend

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

HOST = officer("ncc")
LATE_INVOICE = spend("eq", "equipment", "35000.00", date(2026, 3, 20), ppa=True, reference="L1")
SETTLE = "/v1/pools/eq/years/2025-26/settle"


def year_closed(ledger: Ledger) -> None:
    """Example A's year, every quarter closed: £3.6m spent against £3.5m planned."""
    given_equipment_pool(ledger)
    ledger.execute(contribution("eq", "ncc", "2000000.00", date(2025, 4, 10)), HOST)
    ledger.execute(contribution("eq", "city", "1000000.00", date(2025, 4, 11)), officer("city"))
    ledger.execute(contribution("eq", "icb-a", "500000.00", date(2025, 4, 12)), officer("icb-a"))
    ledger.execute(spend("eq", "equipment", "3600000.00", date(2026, 3, 1)), HOST)
    for n in (1, 2, 3, 4):
        ledger.execute(c.ClosePeriod(pool_id="eq", quarter=f"2025-26-Q{n}"), ADMIN)


def with_a_posting_after_the_read(
    ledger: Ledger, real: Callable[[Engine, str, str], c.SettleRiskShare]
) -> Callable[[Engine, str, str], c.SettleRiskShare]:
    """``settlement_command`` as it is, then the late invoice posted by the host before
    the settlement reaches the write side (the race the guard is for)."""

    def racing(engine: Engine, pool_id: str, year: str) -> c.SettleRiskShare:
        command = real(engine, pool_id, year)
        ledger.execute(LATE_INVOICE, HOST)
        return command

    return racing


def shares(engine: Engine) -> tuple[str, dict[str, int]]:
    with Reader(engine).at() as (conn, at):
        rs = risk_share_at(conn, "eq", "2025-26", at)
    return ("settled" if rs.settled else "provisional"), dict(rs.allocations)


@pytest.fixture
def app_ledger(engine: Engine) -> tuple[TestClient, Ledger, dict[str, str]]:
    clock = FixedClock(datetime(2026, 5, 11, 9, 0, tzinfo=UTC))  # the year has ended
    app = create_app(Settings(scheduler=False), engine=engine, clock=clock)
    ledger: Ledger = app.state.ledger
    year_closed(ledger)
    _, secret = tokens.create_token(engine, role="admin", name="admin", clock=clock)
    return TestClient(app), ledger, {"Authorization": f"Bearer {secret}"}


def test_a_settlement_over_http_whose_figures_went_stale_answers_409(
    app_ledger: tuple[TestClient, Ledger, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, ledger, admin = app_ledger
    import api.routes.postings as route

    monkeypatch.setattr(
        route, "settlement_command", with_a_posting_after_the_read(ledger, route.settlement_command)
    )
    r = client.post(SETTLE, headers=admin)
    assert r.status_code == 409, r.text
    assert r.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = r.json()
    assert problem["title"] == "Concurrent change"
    assert problem["status"] == 409
    assert "where the settlement figures were read; settle again" in problem["detail"]
    assert shares(ledger.engine)[0] == "provisional"  # nothing was fixed

    monkeypatch.undo()
    r = client.post(SETTLE, headers=admin)
    assert r.status_code == 201, r.text
    assert shares(ledger.engine) == (
        "settled",
        {"ncc": 7_714_286, "city": 3_857_143, "icb-a": 1_928_571},
    )


def test_settle_year_has_the_same_guard(ledger: Ledger, monkeypatch: pytest.MonkeyPatch) -> None:
    year_closed(ledger)
    monkeypatch.setattr(
        settlement,
        "settlement_command",
        with_a_posting_after_the_read(ledger, settlement.settlement_command),
    )
    with pytest.raises(ConcurrencyError, match="settle again"):
        settlement.settle_year(ledger, "eq", "2025-26", ADMIN)
    assert shares(ledger.engine)[0] == "provisional"

    monkeypatch.undo()
    settlement.settle_year(ledger, "eq", "2025-26", ADMIN)
    assert shares(ledger.engine) == (
        "settled",
        {"ncc": 7_714_286, "city": 3_857_143, "icb-a": 1_928_571},
    )


def test_the_settlement_carries_the_position_its_figures_were_read_at(ledger: Ledger) -> None:
    """Without it the write side has nothing to compare (a command without
    ``as_at_position`` is never checked)."""
    year_closed(ledger)
    with Reader(ledger.engine).at() as (_, head):
        pass
    command = settlement.settlement_command(ledger.engine, "eq", "2025-26")
    assert command.as_at_position == head
    assert (command.variance, command.direction) == (10_000_000, "overspend")

"""A pool-year's inputs read together (one round trip on PostgreSQL, through psycopg's
pipeline and the DBAPI cursor) are what each statement reads through SQLAlchemy on
its own, on SQLite and PostgreSQL, at the head and as at an earlier position."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Engine

from ledger.domain import commands as c
from ledger.domain.errors import NotFound
from ledger.handlers import Ledger
from projections.base import facts, latest_by_key, members_at, pool_row, settlement
from projections.money_lines import line_sums
from projections.queries import Reader
from projections.year_inputs import year_inputs
from tests.builders import contribution, given_equipment_pool, officer, register_partners, spend

YEAR = "2025-26"


def _given_a_year_with_money_and_forecasts(ledger: Ledger) -> int:
    """The equipment pool with contributions, spend and a forecast; returns the
    position before the later postings."""
    given_equipment_pool(ledger)
    register_partners(ledger, ["trust"])
    ledger.execute(contribution("eq", "ncc", "1000.00", date(2025, 5, 1)), officer("ncc"))
    ledger.execute(spend("eq", "equipment", "250.25", date(2025, 6, 1)), officer("ncc"))
    before = Reader(ledger.engine).position()
    ledger.execute(contribution("eq", "city", "400.10", date(2025, 8, 1)), officer("city"))
    ledger.execute(
        c.RecordForecast(pool_id="eq", year=YEAR, amount=99_000_00, as_of_date=date(2025, 9, 30)),
        officer("ncc"),  # the host records forecasts
    )
    return before


@pytest.mark.parametrize("when", ["head", "earlier"])
def test_inputs_read_together_equal_each_statement_read_alone(
    ledger: Ledger, engine: Engine, when: str
) -> None:
    # given a pool-year with money and a forecast
    earlier = _given_a_year_with_money_and_forecasts(ledger)
    at = Reader(engine).position() if when == "head" else earlier
    with engine.connect() as conn:
        # when its inputs are read together
        got = year_inputs(conn, "eq", YEAR, "2024-25", at)
        # then each is what its own statement reads
        assert got.pool == pool_row(conn, "eq", at)
        assert got.sums == line_sums(conn, "eq", YEAR, at)
        assert got.members == members_at(conn, "eq", at) == ["city", "icb-a", "ncc"]
        # the kinds of the pool's partners only (the trust is registered, not a member)
        assert got.kinds == {"ncc": "local_authority", "city": "local_authority", "icb-a": "icb"}
        plans = facts(conn, "eq", "plan_agreed", at, year=YEAR)
        assert got.facts.plan == plans[-1]
        assert got.facts.settled is None and settlement(conn, "eq", YEAR, at) is None
        assert got.facts.forecasts == latest_by_key(conn, "eq", "forecast_recorded", at, year=YEAR)
    # and, independently of any statement, the values are the ones posted by hand:
    # ncc's £1,000.00 (Q1) and £250.25 of equipment spend (Q1); then city's £400.10 (Q2)
    by_line = sorted(
        (s.kind, s.partner_id, s.scheme_id, s.quarter, s.amount) for s in got.sums if s.amount
    )
    expected = [
        ("contribution", "ncc", None, "2025-26-Q1", 1000_00),
        ("expenditure", None, "equipment", "2025-26-Q1", 250_25),
    ]
    if when == "head":
        expected.append(("contribution", "city", None, "2025-26-Q2", 400_10))
    assert by_line == sorted(expected)
    assert got.pool.host_partner_id == "ncc"
    assert got.facts.plan is not None and got.facts.settled is None
    assert [f.data["amount"] for f in got.facts.forecasts] == (
        [] if when == "earlier" else [99_000_00]
    )


def test_inputs_keep_the_members_the_caller_read(ledger: Ledger, engine: Engine) -> None:
    given_equipment_pool(ledger)
    at = Reader(engine).position()
    with engine.connect() as conn:
        got = year_inputs(conn, "eq", YEAR, "2024-25", at, members=["as", "given"])
    assert got.members == ["as", "given"]


def test_inputs_of_a_pool_that_did_not_exist_then_are_not_found(
    ledger: Ledger, engine: Engine
) -> None:
    given_equipment_pool(ledger)
    with engine.connect() as conn, pytest.raises(NotFound, match="as at position 1"):
        year_inputs(conn, "eq", YEAR, "2024-25", 1)

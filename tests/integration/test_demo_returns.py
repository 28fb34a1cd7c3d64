"""Every return the demo's BCF pool files, and every memorandum of its Section 75 pool,
agrees with itself: no figure counts a fact effective after its period, and the
cover's totals are the sheets' totals (domain.md 6.7). On SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from filing.documents import fetch_memorandum, get_return
from filing.lifecycle import generate_return
from ledger.demo import BCF, ICES
from ledger.domain.periods import parse_quarter
from tests.builders import ADMIN
from tests.demo_fixtures import DemoTemplates
from tests.integration.return_checks import assert_return_agrees
from tests.integration.test_demo import TODAY, _ledger

# one xdist worker loads the demo for every module that uses it (tests/demo_fixtures.py)
pytestmark = pytest.mark.xdist_group("demo")

QUARTERS = (
    "2025-26-Q1",
    "2025-26-Q2",
    "2025-26-Q3",
    "2025-26-Q4",
    "2026-27-Q1",
    "2026-27-Q2",
)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def filed(
    request: pytest.FixtureRequest, demo_templates: DemoTemplates
) -> Iterator[tuple[Any, dict[str, dict[str, Any]]]]:
    """The demo (a copy of its own: filing writes), then every ended quarter's BCF return
    filed in order (as the scheduler files them): the engine and each return's JSON."""
    with demo_templates.copy(request.param) as demo:
        engine = demo.engine
        ledger = _ledger(engine)
        docs = {}
        for quarter in QUARTERS:
            generate_return(ledger, BCF, quarter, ADMIN, today=TODAY)
            docs[quarter] = json.loads(get_return(engine, BCF, quarter, "json")[0])
        yield engine, docs


@pytest.mark.parametrize("quarter", QUARTERS)
def test_every_filed_return_of_the_demo_agrees_sheet_by_sheet(
    filed: tuple[Any, dict[str, dict[str, Any]]], quarter: str
) -> None:
    _, docs = filed
    assert_return_agrees(docs[quarter])


def test_no_filed_return_counts_money_effective_after_its_quarter(
    filed: tuple[Any, dict[str, dict[str, Any]]],
) -> None:
    # the year to date of each return is the sum of its year's quarters up to its own,
    # as the next return (or the whole year) reports them: nothing from a later quarter
    _, docs = filed
    for quarter, doc in docs.items():
        q = parse_quarter(quarter)
        ytd = Decimal(doc["totals"]["income"]["received_year_to_date"])
        assert Decimal(doc["pool"]["income"]) == ytd, quarter
        for line in doc["income"]:
            assert Decimal(line["received_year_to_date"]) == Decimal(
                line["previous_year_to_date"]
            ) + Decimal(line["received_in_quarter"]) + Decimal(line["adjustments"]), quarter
        if q.number < 4:
            later = docs.get(q.next().label)
            if later is not None and not later["prior_period_adjustments"]:
                assert Decimal(later["totals"]["income"]["previous_year_to_date"]) == ytd


@pytest.mark.parametrize("year", ["2025-26", "2026-27"])
def test_the_memorandum_of_each_year_agrees_with_itself(
    filed: tuple[Any, dict[str, dict[str, Any]]], year: str
) -> None:
    engine, _ = filed
    doc = json.loads(fetch_memorandum(engine, ICES, year, "json").content)
    pool = doc["pool"]

    def total(items: list[dict[str, Any]], name: str) -> Decimal:
        return sum((Decimal(x[name]) for x in items), Decimal(0))

    assert (
        Decimal(pool["income"])
        == total(doc["income"], "received")
        == total(doc["partners"], "received")
    )
    assert Decimal(pool["spend"]) == total(doc["expenditure"], "actual")
    outturns = [x["outturn"] for x in doc["expenditure"]]
    if doc.get("expenditure_note") is None and pool["outturn_basis"] != "actual_to_date":
        assert Decimal(pool["outturn"]) == sum((Decimal(o) for o in outturns), Decimal(0))
    else:
        # the statement says why the schemes' outturns do not sum to the pool's
        assert doc["expenditure_note"]
    if pool["outturn_basis"] == "actual_to_date":
        assert pool["variance"] is None

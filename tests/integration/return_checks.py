"""Checks that a return's (or memorandum's) parts agree with each other: the cover's
figures are the sheets' totals, and every total is the sum of its lines."""

from __future__ import annotations

from decimal import Decimal
from typing import Any


def pence(text: str | None) -> int | None:
    return None if text is None else int(Decimal(text) * 100)


def _sum(items: list[dict[str, Any]], name: str) -> int:
    return sum(int(Decimal(x[name]) * 100) for x in items)


def assert_return_agrees(doc: dict[str, Any]) -> None:
    """Every figure of a quarterly return's JSON that is stated twice states the same."""
    pool, totals = doc["pool"], doc["totals"]
    income = pence(pool["income"])
    spend = pence(pool["spend"])
    where = doc["cover"]["quarter"]
    # income: the cover, the income sheet's total and lines, the partners' balances
    assert income == pence(totals["income"]["received_year_to_date"]), where
    assert income == _sum(doc["income"], "received_year_to_date"), where
    assert income == _sum(doc["partners"], "received"), where
    in_quarter = pence(totals["income"]["received_in_quarter"])
    assert in_quarter == _sum(doc["income"], "received_in_quarter"), where
    # spend: the cover, the expenditure sheet, its totals by scheme type and commissioner
    assert spend == pence(totals["expenditure"]["actual_year_to_date"]), where
    assert spend == _sum(doc["expenditure"], "actual_year_to_date"), where
    assert spend == pence(doc["by_scheme_type"][-1]["actual_year_to_date"]), where
    assert spend == pence(doc["by_commissioner"][-1]["actual_year_to_date"]), where
    assert spend == pence(pool["actual_to_date"]), where
    for key in ("planned", "actual_in_quarter"):
        whole = pence(totals["expenditure"][key])
        assert whole == pence(doc["by_scheme_type"][-1][key]), (where, key)
        assert whole == pence(doc["by_commissioner"][-1][key]), (where, key)
    # planned contributions, and the pool balance identity (6.1)
    assert pence(pool["planned"]) == pence(totals["income"]["planned"]), where
    assert pence(pool["planned"]) == _sum(doc["partners"], "planned"), where
    opening, t_in, t_out = (
        pence(pool[k]) or 0 for k in ("opening_balance", "transfers_in", "transfers_out")
    )
    assert pence(pool["balance"]) == opening + (income or 0) + t_in - t_out - (spend or 0), where
    # the schemes' forecast outturns sum to the pool's outturn, or the return says why not
    if doc.get("expenditure_note") is None and pool["outturn_basis"] != "actual_to_date":
        assert pence(totals["expenditure"]["forecast_outturn"]) == pence(pool["outturn"]), where
    if pool["outturn_basis"] == "actual_to_date":
        assert pool["variance"] is None and doc["risk_share"]["direction"] == "none", where

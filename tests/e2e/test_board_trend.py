"""The quarterly trend chart stops at the last quarter that has ended as at the page's
date: a quarter still running, or not begun, has no point (no balance for a quarter
that has not happened). The world is ``test_board_pages``': pool ``eq``, 2025-26, with
£750,000.00 received and £400,000.00 spent in Q2 and £125,000.00 received and
£1,234,567.89 spent in Q3 (October 2025)."""

from __future__ import annotations

import re
import warnings

from freezegun import freeze_time

from api.app import create_app
from ledger.settings import Settings
from tests.e2e.test_board_pages import MINUS, Board, sign_in, text
from tests.e2e.test_board_pages import world as world  # the shared world (a fixture)

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from fastapi.testclient import TestClient


def charted(html: str) -> list[tuple[str, str]]:
    """The trend chart's data table: (quarter, income spend balance)."""
    chart = re.search(r'id="chart-trend-heading".*?</figure>', html, re.S)
    if chart is None:
        return []
    rows = re.findall(r"<tr><th scope=\"row\">(Q[1-4])</th>(.*?)</tr>", chart.group(0), re.S)
    return [(q, text(r)) for q, r in rows]


def pending(html: str) -> str:
    m = re.search(r'<p class="hint" id="trend-pending">(.*?)</p>', html, re.S)
    return text(m.group(1)) if m else ""


def page_on(world: Board, frozen: str, **params: str) -> str:
    """The eq 2025-26 page read by an app on the system clock, frozen at ``frozen``.
    The app answers once before the clock is frozen: FastAPI builds a route's
    parameters on its first request, and cannot build a date parameter while
    freezegun's date class stands in for ``date``."""
    app = create_app(Settings(scheduler=False), engine=world.engine)
    client = TestClient(app)
    sign_in(client, world.secrets["board"])
    assert client.get("/board/pools/eq/years/2025-26").status_code == 200
    with freeze_time(frozen):
        client.cookies.clear()
        sign_in(client, world.secrets["board"])  # a session signed at the frozen time
        r = client.get("/board/pools/eq/years/2025-26", params=params)
        assert r.status_code == 200, r.text[:500]
        return r.text


def test_on_a_day_in_q3_the_chart_has_q1_and_q2_only(world: Board) -> None:
    html = page_on(world, "2025-12-15 12:00:00")
    assert charted(html) == [
        ("Q1", "£0.00 £0.00 £0.00"),
        ("Q2", "£750,000.00 £400,000.00 £350,000.00"),
    ]
    assert pending(html).startswith("Q3, Q4 have not ended by 15 December 2025")
    assert "Q3: income" not in html and "Q4: income" not in html  # nor in the description


def test_in_q4_the_chart_reaches_q3_and_after_the_year_all_four(world: Board) -> None:
    html = page_on(world, "2026-01-05 12:00:00")
    assert [q for q, _ in charted(html)] == ["Q1", "Q2", "Q3"]
    assert charted(html)[2] == ("Q3", f"£125,000.00 £1,234,567.89 {MINUS}£759,567.89")
    assert pending(html).startswith("Q4 has not ended by 5 January 2026")
    after = page_on(world, "2026-04-02 12:00:00")
    assert [q for q, _ in charted(after)] == ["Q1", "Q2", "Q3", "Q4"]
    assert pending(after) == ""


def test_the_as_at_date_cuts_the_chart_not_today(world: Board) -> None:
    # on 29 September 2025 Q2 had not ended; on 30 September it had (at the day's end)
    html = page_on(world, "2026-04-02 12:00:00", as_at="2025-09-29")
    assert [q for q, _ in charted(html)] == ["Q1"]
    assert pending(html).startswith("Q2, Q3, Q4 have not ended by 29 September 2025")
    html = page_on(world, "2026-04-02 12:00:00", as_at="2025-09-30")
    assert [q for q, _ in charted(html)] == ["Q1", "Q2"]

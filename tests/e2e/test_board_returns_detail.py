"""The returns page: each return with its due date (from the reporting calendar in
``ledger/refdata/data/2025-26.json``: 30 days after the quarter ends, Q4 listed as
22 May 2026), when it was filed, whether late, its approval and submission; and each
year's settlement status.

Pool ``bcf`` (``tests.builders.given_bcf_pool``), 2025-26, filed by the admin:

- Q1 (ends 30 June 2025, due 30 July 2025) filed 20 July 2025: on time; approved and
  submitted;
- Q2 (ends 30 September, due 30 October 2025) filed 3 November 2025: late; neither
  approved nor submitted;
- Q3 (ends 31 December, due 30 January 2026) filed 20 January 2026: on time;
- Q4 (ends 31 March 2026, due 22 May 2026) filed on 22 May 2026, the due day: on time;
  its filing closes Q4, and the year is then settled.

The page is read by an app on the system clock under freezegun.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from freezegun import freeze_time
from sqlalchemy import Engine

from api.app import create_app
from filing.lifecycle import approve_return, generate_or_get, submit_return
from filing.settlement import settle_year
from ledger.clock import FixedClock
from ledger.handlers import Ledger
from ledger.settings import Settings
from ledger.store import tokens
from ledger.store.reads import read_head
from tests.builders import ADMIN, given_bcf_pool
from tests.e2e.api_support import database
from tests.e2e.test_board_pages import row, sign_in, table, text
from tests.return_parts_builders import complete_parts

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from fastapi.testclient import TestClient


def london_10am(y: int, m: int, d: int) -> datetime:
    """10:00 in London (BST from the last Sunday of March to the last of October)."""
    summer = (m, d) >= (3, 29) and (m, d) < (10, 26)
    return datetime(y, m, d, 9 if summer else 10, tzinfo=UTC)


@dataclass
class Filed:
    engine: Engine
    secret: str
    q4_filing: int  # the head after Q4's filing and close, before the settlement


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def filed(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    sqlite_template: Path,
) -> Iterator[Filed]:
    with database(request.param, tmp_path_factory.mktemp("returns"), sqlite_template) as engine:
        clock = FixedClock(london_10am(2025, 6, 1))
        app = create_app(Settings(scheduler=False), engine=engine, clock=clock)
        ledger: Ledger = app.state.ledger

        def at(y: int, m: int, d: int) -> None:
            clock.advance(seconds=(london_10am(y, m, d) - clock.now()).total_seconds())

        given_bcf_pool(ledger)
        for quarter, day in (
            ("2025-26-Q1", (2025, 7, 20)),
            ("2025-26-Q2", (2025, 11, 3)),
            ("2025-26-Q3", (2026, 1, 20)),
            ("2025-26-Q4", (2026, 5, 22)),
        ):
            at(*day)
            complete_parts(ledger, quarter)
            rec, _ = generate_or_get(ledger, "bcf", quarter, ADMIN)
            if quarter == "2025-26-Q1":
                approve_return(ledger, "bcf", quarter, ADMIN, note="board 22 July")
                submit_return(ledger, "bcf", quarter, ADMIN, reference="NHSE-Q1-0042")
        with engine.connect() as conn:
            q4_filing = read_head(conn).position  # the filing, then Q4's close
        assert q4_filing > rec.position
        settle_year(ledger, "bcf", "2025-26", ADMIN)
        _, secret = tokens.create_token(engine, role="board", name="Chair", clock=clock)
        yield Filed(engine, secret, q4_filing)


def page_on(filed: Filed, frozen: str, **params: str) -> str:
    """The returns page as at ``params``, read on ``frozen`` (an app on the system
    clock: it answers once before the clock is frozen, as FastAPI builds a route's
    parameters on its first request and cannot while freezegun stands in for date)."""
    client = TestClient(create_app(Settings(scheduler=False), engine=filed.engine))
    sign_in(client, filed.secret)
    assert client.get("/board/pools/bcf/returns").status_code == 200
    with freeze_time(frozen):
        client.cookies.clear()
        sign_in(client, filed.secret)
        r = client.get("/board/pools/bcf/returns", params=params)
        assert r.status_code == 200, r.text[:500]
        return r.text


def cell(fragment: str, attr: str) -> str:
    m = re.search(rf"<(td|span)[^>]*\b{attr}\b[^>]*>(.*?)</\1>", fragment, re.S)
    assert m, f"no {attr}"
    return text(m.group(2))


def test_each_filed_return_with_its_due_date_filing_lateness_approval_and_submission(
    filed: Filed,
) -> None:
    html = page_on(filed, "2026-06-01 12:00:00")
    got = table(html, "returns")
    q1, q2, q3, q4 = (row(got, "quarter", f"2025-26-Q{n}") for n in range(1, 5))
    assert [cell(r, "data-due") for r in (q1, q2, q3, q4)] == [
        "30 July 2025",
        "30 October 2025",
        "30 January 2026",
        "22 May 2026",
    ]
    assert cell(q1, "data-filed").startswith("20 July 2025, 10:00")
    assert cell(q2, "data-filed").startswith("3 November 2025, 10:00")
    assert cell(q4, "data-filed").startswith("22 May 2026, 10:00")
    # late: filed after the due day; filing on the due day itself is on time
    assert ["data-late" in r for r in (q1, q2, q3, q4)] == [False, True, False, False]
    assert ["data-on-time" in r for r in (q1, q2, q3, q4)] == [True, False, True, True]
    assert (
        cell(q1, "data-approval") == "Approved by Pat Admin, 20 July 2025, 10:00:00 (board 22 July)"
    )
    assert cell(q1, "data-submission") == (
        "Submitted by Pat Admin, 20 July 2025, 10:00:00 (NHSE-Q1-0042)"
    )
    assert cell(q2, "data-approval") == "Not approved yet"
    assert cell(q2, "data-submission") == "Not submitted yet"


def test_each_years_settlement_status_as_it_stood(filed: Filed) -> None:
    def status(html: str) -> tuple[str, str]:
        r = row(table(html, "memoranda"), "year", "2025-26")
        m = re.search(r'data-settlement="([a-z_]+)"', r)
        assert m
        return m.group(1), cell(r, "data-settlement")

    # as at 10 November 2025: the year is running; Q3 has not ended, so nothing is due
    early = page_on(filed, "2026-06-01 12:00:00", as_at="2025-11-10")
    assert status(early) == (
        "in_progress",
        "Year in progress it ends on 31 March 2026 and settles once Q4 is closed",
    )
    assert 'data-quarter="2025-26-Q3"' not in early
    # as at 15 April 2026: the year has ended, Q4 is not filed (due 22 May) nor closed
    april = page_on(filed, "2026-06-01 12:00:00", as_at="2026-04-15")
    assert status(april) == (
        "awaiting_close",
        "Not settled yet the year ended on 31 March 2026; it settles once Q4 is closed",
    )
    due = row(table(april, "due"), "quarter", "2025-26-Q4")
    assert "22 May 2026" in text(due) and "Overdue" not in text(due)
    # just after Q4's filing closed the quarter, before the settlement
    ready = page_on(filed, "2026-06-01 12:00:00", as_at=f"position:{filed.q4_filing}")
    assert status(ready) == ("ready", "Not settled yet Q4 is closed: the year can be settled")
    # now: settled on 22 May 2026. Nothing was received or spent, so the outturn (0.00)
    # is under the plan's £1,000,000.00 + £200,000.00 contributions by £1,200,000.00
    now = page_on(filed, "2026-06-01 12:00:00")
    kind, said = status(now)
    assert kind == "settled"
    assert re.fullmatch(
        r"Settled on 22 May 2026, 10:00:00: an underspend of £1,200,000\.00 shared · event \d+",
        said,
    ), said


def test_an_unfiled_quarter_past_its_due_date_is_overdue(filed: Filed) -> None:
    # as at 31 October 2025 Q2 (due 30 October) was not filed: overdue
    html = page_on(filed, "2026-06-01 12:00:00", as_at="2025-10-31")
    due = row(table(html, "due"), "quarter", "2025-26-Q2")
    assert "30 October 2025" in text(due) and "Overdue" in text(due)
    # as at 30 October, the due day, it was due but not yet overdue
    html = page_on(filed, "2026-06-01 12:00:00", as_at="2025-10-30")
    assert "Overdue" not in text(row(table(html, "due"), "quarter", "2025-26-Q2"))

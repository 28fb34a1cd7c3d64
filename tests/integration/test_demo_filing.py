"""The demo files its BCF returns as a finance lead would (``make run``): each on the
28th day after its quarter, two days before it is due, except 2025-26 Q3, filed on 3
February 2026, four days after its due date of 30 January; so the scheduler starting
on the real day finds nothing to file. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import Engine

from filing.lifecycle import file_for_the_demo
from filing.records import list_returns
from ledger.demo import BCF, load_demo_as_it_happened
from ledger.refdata import default_catalogue
from projections.projector import Projector
from scheduler.jobs import file_due_returns
from tests.integration.test_demo import _ledger


def test_the_demo_files_each_return_on_time_but_one(engine: Engine) -> None:
    # given the demo loaded as it happened up to 3 December 2026, 13:00 UTC
    now = datetime(2026, 12, 3, 13, 0, tzinfo=UTC)
    summary = load_demo_as_it_happened(
        engine, default_catalogue(), [Projector()], now, filer=file_for_the_demo
    )
    # then every ended quarter's return is filed, complete, and only Q3 2025-26 late
    got = [
        (r.quarter, r.generated_at[:10] if r.generated_at else None, r.due_date, r.late)
        for r in list_returns(engine, BCF, today=date(2026, 12, 3))
    ]
    assert got == [
        ("2025-26-Q1", "2025-07-28", "2025-07-30", False),
        ("2025-26-Q2", "2025-10-28", "2025-10-30", False),
        ("2025-26-Q3", "2026-02-03", "2026-01-30", True),
        ("2025-26-Q4", "2026-04-28", "2026-05-22", False),
        ("2026-27-Q1", "2026-07-28", "2026-07-30", False),
        ("2026-27-Q2", "2026-10-28", "2026-10-30", False),
    ]
    assert all(r.missing_parts == () for r in list_returns(engine, BCF))
    assert summary.open_quarter is None  # filed: nothing left for the scheduler
    # every event is counted, the filings too (six filings and Q2 2026-27's close)
    assert summary.events_written == summary.last_position
    # and the scheduler's catch-up on the day files nothing more
    assert file_due_returns(_ledger(engine), date(2026, 12, 3)) == []

"""The scheduler files every due return exactly once (style habit 13): tested directly
as a function of ``today`` and under freezegun, on SQLite and PostgreSQL; two
schedulers at once on PostgreSQL; and the APScheduler wiring."""

from __future__ import annotations

import itertools
import json
import threading
from collections import Counter
from datetime import UTC, date, datetime
from typing import Any

import pytest
from freezegun import freeze_time
from sqlalchemy import Engine

from filing import lifecycle
from filing.documents import get_return
from filing.lifecycle import SCHEDULER_ACTOR
from filing.records import list_returns
from filing.render.formats import render_all
from ledger.clock import FixedClock, SystemClock, london_today
from ledger.domain import commands as c
from ledger.domain.events import HwbArea
from ledger.handlers import Ledger
from ledger.refdata import default_catalogue
from ledger.settings import Settings
from ledger.store.reads import read_range
from projections.base import plan_at
from projections.projector import Projector
from projections.queries import Reader
from projections.returns.build_return import build_return_content
from scheduler import jobs
from scheduler.jobs import file_due_returns
from scheduler.service import (
    DAILY_JOB,
    MISFIRE_GRACE_SECONDS,
    START_JOB,
    CatchUp,
    build_scheduler,
    start_scheduler,
)
from tests.builders import ADMIN, contribution, given_bcf_pool, officer, spend

HOST = officer("ncc")


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2025, 7, 29, 6, 0, tzinfo=UTC))


def at(clock: FixedClock, when: datetime) -> date:
    """Move the ledger's clock to ``when``; the London date of it."""
    clock.advance(seconds=(when - clock.now()).total_seconds())
    return london_today(clock)


def filed_events(engine: Engine) -> list[tuple[str, str, int]]:
    with engine.connect() as conn:
        return [
            (e.pool_id or "", e.period or "", e.position)
            for e in read_range(conn)
            if e.type == "return_generated"
        ]


def given_pool_with_activity(ledger: Ledger, pool_id: str = "bcf") -> None:
    if pool_id == "bcf":
        given_bcf_pool(ledger)
    else:
        ledger.execute(
            c.EstablishPool(
                pool_id=pool_id,
                name=f"BCF {pool_id}",
                kind="bcf",
                host_partner_id="ncc",
                members=("ncc", "icb-a"),
                hwb_area=HwbArea(name=f"Area {pool_id}", ons_code="E10000099"),
            ),
            ADMIN,
        )
        with Reader(ledger.engine).at() as (conn, head):
            plan = plan_at(conn, "bcf", "2025-26", head)
        assert plan is not None
        ledger.execute(c.AgreePlan(pool_id=pool_id, year="2025-26", plan=plan), ADMIN)
    ledger.execute(
        contribution(
            pool_id, "icb-a", "250000.00", date(2025, 5, 1), stream="minimum_nhs_contribution"
        ),
        HOST,
    )
    ledger.execute(spend(pool_id, "carers", "100000.00", date(2025, 6, 1)), HOST)


# --- on the due day and not before ------------------------------------------------------------


def test_a_quarters_return_is_filed_on_its_due_day_and_not_before(
    ledger: Ledger, clock: FixedClock
) -> None:
    given_pool_with_activity(ledger)
    # 2025-26-Q1 ends 30 June; its return is due 30 days later, on 30 July
    today = at(clock, datetime(2025, 7, 29, 23, 0, tzinfo=UTC))  # 30 July 00:00 in London
    assert today == date(2025, 7, 30)
    today = at(clock, datetime(2025, 7, 29, 22, 59, tzinfo=UTC))
    assert file_due_returns(ledger, today) == []
    assert filed_events(ledger.engine) == []
    today = at(clock, datetime(2025, 7, 30, 5, 0, tzinfo=UTC))
    filed = file_due_returns(ledger, today)
    assert [(r.pool_id, r.quarter) for r in filed] == [("bcf", "2025-26-Q1")]
    assert filed[0].generated_by == "scheduler" and filed[0].quarter_closed
    # running again the same day (or any later day before Q2 is due) files nothing
    assert file_due_returns(ledger, today) == []
    assert file_due_returns(ledger, date(2025, 10, 29)) == []
    assert len(filed_events(ledger.engine)) == 1


def test_under_freezegun_the_daily_job_files_on_the_due_day(engine: Engine) -> None:
    ledger = Ledger(engine, SystemClock(), default_catalogue(), hooks=[Projector()])
    job = CatchUp(ledger, SystemClock(), Settings(scheduler_hour=6))
    with freeze_time("2025-07-10 09:00:00"):
        given_pool_with_activity(ledger)
    with freeze_time("2025-07-29 06:00:00"):  # 07:00 in London, the day before it is due
        assert job() == []
    with freeze_time("2025-07-30 05:00:00"):  # 06:00 in London on the due day
        filed = job()
    assert [r.quarter for r in filed] == ["2025-26-Q1"]
    assert filed[0].data_as_at == "2025-07-10T09:00:00.000000Z"  # the data's time, not now
    assert filed[0].generated_at == "2025-07-30T05:00:00.000000Z"
    with freeze_time("2025-10-30 05:00:00"):  # Q2 due 30 October
        assert [r.quarter for r in job()] == ["2025-26-Q2"]
    assert job.runs == 3


def test_due_days_from_settings_override_the_calendar(ledger: Ledger, clock: FixedClock) -> None:
    given_pool_with_activity(ledger)
    today = at(clock, datetime(2025, 7, 14, 9, 0, tzinfo=UTC))
    assert file_due_returns(ledger, today, due_days=15) == []  # due on 15 July
    today = at(clock, datetime(2025, 7, 15, 9, 0, tzinfo=UTC))
    assert file_due_returns(ledger, today, due_days=16) == []
    assert [r.quarter for r in file_due_returns(ledger, today, due_days=15)] == ["2025-26-Q1"]


# --- after an outage ----------------------------------------------------------------------------


def test_after_an_outage_spanning_three_quarter_ends_each_missed_return_is_filed_once_in_order(
    ledger: Ledger, clock: FixedClock
) -> None:
    given_pool_with_activity(ledger)
    # the scheduler was down from June 2025 to mid-February 2026: Q1, Q2 and Q3 are due
    today = at(clock, datetime(2026, 2, 16, 6, 0, tzinfo=UTC))
    filed = file_due_returns(ledger, today)
    assert [r.quarter for r in filed] == ["2025-26-Q1", "2025-26-Q2", "2025-26-Q3"]
    positions = [r.position or 0 for r in filed]
    assert positions == sorted(positions)  # in quarter order
    assert all(r.quarter_closed for r in filed)
    # each return's prior-period baseline is the one filed before it
    for before, after in itertools.pairwise(filed):
        cover = json.loads(get_return(ledger.engine, "bcf", after.quarter, "json")[0])["cover"]
        assert cover["previous_return_quarter"] == before.quarter
        assert cover["previous_return_position"] == before.as_at_position
    # and a second catch-up (another restart) files nothing more
    assert file_due_returns(ledger, today) == []
    assert [q for _, q, _ in filed_events(ledger.engine)] == [
        "2025-26-Q1",
        "2025-26-Q2",
        "2025-26-Q3",
    ]
    listed = list_returns(ledger.engine, "bcf", today=today)
    assert [(r.quarter, r.filed) for r in listed] == [
        ("2025-26-Q1", True),
        ("2025-26-Q2", True),
        ("2025-26-Q3", True),
    ]


def test_quarters_before_the_pools_first_plan_year_are_not_due(
    ledger: Ledger, clock: FixedClock
) -> None:
    given_pool_with_activity(ledger)
    today = at(clock, datetime(2025, 11, 1, 6, 0, tzinfo=UTC))
    filed = file_due_returns(ledger, today)
    assert [r.quarter for r in filed] == ["2025-26-Q1", "2025-26-Q2"]  # nothing of 2024-25


def test_section_75_pools_have_no_quarterly_returns(ledger: Ledger, clock: FixedClock) -> None:
    from tests.builders import given_equipment_pool

    given_equipment_pool(ledger)
    assert file_due_returns(ledger, at(clock, datetime(2026, 2, 16, tzinfo=UTC))) == []


def test_a_pool_that_cannot_file_is_skipped_and_the_others_go_on(
    ledger: Ledger, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    given_pool_with_activity(ledger)
    given_pool_with_activity(ledger, "bcf-b")
    real = build_return_content

    def broken(conn: Any, pool_id: str, *args: Any, **kwargs: Any) -> Any:
        if pool_id == "bcf":
            from ledger.domain.errors import RuleViolation

            raise RuleViolation("simulated refusal")
        return real(conn, pool_id, *args, **kwargs)

    monkeypatch.setattr(lifecycle, "build_return_content", broken)
    today = at(clock, datetime(2025, 11, 1, 6, 0, tzinfo=UTC))
    filed = file_due_returns(ledger, today)
    assert [(r.pool_id, r.quarter) for r in filed] == [
        ("bcf-b", "2025-26-Q1"),
        ("bcf-b", "2025-26-Q2"),
    ]
    monkeypatch.setattr(lifecycle, "build_return_content", real)
    assert [(r.pool_id, r.quarter) for r in file_due_returns(ledger, today)] == [
        ("bcf", "2025-26-Q1"),
        ("bcf", "2025-26-Q2"),
    ]


# --- two schedulers at once ---------------------------------------------------------------------


def test_two_schedulers_at_once_on_postgresql_file_exactly_one_return_per_pool_quarter(
    engine: Engine, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("the advisory lock is PostgreSQL's; SQLite serialises writers itself")
    setup = Ledger(engine, clock, default_catalogue(), hooks=[Projector()])
    pools = ("bcf", "bcf-b", "bcf-c")
    for p in pools:
        given_pool_with_activity(setup, p)
    today = at(clock, datetime(2026, 2, 16, 6, 0, tzinfo=UTC))  # Q1-Q3 due for each
    renders: Counter[tuple[str, str]] = Counter()
    real = render_all

    def counting(content: Any) -> dict[str, bytes]:
        renders[(content.cover.pool_id, content.cover.quarter)] += 1
        return real(content)

    monkeypatch.setattr(lifecycle, "render_all", counting)
    # four schedulers, each its own process's ledger (own caches, own connections)
    schedulers = [Ledger(engine, clock, default_catalogue(), hooks=[Projector()]) for _ in range(4)]
    barrier = threading.Barrier(len(schedulers))
    results: list[list[Any]] = []
    errors: list[BaseException] = []

    def run(ledger: Ledger) -> None:
        try:
            barrier.wait()
            results.append(file_due_returns(ledger, today, SCHEDULER_ACTOR))
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=run, args=(x,)) for x in schedulers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    # a run may have left a return to the scheduler holding its lock; catch up once more
    results.append(file_due_returns(schedulers[0], today, SCHEDULER_ACTOR))
    expected = {(p, f"2025-26-Q{n}") for p in pools for n in (1, 2, 3)}
    filed = [(p, q) for p, q, _ in filed_events(engine)]
    assert sorted(filed) == sorted(expected)  # exactly one each
    everyone = [(r.pool_id, r.quarter) for batch in results for r in batch]
    assert sorted(everyone) == sorted(expected)  # each reported by the one that filed it
    assert set(renders) == expected and set(renders.values()) == {1}  # never both rendered
    for p in pools:  # and per pool in quarter order
        positions = [pos for pool, _, pos in filed_events(engine) if pool == p]
        quarters = [q for pool, q, _ in filed_events(engine) if pool == p]
        assert quarters == sorted(quarters) and positions == sorted(positions)


def test_the_advisory_lock_keeps_a_second_scheduler_from_rendering(
    engine: Engine, ledger: Ledger, clock: FixedClock
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("the advisory lock is PostgreSQL's")
    given_pool_with_activity(ledger)
    today = at(clock, datetime(2025, 8, 1, 6, 0, tzinfo=UTC))
    with jobs.generation_lock(engine, "bcf", "2025-26-Q1") as mine:
        assert mine
        assert file_due_returns(ledger, today) == []  # busy elsewhere: left alone
    assert [r.quarter for r in file_due_returns(ledger, today)] == ["2025-26-Q1"]


# --- the APScheduler wiring -----------------------------------------------------------------------


def test_the_scheduler_runs_the_catch_up_daily_in_london_and_once_at_start(
    ledger: Ledger, clock: FixedClock
) -> None:
    scheduler = build_scheduler(ledger, clock, Settings(scheduler_hour=5))
    jobs_by_id = {j.id: j for j in scheduler.get_jobs()}
    assert set(jobs_by_id) == {DAILY_JOB, START_JOB}
    daily = jobs_by_id[DAILY_JOB]
    assert str(daily.trigger.timezone) == "Europe/London"
    fields = {f.name: str(f) for f in daily.trigger.fields}
    assert (fields["hour"], fields["minute"]) == ("5", "0")
    for job in jobs_by_id.values():
        assert job.coalesce is True
        assert job.max_instances == 1
        assert job.misfire_grace_time == MISFIRE_GRACE_SECONDS >= 3 * 3600
    assert type(scheduler._jobstores["default"]).__name__ == "MemoryJobStore"


def test_started_the_scheduler_catches_up_at_once(ledger: Ledger, clock: FixedClock) -> None:
    given_pool_with_activity(ledger)
    at(clock, datetime(2025, 8, 1, 6, 0, tzinfo=UTC))
    done = threading.Event()
    scheduler = start_scheduler(
        Settings(scheduler=True, scheduler_hour=6), ledger=ledger, clock=clock
    )
    assert scheduler is not None
    try:
        from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED

        scheduler.add_listener(lambda _: done.set(), EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
        for _ in range(100):
            if filed_events(ledger.engine) or done.wait(0.1):
                break
    finally:
        scheduler.shutdown(wait=True)
    assert [q for _, q, _ in filed_events(ledger.engine)] == ["2025-26-Q1"]


def test_the_scheduler_can_be_turned_off() -> None:
    assert start_scheduler(Settings(scheduler=False)) is None

"""The APScheduler wiring around ``scheduler.jobs.file_due_returns``.

``build_scheduler(ledger, clock, settings)`` gives a ``BackgroundScheduler`` (not
started) with its own in-memory job store and a single worker thread, holding:

- ``file-due-returns``: daily at ``settings.scheduler_hour`` o'clock, Europe/London;
- ``file-due-returns-at-start``: once, as soon as the scheduler starts (the catch-up
  after any downtime).

Both run the same idempotent catch-up with ``coalesce=True`` (runs missed while the
process was busy or asleep collapse into one), ``max_instances=1`` and a
``misfire_grace_time`` of several hours (a run late by less than that still happens;
a later one is caught up by the next run anyway). Nothing is persisted by the
scheduler itself: the ledger is the state, so a restart loses nothing.

``start_scheduler(settings)`` is the entry point ``pooled serve`` calls (it builds its
own engine and ledger unless given them) and returns the running scheduler, whose
``shutdown()`` stops it.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger

from filing.lifecycle import SCHEDULER_ACTOR
from filing.metrics import RUN_FAILURES, RUNS
from filing.records import ReturnRecord
from ledger.clock import LONDON, Clock, SystemClock, format_instant, london_today
from ledger.handlers import Ledger
from ledger.logs import fields
from ledger.refdata import default_catalogue
from ledger.settings import Settings, signing_key_path
from ledger.store.checkpoints import load_or_create_key, load_retired_keys, take_checkpoint
from ledger.store.engine import make_engine
from scheduler.jobs import file_due_returns

log = logging.getLogger("pooled.scheduler")

MISFIRE_GRACE_SECONDS = 6 * 3600
DAILY_JOB = "file-due-returns"
START_JOB = "file-due-returns-at-start"
JOB_OPTIONS: dict[str, Any] = {
    "coalesce": True,
    "max_instances": 1,
    "misfire_grace_time": MISFIRE_GRACE_SECONDS,
}


class CatchUp:
    """The job: file every due return as of the clock's London date. Runs never
    overlap in one process (a second caller waits for the first)."""

    def __init__(self, ledger: Ledger, clock: Clock, settings: Settings) -> None:
        self.ledger, self.clock, self.settings = ledger, clock, settings
        self._lock = threading.Lock()
        self.runs = 0

    def __call__(self) -> list[ReturnRecord]:
        with self._lock:
            today: date = london_today(self.clock)
            try:
                filed = file_due_returns(
                    self.ledger,
                    today,
                    SCHEDULER_ACTOR,
                    due_days=self.settings.return_due_days,
                )
                self.daily_checkpoint()
            except Exception:
                RUN_FAILURES.add()
                log.exception(
                    "catch-up for %s failed", today.isoformat(), extra=fields(run_date=today)
                )
                raise
            finally:
                self.runs += 1
                RUNS.add()
            log.info(
                "catch-up for %s: %d return(s) filed",
                today.isoformat(),
                len(filed),
                extra=fields(run_date=today.isoformat(), filed=len(filed)),
            )
            return filed

    def daily_checkpoint(self) -> None:
        """Sign the ledger as it stands (every run, so at least daily)."""
        if self.ledger.signing_key is not None:
            take_checkpoint(
                self.ledger.engine,
                self.ledger.signing_key,
                format_instant(self.clock.now()),
                "daily",
            )


def build_scheduler(ledger: Ledger, clock: Clock, settings: Settings) -> BackgroundScheduler:
    """A scheduler (not started) running the catch-up daily and once at start."""
    scheduler = BackgroundScheduler(
        jobstores={"default": MemoryJobStore()},
        executors={"default": ThreadPoolExecutor(max_workers=1)},
        job_defaults=JOB_OPTIONS,
        timezone=LONDON,
    )
    job = CatchUp(ledger, clock, settings)
    scheduler.add_job(
        job,
        CronTrigger(hour=settings.scheduler_hour, minute=0, timezone=LONDON),
        id=DAILY_JOB,
        name="file every due quarterly return (daily)",
        replace_existing=True,
        **JOB_OPTIONS,
    )
    scheduler.add_job(
        job,
        DateTrigger(run_date=datetime.now(UTC), timezone=LONDON),  # wall time, as APScheduler
        id=START_JOB,
        name="file every due quarterly return (catch-up at start)",
        replace_existing=True,
        **JOB_OPTIONS,
    )
    return scheduler


def build_ledger(settings: Settings, clock: Clock | None = None) -> Ledger:
    """The write side for a scheduler process (engine, clock, reference data, and the
    projector as the append hook so the read models stay in step)."""
    from projections.projector import Projector

    engine = make_engine(settings.database_url, synchronous=settings.sqlite_synchronous)
    return Ledger(
        engine,
        clock or SystemClock(),
        default_catalogue(),
        hooks=[Projector()],
        signing_key=load_or_create_key(Path(signing_key_path(settings))),
        retired_keys=load_retired_keys(Path(signing_key_path(settings))),
    )


def start_scheduler(
    settings: Settings, *, ledger: Ledger | None = None, clock: Clock | None = None
) -> BackgroundScheduler | None:
    """Start the return scheduler in this process (``pooled serve``); None when the
    settings turn it off (``POOLED_SCHEDULER=false``)."""
    if not settings.scheduler:
        log.info("the return scheduler is turned off in this process")
        return None
    clock = clock or (ledger.clock if ledger is not None else SystemClock())
    ledger = ledger or build_ledger(settings, clock)
    scheduler = build_scheduler(ledger, clock, settings)
    scheduler.start()
    log.info(
        "return scheduler started: catch-up now, then daily at %02d:00 Europe/London",
        settings.scheduler_hour,
    )
    return scheduler

"""The scheduled work as plain functions: file every quarterly return that is due and
missing (style habit 13). Run it as often as you like: it is an idempotent catch-up.

``file_due_returns(ledger, today, actor)``: for every BCF pool, every quarter from Q1
of the pool's first plan year whose due date (the year's reporting calendar, or
``due_days`` after the quarter ends when configured) is on or before ``today`` and
which has no filed return is generated, in quarter order. After an outage spanning
several quarter ends each missed return is filed once, oldest first (each closes its
quarter, so the next one's prior-period baseline is in place).

Exactly once, however many schedulers run: on PostgreSQL each generation holds a
transaction-level advisory lock keyed by pool and quarter
(``pg_try_advisory_xact_lock``); a scheduler that cannot take it leaves that return
to the one rendering it, and one that takes it re-reads whether it is filed first. The
database's unique key on a pool-quarter's ``return_generated`` event is the final
guard (a racing generation is refused and answered with the filed record).

A pool whose return cannot be filed (a rule refuses it) is logged and skipped; the
others go on, and the next run tries again.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Literal

from sqlalchemy import Engine, text

from filing.lifecycle import SCHEDULER_ACTOR, generate_or_get
from filing.metrics import FILING_FAILURES
from filing.records import ReturnRecord, due_date, filed_records, first_quarter, read_at
from ledger.domain import commands as c
from ledger.domain.errors import LedgerError
from ledger.domain.periods import Quarter
from ledger.handlers import Ledger
from ledger.logs import fields
from ledger.store.engine import is_sqlite
from projections.parties import pools_at
from projections.views import PoolView

log = logging.getLogger("pooled.scheduler")


def lock_key(pool_id: str, quarter: str, namespace: str = "") -> int:
    """A signed 64-bit advisory-lock key for one pool-quarter's return. Advisory locks
    are per database server, so ``namespace`` names the ledger (database and schema):
    two ledgers on one server never hold each other's locks."""
    raw = f"pooled:return:{namespace}:{pool_id}:{quarter}"
    return int.from_bytes(hashlib.sha256(raw.encode()).digest()[:8], "big", signed=True)


@contextmanager
def generation_lock(engine: Engine, pool_id: str, quarter: str) -> Iterator[bool]:
    """Hold the pool-quarter's advisory lock (PostgreSQL) for the block; yields whether
    it was taken. SQLite serialises writers itself, so there it is always taken."""
    if is_sqlite(engine):
        yield True
        return
    with engine.connect() as conn, conn.begin():
        where = conn.execute(text("SELECT current_database() || '.' || current_schema()")).scalar()
        key = lock_key(pool_id, quarter, str(where))
        taken = conn.execute(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": key}).scalar()
        yield bool(taken)  # released when this transaction ends


def due_quarters(
    pool: PoolView, today: date, ledger: Ledger, due_days: int | None = None
) -> list[Quarter]:
    """The pool's quarters whose returns are due by ``today``, oldest first."""
    q = first_quarter(pool)
    out: list[Quarter] = []
    while q is not None and due_date(q, ledger.reference, due_days) <= today:
        out.append(q)
        q = q.next()
    return out


def file_due_returns(
    ledger: Ledger,
    today: date,
    actor: c.Actor = SCHEDULER_ACTOR,
    *,
    due_days: int | None = None,
) -> list[ReturnRecord]:
    """Generate every due and missing quarterly return; the records this call filed."""
    with read_at(ledger.engine) as (conn, head):
        pools = [p for p in pools_at(conn, head) if p.kind == "bcf"]
        filed = {p.pool_id: set(filed_records(conn, p.pool_id, head)) for p in pools}
    out: list[ReturnRecord] = []
    for pool in pools:
        for q in due_quarters(pool, today, ledger, due_days):
            if q.label in filed[pool.pool_id]:
                continue
            due = due_date(q, ledger.reference, due_days)
            where = {"pool": pool.pool_id, "quarter": q.label, "due_date": due.isoformat()}
            try:
                record, outcome = _file_once(ledger, pool.pool_id, q.label, actor, today)
            except LedgerError as e:
                FILING_FAILURES.add()
                log.error(
                    "the %s return of pool '%s' could not be filed: %s: %s",
                    q.label,
                    pool.pool_id,
                    e.title,
                    e.detail,
                    extra=fields(**where, error=e.code),
                )
                break  # later quarters wait for this one (returns are filed in order)
            if outcome == "busy":
                log.info("the %s return of pool '%s' is being filed elsewhere", q, pool.pool_id)
                break  # that scheduler goes on in order
            if record is None:
                continue  # filed meanwhile (another scheduler, or an admin)
            out.append(record)
            due = due_date(q, ledger.reference, due_days)
            log.info(
                "filed the %s return of pool '%s' at position %s (as at %s); due %s%s",
                q.label,
                pool.pool_id,
                record.position,
                record.as_at_position,
                due.isoformat(),
                " (late)" if today > due else "",
                extra=fields(
                    **where,
                    late=today > due,
                    position=record.position,
                    as_at_position=record.as_at_position,
                ),
            )
            if record.quarter_closed:
                log.info(
                    "closed %s of pool '%s'",
                    q.label,
                    pool.pool_id,
                    extra=fields(pool=pool.pool_id, quarter=q.label, position=record.position),
                )
    return out


def _file_once(
    ledger: Ledger, pool_id: str, quarter: str, actor: c.Actor, today: date
) -> tuple[ReturnRecord | None, Literal["filed", "already", "busy"]]:
    """File one return under its lock: the record if this call filed it, and what
    happened ("busy": another scheduler holds the lock; "already": filed before)."""
    with generation_lock(ledger.engine, pool_id, quarter) as taken:
        if not taken:
            return None, "busy"
        record, created = generate_or_get(ledger, pool_id, quarter, actor, today=today)
        return (record, "filed") if created else (None, "already")

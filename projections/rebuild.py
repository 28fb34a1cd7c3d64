"""Rebuild the read models from the events, and check the kept ones against a rebuild.

``rebuild`` runs inside one write transaction (it holds the append lock, so no append
interleaves; on SQLite readers keep seeing the old rows until it commits, on
PostgreSQL they wait for it, as the tables are truncated): it empties the read
models, streams the log by position in bounded batches (memory stays flat however
long the log), projects each batch with the live projector's own code and writes it
with ``executemany`` (``COPY`` on PostgreSQL), moving the checkpoint with the rows.

``compare_with_rebuild`` copies the kept rows aside, rebuilds in a transaction that
is rolled back, and lists every row found on one side only (the database compares
them with ``EXCEPT``, so nothing is held in memory). An empty list means the
incremental projection equals a rebuild, row for row.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, Table, select

from ledger.store import eventstore as es
from ledger.store.engine import is_sqlite
from ledger.store.reads import read_head
from ledger.store.sql import driver_sql
from projections import tables as t
from projections.projector import (
    CHECKPOINT,
    EVENT_COLUMNS,
    Buffer,
    ProjectionError,
    Projector,
    RunningTotals,
)

Progress = Callable[[int, int], None]  # (events projected so far, events in all)

# Positions are gap-free (1, 2, 3, ...), so a batch is a closed range of positions: the
# planner sees a small range and walks the primary key, whatever its statistics say.
_READ_BATCH = (
    f"SELECT {', '.join(EVENT_COLUMNS)} FROM events "  # noqa: S608 - fixed column names
    "WHERE position > ? AND position <= ? ORDER BY position"
)
COMPARED_TABLES: tuple[Table, ...] = (*t.READ_MODEL_TABLES, t.rm_checkpoint)
MAX_DIFFERENCES = 50


@dataclass(frozen=True)
class RebuildResult:
    events: int  # events projected
    checkpoint: int  # the position the read models now stand at (the head)
    seconds: float

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else float(self.events)


def rebuild(engine: Engine, progress: Progress | None = None, batch: int = 10_000) -> RebuildResult:
    """Replace every read-model row by projecting the whole log again. The head's
    generation moves on, so every process's projector forgets its remembered totals."""
    with es.write_transaction(engine) as (conn, head):
        result = rebuild_on(conn, head.position, progress=progress, batch=batch)
        es.new_generation(conn)
        return result


def rebuild_on(
    conn: Connection, head: int, *, progress: Progress | None = None, batch: int = 10_000
) -> RebuildResult:
    """Rebuild on a connection already holding the append lock, up to ``head``."""
    if batch < 1:
        raise ValueError("batch must be at least 1")
    started = time.perf_counter()
    sqlite = conn.dialect.name == "sqlite"
    _empty(conn, sqlite)
    _set_checkpoint(conn, 0)
    projector = Projector()
    totals = RunningTotals(complete=True)
    cursor: Any = conn.connection.cursor()  # the DB-API cursor: plain tuples, no row objects
    sql = driver_sql(conn, _READ_BATCH)
    last, done = 0, 0
    try:
        with _bigger_sqlite_cache(conn, sqlite):
            while last < head:
                upto = min(last + batch, head)
                cursor.execute(sql, (last, upto))
                rows = cursor.fetchall()
                if len(rows) != upto - last:
                    raise ProjectionError(
                        f"positions {last + 1} to {upto} should be {upto - last} events, "
                        f"found {len(rows)}: the log has a gap; run `pooled verify`"
                    )
                buf = Buffer(sqlite)
                projector.project(rows, buf)
                projector.flush(conn, buf, totals, copy=True)
                last = rows[-1][0]
                done += len(rows)
                del rows, buf
                if progress is not None:
                    progress(done, head)
    finally:
        cursor.close()
    _set_checkpoint(conn, head)
    return RebuildResult(done, head, time.perf_counter() - started)


def _empty(conn: Connection, sqlite: bool) -> None:
    """Empty the read models in the rebuild's transaction. On PostgreSQL, TRUNCATE:
    re-inserting every key over its own deleted rows would make each insert check
    those dead rows (several times slower); readers wait for the rebuild to commit."""
    names = [table.name for table in t.READ_MODEL_TABLES]
    if sqlite:
        for name in names:
            conn.exec_driver_sql(f"DELETE FROM {name}")  # noqa: S608 - fixed table names
    else:
        conn.exec_driver_sql(f"TRUNCATE {', '.join(names)}")


def status(engine: Engine) -> tuple[int, int]:
    """(the read models' checkpoint, the ledger head)."""
    with engine.connect() as conn:
        checkpoint = conn.execute(
            select(t.rm_checkpoint.c.position).where(t.rm_checkpoint.c.name == CHECKPOINT)
        ).scalar()
        return int(checkpoint or 0), read_head(conn).position


def compare_with_rebuild(engine: Engine, batch: int = 10_000) -> list[str]:
    """Every difference between the kept read models and a rebuild (none: equal).

    The rebuild happens inside a transaction that is rolled back: the kept rows are
    left exactly as they were."""
    with _rolled_back_write(engine) as (conn, head):
        for table in COMPARED_TABLES:
            conn.exec_driver_sql(
                f"CREATE TEMPORARY TABLE kept_{table.name} AS SELECT * FROM {table.name}"  # noqa: S608
            )
        rebuild_on(conn, head, batch=batch)
        out: list[str] = []
        for table in COMPARED_TABLES:
            out += _differences(conn, table, MAX_DIFFERENCES - len(out))
            if len(out) >= MAX_DIFFERENCES:
                out.append(f"(stopped after {MAX_DIFFERENCES} differences)")
                break
        return out


def _differences(conn: Connection, table: Table, limit: int) -> list[str]:
    cols = [c.name for c in table.columns]
    listed = ", ".join(cols)
    order = ", ".join(str(cols.index(c.name) + 1) for c in table.primary_key.columns)
    out: list[str] = []
    for label, first, second in (
        ("only in the kept read model", f"kept_{table.name}", table.name),
        ("only in a rebuild", table.name, f"kept_{table.name}"),
    ):
        rows = conn.exec_driver_sql(
            f"SELECT {listed} FROM {first} EXCEPT SELECT {listed} FROM {second} "  # noqa: S608
            f"ORDER BY {order} LIMIT {int(limit)}"
        )
        for r in rows:
            out.append(f"{table.name}: {label}: {dict(zip(cols, r, strict=True))}")
    return out[:limit]


@contextmanager
def _rolled_back_write(engine: Engine) -> Iterator[tuple[Connection, int]]:
    with engine.connect() as conn:
        if is_sqlite(engine):
            conn = conn.execution_options(sqlite_begin="IMMEDIATE")
        trans = conn.begin()
        try:
            yield conn, es.lock_head(conn).position
        finally:
            trans.rollback()
            if is_sqlite(engine):  # temporary tables are per connection: leave none behind
                for table in COMPARED_TABLES:
                    conn.exec_driver_sql(f"DROP TABLE IF EXISTS temp.kept_{table.name}")
                conn.commit()


@contextmanager
def _bigger_sqlite_cache(conn: Connection, sqlite: bool) -> Iterator[None]:
    """SQLite's page cache (2 MB by default) thrashes on a rebuild's index writes; use
    64 MB for the rebuild's connection, then put it back."""
    if not sqlite:
        yield
        return
    before = conn.exec_driver_sql("PRAGMA cache_size").scalar()
    conn.exec_driver_sql("PRAGMA cache_size = -65536")
    try:
        yield
    finally:
        conn.exec_driver_sql(f"PRAGMA cache_size = {int(before or -2000)}")


def _set_checkpoint(conn: Connection, position: int) -> None:
    done = conn.exec_driver_sql(
        driver_sql(conn, "UPDATE rm_checkpoint SET position = ? WHERE name = ?"),
        (position, CHECKPOINT),
    )
    if done.rowcount == 0:
        conn.exec_driver_sql(
            driver_sql(conn, "INSERT INTO rm_checkpoint (name, position) VALUES (?, ?)"),
            (CHECKPOINT, position),
        )

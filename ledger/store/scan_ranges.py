"""The verify pass over the stored events, in this process or split across processes.

The chain is checked link by link: event ``n`` must hash, chained onto the *stored* hash
of event ``n - 1``, to its own stored hash. So a range of positions can be checked on
its own, starting from the stored hash before it, and every link is checked exactly
once however the positions are split. The tree splits too: ranges of ``CHUNK``
positions (a power of two) from a multiple of it are complete subtrees of the tree
(``scan.combine`` merges them).

On a ledger of ``PARALLEL_FROM`` events or more, ``scan`` runs the ranges in worker
processes, one per CPU (spawned, not forked: the server that asks may run threads),
each reading its own ranges over its own connection:

* PostgreSQL: the workers connect as this connection did (its parameters and
  password, so the same role and search path) and read inside this transaction's
  snapshot (``pg_export_snapshot`` / ``SET TRANSACTION SNAPSHOT``): exactly the rows
  this process sees;
* SQLite: the workers open the same file. Each range is read up to the last position
  this process's snapshot holds; stored events never change (the guards), and what
  another writer appends after it is beyond every range.

An in-memory SQLite database, or a ledger below ``PARALLEL_FROM``, is read here in one
range; so is every ledger when the workers cannot start or die (a warning is logged).
"""

from __future__ import annotations

import gc
import logging
import os
import sqlite3
from collections.abc import Collection, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from multiprocessing import get_context
from typing import Any

from sqlalchemy import Connection

from ledger.domain.hashing import ZERO_HASH
from ledger.store.scan import COLUMNS_SELECTED, Part, Scan, combine, scan_rows
from ledger.store.sql import in_paramstyle

log = logging.getLogger(__name__)

PARALLEL_FROM = 200_000
CHUNK = 1 << 16  # positions per range in the workers


def scan_range(
    dbapi: Any, pg: bool, start: int, end: int, wanted: Collection[int], batch: int
) -> Part:
    """The pass over positions ``start + 1 .. end`` of the connection ``dbapi`` (in its
    current transaction): the first range has no lower bound, so a stray position
    below 1 is seen; a range that ends early names the missing position."""
    prev = ZERO_HASH
    if start:
        found = _one(dbapi, pg, "SELECT hash FROM events WHERE position = ?", start)
        if found is None:
            return Part(start, bad_position=start, problem=f"position {start} is missing")
        prev = str(found)
    lower = " AND position > ?" if start else ""
    sql = f"SELECT {COLUMNS_SELECTED} FROM events WHERE position <= ?{lower} ORDER BY position"  # noqa: S608
    params = (end, start) if start else (end,)
    part = scan_rows(
        _rows(dbapi, pg, in_paramstyle(sql, qmark=not pg), params, batch, start),
        wanted,
        start,
        prev,
    )
    n = start + part.checked
    if part.problem is None and n < end:
        nxt = _one(dbapi, pg, "SELECT MIN(position) FROM events WHERE position > ?", n)
        part.bad_position = n + 1
        part.problem = f"position {n + 1} is missing" + (f" (found {nxt})" if nxt else "")
    return part


def _one(dbapi: Any, pg: bool, sql: str, param: int) -> Any:
    cur = dbapi.cursor()
    try:
        cur.execute(in_paramstyle(sql, qmark=not pg), (param,))
        row = cur.fetchone()
    finally:
        cur.close()
    return row[0] if row else None


def _rows(
    dbapi: Any, pg: bool, sql: str, params: Sequence[Any], batch: int, start: int
) -> Iterator[Sequence[Any]]:
    """The rows as the driver's tuples, ``batch`` at a time: a named (server-side)
    cursor on PostgreSQL, so memory stays flat."""
    cur = dbapi.cursor(name=f"pooled_verify_{start}") if pg else dbapi.cursor()
    try:
        cur.execute(sql, params)
        while rows := cur.fetchmany(batch):
            yield from rows
    finally:
        cur.close()


def scan(
    conn: Connection,
    wanted: Collection[int],
    batch: int = 10_000,
    workers: int | None = None,
) -> Scan:
    """The pass over every event ``conn``'s transaction sees, with the roots at the
    ``wanted`` sizes: in ``workers`` processes (None: one per CPU from
    ``PARALLEL_FROM`` events up, else this process alone).

    The cyclic garbage collector is paused meanwhile (here and in the workers): the
    loop makes no reference cycles, and the collections millions of fetched rows would
    trigger cost 5-10% of the pass."""
    pg = conn.dialect.name != "sqlite"
    chunk = CHUNK
    top = int(conn.exec_driver_sql("SELECT MAX(position) FROM events").scalar() or 0)
    dbapi: Any = conn.connection.dbapi_connection
    if workers is None:
        workers = (os.cpu_count() or 1) if top >= PARALLEL_FROM else 1
    source = _source(conn, dbapi, pg) if workers > 1 and top > chunk else None
    with _gc_paused():
        if source is None:
            return combine([scan_range(dbapi, pg, 0, top, wanted, batch)])
        ranges = [(a, min(a + chunk, top)) for a in range(0, top, chunk)]
        tasks = [(a, b, [p for p in wanted if a < p <= b], batch) for a, b in ranges]
        pool = ProcessPoolExecutor(
            min(workers, len(ranges)),
            mp_context=get_context("spawn"),
            initializer=_open,
            initargs=source,
        )
        try:
            return combine(pool.map(_scan_task, tasks), chunk)
        except BrokenProcessPool as e:  # a worker could not start, or was killed
            log.warning("verify's worker processes failed (%s); verifying in this process", e)
        finally:
            pool.shutdown(cancel_futures=True)
        return combine([scan_range(dbapi, pg, 0, top, wanted, batch)])


def _source(conn: Connection, dbapi: Any, pg: bool) -> tuple[Any, ...] | None:
    """How a worker reads what ``conn`` reads, or None where it cannot (in memory)."""
    if pg:
        snapshot = conn.exec_driver_sql("SELECT pg_export_snapshot()").scalar()
        return ("postgresql", dbapi.info.dsn, dbapi.info.password, snapshot)
    path = conn.engine.url.database
    if not path or path == ":memory:" or "mode=memory" in str(conn.engine.url):
        return None
    return ("sqlite", path, None, None)


@contextmanager
def _gc_paused() -> Iterator[None]:
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


# --- in a worker process ------------------------------------------------------------------

_WORKER: dict[str, Any] = {}


def _open(kind: str, target: str, password: str | None, snapshot: str | None) -> None:
    """A worker's connection, read-only, in the snapshot it was given (PostgreSQL)."""
    gc.disable()
    if kind == "sqlite":
        db = sqlite3.connect(target, timeout=60)
        db.execute("PRAGMA query_only = ON")
        db.execute("PRAGMA mmap_size = 1073741824")
        _WORKER.update(dbapi=db, pg=False)
        return
    import psycopg
    from psycopg import sql

    dsn = psycopg.conninfo.make_conninfo(target, password=password)  # None: left out
    pg = psycopg.connect(dsn)
    pg.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
    pg.read_only = True
    pg.execute(sql.SQL("SET TRANSACTION SNAPSHOT {}").format(sql.Literal(snapshot)))
    _WORKER.update(dbapi=pg, pg=True)


def _scan_task(task: tuple[int, int, list[int], int]) -> Part:
    start, end, wanted, batch = task
    return scan_range(_WORKER["dbapi"], _WORKER["pg"], start, end, set(wanted), batch)

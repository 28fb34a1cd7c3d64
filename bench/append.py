"""Append benchmark: commands per second through the ledger's write path.

Not a timed test: a script that prints a table (figures recorded in bench/RESULTS.md).

    .venv/bin/python bench/append.py                  # everything, growth to 1M events
    .venv/bin/python bench/append.py --quick          # a short run (growth to 20k)
    .venv/bin/python bench/append.py --sqlite-only
    .venv/bin/python bench/append.py --pg-url postgresql://postgres@127.0.0.1:5432/test
    .venv/bin/python bench/append.py --profile        # cProfile of the full path only
    .venv/bin/python bench/append.py --repeat 2 --growth-pg   # as in RESULTS.md

Every command is a PostContribution, decided into one ContributionPosted event, so
commands/s and events/s are the same number. Scenarios (each on a fresh store):

* full path: ``Ledger.execute`` (one transaction per command: head lock, pool state,
  decide, chained hash, insert, head and state update, hooks, commit);
* batched path: ``Ledger.execute_many`` (all commands of a batch in one transaction);
* references in the same run: raw sqlite3 / psycopg appends of rows of the same size
  into the same ``events`` table (serialised: lock head, insert, move head, commit per
  event; and executemany per batch), and the eventsourcing library's SQLite
  Application (``app.save``) and recorder (``insert_events``) with 1 and 100 events
  per transaction;
* PostgreSQL with 1 and 8 writers: 8 threads sharing one Ledger (its group commit
  lets concurrent commands share a transaction; also measured with
  ``group_commit=False``), and 8 processes with a Ledger each;
* growth: the single ``execute`` cost (and one ``execute_many`` of 1,000) at 10k, 100k
  and 1M stored events (SQLite; PostgreSQL too with ``--growth-pg``).

SQLite is a file in WAL mode with ``synchronous=FULL`` (``make_engine``'s default);
one ``synchronous=NORMAL`` run is printed as a reference. The ``cpu us`` column (CPU
time of the benchmark's own processes per event) is the steadier figure on a shared
machine; ``--repeat N`` keeps the fastest of N runs of each scenario.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import multiprocessing as mp
import os
import platform
import pstats
import sqlite3
import sys
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Sequence
from datetime import date, datetime
from functools import partial
from pathlib import Path
from typing import Any

import _common as cm
import sqlalchemy
from _common import WHO, Result, Stores, commands, seeded_ledger, timed
from sqlalchemy import Engine

from ledger.handlers import Ledger
from ledger.store import eventstore as es
from ledger.store.reads import COLUMNS, read_head

Timing = tuple[float, list[float], float]  # wall s, latencies (s), CPU s of this process
COLS = COLUMNS
INSERT_Q = f"INSERT INTO events ({', '.join(COLS)}) VALUES ({', '.join('?' for _ in COLS)})"
INSERT_PG = INSERT_Q.replace("?", "%s")
POS, EID, SID, SVER = (
    COLS.index(k) for k in ("position", "event_id", "stream_id", "stream_version")
)
EFF = COLS.index("effective_date")


class Sizes:
    def __init__(self, quick: bool) -> None:
        q = quick
        self.single = 500 if q else 3000  # commands, one writer, one per transaction
        self.batched = 5_000 if q else 30_000  # events through execute_many
        self.raw_serial = 500 if q else 3000
        self.raw_batched = 10_000 if q else 60_000
        self.es_single = 500 if q else 3000
        self.es_batched = 5_000 if q else 30_000
        self.pg_single = 300 if q else 2000
        self.pg_thread = 100 if q else 400  # per writer
        self.pg_proc = 60 if q else 250  # per writer
        self.probe = 300 if q else 1000  # growth: single commands at each checkpoint
        self.warm = 50 if q else 200


# --- the ledger's paths ----------------------------------------------------------------


def run_single(ledger: Ledger, cmds: Sequence[Any]) -> Timing:
    lat: list[float] = []
    clock = time.perf_counter
    execute = ledger.execute
    start = clock()
    cpu0 = time.process_time()
    for cmd in cmds:
        t0 = clock()
        execute(cmd, WHO)
        lat.append(clock() - t0)
    return clock() - start, lat, time.process_time() - cpu0


def run_batched(ledger: Ledger, cmds: Sequence[Any], per_tx: int) -> Timing:
    chunks = [cmds[i : i + per_tx] for i in range(0, len(cmds), per_tx)]
    lat: list[float] = []
    clock = time.perf_counter
    start = clock()
    cpu0 = time.process_time()
    for chunk in chunks:
        t0 = clock()
        ledger.execute_many(chunk, WHO)
        lat.append(clock() - t0)
    return clock() - start, lat, time.process_time() - cpu0


def run_threads(ledger: Ledger, per_writer: list[list[Any]]) -> Timing:
    """One thread per list of commands, started together; each ``execute`` takes a
    connection from the engine's pool (group commit may share a transaction)."""
    k = len(per_writer)
    barrier = threading.Barrier(k + 1)
    lats: list[list[float]] = [[] for _ in range(k)]
    errors: list[BaseException] = []

    def work(i: int) -> None:
        clock, out = time.perf_counter, lats[i]
        barrier.wait()
        try:
            for cmd in per_writer[i]:
                t0 = clock()
                ledger.execute(cmd, WHO)
                out.append(clock() - t0)
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(k)]
    for th in threads:
        th.start()
    barrier.wait()
    start = time.perf_counter()
    cpu0 = time.process_time()
    for th in threads:
        th.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise errors[0]
    return elapsed, [x for lst in lats for x in lst], time.process_time() - cpu0


def _proc_writer(
    url: str, idx: int, n: int, projector: bool, ready: Any, go: Any, out: Any
) -> None:
    """One writer process: its own engine and Ledger over the shared schema."""
    engine = cm.make_engine(url, pool_size=2)
    try:
        try:
            ledger = cm.build_ledger(engine, projector=projector)
            for cmd in commands(10, start=800_000_000 + idx * 100):  # warm: connect, caches
                ledger.execute(cmd, WHO)
            cmds = commands(n, start=(idx + 1) * 10_000_000)
        except BaseException as e:
            ready.put((idx, f"{e.__class__.__name__}: {e}"))
            return
        ready.put((idx, None))
        go.wait()
        clock = time.perf_counter
        lat: list[float] = []
        cpu0 = time.process_time()
        t_start = clock()
        for cmd in cmds:
            t0 = clock()
            ledger.execute(cmd, WHO)
            lat.append(clock() - t0)
        out.put((idx, t_start, clock(), lat, None, time.process_time() - cpu0))
    except BaseException as e:
        out.put((idx, 0.0, 0.0, [], repr(e), 0.0))
    finally:
        engine.dispose()


def run_processes(url: str, k: int, n: int, projector: bool) -> Timing:
    ctx = mp.get_context("spawn")
    ready, out, go = ctx.Queue(), ctx.Queue(), ctx.Event()
    procs = [
        ctx.Process(target=_proc_writer, args=(url, i, n, projector, ready, go, out))
        for i in range(k)
    ]
    for p in procs:
        p.start()
    problems = [p for _, p in (ready.get(timeout=300) for _ in range(k)) if p]
    go.set()
    if problems:
        for p in procs:
            p.join()
        raise RuntimeError(f"writer process failed: {problems[0]}")
    got = [out.get(timeout=1200) for _ in range(k)]
    for p in procs:
        p.join()
    problems = [g[4] for g in got if g[4]]
    if problems:
        raise RuntimeError(f"writer process failed: {problems[0]}")
    start = min(g[1] for g in got)
    end = max(g[2] for g in got)
    return end - start, [x for g in got for x in g[3]], sum(g[5] for g in got)


# --- raw references --------------------------------------------------------------------


def template_row(stores: Stores) -> tuple[Any, ...]:
    """One real stored ContributionPosted row, as inserted (the size the raw runs use)."""
    engine = stores.sqlite("template")
    ledger = seeded_ledger(engine, warm=0)
    stored = ledger.execute(commands(1, start=123)[0], WHO).events[0]
    row = stored.as_row()
    return tuple(row[k] for k in COLS)


def raw_row(template: tuple[Any, ...], position: int, sqlite: bool) -> tuple[Any, ...]:
    r = list(template)
    r[POS], r[EID], r[SID], r[SVER] = position, str(uuid.uuid4()), "pool:raw", position
    if sqlite and isinstance(r[EFF], date):
        r[EFF] = r[EFF].isoformat()
    return tuple(r)


def _sqlite_conn(path: Path) -> sqlite3.Connection:
    con = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=FULL")
    return con


def raw_sqlite_serial(path: Path, template: tuple[Any, ...], n: int) -> Timing:
    """Per event: BEGIN IMMEDIATE, read the head, insert, move the head, COMMIT."""
    con = _sqlite_conn(path)
    h = template[COLS.index("hash")]
    lat: list[float] = []
    clock = time.perf_counter
    start = clock()
    cpu0 = time.process_time()
    for _ in range(n):
        t0 = clock()
        con.execute("BEGIN IMMEDIATE")
        pos = con.execute("SELECT position FROM ledger_head WHERE id = 1").fetchone()[0] + 1
        con.execute(INSERT_Q, raw_row(template, pos, True))
        con.execute(
            "UPDATE ledger_head SET position = ?, hash = ?, recorded_at = ? WHERE id = 1",
            (pos, h, template[COLS.index("recorded_at")]),
        )
        con.execute("COMMIT")
        lat.append(clock() - t0)
    elapsed = clock() - start
    con.close()
    return elapsed, lat, time.process_time() - cpu0


def raw_sqlite_batched(
    path: Path, template: tuple[Any, ...], n: int, per_tx: int, table: str = "events"
) -> Timing:
    con = _sqlite_conn(path)
    if table != "events":
        con.execute(f"CREATE TABLE {table} AS SELECT * FROM events WHERE 0")
    sql = INSERT_Q.replace("INTO events", f"INTO {table}")
    rows = [raw_row(template, i + 1, True) for i in range(n)]  # built before timing
    lat: list[float] = []
    clock = time.perf_counter
    start = clock()
    cpu0 = time.process_time()
    for i in range(0, n, per_tx):
        t0 = clock()
        con.execute("BEGIN IMMEDIATE")
        con.executemany(sql, rows[i : i + per_tx])
        con.execute("UPDATE ledger_head SET position = ? WHERE id = 1", (i + per_tx,))
        con.execute("COMMIT")
        lat.append(clock() - t0)
    elapsed = clock() - start
    con.close()
    return elapsed, lat, time.process_time() - cpu0


def _pg_conninfo(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def raw_pg_serial(url: str, template: tuple[Any, ...], writers: int, per_writer: int) -> Timing:
    """Per event, on its own connection per writer thread: SELECT the head FOR UPDATE,
    insert the row, move the head, COMMIT (the ledger's lock, nothing else)."""
    import psycopg

    h, rec = template[COLS.index("hash")], template[COLS.index("recorded_at")]
    barrier = threading.Barrier(writers + 1)
    lats: list[list[float]] = [[] for _ in range(writers)]
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            with psycopg.connect(_pg_conninfo(url)) as conn:
                clock, out = time.perf_counter, lats[i]
                barrier.wait()
                for _ in range(per_writer):
                    t0 = clock()
                    pos = (
                        conn.execute(
                            "SELECT position FROM ledger_head WHERE id = 1 FOR UPDATE"
                        ).fetchone()[0]
                        + 1
                    )
                    conn.execute(INSERT_PG, raw_row(template, pos, False))
                    conn.execute(
                        "UPDATE ledger_head SET position = %s, hash = %s, recorded_at = %s "
                        "WHERE id = 1",
                        (pos, h, rec),
                    )
                    conn.commit()
                    out.append(clock() - t0)
        except BaseException as e:
            errors.append(e)
            if not barrier.broken:
                barrier.abort()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(writers)]
    for th in threads:
        th.start()
    barrier.wait()
    start = time.perf_counter()
    cpu0 = time.process_time()
    for th in threads:
        th.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise errors[0]
    return elapsed, [x for lst in lats for x in lst], time.process_time() - cpu0


def raw_pg_batched(url: str, template: tuple[Any, ...], n: int, per_tx: int) -> Timing:
    import psycopg

    rows = [raw_row(template, i + 1, False) for i in range(n)]
    lat: list[float] = []
    with psycopg.connect(_pg_conninfo(url)) as conn:
        clock = time.perf_counter
        start = clock()
        cpu0 = time.process_time()
        for i in range(0, n, per_tx):
            t0 = clock()
            conn.execute("SELECT position FROM ledger_head WHERE id = 1 FOR UPDATE")
            with conn.cursor() as cur:
                cur.executemany(INSERT_PG, rows[i : i + per_tx])
            conn.execute("UPDATE ledger_head SET position = %s WHERE id = 1", (i + per_tx,))
            conn.commit()
            lat.append(clock() - t0)
        elapsed = clock() - start
    return elapsed, lat, time.process_time() - cpu0


# --- eventsourcing (the library's own SQLite persistence) -------------------------------


_ES_POOL: list[type] = []


def _es_pool_class() -> type:
    """The eventsourcing aggregate, defined once (the library registers its topic)."""
    if not _ES_POOL:
        from eventsourcing.domain import Aggregate, event

        class BenchPool(Aggregate):
            def __init__(self, pool_id: str) -> None:
                self.pool_id = pool_id
                self.total = 0

            @event("ContributionPosted")
            def post(
                self,
                partner_id: str,
                funding_stream: str,
                amount: int,
                effective_date: str,
                year: str,
                reference: str,
                prior_period_adjustment: bool,
            ) -> None:
                self.total += amount

        _ES_POOL.append(BenchPool)
    return _ES_POOL[0]


def es_application(path: Path, n: int, per_tx: int) -> Timing:
    """``Application.save`` of one aggregate that triggered ``per_tx`` new events
    (eventsourcing.sqlite, a file in WAL mode; SQLite's default synchronous is FULL)."""
    from eventsourcing.application import Application

    BenchPool = _es_pool_class()
    app: Application[Any] = Application(
        env={"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(path)}
    )
    pool = BenchPool(cm.POOL)
    app.save(pool)
    args = [
        (
            cmd.partner_id,
            cmd.funding_stream,
            cmd.amount,
            cmd.effective_date.isoformat(),
            "2025-26",
            cmd.reference,
            False,
        )
        for cmd in commands(n)
    ]
    lat: list[float] = []
    clock = time.perf_counter
    start = clock()
    cpu0 = time.process_time()
    for i in range(0, n, per_tx):
        t0 = clock()
        for a in args[i : i + per_tx]:
            pool.post(*a)
        app.save(pool)
        lat.append(clock() - t0)
    elapsed = clock() - start
    app.close()
    return elapsed, lat, time.process_time() - cpu0


def es_recorder(path: Path, template: tuple[Any, ...], n: int, per_tx: int) -> Timing:
    """``SQLiteApplicationRecorder.insert_events`` of ready-made StoredEvents whose
    state is as long as one of our rows (the library's storage floor)."""
    import json

    from eventsourcing.persistence import StoredEvent
    from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteDatastore

    ds = SQLiteDatastore(str(path))
    rec = SQLiteApplicationRecorder(ds)
    rec.create_table()
    state = json.dumps(dict(zip(COLS, template, strict=True)), default=str).encode()
    oid = uuid.uuid4()
    events = [StoredEvent(oid, v, "bench:ContributionPosted", state) for v in range(1, n + 1)]
    lat: list[float] = []
    clock = time.perf_counter
    start = clock()
    cpu0 = time.process_time()
    for i in range(0, n, per_tx):
        t0 = clock()
        rec.insert_events(events[i : i + per_tx])
        lat.append(clock() - t0)
    elapsed = clock() - start
    ds.close()
    return elapsed, lat, time.process_time() - cpu0


# --- growth ------------------------------------------------------------------------------


def growth(
    section: str,
    ledger: Ledger,
    checkpoints: Sequence[int],
    probe: int,
    size_of: Callable[[], str] | None,
    log: Callable[[str], None],
    fill_batch: int = 5000,
) -> list[Result]:
    """Fill through ``execute_many`` (batches of ``fill_batch``) to each checkpoint,
    then time ``probe`` single ``execute`` calls and one ``execute_many`` of 1,000."""
    out: list[Result] = []
    with ledger.engine.connect() as conn:
        current = read_head(conn).position
    seq = 0
    for cp in checkpoints:
        fill_s, filled = 0.0, 0
        while current < cp:
            m = min(fill_batch, cp - current)
            batch = commands(m, start=seq)
            seq += m
            with timed() as t:
                ledger.execute_many(batch, WHO)
            fill_s += t[0]
            filled += m
            current += m
        size = size_of() if size_of else ""
        fill_note = f"filled {filled:,} at {filled / fill_s:,.0f} ev/s" if filled else ""
        log(f"  {section}: {cp:,} events stored ({size}); {fill_note}")
        cmds = commands(probe, start=seq)
        seq += probe
        secs, lat, cpu = run_single(ledger, cmds)
        current += probe
        out.append(
            Result(
                f"growth-{section}-{cp}",
                section,
                f"growth: execute() at {cp:,} events",
                1,
                1,
                probe,
                secs,
                lat,
                "cmd",
                f"{size}".strip(),
                cpu,
            )
        )
        cmds = commands(1000, start=seq)
        seq += 1000
        secs, lat, cpu = run_batched(ledger, cmds, 1000)
        current += 1000
        out.append(
            Result(
                f"growth-batch-{section}-{cp}",
                section,
                f"growth: execute_many(1000) at {cp:,} events",
                1,
                1000,
                1000,
                secs,
                lat,
                "tx",
                "",
                cpu,
            )
        )
    return out


def checkpoints_for(maximum: int) -> list[int]:
    cps = [c for c in (10_000, 100_000, 1_000_000) if c <= maximum]
    if maximum > 0 and maximum not in cps:
        cps.append(maximum)
    return sorted(cps)


# --- the run -----------------------------------------------------------------------------


def _mb(path: Path) -> str:
    total = sum(
        Path(f"{path}{s}").stat().st_size for s in ("", "-wal") if Path(f"{path}{s}").exists()
    )
    return f"{total / 1e6:,.0f} MB"


Outcome = tuple[float, list[float], float, int]  # seconds, latencies, cpu s, events


class Runner:
    """Runs scenarios, keeps their results, and records (without stopping) any that
    fail, e.g. a projector that does not yet match its schema."""

    def __init__(self, log: Callable[[str], None], repeat: int = 1) -> None:
        self.results: list[Result] = []
        self.failures: list[str] = []
        self.log = log
        self.repeat = repeat

    def run(
        self,
        key: str,
        section: str,
        name: str,
        fn: Callable[[], Outcome],
        *,
        writers: int = 1,
        per_tx: int = 1,
        op: str = "cmd",
        note: str = "",
    ) -> Result | None:
        best: Result | None = None
        for _ in range(self.repeat):  # on a shared machine: keep the fastest run
            try:
                secs, lat, cpu, n = fn()
            except Exception as e:
                first = str(e).strip().splitlines()[0] if str(e).strip() else ""
                msg = f"{section} / {name}: FAILED, {e.__class__.__name__}: {first}"
                self.failures.append(msg)
                self.log("  " + msg)
                return None
            r = Result(key, section, name, writers, per_tx, n, secs, lat, op, note, cpu)
            if best is None or r.rate > best.rate:
                best = r
        assert best is not None
        r = best
        self.results.append(r)
        self.log(
            f"  {section} / {name} x{writers}: {r.rate:,.0f}/s, p50 {r.p50_ms:.2f} ms, "
            f"p99 {r.p99_ms:.2f} ms per {op}"
        )
        return r


def ledger_single(engine: Engine, n: int, proj: bool, warm: int) -> Outcome:
    try:
        ledger = seeded_ledger(engine, projector=proj, warm=warm)
        secs, lat, cpu = run_single(ledger, commands(n))
        return secs, lat, cpu, n
    finally:
        engine.dispose()


def ledger_batched(engine: Engine, n: int, per_tx: int, proj: bool, warm: int) -> Outcome:
    try:
        ledger = seeded_ledger(engine, projector=proj, warm=warm)
        secs, lat, cpu = run_batched(ledger, commands(n), per_tx)
        return secs, lat, cpu, n
    finally:
        engine.dispose()


def store_batched(engine: Engine, n: int, per_tx: int) -> Outcome:
    """``build_rows`` + ``insert_rows`` of events already decided, ``per_tx`` per
    transaction: the event store's own batched append (ids, canonical payloads, the hash
    chain, the insert and the head), as eventsourcing's ``Application.save`` stores an
    aggregate's pending events. No command is decided and no pool state is kept."""
    try:
        ledger = seeded_ledger(engine, warm=0)
        posted = ledger.execute(commands(1, start=77)[0], WHO).events[0].event
        events = [posted.model_copy(update={"reference": f"STORE-{i:08d}"}) for i in range(n)]
        envelope = es.Envelope(actor=WHO.name, actor_role=WHO.role, actor_partner_id="ncc")
        lat: list[float] = []
        clock = time.perf_counter
        start, cpu0 = clock(), time.process_time()
        for i in range(0, n, per_tx):
            t0 = clock()
            pending = [
                es.PendingEvent(e, "store:bench", i + j + 1)
                for j, e in enumerate(events[i : i + per_tx])
            ]
            with es.write_transaction(engine) as (conn, head):
                rows = es.build_rows(head, pending, envelope, "2026-11-23T12:00:00.000000Z")
                with es.pipelined(conn):
                    es.insert_rows(conn, rows)
            lat.append(clock() - t0)
        return clock() - start, lat, time.process_time() - cpu0, n
    finally:
        engine.dispose()


def ledger_threads(
    engine: Engine, k: int, per: int, proj: bool, warm: int, group_commit: bool = True
) -> Outcome:
    try:
        ledger = seeded_ledger(engine, projector=proj, group_commit=group_commit, warm=warm)
        cmds = commands(k * per)
        secs, lat, cpu = run_threads(ledger, [cmds[i::k] for i in range(k)])
        return secs, lat, cpu, k * per
    finally:
        engine.dispose()


def ledger_processes(stores: Stores, k: int, per: int, proj: bool) -> Outcome:
    engine, url = stores.pg()
    try:
        seeded_ledger(engine, warm=0)  # partners, pool and plan for the writer processes
    finally:
        engine.dispose()
    secs, lat, cpu = run_processes(url, k, per, proj)
    return secs, lat, cpu, k * per


def sqlite_section(
    run: Runner, stores: Stores, sz: Sizes, template: tuple[Any, ...], with_proj: bool
) -> None:
    sec = "sqlite"

    def migrated(name: str) -> Path:
        stores.sqlite(name).dispose()
        return stores.dir / f"{name}.db"

    def fresh(name: str) -> Path:
        return stores.sqlite_path(name)

    def raw_serial() -> Outcome:
        return (*raw_sqlite_serial(migrated("raw-serial"), template, sz.raw_serial), sz.raw_serial)

    def raw_batch(table: str) -> Outcome:
        path = migrated(f"raw-{table}")
        return (*raw_sqlite_batched(path, template, sz.raw_batched, 1000, table), sz.raw_batched)

    run.run(
        "sqlite-raw-serial",
        sec,
        "raw sqlite3: lock+insert+head, 1 ev/tx",
        raw_serial,
        op="tx",
        note="same table and indexes",
    )
    run.run(
        "sqlite-raw-batch",
        sec,
        "raw sqlite3 executemany, 1000 ev/tx",
        lambda: raw_batch("events"),
        per_tx=1000,
        op="tx",
        note="same table and indexes",
    )
    run.run(
        "sqlite-raw-bare",
        sec,
        "raw sqlite3 executemany, bare table, 1000/tx",
        lambda: raw_batch("bare_events"),
        per_tx=1000,
        op="tx",
        note="no indexes",
    )
    for per_tx, n in ((1, sz.es_single), (100, sz.es_batched)):
        run.run(
            f"es-app-{per_tx}",
            sec,
            f"eventsourcing Application.save, {per_tx} ev/tx",
            lambda p=per_tx, n=n: (*es_application(fresh(f"es-app-{p}"), n, p), n),
            per_tx=per_tx,
            op="tx",
            note="eventsourcing.sqlite",
        )
        run.run(
            f"es-rec-{per_tx}",
            sec,
            f"eventsourcing recorder insert_events, {per_tx}/tx",
            lambda p=per_tx, n=n: (*es_recorder(fresh(f"es-rec-{p}"), template, n, p), n),
            per_tx=per_tx,
            op="tx",
            note="ready-made StoredEvents",
        )

    for proj in (False, True) if with_proj else (False,):
        tag, label = ("-proj", " +projector") if proj else ("", "")
        run.run(
            f"sqlite-full{tag}",
            sec,
            f"Ledger.execute{label}",
            lambda t=tag, p=proj: ledger_single(stores.sqlite(f"full{t}"), sz.single, p, sz.warm),
        )
        for per_tx in (100, 1000):
            run.run(
                f"sqlite-batch{per_tx}{tag}",
                sec,
                f"Ledger.execute_many{label}",
                lambda t=tag, p=proj, k=per_tx: ledger_batched(
                    stores.sqlite(f"batch{k}{t}"), sz.batched, k, p, sz.warm
                ),
                per_tx=per_tx,
                op="tx",
            )
    for per_tx in (100, 1000):
        run.run(
            f"sqlite-store{per_tx}",
            sec,
            "EventStore append of decided events",
            lambda k=per_tx: store_batched(stores.sqlite(f"store{k}"), sz.batched, k),
            per_tx=per_tx,
            op="tx",
            note="like eventsourcing Application.save",
        )
    run.run(
        "sqlite-threads8",
        sec,
        "Ledger.execute, threads (group commit)",
        lambda: ledger_threads(stores.sqlite("threads8"), 8, sz.pg_thread, False, sz.warm),
        writers=8,
        per_tx=0,
    )
    run.run(
        "sqlite-full-normal",
        sec,
        "Ledger.execute, synchronous=NORMAL",
        lambda: ledger_single(
            stores.sqlite("full-normal", synchronous="NORMAL"), sz.single, False, sz.warm
        ),
        note="reference: WAL, no fsync per commit",
    )


def pg_section(
    run: Runner, stores: Stores, sz: Sizes, template: tuple[Any, ...], with_proj: bool
) -> None:
    sec = "postgres"

    def raw_serial(writers: int, per: int) -> Outcome:
        eng, url = stores.pg()
        eng.dispose()
        return (*raw_pg_serial(url, template, writers, per), writers * per)

    def raw_batch(n: int) -> Outcome:
        eng, url = stores.pg()
        eng.dispose()
        return (*raw_pg_batched(url, template, n, 1000), n)

    def eng() -> Engine:
        return stores.pg()[0]

    run.run(
        "pg-raw-serial-1",
        sec,
        "raw psycopg: lock+insert+head, 1 ev/tx",
        lambda: raw_serial(1, sz.pg_single),
        op="tx",
        note="SELECT .. FOR UPDATE",
    )
    run.run(
        "pg-raw-serial-8",
        sec,
        "raw psycopg: lock+insert+head, 1 ev/tx",
        lambda: raw_serial(8, sz.pg_thread),
        writers=8,
        op="tx",
        note="8 threads, a connection each",
    )
    run.run(
        "pg-raw-batch",
        sec,
        "raw psycopg executemany, 1000 ev/tx",
        lambda: raw_batch(sz.raw_batched // 2),
        per_tx=1000,
        op="tx",
        note="same table and indexes",
    )
    for proj in (False, True) if with_proj else (False,):
        tag, label = ("-proj", " +projector") if proj else ("", "")
        run.run(
            f"pg-full-1{tag}",
            sec,
            f"Ledger.execute{label}",
            lambda p=proj: ledger_single(eng(), sz.pg_single, p, sz.warm),
        )
        run.run(
            f"pg-threads8{tag}",
            sec,
            f"Ledger.execute{label}, threads",
            lambda p=proj: ledger_threads(eng(), 8, sz.pg_thread, p, sz.warm),
            writers=8,
            per_tx=0,
            note="1 process, group commit, pool_size=10",
        )
        run.run(
            f"pg-procs8{tag}",
            sec,
            f"Ledger.execute{label}, processes",
            lambda p=proj: ledger_processes(stores, 8, sz.pg_proc, p),
            writers=8,
            per_tx=0,
            note="a Ledger per process",
        )
        for per_tx in (100, 1000):
            run.run(
                f"pg-batch{per_tx}{tag}",
                sec,
                f"Ledger.execute_many{label}",
                lambda p=proj, k=per_tx: ledger_batched(eng(), sz.batched, k, p, sz.warm),
                per_tx=per_tx,
                op="tx",
            )
    for per_tx in (100, 1000):
        run.run(
            f"pg-store{per_tx}",
            sec,
            "EventStore append of decided events",
            lambda k=per_tx: store_batched(eng(), sz.batched, k),
            per_tx=per_tx,
            op="tx",
            note="like eventsourcing Application.save",
        )
    run.run(
        "pg-threads8-nogc",
        sec,
        "Ledger.execute, threads, group_commit=False",
        lambda: ledger_threads(eng(), 8, sz.pg_thread, False, sz.warm, group_commit=False),
        writers=8,
        note="each command its own tx",
    )


# --- targets ------------------------------------------------------------------------------


def check_targets(results: Sequence[Result], growth_keys: dict[str, list[int]]) -> list[str]:
    by = {r.key: r for r in results}
    lines: list[str] = []

    def mark(ok: bool) -> str:
        return "MET    " if ok else "NOT MET"

    def fmt(key: str, what: str = "/s") -> str:
        r = by.get(key)
        return f"{r.rate:,.0f}{what}" if r else "n/a"

    r = by.get("sqlite-full")
    if r:
        lines.append(
            f"[{mark(r.rate >= 2000)}] SQLite full path (1 writer, 1 ev/tx, synchronous FULL) "
            f">= 2,000 cmd/s: {r.rate:,.0f} cmd/s (p50 {r.p50_ms:.2f} ms, p99 {r.p99_ms:.2f} ms)"
            f" | eventsourcing Application 1 ev/tx: {fmt('es-app-1')}"
            f" | eventsourcing recorder 1 ev/tx: {fmt('es-rec-1')}"
            f" | raw sqlite3 1 ev/tx: {fmt('sqlite-raw-serial')}"
        )
    for key, label in (("pg-threads8", "8 threads"), ("pg-procs8", "8 processes")):
        r = by.get(key)
        if r:
            ok = r.rate >= 1000 and r.p99_ms <= 50
            raw = by.get("pg-raw-serial-8")
            beside = (
                f" | raw serialised append, 8 writers: {raw.rate:,.0f}/s (p99 {raw.p99_ms:.1f} ms)"
                if raw
                else ""
            )
            lines.append(
                f"[{mark(ok)}] PostgreSQL {label} >= 1,000 cmd/s and p99 <= 50 ms: "
                f"{r.rate:,.0f} cmd/s, p50 {r.p50_ms:.1f} ms, p99 {r.p99_ms:.1f} ms{beside}"
            )
    for backend, path, what in (
        (b, p, w)
        for b in ("sqlite", "pg")
        for p, w in (("batch", "Ledger.execute_many"), ("store", "EventStore append"))
    ):
        best = max(
            (by[k] for k in (f"{backend}-{path}100", f"{backend}-{path}1000") if k in by),
            key=lambda x: x.rate,
            default=None,
        )
        if best is None:
            continue
        es100 = by.get("es-app-100")
        b100 = by.get(f"{backend}-{path}100")
        not_slower = es100 is None or (b100 is not None and b100.rate >= es100.rate)
        ok = best.rate >= 50_000 and not_slower
        lines.append(
            f"[{mark(ok)}] {backend} batched ({what}) >= 50,000 ev/s and not slower than "
            f"eventsourcing 100 ev/tx: {best.rate:,.0f} ev/s at {best.per_tx}/tx; at 100/tx "
            f"{b100.rate if b100 else float('nan'):,.0f} ev/s vs eventsourcing Application "
            f"{fmt('es-app-100', ' ev/s')}, recorder {fmt('es-rec-100', ' ev/s')}"
        )
    for section, cps in growth_keys.items():
        rs = [by.get(f"growth-{section}-{cp}") for cp in cps]
        rs2 = [x for x in rs if x is not None]
        if len(rs2) >= 2:
            first, last = rs2[0], rs2[-1]
            ratio = last.p50_ms / first.p50_ms
            ok = ratio <= 1.25
            b0 = by.get(f"growth-batch-{section}-{cps[0]}")
            b1 = by.get(f"growth-batch-{section}-{cps[-1]}")
            batch_note = (
                f"; execute_many(1000) CPU per event x{b1.cpu_us / b0.cpu_us:.2f} "
                f"({b0.cpu_us:.0f} -> {b1.cpu_us:.0f} us)"
                if b0 and b1
                else ""
            )
            steps = ", ".join(
                f"{cp:,}: p50 {x.p50_ms:.2f} / p99 {x.p99_ms:.2f} ms"
                for cp, x in zip(cps, rs, strict=True)
                if x is not None
            )
            lines.append(
                f"[{mark(ok)}] {section} append cost flat with growth (p50 at the largest "
                f"store within 1.25x of 10k): x{ratio:.2f} ({steps}){batch_note}"
            )
    for a, b, label in (
        ("sqlite-full", "sqlite-full-proj", "SQLite execute"),
        ("sqlite-batch1000", "sqlite-batch1000-proj", "SQLite execute_many(1000)"),
        ("pg-full-1", "pg-full-1-proj", "PostgreSQL execute, 1 writer"),
        ("pg-threads8", "pg-threads8-proj", "PostgreSQL execute, 8 threads"),
        ("pg-procs8", "pg-procs8-proj", "PostgreSQL execute, 8 processes"),
        ("pg-batch1000", "pg-batch1000-proj", "PostgreSQL execute_many(1000)"),
    ):
        if a in by and b in by:
            extra = by[a].rate / by[b].rate - 1  # cost per command = 1 / rate
            cpu_extra = by[b].cpu_us / by[a].cpu_us - 1
            lines.append(
                f"[{mark(extra < 0.30)}] projections add < 30% per command ({label}): "
                f"{extra * 100:+.0f}% wall ({by[a].rate:,.0f} -> {by[b].rate:,.0f} cmd/s), "
                f"{cpu_extra * 100:+.0f}% CPU ({by[a].cpu_us:.0f} -> {by[b].cpu_us:.0f} us)"
            )
    return [x for x in lines if x]


def header(args: argparse.Namespace, pg_version: str | None) -> str:
    opt = sys.flags.optimize
    return "\n".join(
        [
            f"pooled append benchmark, {datetime.now():%Y-%m-%d %H:%M}",
            f"python {platform.python_version()} ({sys.executable}); "
            f"ran with -O: {'yes' if opt else 'no'} (sys.flags.optimize={opt})",
            f"machine: {platform.machine()}, {mp.cpu_count()} CPUs, {platform.platform()}",
            f"sqlite {sqlite3.sqlite_version} (file, WAL, synchronous=FULL); "
            f"SQLAlchemy {sqlalchemy.__version__}; postgres: {pg_version or 'not used'}",
            f"mode: {'quick' if args.quick else 'full'}, best of {args.repeat}; "
            f"growth to {args.growth_max:,} events; "
            f"load average now {os.getloadavg()[0]:.2f} (1 min), at start {args.load0:.2f}",
            "every command writes one ContributionPosted event: commands/s = events/s; "
            "'lat' says whether p50/p99 are per command or per transaction (batch); "
            "'cpu us' is this side's CPU per event (not the PostgreSQL server's)",
        ]
    )


def profile(stores: Stores, n: int, top: int) -> None:
    """cProfile of the full path (execute, one writer, SQLite) and of execute_many."""
    runs: list[tuple[str, bool, int]] = [("execute, hooks=[]", False, 0)]
    if cm.projector_hook() is not None:
        runs.append(("execute, hooks=[Projector()]", True, 0))
    runs.append(("execute_many(1000), hooks=[]", False, 1000))
    for label, proj, per_tx in runs:
        ledger = seeded_ledger(stores.sqlite(f"prof-{len(label)}-{per_tx}"), projector=proj)
        cmds = commands(n if not per_tx else 10 * per_tx)
        pr = cProfile.Profile()
        pr.enable()
        if per_tx:
            run_batched(ledger, cmds, per_tx)
        else:
            run_single(ledger, cmds)
        pr.disable()
        for order in ("tottime", "cumulative"):
            s = io.StringIO()
            pstats.Stats(pr, stream=s).strip_dirs().sort_stats(order).print_stats(top)
            print(f"\n=== profile: {label}, {len(cmds):,} commands, by {order} ===")
            print(s.getvalue().split("\n", 4)[-1].rstrip())


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="a short run (small counts)")
    ap.add_argument("--sqlite-only", action="store_true", help="skip PostgreSQL")
    ap.add_argument(
        "--pg-url",
        default=cm.DEFAULT_PG_URL,
        help="PostgreSQL URL (a schema bench_<hex> is created per scenario and dropped)",
    )
    ap.add_argument(
        "--growth-max",
        type=int,
        default=None,
        help="grow the store to this many events (default 1,000,000; 20,000 with "
        "--quick; 0 skips the growth test)",
    )
    ap.add_argument(
        "--growth-pg", action="store_true", help="also run the growth test on PostgreSQL"
    )
    ap.add_argument(
        "--no-projector", action="store_true", help="skip the runs with hooks=[Projector()]"
    )
    ap.add_argument(
        "--only",
        action="append",
        choices=("sqlite", "postgres", "growth"),
        help="run only this part (repeatable; default: all)",
    )
    ap.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="run each scenario N times (fresh store each) and keep the fastest",
    )
    ap.add_argument("--tmpdir", default=None, help="where the SQLite files go")
    ap.add_argument(
        "--profile",
        action="store_true",
        help="only profile the full path (cProfile) and print the top costs",
    )
    ap.add_argument("--profile-n", type=int, default=2000)
    args = ap.parse_args(argv)
    args.load0 = os.getloadavg()[0]
    warnings.simplefilter("once")
    if args.growth_max is None:
        args.growth_max = 20_000 if args.quick else 1_000_000

    stores = Stores(None if args.sqlite_only else args.pg_url, args.tmpdir)
    try:
        if args.profile:
            print(f"ran with -O: {'yes' if sys.flags.optimize else 'no'}")
            profile(stores, args.profile_n, 25)
            return 0
        pg_version = None
        if not args.sqlite_only:
            problem = cm.pg_reachable(args.pg_url)
            if problem:
                print(f"PostgreSQL skipped: {problem}", file=sys.stderr)
                stores.pg_url = None
            else:
                eng = cm.create_engine(cm.normalise_url(args.pg_url))
                with eng.connect() as conn:
                    pg_version = conn.execute(cm.text("show server_version")).scalar()
                eng.dispose()
        with_proj = not args.no_projector and cm.projector_hook() is not None
        sz = Sizes(args.quick)

        def log(msg: str) -> None:
            print(msg, file=sys.stderr, flush=True)

        log(header(args, pg_version))
        if not with_proj:
            log("projector: not measured (not importable or --no-projector)")
        template = template_row(stores)
        run = Runner(log, args.repeat)
        only = set(args.only or ("sqlite", "postgres", "growth"))
        if "sqlite" in only:
            log("sqlite ...")
            sqlite_section(run, stores, sz, template, with_proj)
        if stores.pg_url and "postgres" in only:
            log("postgres ...")
            pg_section(run, stores, sz, template, with_proj)
        growth_keys: dict[str, list[int]] = {}
        cps = checkpoints_for(args.growth_max) if "growth" in only else []
        backends = ["sqlite"] + (["postgres"] if stores.pg_url and args.growth_pg else [])
        for backend in backends if cps else []:
            log(f"growth ({backend}) ...")
            try:
                size_of: Callable[[], str] | None = None
                if backend == "sqlite":
                    engine = stores.sqlite("growth")
                    size_of = partial(_mb, stores.dir / "growth.db")
                else:
                    engine = stores.pg()[0]
                ledger = seeded_ledger(engine, warm=0)
                run.results += growth(backend, ledger, cps, sz.probe, size_of, log)
                engine.dispose()
                growth_keys[backend] = cps
            except Exception as e:
                run.failures.append(f"growth ({backend}): FAILED, {e.__class__.__name__}: {e}")
        print()
        print(header(args, pg_version))
        print()
        cm.print_table(run.results)
        print()
        print("targets:")
        for line in check_targets(run.results, growth_keys):
            print("  " + line)
        if run.failures:
            print()
            print("failed scenarios (not in the table):")
            for line in run.failures:
                print("  " + line)
    finally:
        stores.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

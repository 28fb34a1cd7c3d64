"""Shared helpers for the append benchmark: stores, ledgers, commands, timing, tables.

Not a test and not part of the package: run ``python bench/append.py``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # the ledger package and tests.builders, from a checkout
    sys.path.insert(0, str(ROOT))

from sqlalchemy import Engine, create_engine, text  # noqa: E402

from ledger.clock import SystemClock  # noqa: E402
from ledger.domain import commands as c  # noqa: E402
from ledger.handlers import Ledger  # noqa: E402
from ledger.refdata import default_catalogue  # noqa: E402
from ledger.store.engine import make_engine, normalise_url  # noqa: E402
from ledger.store.migrate import upgrade  # noqa: E402
from tests.builders import contribution, given_equipment_pool, officer  # noqa: E402

DEFAULT_PG_URL = os.environ.get(
    "POOLED_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
WHO = officer("ncc")
POOL = "eq"


def projector_hook() -> Any | None:
    """``Projector()`` when the projections package provides it, else None."""
    try:
        from projections.projector import Projector
    except ImportError:
        return None
    return Projector()


# --- commands -------------------------------------------------------------------------


def commands(n: int, start: int = 0) -> list[c.PostContribution]:
    """``n`` contributions to the equipment pool (ContributionPosted, one event each),
    built before the clock starts."""
    out = []
    for i in range(start, start + n):
        out.append(
            contribution(
                POOL,
                ("ncc", "city", "icb-a")[i % 3],
                f"{100 + i % 900}.{i % 100:02d}",
                date(2025, 4 + i % 9, 1 + i % 28),
                reference=f"BENCH-{i:08d}",
            )
        )
    return out


def build_ledger(engine: Engine, *, projector: bool = False, group_commit: bool = True) -> Ledger:
    hooks = []
    if projector:
        hook = projector_hook()
        if hook is None:
            raise RuntimeError("projections.projector.Projector is not importable")
        hooks.append(hook)
    return Ledger(
        engine, SystemClock(), default_catalogue(), hooks=hooks, group_commit=group_commit
    )


def seeded_ledger(
    engine: Engine, *, projector: bool = False, group_commit: bool = True, warm: int = 100
) -> Ledger:
    """A ledger over a migrated, empty store: partners, the equipment pool and its plan,
    then ``warm`` untimed commands (caches, statement caches, pool connections)."""
    ledger = build_ledger(engine, projector=projector, group_commit=group_commit)
    given_equipment_pool(ledger)
    for cmd in commands(warm, start=900_000_000):
        ledger.execute(cmd, WHO)
    return ledger


# --- stores ---------------------------------------------------------------------------


class Stores:
    """Fresh SQLite files (in one temporary directory) and PostgreSQL schemas
    (``bench_<hex>``), all removed by ``close``."""

    def __init__(self, pg_url: str | None, tmpdir: str | None = None) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="pooled-bench-", dir=tmpdir))
        self.pg_url = normalise_url(pg_url) if pg_url else None
        self.schemas: list[str] = []
        self.engines: list[Engine] = []

    def sqlite_path(self, name: str) -> Path:
        p = self.dir / f"{name}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{p}{suffix}").unlink(missing_ok=True)
        return p

    def sqlite(self, name: str, *, synchronous: str = "FULL") -> Engine:
        """A migrated SQLite file in WAL mode, through the project's ``make_engine``."""
        engine = make_engine(f"sqlite:///{self.sqlite_path(name)}", synchronous=synchronous)
        upgrade(engine)
        self.engines.append(engine)
        return engine

    def pg_schema(self) -> tuple[str, str]:
        """A new, empty schema; returns (schema, url whose connections use it)."""
        assert self.pg_url is not None
        schema = f"bench_{uuid.uuid4().hex[:10]}"
        admin = create_engine(self.pg_url)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        admin.dispose()
        self.schemas.append(schema)
        sep = "&" if "?" in self.pg_url else "?"
        return schema, f"{self.pg_url}{sep}options=-csearch_path%3D{schema}"

    def pg(self, pool_size: int = 10) -> tuple[Engine, str]:
        """A migrated schema of its own, through the project's ``make_engine``
        (QueuePool of ``pool_size``, pre-ping on, as in production)."""
        _schema, url = self.pg_schema()
        engine = make_engine(url, pool_size=pool_size)
        upgrade(engine)
        self.engines.append(engine)
        return engine, url

    def close(self) -> None:
        for e in self.engines:
            e.dispose()
        self.engines.clear()
        if self.schemas and self.pg_url:
            admin = create_engine(self.pg_url)
            with admin.begin() as conn:
                for s in self.schemas:
                    conn.execute(text(f'DROP SCHEMA IF EXISTS "{s}" CASCADE'))
            admin.dispose()
            self.schemas.clear()
        shutil.rmtree(self.dir, ignore_errors=True)


@contextlib.contextmanager
def pg_store(url: str) -> Iterator[Engine]:
    """One migrated PostgreSQL schema of its own (``Stores.pg``), dropped afterwards."""
    stores = Stores(url)
    try:
        engine, _url = stores.pg()
        yield engine
    finally:
        stores.close()


def pg_reachable(url: str) -> str | None:
    try:
        eng = create_engine(normalise_url(url))
        with eng.connect() as conn:
            conn.execute(text("select 1"))
        eng.dispose()
    except Exception as e:
        return f"{e.__class__.__name__}: {e}".splitlines()[0]
    return None


# --- results --------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of ``values``; NaN when empty."""
    if not values:
        return float("nan")
    s = sorted(values)
    k = max(0, min(len(s) - 1, round(q / 100 * len(s) + 0.5) - 1))
    return s[k]


@dataclass
class Result:
    key: str  # stable id used by the target checks
    section: str
    name: str
    writers: int
    per_tx: int  # events (= commands) per transaction; 0 when it varies (group commit)
    n: int  # events (= commands: one ContributionPosted per command) written while timed
    seconds: float
    latencies: list[float] = field(default_factory=list)  # seconds, one per operation
    op: str = "cmd"  # what one latency measures: "cmd" or "tx" (a whole batch)
    note: str = ""
    cpu: float = float("nan")  # CPU seconds (user + system) of the benchmark's processes

    @property
    def cpu_us(self) -> float:
        """CPU time of the Python side per event, in microseconds: the database
        server's own CPU (PostgreSQL) is not included; fsync waits are not CPU."""
        return self.cpu / self.n * 1e6 if self.n else float("nan")

    @property
    def rate(self) -> float:
        return self.n / self.seconds if self.seconds else float("nan")

    @property
    def p50_ms(self) -> float:
        return percentile(self.latencies, 50) * 1000

    @property
    def p99_ms(self) -> float:
        return percentile(self.latencies, 99) * 1000


def print_table(results: Sequence[Result], out: Any = None) -> None:
    out = out or sys.stdout
    head = (
        f"{'section':<10} {'scenario':<46} {'wr':>3} {'ev/tx':>6} {'events':>8} "
        f"{'cmds/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'lat':>4} {'cpu us':>7}  note"
    )
    print(head, file=out)
    print("-" * len(head), file=out)
    for r in results:
        per_tx = str(r.per_tx) if r.per_tx else "grp"
        print(
            f"{r.section:<10} {r.name:<46} {r.writers:>3} {per_tx:>6} {r.n:>8} "
            f"{r.rate:>10,.0f} {r.p50_ms:>8.2f} {r.p99_ms:>8.2f} {r.op:>4} {r.cpu_us:>7.0f}  "
            f"{r.note}",
            file=out,
        )


@contextlib.contextmanager
def timed() -> Iterator[list[float]]:
    """``with timed() as t:`` ... ``t[0]`` is the elapsed seconds afterwards."""
    box: list[float] = []
    start = time.perf_counter()
    try:
        yield box
    finally:
        box.append(time.perf_counter() - start)

"""The API as real processes: uvicorn servers in subprocesses on loopback ports.

* A server SIGKILLed in the middle of a load loses no write it acknowledged: every
  ``201``'s event is in the log after a restart, the chain verifies and the read
  models equal a rebuild (SQLite file and PostgreSQL schema).
* Two servers over one PostgreSQL schema interleave their appends into one gap-free
  chain, and the balances are the exact sum of what was posted.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, select

from ledger.store import tables as t
from ledger.store.engine import make_engine
from ledger.store.migrate import upgrade
from ledger.store.verify import verify
from projections.rebuild import compare_with_rebuild
from tests.conftest import PG_URL, drop_postgres_schema, require_postgres
from tests.e2e.api_support import World, build_world, contribution

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
THREADS = 4


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Db:
    url: str  # what the server is given in POOLED_DATABASE_URL
    engine: Engine


@contextmanager
def database(kind: str, tmp: Path, template: Path) -> Iterator[Db]:
    """A migrated, empty database and the URL a server process reaches it by."""
    if kind == "sqlite":
        path = tmp / "pooled.db"
        shutil.copy(template, path)
        url = f"sqlite:///{path}"
        eng = make_engine(url)
        try:
            yield Db(url, eng)
        finally:
            eng.dispose()
        return
    require_postgres()
    assert PG_URL
    schema = f"t_{uuid.uuid4().hex[:12]}"
    sep = "&" if "?" in PG_URL else "?"
    url = f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    eng = make_engine(url)
    try:
        with eng.begin() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        upgrade(eng)
        # the URL itself carries the schema: the tables are found there and nowhere else
        with eng.connect() as conn:
            assert conn.exec_driver_sql("SHOW search_path").scalar() == schema
        yield Db(url, eng)
    finally:
        eng.dispose()
        drop_postgres_schema(schema)


class Server:
    """``uvicorn --factory api.app:create_app`` in a subprocess on a free loopback port."""

    def __init__(self, db_url: str, log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        env = {
            **os.environ,
            "POOLED_DATABASE_URL": db_url,
            "POOLED_SCHEDULER": "false",
            "PYTHONUNBUFFERED": "1",
        }
        with log.open("ab") as out:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "--factory",
                    "api.app:create_app",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--log-level",
                    "warning",
                ],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self._wait_ready()

    def _wait_ready(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"server exited {self.proc.returncode}: {self.log.read_text()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.kill()
        pytest.fail(f"server not ready in {timeout}s: {self.log.read_text()}")

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)


@contextmanager
def servers(db_url: str, tmp: Path, count: int = 1) -> Iterator[list[Server]]:
    started: list[Server] = []
    try:
        for i in range(count):
            started.append(Server(db_url, tmp / f"server-{i}-{uuid.uuid4().hex[:6]}.log"))
        yield started
    finally:
        for s in started:
            s.kill()


@contextmanager
def world_over(db: Db) -> Iterator[World]:
    w = build_world(db.engine)
    try:
        yield w
    finally:
        w.client.close()


def poster(
    base: str,
    secret: str,
    name: str,
    acked: list[tuple[str, Decimal]],
    stop: threading.Event,
    *,
    max_posts: int,
    deadline: float,
) -> None:
    """Post the city's contributions until told to stop, the count is reached, the
    deadline passes or the server goes away; record each acknowledged event."""
    headers = {"Authorization": f"Bearer {secret}"}
    with httpx.Client(base_url=base, headers=headers, timeout=30.0) as client:
        for i in range(max_posts):
            if stop.is_set() or time.monotonic() > deadline:
                return
            amount = Decimal(f"{1 + i % 97}.{i % 100:02d}")
            body = contribution("city", str(amount), reference=f"{name}-{i}")
            try:
                r = client.post("/v1/pools/eq/contributions", json=body)
            except httpx.HTTPError:
                return  # the server was killed: an unanswered post is not acknowledged
            assert r.status_code == 201, r.text
            acked.append((r.json()["event_id"], amount))


def wait_until(done: Callable[[], bool], *, seconds: float, what: str) -> None:
    """Poll ``done`` until it holds; fail naming ``what`` after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not done():
        assert time.monotonic() < deadline, f"not seen within {seconds}s: {what}"
        time.sleep(0.02)


def run_posters(
    targets: list[tuple[str, str]], *, max_posts: int, seconds: float, stop: threading.Event
) -> tuple[list[threading.Thread], list[tuple[str, Decimal]]]:
    acked: list[tuple[str, Decimal]] = []  # list.append is atomic
    deadline = time.monotonic() + seconds
    threads = [
        threading.Thread(
            target=poster,
            args=(base, secret, f"p{n}", acked, stop),
            kwargs={"max_posts": max_posts, "deadline": deadline},
            daemon=True,
        )
        for n, (base, secret) in enumerate(targets)
    ]
    for th in threads:
        th.start()
    return threads, acked


def join(threads: list[threading.Thread], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    for th in threads:
        th.join(max(0.0, deadline - time.monotonic()))
    assert not any(th.is_alive() for th in threads), "client threads did not finish"


def logged_event_ids(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(select(t.events.c.event_id)).scalars())


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_acknowledged_writes_survive_a_sigkill(
    kind: str, tmp_path: Path, sqlite_template: Path
) -> None:
    with database(kind, tmp_path, sqlite_template) as db, world_over(db) as w:
        before = w.head()
        stop = threading.Event()
        with servers(db.url, tmp_path) as (server,):
            threads, acked = run_posters(
                [(server.url, w.secrets["city"])] * THREADS,
                max_posts=2000,
                seconds=10.0,
                stop=stop,
            )
            try:
                wait_until(lambda: len(acked) >= 50, seconds=8.0, what="50 posts acknowledged")
                assert all(th.is_alive() for th in threads), "the load ended before the kill"
                server.kill()  # SIGKILL, mid-load
            finally:
                stop.set()
                join(threads)
        assert len(acked) >= 20, "too few posts were acknowledged before the kill"

        with servers(db.url, tmp_path) as (again,):
            auditor = {"Authorization": f"Bearer {w.secrets['auditor']}"}
            r = httpx.get(f"{again.url}/v1/verify", headers=auditor, timeout=60.0)
            assert r.status_code == 200, r.text
            assert r.json()["ok"] is True, r.json()
            # the restarted server takes writes again
            r = httpx.post(
                f"{again.url}/v1/pools/eq/contributions",
                json=contribution("city", "1.00", reference="after restart"),
                headers={"Authorization": f"Bearer {w.secrets['city']}"},
                timeout=30.0,
            )
            assert r.status_code == 201, r.text

        ids = logged_event_ids(db.engine)
        lost = {e for e, _ in acked} - ids
        assert not lost, f"{len(lost)} acknowledged events lost, e.g. {sorted(lost)[:3]}"
        result = verify(db.engine)
        assert result.ok, result.problem
        assert result.events_checked >= before + len(acked) + 1
        assert compare_with_rebuild(db.engine) == []


def test_two_api_processes_share_one_postgresql(tmp_path: Path, sqlite_template: Path) -> None:
    require_postgres()
    per_process = 150
    with database("postgresql", tmp_path, sqlite_template) as db, world_over(db) as w:
        before = w.head()
        received_before = Decimal(received(w.get("city", "/v1/pools/eq/balances", year="2025-26")))
        with servers(db.url, tmp_path, count=2) as (a, b):
            secret = w.secrets["city"]
            stop = threading.Event()
            per_thread = per_process // THREADS
            extra = per_process - per_thread * THREADS
            targets = [(s.url, secret) for s in (a, b) for _ in range(THREADS)]
            threads, acked = [], []
            for n, target in enumerate(targets):
                count = per_thread + (extra if n % THREADS == 0 else 0)
                ths, got = run_posters([target], max_posts=count, seconds=30.0, stop=stop)
                threads += ths
                acked.append(got)
            join(threads)
            posted = [x for got in acked for x in got]
            assert len(posted) == 2 * per_process

            r = httpx.get(
                f"{b.url}/v1/pools/eq/balances",
                params={"year": "2025-26"},
                headers={"Authorization": f"Bearer {secret}"},
                timeout=30.0,
            )
            assert r.status_code == 200, r.text
            total = sum((amount for _, amount in posted), Decimal("0"))
            assert Decimal(received(r)) == received_before + total
            assert r.json()["as_at_position"] == before + 2 * per_process

        with db.engine.connect() as conn:
            positions = list(
                conn.execute(select(t.events.c.position).order_by(t.events.c.position)).scalars()
            )
        assert positions == list(range(1, before + 2 * per_process + 1))
        assert {e for e, _ in posted} <= logged_event_ids(db.engine)
        result = verify(db.engine)
        assert result.ok, result.problem
        assert result.events_checked == before + 2 * per_process
        assert compare_with_rebuild(db.engine) == []


def received(r: httpx.Response) -> str:
    assert r.status_code == 200, r.text
    city = next(p for p in r.json()["partners"] if p["partner_id"] == "city")
    return str(city["received"])

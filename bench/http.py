"""HTTP benchmark: requests per second and latency through the real server.

Not a timed test: a script that prints a table (figures recorded in
bench/RESULTS-http.md). It starts ``uvicorn --factory api.app:create_app`` in a
subprocess on a free port over a fresh database (SQLite file in WAL mode with
synchronous=FULL, and a PostgreSQL schema when reachable), sets the equipment pool
up through the API and then times, with keep-alive ``httpx`` clients:

* posting contributions (one event each), 1 client and 8 concurrent clients;
* idempotent retries (the same key and body: answered from the first write);
* balances reads (6.1, as at the head), 1 and 8 clients;
* a CSV import of 1,000 lines (all or nothing, one transaction);
* a page of 1,000 events from the log.

    .venv/bin/python bench/http.py               # SQLite and PostgreSQL
    .venv/bin/python bench/http.py --quick
    .venv/bin/python bench/http.py --sqlite-only
"""

from __future__ import annotations

import sys
from pathlib import Path

# This file is bench/http.py: as a script, its folder comes first on sys.path and would
# hide the standard library's ``http`` package from httpx. Put the folder last.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE] + [str(_HERE)]

import argparse  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402

import _common as cm  # noqa: E402
import httpx  # noqa: E402
from sqlalchemy import Engine  # noqa: E402

from ledger.clock import SystemClock  # noqa: E402
from ledger.store import tokens  # noqa: E402

PLAN = {
    "contributions": [
        {"partner_id": "ncc", "funding_stream": "contribution", "amount": "2000000.00"},
        {"partner_id": "city", "funding_stream": "contribution", "amount": "1000000.00"},
        {"partner_id": "icb-a", "funding_stream": "contribution", "amount": "500000.00"},
    ],
    "schemes": [
        {
            "id": "equipment",
            "name": "Community equipment",
            "scheme_type": "Assistive Technologies and Equipment",
            "commissioner": "ncc",
            "provider_type": "Private Sector",
            "funding_stream": "contribution",
            "planned": "3500000.00",
        }
    ],
}


@dataclass
class Row:
    store: str
    scenario: str
    clients: int
    n: int
    seconds: float
    latencies: list[float] = field(default_factory=list)
    note: str = ""

    @property
    def rate(self) -> float:
        return self.n / self.seconds if self.seconds else float("nan")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def server(url: str) -> Iterator[str]:
    port = free_port()
    env = {
        **os.environ,
        "POOLED_DATABASE_URL": url,
        "POOLED_SCHEDULER": "false",
        "PYTHONPATH": str(cm.ROOT),
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "api.app:create_app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=cm.ROOT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.05)
        else:
            raise RuntimeError("the server did not start")
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def set_up(engine: Engine, base: str) -> dict[str, str]:
    clock = SystemClock()
    secrets: dict[str, str] = {}
    _, secrets["admin"] = tokens.create_token(engine, role="admin", name="bench", clock=clock)
    _, secrets["board"] = tokens.create_token(engine, role="board", name="bench", clock=clock)
    _, secrets["auditor"] = tokens.create_token(engine, role="auditor", name="bench", clock=clock)
    admin = {"Authorization": f"Bearer {secrets['admin']}"}
    with httpx.Client(base_url=base, headers=admin) as c:
        for pid, kind in (
            ("ncc", "local_authority"),
            ("city", "local_authority"),
            ("icb-a", "icb"),
        ):
            c.post("/v1/partners", json={"id": pid, "name": pid, "kind": kind}).raise_for_status()
        c.post(
            "/v1/pools",
            json={
                "id": "eq",
                "name": "Equipment",
                "kind": "section_75",
                "host_partner_id": "ncc",
                "members": ["ncc", "city", "icb-a"],
            },
        ).raise_for_status()
        c.put("/v1/pools/eq/years/2025-26/plan", json=PLAN).raise_for_status()
    _, secrets["ncc"] = tokens.create_token(
        engine, role="finance_officer", name="bench", partner_id="ncc", clock=clock
    )
    return secrets


def body(i: int) -> dict[str, str]:
    return {
        "partner_id": ("ncc", "city", "icb-a")[i % 3],
        "funding_stream": "contribution",
        "amount": f"{100 + i % 900}.{i % 100:02d}",
        "effective_date": f"2025-{4 + i % 9:02d}-{1 + i % 28:02d}",
        "reference": f"BENCH-{i:08d}",
    }


def run(
    store: str,
    scenario: str,
    base: str,
    token: str,
    clients: int,
    per_client: int,
    request: Callable[[httpx.Client, int], httpx.Response],
    note: str = "",
) -> Row:
    latencies: list[float] = []
    lock = threading.Lock()
    barrier = threading.Barrier(clients + 1)
    failures: list[str] = []

    def worker(k: int) -> None:
        mine: list[float] = []
        with httpx.Client(
            base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60
        ) as c:
            request(c, -1 - k)  # warm the connection
            barrier.wait()
            for j in range(per_client):
                t0 = time.perf_counter()
                r = request(c, k * per_client + j)
                mine.append(time.perf_counter() - t0)
                if r.status_code >= 300:
                    failures.append(f"{r.status_code} {r.text[:200]}")
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    barrier.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - t0
    if failures:
        raise RuntimeError(f"{scenario}: {len(failures)} failed, first: {failures[0]}")
    return Row(store, scenario, clients, clients * per_client, seconds, latencies, note)


def scenarios(store: str, engine: Engine, url: str, quick: bool) -> list[Row]:
    n = 150 if quick else 1000
    n8 = 40 if quick else 250
    rows: list[Row] = []
    with server(url) as base:
        s = set_up(engine, base)
        post: Callable[[httpx.Client, int], httpx.Response] = lambda c, i: c.post(  # noqa: E731
            "/v1/pools/eq/contributions", json=body(i + 10_000_000)
        )
        rows.append(run(store, "POST contribution", base, s["ncc"], 1, n, post))
        rows.append(run(store, "POST contribution", base, s["ncc"], 8, n8, post))

        def keyed(c: httpx.Client, i: int) -> httpx.Response:
            return c.post(
                "/v1/pools/eq/contributions",
                json=body(20_000_000 + i),
                headers={"Idempotency-Key": f"k-{i}"},
            )

        rows.append(run(store, "POST with Idempotency-Key (first)", base, s["ncc"], 1, n, keyed))
        rows.append(
            run(
                store,
                "POST with Idempotency-Key (replay)",
                base,
                s["ncc"],
                1,
                n,
                keyed,
                "answered from the first write",
            )
        )

        def balances(c: httpx.Client, i: int) -> httpx.Response:
            return c.get("/v1/pools/eq/balances", params={"year": "2025-26"})

        rows.append(run(store, "GET balances", base, s["board"], 1, n, balances))
        rows.append(run(store, "GET balances", base, s["board"], 8, n8, balances))

        lines = "".join(
            f"contribution,city,,,{b['amount']},{b['effective_date']},{b['reference']}\r\n"
            for b in (body(30_000_000 + i) for i in range(1000))
        )
        csv_text = "kind,partner_id,funding_stream,scheme_id,amount,effective_date,reference\r\n"

        def import_csv(c: httpx.Client, i: int) -> httpx.Response:
            text = csv_text + lines.replace("BENCH-", f"B{i}-")
            return c.post(
                "/v1/pools/eq/imports", content=text, headers={"Content-Type": "text/csv"}
            )

        imp = run(
            store,
            "POST import of 1,000 lines",
            base,
            s["ncc"],
            1,
            3 if quick else 10,
            import_csv,
            "one transaction per file",
        )
        rows.append(imp)

        def page(c: httpx.Client, i: int) -> httpx.Response:
            return c.get("/v1/events", params={"after": 0, "limit": 1000})

        rows.append(
            run(
                store, "GET events page of 1,000", base, s["auditor"], 1, 20 if quick else 100, page
            )
        )
    return rows


def print_rows(rows: list[Row]) -> None:
    head = (
        f"{'store':<10} {'scenario':<38} {'cl':>3} {'reqs':>6} {'req/s':>8} "
        f"{'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}  note"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        p = [cm.percentile(r.latencies, q) * 1000 for q in (50, 95, 99)]
        print(
            f"{r.store:<10} {r.scenario:<38} {r.clients:>3} {r.n:>6} {r.rate:>8,.0f} "
            f"{p[0]:>8.2f} {p[1]:>8.2f} {p[2]:>8.2f}  {r.note}"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--sqlite-only", action="store_true")
    ap.add_argument("--pg-url", default=cm.DEFAULT_PG_URL)
    args = ap.parse_args()
    print(
        f"python {platform.python_version()} on {platform.system()} {platform.machine()}, "
        f"{os.cpu_count()} CPUs; uvicorn, one worker; SQLite WAL synchronous=FULL"
    )
    stores = cm.Stores(None if args.sqlite_only else args.pg_url)
    rows: list[Row] = []
    try:
        path = stores.sqlite_path("http")
        engine = stores.sqlite("http")
        rows += scenarios("sqlite", engine, f"sqlite:///{path}", args.quick)
        if not args.sqlite_only:
            problem = cm.pg_reachable(args.pg_url)
            if problem:
                print(f"PostgreSQL skipped: {problem}")
            else:
                engine, url = stores.pg()
                rows += scenarios("postgresql", engine, url, args.quick)
    finally:
        stores.close()
    print_rows(rows)


if __name__ == "__main__":
    main()

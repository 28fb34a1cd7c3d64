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
* a page of 1,000 events from the log;

and then, open loop at a fixed rate (issue 4: 200 POSTs/s for 30 s):

* posting contributions at ``--post-rate`` requests/s for ``--seconds``;
* balances reads at ``--get-rate`` requests/s for ``--seconds``, nothing else running.

A fixed-rate run schedules request ``i`` at ``start + i / rate`` and measures its
latency from that scheduled time, not from when it was sent, so a slow answer that
holds the next request back counts against the next one too (no coordinated
omission). ``--connections`` keep-alive clients (threads) take the requests in
schedule order, so the sender does not fall behind while a few are slow; the table
says how late the latest send was. An error is a non-2xx answer or an exception.

    .venv/bin/python bench/http.py               # SQLite and PostgreSQL
    .venv/bin/python bench/http.py --quick
    .venv/bin/python bench/http.py --sqlite-only
    .venv/bin/python bench/http.py --only-fixed  # the fixed-rate runs alone
"""

from __future__ import annotations

import sys
from pathlib import Path

# This file is bench/http.py: as a script, its folder comes first on sys.path and would
# hide the standard library's ``http`` package from httpx. Put the folder last.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE] + [str(_HERE)]

import argparse  # noqa: E402
import gc  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import queue  # noqa: E402
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


@dataclass
class FixedRow:
    """An open-loop run: ``n`` requests scheduled ``1 / target`` s apart."""

    store: str
    scenario: str
    target: float  # requests/s asked for
    n: int
    seconds: float  # from the first scheduled send to the last answer
    send_seconds: float  # from the first scheduled send to the last actual send
    latencies: list[float]  # from each request's scheduled send time to its answer
    errors: int
    max_lag: float  # the latest a send started after its scheduled time
    load: tuple[float, float]  # 1-minute load average before and after
    first_error: str = ""

    @property
    def rate(self) -> float:
        """Requests sent per second (the last one counts its whole interval)."""
        span = self.send_seconds + 1 / self.target
        return self.n / span if span > 0 else float("nan")


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


def fixed_rate(
    store: str,
    scenario: str,
    base: str,
    token: str,
    rate: float,
    seconds: float,
    request: Callable[[httpx.Client, int], httpx.Response],
    connections: int,
) -> FixedRow:
    """Send ``rate * seconds`` requests, request ``i`` due at ``start + i / rate``,
    over ``connections`` keep-alive clients that take them in schedule order."""
    n = max(1, round(rate * seconds))
    todo: queue.SimpleQueue[int] = queue.SimpleQueue()
    for i in range(n):
        todo.put(i)
    latencies: list[float] = []
    sent: list[float] = []
    lags: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    ready = threading.Barrier(connections + 1)
    start = 0.0  # set before the barrier opens

    def worker() -> None:
        mine: list[float] = []
        my_sent: list[float] = []
        my_lags: list[float] = []
        my_failures: list[str] = []
        with httpx.Client(
            base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30
        ) as c:
            c.get("/healthz")  # open the connection before the clock starts
            ready.wait()
            while True:
                try:
                    i = todo.get_nowait()
                except queue.Empty:
                    break
                due = start + i / rate
                now = time.perf_counter()
                if due > now:
                    time.sleep(due - now)
                    now = time.perf_counter()
                my_lags.append(now - due)
                my_sent.append(now)
                try:
                    r = request(c, i)
                    if not 200 <= r.status_code < 300:
                        my_failures.append(f"{r.status_code} {r.text[:200]}")
                except Exception as e:  # a refused or dropped connection is an error too
                    my_failures.append(f"{type(e).__name__}: {e}")
                mine.append(time.perf_counter() - due)
        with lock:
            latencies.extend(mine)
            sent.extend(my_sent)
            lags.extend(my_lags)
            failures.extend(my_failures)

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for t in threads:
        t.start()
    load0 = os.getloadavg()[0]
    # the load generator's own garbage collector must not pause its senders (a pause
    # would count against the server, as latency from the due time)
    gc.collect()
    gc.disable()
    start = time.perf_counter() + 0.1
    ready.wait()
    for t in threads:
        t.join()
    end = time.perf_counter()
    gc.enable()
    return FixedRow(
        store,
        scenario,
        rate,
        n,
        end - start,
        max(sent) - start,
        latencies,
        len(failures),
        max(lags),
        (load0, os.getloadavg()[0]),
        failures[0] if failures else "",
    )


@dataclass
class Plan:
    quick: bool
    only_fixed: bool
    post_rate: float
    get_rate: float
    seconds: float
    connections: int


def scenarios(store: str, engine: Engine, url: str, plan: Plan) -> tuple[list[Row], list[FixedRow]]:
    quick = plan.quick
    n = 150 if quick else 1000
    n8 = 40 if quick else 250
    rows: list[Row] = []
    fixed: list[FixedRow] = []
    with server(url) as base:
        s = set_up(engine, base)
        post: Callable[[httpx.Client, int], httpx.Response] = lambda c, i: c.post(  # noqa: E731
            "/v1/pools/eq/contributions", json=body(i + 10_000_000)
        )

        def balances(c: httpx.Client, i: int) -> httpx.Response:
            return c.get("/v1/pools/eq/balances", params={"year": "2025-26"})

        if plan.only_fixed:
            # some history to read, as the closed-loop runs would have left
            run(store, "warm-up", base, s["ncc"], 1, n, post)
            run(store, "warm-up", base, s["board"], 1, 50, balances)
        else:
            rows += closed_loop(store, base, s, quick, n, n8, post, balances)

        fixed_post: Callable[[httpx.Client, int], httpx.Response] = lambda c, i: c.post(  # noqa: E731
            "/v1/pools/eq/contributions", json=body(i + 40_000_000)
        )
        fixed.append(
            fixed_rate(
                store,
                "POST contribution",
                base,
                s["ncc"],
                plan.post_rate,
                plan.seconds,
                fixed_post,
                plan.connections,
            )
        )
        fixed.append(
            fixed_rate(
                store,
                "GET balances",
                base,
                s["board"],
                plan.get_rate,
                plan.seconds,
                balances,
                plan.connections,
            )
        )
    return rows, fixed


def closed_loop(
    store: str,
    base: str,
    s: dict[str, str],
    quick: bool,
    n: int,
    n8: int,
    post: Callable[[httpx.Client, int], httpx.Response],
    balances: Callable[[httpx.Client, int], httpx.Response],
) -> list[Row]:
    rows: list[Row] = []
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

    rows.append(run(store, "GET balances", base, s["board"], 1, n, balances))
    rows.append(run(store, "GET balances", base, s["board"], 8, n8, balances))

    lines = "".join(
        f"contribution,city,,,{b['amount']},{b['effective_date']},{b['reference']}\r\n"
        for b in (body(30_000_000 + i) for i in range(1000))
    )
    csv_text = "kind,partner_id,funding_stream,scheme_id,amount,effective_date,reference\r\n"

    def import_csv(c: httpx.Client, i: int) -> httpx.Response:
        text = csv_text + lines.replace("BENCH-", f"B{i}-")
        return c.post("/v1/pools/eq/imports", content=text, headers={"Content-Type": "text/csv"})

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
        run(store, "GET events page of 1,000", base, s["auditor"], 1, 20 if quick else 100, page)
    )
    return rows


def print_fixed(rows: list[FixedRow]) -> None:
    head = (
        f"{'store':<10} {'fixed rate, open loop':<22} {'target':>6} {'reqs':>6} {'req/s':>7} "
        f"{'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'max ms':>7} {'errors':>6} "
        f"{'lag ms':>6}  load 1m"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        p = [cm.percentile(r.latencies, q) * 1000 for q in (50, 95, 99, 100)]
        print(
            f"{r.store:<10} {r.scenario:<22} {r.target:>6.0f} {r.n:>6} {r.rate:>7.1f} "
            f"{p[0]:>7.2f} {p[1]:>7.2f} {p[2]:>7.2f} {p[3]:>7.1f} {r.errors:>6} "
            f"{r.max_lag * 1000:>6.1f}  {r.load[0]:.2f} -> {r.load[1]:.2f}"
        )
    for r in rows:
        if r.errors:
            print(f"{r.store} {r.scenario}: {r.errors} errors, first: {r.first_error}")


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
    ap.add_argument("--pg-only", action="store_true", help="only PostgreSQL")
    ap.add_argument("--pg-url", default=cm.DEFAULT_PG_URL)
    ap.add_argument("--only-fixed", action="store_true", help="only the open-loop fixed-rate runs")
    ap.add_argument("--post-rate", type=float, default=200.0, help="POSTs/s (default 200)")
    ap.add_argument("--get-rate", type=float, default=100.0, help="balances GETs/s (default 100)")
    ap.add_argument(
        "--seconds", type=float, default=None, help="each fixed-rate run (default 30; quick 5)"
    )
    ap.add_argument(
        "--connections", type=int, default=16, help="clients of a fixed-rate run (default 16)"
    )
    args = ap.parse_args()
    plan = Plan(
        quick=args.quick,
        only_fixed=args.only_fixed,
        post_rate=args.post_rate,
        get_rate=args.get_rate,
        seconds=args.seconds if args.seconds is not None else (5.0 if args.quick else 30.0),
        connections=args.connections,
    )
    print(
        f"python {platform.python_version()} on {platform.system()} {platform.machine()}, "
        f"{os.cpu_count()} CPUs; uvicorn, one worker; SQLite WAL synchronous=FULL; "
        f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    stores = cm.Stores(None if args.sqlite_only else args.pg_url)
    rows: list[Row] = []
    fixed: list[FixedRow] = []
    try:
        if not args.pg_only:
            path = stores.sqlite_path("http")
            engine = stores.sqlite("http")
            r, f = scenarios("sqlite", engine, f"sqlite:///{path}", plan)
            rows += r
            fixed += f
        if not args.sqlite_only:
            problem = cm.pg_reachable(args.pg_url)
            if problem:
                print(f"PostgreSQL skipped: {problem}")
            else:
                engine, url = stores.pg()
                r, f = scenarios("postgresql", engine, url, plan)
                rows += r
                fixed += f
    finally:
        stores.close()
    if rows:
        print_rows(rows)
        print()
    print_fixed(fixed)
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()

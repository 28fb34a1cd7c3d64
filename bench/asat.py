"""As-at read latency: balances of a pool holding 100,000 events, as at random positions.

    .venv/bin/python bench/asat.py                          # SQLite
    .venv/bin/python bench/asat.py --url postgresql://postgres@127.0.0.1:5432/test

Fills a ledger (via bench/rebuild.py's filler: the event store's own append path, the
live projector per chunk) where pool ``p0`` holds about 100,000 of 150,000 events,
interleaved with other pools, then times ``Reader.balances`` (one read transaction:
resolve the as-at, the plan, members, line sums from the running totals, forecasts,
closes, settlements and the risk share) as at random positions, for both of its years.
Prints p50, p90, p99 and max in milliseconds; the target is p99 <= 100 ms.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rebuild import bench_engine, fill, fresh_engine
from sqlalchemy import text

from projections.queries import Reader

POOL = "p0"
PG_SCHEMA = "bench_asat"


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--url", default="sqlite:////tmp/pooled-bench-asat.db")
    ap.add_argument("--events", type=int, default=150_000)
    ap.add_argument("--share", type=float, default=2 / 3, help="share of events in p0")
    ap.add_argument("--reads", type=int, default=1000)
    ap.add_argument("--reuse", action="store_true", help="read the existing database")
    args = ap.parse_args()
    if args.reuse:
        engine = bench_engine(args.url, PG_SCHEMA)
    else:
        engine = fresh_engine(args.url, PG_SCHEMA)
        filled = fill(engine, args.events, focus=args.share)
        print(f"filled {filled['events']:,} events in {filled['fill_seconds']:.0f} s")
    with engine.connect() as conn:
        in_pool = conn.execute(
            text("SELECT COUNT(*), MIN(position), MAX(position) FROM events WHERE pool_id = :p"),
            {"p": POOL},
        ).one()
    count, first, last = int(in_pool[0]), int(in_pool[1]), int(in_pool[2])
    print(f"pool {POOL}: {count:,} events between positions {first:,} and {last:,}")
    reader = Reader(engine)
    rng = random.Random(7)
    for _ in range(20):  # warm the caches and the statement cache
        reader.balances(POOL, "2025-26", as_at=rng.randint(first, last))
    timings: list[float] = []
    for _ in range(args.reads):
        position = rng.randint(first, last)
        year = rng.choice(("2025-26", "2026-27"))
        started = time.perf_counter()
        b = reader.balances(POOL, year, as_at=position)
        timings.append((time.perf_counter() - started) * 1000)
        assert b.pool.balance == (
            b.pool.opening_balance
            + b.pool.income
            + b.pool.transfers_in
            - b.pool.transfers_out
            - b.pool.spend
        )
    print(
        f"as-at balances, {args.reads} reads at random positions "
        f"({engine.dialect.name}, python -O: {not __debug__}): "
        f"p50 {percentile(timings, 50):.1f} ms, p90 {percentile(timings, 90):.1f} ms, "
        f"p99 {percentile(timings, 99):.1f} ms, max {max(timings):.1f} ms, "
        f"mean {statistics.fmean(timings):.1f} ms"
    )


if __name__ == "__main__":
    main()

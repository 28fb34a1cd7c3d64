"""Rebuild speed: fill a ledger with N events, then rebuild every read model.

    .venv/bin/python bench/rebuild.py                       # 1,000,000 events, SQLite
    .venv/bin/python bench/rebuild.py --url postgresql://postgres@127.0.0.1:5432/test
    .venv/bin/python bench/rebuild.py --events 200000 --check

The fill goes straight through the event store (``build_rows``/``insert_rows``, hash
chain and all) with the live projector applied per chunk, so the read models are
the incrementally kept ones; a realistic mix: contributions, spend, refunds,
credits, transfers of all three kinds, forecasts, metrics and reversals of earlier
postings and facts, across several pools and two years. The rebuild then runs in a
child process, so its peak RSS (``resource.getrusage``) is its own. ``--check``
also compares the kept read models with a rebuild, row for row.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ledger.clock import FixedClock, format_instant  # noqa: E402
from ledger.domain import commands as c  # noqa: E402
from ledger.domain import events as ev  # noqa: E402
from ledger.domain.plan import Plan, PlannedContribution, Scheme  # noqa: E402
from ledger.handlers import Ledger  # noqa: E402
from ledger.refdata import default_catalogue  # noqa: E402
from ledger.store import eventstore as es  # noqa: E402
from ledger.store.engine import make_engine, normalise_url  # noqa: E402
from ledger.store.migrate import upgrade  # noqa: E402
from ledger.store.reads import StoredEvent, read_head  # noqa: E402
from projections.projector import Projector  # noqa: E402

PG_SCHEMA = "bench_projections"
ADMIN = c.Actor(name="bench", role="admin", token_id="bench")
PARTNERS = (
    ("ncc", "local_authority"),
    ("city", "local_authority"),
    ("dc", "district_council"),
    ("icb-a", "icb"),
    ("trust", "nhs_trust"),
)
YEARS = ("2025-26", "2026-27")
SCHEMES = 10
CHUNK = 20_000
REVERSIBLE = (
    ev.ContributionPosted,
    ev.ExpenditureRecorded,
    ev.ForecastRecorded,
    ev.MetricRecorded,
    ev.TransferPosted,
)


def fresh_engine(url: str, schema: str = PG_SCHEMA) -> Engine:
    """An empty, migrated database (a new SQLite file, or a PostgreSQL schema emptied)."""
    if url.startswith("sqlite"):
        path = Path(url.split("///", 1)[1])
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        engine = make_engine(url, synchronous="NORMAL")
    else:
        engine = bench_engine(url, schema)
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    upgrade(engine)
    return engine


def bench_engine(url: str, schema: str = PG_SCHEMA) -> Engine:
    """SQLite as configured for production (WAL) but synchronous=NORMAL; PostgreSQL in a
    schema of its own (never ``public``: other work may share the database)."""
    if url.startswith("sqlite"):
        return make_engine(url, synchronous="NORMAL")
    return create_engine(normalise_url(url), connect_args={"options": f"-csearch_path={schema}"})


def plan() -> Plan:
    return Plan(
        contributions=tuple(
            PlannedContribution(partner_id=p, funding_stream="contribution", amount=amount)
            for p, amount in zip(
                ("ncc", "city", "dc", "icb-a", "trust"),
                (200_000_000, 100_000_000, 20_000_000, 150_000_000, 30_000_000),
                strict=True,
            )
        ),
        schemes=tuple(
            Scheme(
                id=f"s{i}",
                name=f"Scheme {i}",
                scheme_type="Other",
                commissioner=("ncc", "icb", "la")[i % 3],
                provider_type="Other",
                funding_stream="contribution",
                planned=50_000_000,
            )
            for i in range(SCHEMES)
        ),
    )


def setup(engine: Engine, pools: list[str]) -> Ledger:
    ledger = Ledger(
        engine,
        FixedClock(datetime(2026, 11, 23, 9, tzinfo=UTC)),
        default_catalogue(),
        hooks=[Projector()],
    )
    for pid, kind in PARTNERS:
        ledger.execute(c.RegisterPartner(partner_id=pid, name=pid.upper(), kind=kind), ADMIN)  # type: ignore[arg-type]
    for pool in pools:
        ledger.execute(
            c.EstablishPool(
                pool_id=pool,
                name=pool,
                kind="section_75",
                host_partner_id="ncc",
                members=tuple(p for p, _ in PARTNERS),
            ),
            ADMIN,
        )
        for year in YEARS:
            ledger.execute(c.AgreePlan(pool_id=pool, year=year, plan=plan()), ADMIN)
    return ledger


class Generator:
    """A realistic mix of facts for bulk appends, with reversals of earlier ones."""

    def __init__(self, pools: list[str], seed: int) -> None:
        self.rng = random.Random(seed)
        self.pools = pools
        self.reversible: dict[str, list[tuple[str, int, str, date | None]]] = {p: [] for p in pools}

    def _day(self) -> date:
        year = self.rng.choice((2025, 2026))
        return date(year, 4, 1) + timedelta(days=self.rng.randrange(365))

    def _year(self, d: date) -> str:
        y = d.year if d.month >= 4 else d.year - 1
        return f"{y}-{(y + 1) % 100:02d}"

    def event(self, pool: str) -> tuple[ev.Event, str | None]:
        r = self.rng.random()
        rng = self.rng
        d = self._day()
        year = self._year(d)
        amount = rng.randrange(100, 5_000_000)
        partner = rng.choice(PARTNERS)[0]
        scheme = f"s{rng.randrange(SCHEMES)}"
        candidates = self.reversible[pool]
        if r < 0.08 and candidates:
            event_id, position, type_, when = candidates.pop(rng.randrange(len(candidates)))
            return (
                ev.EventReversed(
                    reversed_event_id=event_id,
                    reversed_type=type_,
                    reversed_position=position,
                    pool_id=pool,
                    reason="bench",
                    effective_date=when,
                ),
                event_id,
            )
        if r < 0.40:
            return ev.ContributionPosted(
                pool_id=pool, partner_id=partner, funding_stream="contribution", amount=amount,
                effective_date=d, year=year, reference="BACS",
            ), None  # fmt: skip
        if r < 0.74:
            return ev.ExpenditureRecorded(
                pool_id=pool, scheme_id=scheme, funding_stream="contribution", amount=amount,
                effective_date=d, year=year, reference="INV",
            ), None  # fmt: skip
        if r < 0.78:
            return ev.ContributionRefunded(
                pool_id=pool, partner_id=partner, funding_stream="contribution",
                amount=amount // 10 + 1, effective_date=d, year=year, reference="refund",
            ), None  # fmt: skip
        if r < 0.82:
            return ev.ExpenditureCredited(
                pool_id=pool, scheme_id=scheme, funding_stream="contribution",
                amount=amount // 10 + 1, effective_date=d, year=year, reference="credit",
            ), None  # fmt: skip
        if r < 0.88:
            other = rng.choice([p for p, _ in PARTNERS if p != partner])
            src, dst = rng.choice(
                (
                    (ev.Party(partner_id=partner), ev.Party(partner_id=other)),
                    (ev.Party(partner_id=partner), ev.Party(pool_id=pool)),
                    (ev.Party(pool_id=pool), ev.Party(partner_id=partner)),
                )
            )
            return ev.TransferPosted(
                pool_id=pool, from_party=src, to_party=dst, purpose="other", amount=amount,
                effective_date=d, year=year, reference="transfer",
            ), None  # fmt: skip
        if r < 0.94:
            return ev.ForecastRecorded(
                pool_id=pool, year=year, amount=rng.randrange(450_000_000, 550_000_000),
                scheme_id=rng.choice((None, scheme)), as_of_date=d,
            ), None  # fmt: skip
        q = (d.month - 4) % 12 // 3 + 1
        return ev.MetricRecorded(
            pool_id=pool, metric_id="ed-attendances", period=f"{year}-Q{q}",
            target=Decimal("1000"), actual=Decimal(rng.randrange(900, 1100)), effective_date=d,
        ), None  # fmt: skip

    def remember(self, rows: list[StoredEvent]) -> None:
        for row in rows:
            if row.type in {cls.type for cls in REVERSIBLE} and self.rng.random() < 0.2:
                self.reversible[row.pool_id].append(
                    (row.event_id, row.position, row.type, row.effective_date)
                )


def fill(
    engine: Engine, events: int, *, pools: int = 10, seed: int = 1, focus: float | None = None
) -> dict[str, Any]:
    """Append ``events`` events (setup included), interleaved across the pools; with
    ``focus``, that share of them goes to pool ``p0`` (the as-at benchmark's)."""
    names = [f"p{i}" for i in range(pools)]
    setup(engine, names)
    gen = Generator(names, seed)
    versions: dict[str, int] = {}
    with engine.connect() as conn:
        for pool in conn.execute(text("SELECT pool_id FROM ws_pools")).scalars():
            versions[pool] = int(
                conn.execute(
                    text("SELECT MAX(stream_version) FROM events WHERE stream_id = :s"),
                    {"s": f"pool:{pool}"},
                ).scalar_one()
            )
        done = read_head(conn).position
    envelope = es.Envelope(
        actor="Bench Officer", actor_role="finance_officer", actor_partner_id="ncc"
    )
    projector = Projector()
    instant = datetime(2026, 11, 23, 10, tzinfo=UTC)
    started = time.perf_counter()
    while done < events:
        n = min(CHUNK, events - done)
        pending = []
        for _ in range(n):
            if focus is None:
                pool = gen.rng.choice(names)
            elif gen.rng.random() < focus:
                pool = "p0"
            else:
                pool = names[1 + gen.rng.randrange(pools - 1)]
            event, reverses = gen.event(pool)
            versions[pool] += 1
            pending.append(es.PendingEvent(event, f"pool:{pool}", versions[pool], reverses))
        with es.write_transaction(engine) as (conn, head):
            rows = es.build_rows(head, pending, envelope, format_instant(instant))
            with es.pipelined(conn):
                es.insert_rows(conn, rows)
                projector.apply(conn, rows)
        gen.remember(rows)
        instant += timedelta(seconds=1)
        done += n
        print(f"  filled {done:,} events ({time.perf_counter() - started:.0f} s)", file=sys.stderr)
    return {"events": done, "fill_seconds": time.perf_counter() - started}


def rebuild_child(url: str, batch: int) -> None:
    """Run in a child process: rebuild and print figures as JSON."""
    from projections.rebuild import rebuild

    engine = bench_engine(url)
    result = rebuild(engine, batch=batch)
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "events": result.events,
                "seconds": round(result.seconds, 2),
                "events_per_second": round(result.events_per_second),
                "peak_rss_mb": round(peak_kb / 1024, 1),
                "optimized": not __debug__,
            }
        )
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--url", default="sqlite:////tmp/pooled-bench-rebuild.db")
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--batch", type=int, default=10_000)
    ap.add_argument("--reuse", action="store_true", help="rebuild the existing database")
    ap.add_argument("--check", action="store_true", help="compare kept and rebuilt rows")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        rebuild_child(args.url, args.batch)
        return
    if not args.reuse:
        engine = fresh_engine(args.url)
        filled = fill(engine, args.events)
        print(f"filled {filled['events']:,} events in {filled['fill_seconds']:.0f} s")
        engine.dispose()
    if args.check:  # before the timed rebuild: the kept rows are the fill's, kept live
        from projections.rebuild import compare_with_rebuild

        engine = bench_engine(args.url)
        started = time.perf_counter()
        differences = compare_with_rebuild(engine)
        print(
            f"compare_with_rebuild (rows kept by the live projector vs a rebuild): "
            f"{len(differences)} differences ({time.perf_counter() - started:.0f} s)"
        )
        for d in differences[:10]:
            print("  ", d)
        engine.dispose()
    flags = ["-O"] if not __debug__ else []
    out = subprocess.run(
        [
            sys.executable,
            *flags,
            __file__,
            "--child",
            "--url",
            args.url,
            "--batch",
            str(args.batch),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    print(
        f"rebuild: {figures['events']:,} events in {figures['seconds']} s = "
        f"{figures['events_per_second']:,} events/s; peak RSS {figures['peak_rss_mb']} MB; "
        f"python -O: {figures['optimized']}; database: {args.url.split(':')[0]}"
    )


if __name__ == "__main__":
    main()

"""Merkle proofs and verification speed (issue 16). Not a test: ``python bench/proofs.py``.

1. A synthetic tree of ``--size`` leaves (random leaf hashes; the nodes appends would
   write, built with ``ledger.domain.merkle.append_leaves``) stored in ``merkle_nodes`` of
   a migrated SQLite file and, with ``--postgres``, a PostgreSQL schema.
2. The consistency proof from 1 to size and the inclusion proof of the last leaf,
   read through ``ledger.store.tree`` (one query each) ``--repeat`` times: median and p99.
3. Verifying them (``verify_consistency`` / ``verify_inclusion``).
4. The verify loop's per-event work over synthetic stored events (canonical form, chain
   hash, leaf hash, frontier), in memory: events/s. The database read is not included.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import Engine, create_engine, text  # noqa: E402

from ledger.domain import merkle  # noqa: E402
from ledger.domain.hashing import ZERO_HASH, canonical_row  # noqa: E402
from ledger.store import tree  # noqa: E402
from ledger.store.engine import make_engine, normalise_url  # noqa: E402
from ledger.store.migrate import upgrade  # noqa: E402

DEFAULT_PG_URL = os.environ.get(
    "POOLED_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


def synthetic_nodes(size: int) -> list[tuple[int, bytes]]:
    leaves = [os.urandom(32) for _ in range(size)]
    created, _ = merkle.append_leaves(0, [], leaves)
    return [(i << 6 | lv, h) for (lv, i), h in created]


def fill(engine: Engine, rows: list[tuple[int, bytes]]) -> None:
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO merkle_nodes (node, hash) VALUES (:n, :h)"),
            [{"n": n, "h": h} for n, h in rows],
        )


def timed(fn: object, repeat: int) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.99) - 1]


def proofs(engine: Engine, size: int, repeat: int, label: str) -> None:
    with engine.connect() as conn:
        root = tree.root_at(conn, size)
        first = tree.root_at(conn, 1)
        cons = tree.consistency_proof(conn, 1, size)
        incl = tree.inclusion_proof(conn, size, size)
        leaf = tree.read_nodes(conn, [(0, size - 1)])[(0, size - 1)]
        assert merkle.verify_consistency(1, size, first, root, cons)
        assert merkle.verify_inclusion(size - 1, size, leaf, incl, root)
        c = timed(lambda: tree.consistency_proof(conn, 1, size), repeat)
        i = timed(lambda: tree.inclusion_proof(conn, size, size), repeat)
        r = timed(lambda: tree.root_at(conn, size), repeat)
    vc = timed(lambda: merkle.verify_consistency(1, size, first, root, cons), repeat)
    vi = timed(lambda: merkle.verify_inclusion(size - 1, size, leaf, incl, root), repeat)
    print(
        f"{label}: consistency 1->{size:,} ({len(cons)} hashes) "
        f"median {c[0]:.3f} ms p99 {c[1]:.3f} ms"
    )
    print(
        f"{label}: inclusion {size:,} in {size:,} ({len(incl)} hashes) "
        f"median {i[0]:.3f} ms p99 {i[1]:.3f} ms"
    )
    print(f"{label}: root at {size:,} median {r[0]:.3f} ms p99 {r[1]:.3f} ms")
    print(
        f"verify consistency median {vc[0] * 1000:.1f} us; "
        f"verify inclusion median {vi[0] * 1000:.1f} us"
    )


def verify_loop_rate(n: int) -> float:
    """Events/s of the verify loop's hashing (chain + leaf + frontier), in memory."""
    import hashlib

    payload = '{"amount":125000,"effective_date":"2025-07-01","partner_id":"city","pool_id":"eq"}'
    rows = [
        {
            "position": p,
            "event_id": str(uuid.uuid4()),
            "stream_id": "pool:eq",
            "stream_version": p,
            "type": "contribution_posted",
            "schema_version": 1,
            "effective_date": "2025-07-01",
            "recorded_at": "2026-11-23T09:47:50.123456Z",
            "actor": "Pat",
            "actor_role": "finance_officer",
            "actor_partner_id": "city",
            "token_id": "tok",
            "request_id": "req",
            "request_meta": None,
            "pool_id": "eq",
            "partner_id": "city",
            "counterparty_id": None,
            "scheme_id": None,
            "funding_stream": "contribution",
            "year": "2025-26",
            "period": "2025-26-Q2",
            "reverses_event_id": None,
            "payload": payload,
        }
        for p in range(1, n + 1)
    ]
    t0 = time.perf_counter()
    prev, frontier = ZERO_HASH, []
    for i, row in enumerate(rows):
        canonical = canonical_row(row).encode("utf-8")
        prev = hashlib.sha256(bytes.fromhex(prev) + canonical).hexdigest()
        _, frontier = merkle.append_leaves(i, frontier, [merkle.leaf_hash(canonical)])
    return n / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=200)
    ap.add_argument("--postgres", action="store_true")
    ap.add_argument("--verify-events", type=int, default=200_000)
    a = ap.parse_args()
    print(f"load average {os.getloadavg()}")
    t0 = time.perf_counter()
    rows = synthetic_nodes(a.size)
    print(f"built {len(rows):,} nodes for {a.size:,} leaves in {time.perf_counter() - t0:.1f} s")
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/proofs.db")
        upgrade(engine)
        fill(engine, rows)
        proofs(engine, a.size, a.repeat, "SQLite")
        engine.dispose()
    if a.postgres:
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(normalise_url(DEFAULT_PG_URL))
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        engine = create_engine(
            normalise_url(DEFAULT_PG_URL), connect_args={"options": f"-csearch_path={schema}"}
        )
        try:
            upgrade(engine)
            fill(engine, rows)
            proofs(engine, a.size, a.repeat, "PostgreSQL")
        finally:
            engine.dispose()
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()
    rate = verify_loop_rate(a.verify_events)
    print(f"verify loop (chain + tree, in memory): {rate:,.0f} events/s over {a.verify_events:,}")
    print(f"load average {os.getloadavg()}")


if __name__ == "__main__":
    main()

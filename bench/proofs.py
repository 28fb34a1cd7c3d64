"""Merkle proofs and verification speed (issue 16). Not a test: ``python bench/proofs.py``.

1. A synthetic tree of ``--size`` leaves (random leaf hashes; the nodes appends would
   write, built with ``ledger.domain.merkle.append_leaves``) stored in ``merkle_nodes`` of
   a migrated SQLite file and, with ``--postgres``, a PostgreSQL schema.
2. The consistency proof from 1 to size and the inclusion proof of the last leaf,
   read through ``ledger.store.tree`` (one query each) ``--repeat`` times: median and p99.
3. Verifying them (``verify_consistency`` / ``verify_inclusion``).
4. The verify loop's per-event work over synthetic stored events (payload check,
   canonical form, chain hash, leaf hash, frontier), in memory, before issue 16's
   speed-up and now, in the same run: events/s. The database read is not included.
5. With ``--verify-store N``: ``verify()`` itself (read, chain, tree, 50 signed
   checkpoints, head) over a SQLite store of N synthetic events written as the write
   path writes them (and a PostgreSQL schema with ``--postgres``).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402
from sqlalchemy import Engine, create_engine, text  # noqa: E402

from ledger.domain import merkle  # noqa: E402
from ledger.domain.hashing import HASHED_COLUMNS, ZERO_HASH, canonical_row  # noqa: E402
from ledger.store import scan, tree  # noqa: E402
from ledger.store.checkpoints import take_checkpoint  # noqa: E402
from ledger.store.engine import make_engine, normalise_url  # noqa: E402
from ledger.store.migrate import upgrade  # noqa: E402
from ledger.store.serialization import chain_and_leaf_of, chain_hash_of  # noqa: E402
from ledger.store.verify import verify  # noqa: E402

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


PAYLOAD = (
    '{"amount":125000,"effective_date":"2025-07-01","funding_stream":"contribution",'
    '"partner_id":"city","pool_id":"eq","prior_period_adjustment":false,'
    '"reference":"BACS 2025-07","year":"2025-26"}'
)


def synthetic_rows(n: int, start: int = 0) -> list[dict[str, object]]:
    """``n`` stored contribution events as rows (hash not set), positions start+1..start+n."""
    return [
        {
            "position": p,
            "event_id": str(uuid.UUID(int=p)),
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
            "payload": PAYLOAD,
        }
        for p in range(start + 1, start + n + 1)
    ]


def old_loop_rate(rows: list[dict[str, object]]) -> float:
    """Events/s of the verify loop before issue 16's speed-up (``json.dumps`` of each
    row, payload parsed and printed by ``json``, a frontier list per event), in memory."""
    import hashlib

    from ledger.domain.hashing import payload_is_canonical

    t0 = time.perf_counter()
    prev, frontier = ZERO_HASH, list[bytes]()
    for i, row in enumerate(rows):
        assert payload_is_canonical(str(row["payload"]))
        canonical = canonical_row(row).encode("utf-8")
        prev = hashlib.sha256(bytes.fromhex(prev) + canonical).hexdigest()
        _, frontier = merkle.append_leaves(i, frontier, [merkle.leaf_hash(canonical)])
    return len(rows) / (time.perf_counter() - t0)


def new_loop_rate(rows: list[dict[str, object]]) -> float:
    """Events/s of ``ledger.store.scan.scan_rows`` (what ``verify`` runs), in memory."""
    tuples = []
    prev = ZERO_HASH
    for row in rows:  # hashes made by the write path's encoder
        prev = chain_hash_of(prev, {c: row[c] for c in HASHED_COLUMNS}, str(row["payload"]))
        tuples.append((*(row[k] for k in scan.KEYS), row["type"], prev))
    t0 = time.perf_counter()
    found = scan.scan_rows(tuples, ())
    assert found.problem is None and found.checked == len(rows), found.problem
    return len(rows) / (time.perf_counter() - t0)


def build_store(engine: Engine, n: int, key: Ed25519PrivateKey, checkpoints: int) -> None:
    """``n`` synthetic events appended as the write path stores them (chain hash, leaf,
    tree nodes, head), 10,000 per transaction, and ``checkpoints`` signed checkpoints
    spread over them (the last at the head)."""
    step = max(1, n // checkpoints)
    prev, frontier = ZERO_HASH, list[bytes]()
    cols = [*HASHED_COLUMNS, "payload", "hash"]
    ins = f"INSERT INTO events ({', '.join(cols)}) VALUES ({', '.join(':' + c for c in cols)})"
    for start in range(0, n, 10_000):
        chunk = synthetic_rows(min(10_000, n - start), start)
        leaves = []
        for row in chunk:
            prev, leaf = chain_and_leaf_of(prev, {c: row[c] for c in HASHED_COLUMNS}, PAYLOAD)
            row["hash"] = prev
            leaves.append(leaf)
        created, frontier = merkle.append_leaves(start, frontier, leaves)
        with engine.begin() as conn:
            conn.execute(text(ins), chunk)
            conn.execute(
                text("INSERT INTO merkle_nodes (node, hash) VALUES (:n, :h)"),
                [{"n": i << 6 | lv, "h": h} for (lv, i), h in created],
            )
            conn.execute(
                text(
                    "UPDATE ledger_head SET position = :p, hash = :h, recorded_at = :r, "
                    "frontier = :f WHERE id = 1"
                ),
                {
                    "p": start + len(chunk),
                    "h": prev,
                    "r": chunk[-1]["recorded_at"],
                    "f": b"".join(frontier).hex(),
                },
            )
        for pos in range(start + 1, start + len(chunk) + 1):
            if pos % step == 0 or pos == n:
                take_checkpoint(engine, key, "2026-12-03T12:00:00.000000Z", "bench", pos)


def verify_store(engine: Engine, key: Ed25519PrivateKey, label: str) -> None:
    t0, c0 = time.perf_counter(), time.process_time()
    result = verify(engine, public_key=key.public_key())
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    assert result.ok, result.problem
    n = result.events_checked
    print(
        f"{label}: verify() of {n:,} events: {wall:.1f} s wall ({n / wall:,.0f} events/s), "
        f"{cpu:.1f} s CPU ({n / cpu:,.0f} events/s)"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=200)
    ap.add_argument("--postgres", action="store_true")
    ap.add_argument("--verify-events", type=int, default=200_000)
    ap.add_argument(
        "--verify-store",
        type=int,
        default=0,
        help="also build a store of this many events and time verify() over it",
    )
    ap.add_argument("--no-proofs", action="store_true", help="skip the proof timings")
    a = ap.parse_args()
    print(f"load average {os.getloadavg()}")
    if not a.no_proofs:
        proof_section(a)
    rows = synthetic_rows(a.verify_events)
    old, new = old_loop_rate(rows), new_loop_rate(rows)
    print(
        f"verify loop in memory over {a.verify_events:,} events: before {old:,.0f} events/s, "
        f"now {new:,.0f} events/s ({new / old:.1f}x)"
    )
    if a.verify_store:
        key = Ed25519PrivateKey.generate()
        with tempfile.TemporaryDirectory() as tmp:
            engine = make_engine(f"sqlite:///{tmp}/verify.db", synchronous="OFF")
            upgrade(engine)
            t0 = time.perf_counter()
            build_store(engine, a.verify_store, key, 50)
            print(f"built {a.verify_store:,} events in {time.perf_counter() - t0:.0f} s")
            verify_store(engine, key, "SQLite")
            engine.dispose()
        if a.postgres:
            with pg_schema() as engine:
                build_store(engine, a.verify_store, key, 50)
                verify_store(engine, key, "PostgreSQL")
    print(f"load average {os.getloadavg()}")


def proof_section(a: argparse.Namespace) -> None:
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
        with pg_schema() as engine:
            fill(engine, rows)
            proofs(engine, a.size, a.repeat, "PostgreSQL")


@contextlib.contextmanager
def pg_schema() -> Iterator[Engine]:
    """A migrated schema of its own, dropped afterwards."""
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(normalise_url(DEFAULT_PG_URL))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = create_engine(
        normalise_url(DEFAULT_PG_URL), connect_args={"options": f"-csearch_path={schema}"}
    )
    try:
        upgrade(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


if __name__ == "__main__":
    main()

"""Merkle proofs and verification speed (issue 16). Not a test: ``python bench/proofs.py``.

1. A store of ``--size`` synthetic events written as the write path writes them (events,
   the Merkle nodes it keeps, from ``merkle.STORED_FROM_LEVEL`` up, and the head's
   frontier; ``build_store``) in a migrated SQLite file and, with ``--postgres``, a
   PostgreSQL schema; the ``merkle_nodes`` rows it holds are counted.
2. Consistency proofs from 1 and from a size in mid-block to ``--size``, inclusion proofs
   of the last event and of one in mid-tree, and the roots at ``--size`` and one before
   it, read through ``ledger.store.tree`` (the stored nodes and the events of the blocks
   below ``STORED_FROM_LEVEL``: one round trip each) ``--repeat`` times: median and p99.
3. Verifying them (``verify_consistency`` / ``verify_inclusion``).
4. The verify loop's per-event work over synthetic stored events (payload check,
   canonical form, chain hash, leaf hash, frontier), in memory, before issue 16's
   speed-up and now, in the same run: events/s. The database read is not included.
5. With ``--verify-store N``: ``verify()`` itself (read, chain, tree, 50 signed
   checkpoints, head) over a SQLite store of N synthetic events written as the write
   path writes them (and a PostgreSQL schema with ``--postgres``), in one process and
   in worker processes (``ledger.store.scan_ranges``), alternately.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from _common import DEFAULT_PG_URL, pg_store  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402
from sqlalchemy import Engine, text  # noqa: E402

from ledger.domain import merkle  # noqa: E402
from ledger.domain.hashing import HASHED_COLUMNS, ZERO_HASH, canonical_row  # noqa: E402
from ledger.store import scan, tree  # noqa: E402
from ledger.store.checkpoints import take_checkpoint  # noqa: E402
from ledger.store.engine import make_engine  # noqa: E402
from ledger.store.migrate import upgrade  # noqa: E402
from ledger.store.scan_ranges import PARALLEL_FROM  # noqa: E402
from ledger.store.serialization import chain_and_leaf_of, chain_hash_of  # noqa: E402
from ledger.store.verify import verify  # noqa: E402


def timed(fn: object, repeat: int) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.99) - 1]


def proofs(engine: Engine, size: int, repeat: int, label: str) -> None:
    """Time the roots and proofs over a store of ``size`` events (each checked first)."""
    # in mid-block (for sizes of 32 and more): rehashed leaves on both sides
    mid, index = min(size, size // 2 + 7), min(size - 1, size // 2 + 5)
    with engine.connect() as conn:
        root = tree.root_at(conn, size)
        roots = {n: tree.root_at(conn, n) for n in (1, mid)}
        leaves = tree.read_nodes(conn, [(0, size - 1), (0, index)])
        cons = {f: tree.consistency_proof(conn, f, size) for f in (1, mid)}
        incl = {i: tree.inclusion_proof(conn, i + 1, size) for i in (size - 1, index)}
        for f, proof in cons.items():
            assert merkle.verify_consistency(f, size, roots[f], root, proof)
        for i, proof in incl.items():
            assert merkle.verify_inclusion(i, size, leaves[(0, i)], proof, root)
        for name, read in (
            (f"consistency 1->{size:,}", lambda: tree.consistency_proof(conn, 1, size)),
            (f"consistency {mid:,}->{size:,}", lambda: tree.consistency_proof(conn, mid, size)),
            (f"inclusion {size:,} in {size:,}", lambda: tree.inclusion_proof(conn, size, size)),
            (
                f"inclusion {index + 1:,} in {size:,}",
                lambda: tree.inclusion_proof(conn, index + 1, size),
            ),
            (f"root at {size:,}", lambda: tree.root_at(conn, size)),
            (f"root at {size - 1:,}", lambda: tree.root_at(conn, size - 1)),
        ):
            t = timed(read, repeat)
            print(f"{label}: {name} median {t[0]:.3f} ms p99 {t[1]:.3f} ms")
    c, i, last = cons[1], incl[size - 1], leaves[(0, size - 1)]
    vc = timed(lambda: merkle.verify_consistency(1, size, roots[1], root, c), repeat)
    vi = timed(lambda: merkle.verify_inclusion(size - 1, size, last, i, root), repeat)
    print(
        f"verify consistency ({len(c)} hashes) median {vc[0] * 1000:.1f} us; "
        f"verify inclusion ({len(i)} hashes) median {vi[0] * 1000:.1f} us"
    )


def count_nodes(engine: Engine, events: int, label: str) -> None:
    """The ``merkle_nodes`` rows the store holds, per 1,000 events (a count, not a time)."""
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT COUNT(*) FROM merkle_nodes")).scalar_one()
    print(
        f"{label}: merkle_nodes holds {rows:,} rows for {events:,} events "
        f"({rows * 1000 / events:.1f} per 1,000; level {merkle.STORED_FROM_LEVEL} and up)"
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
    the tree nodes it keeps, head), 10,000 per transaction, and ``checkpoints`` signed
    checkpoints spread over them (the last at the head; none for 0)."""
    step = max(1, n // checkpoints) if checkpoints else 0
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
        created, frontier = merkle.append_leaves(start, frontier, leaves, merkle.STORED_FROM_LEVEL)
        with engine.begin() as conn:
            conn.execute(text(ins), chunk)
            if created:
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
            if step and (pos % step == 0 or pos == n):
                take_checkpoint(engine, key, "2026-12-03T12:00:00.000000Z", "bench", pos)


def verify_store(engine: Engine, key: Ed25519PrivateKey, label: str, repeat: int = 2) -> None:
    """``verify()`` in this process alone and split across worker processes (one per
    CPU, ``ledger.store.scan_ranges``), alternately, ``repeat`` times each. CPU is this
    process's and, for the workers, theirs (``RUSAGE_CHILDREN``, counted once they end)."""
    for _ in range(repeat):
        for workers in (1, None):
            t0, c0 = time.perf_counter(), time.process_time()
            k0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            result = verify(engine, public_key=key.public_key(), workers=workers)
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            k1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu += k1.ru_utime - k0.ru_utime + k1.ru_stime - k0.ru_stime
            assert result.ok, result.problem
            n = result.events_checked
            if workers == 1:
                how = "1 process"
            elif n >= PARALLEL_FROM:
                how = f"{os.cpu_count()} workers"
            else:
                how = f"default (1 process below {PARALLEL_FROM:,} events)"
            print(
                f"{label}: verify() of {n:,} events, {how}: {wall:.1f} s wall "
                f"({n / wall:,.0f} events/s), {cpu:.1f} s CPU in all ({n / cpu:,.0f} events/s "
                f"of CPU), load {os.getloadavg()[0]:.2f}"
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
            with pg_store(DEFAULT_PG_URL) as engine:
                build_store(engine, a.verify_store, key, 50)
                verify_store(engine, key, "PostgreSQL")
    print(f"load average {os.getloadavg()}")


def proof_section(a: argparse.Namespace) -> None:
    key = Ed25519PrivateKey.generate()
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/proofs.db", synchronous="OFF")
        upgrade(engine)
        t0 = time.perf_counter()
        build_store(engine, a.size, key, 0)
        print(f"built {a.size:,} events in {time.perf_counter() - t0:.1f} s")
        count_nodes(engine, a.size, "SQLite")
        proofs(engine, a.size, a.repeat, "SQLite")
        engine.dispose()
    if a.postgres:
        with pg_store(DEFAULT_PG_URL) as engine:
            build_store(engine, a.size, key, 0)
            count_nodes(engine, a.size, "PostgreSQL")
            proofs(engine, a.size, a.repeat, "PostgreSQL")


if __name__ == "__main__":
    main()

"""Concurrent writers on PostgreSQL: nothing lost or duplicated, positions gap-free and
in commit order, and the chain verifies."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from sqlalchemy import Engine, text

from ledger.clock import SystemClock
from ledger.handlers import Ledger
from ledger.refdata import default_catalogue
from ledger.store.reads import read_head, read_range
from ledger.store.verify import verify
from projections.projector import Projector
from tests.builders import contribution, given_equipment_pool, officer

WRITERS = 8
PER_WRITER = 300


def test_eight_writers_on_one_pool_lose_nothing_and_keep_positions_gap_free(
    engine: Engine, ledger: Ledger
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("concurrent writers are a PostgreSQL matter (SQLite has a single writer)")
    given_equipment_pool(ledger)
    start = read_head(engine.connect()).position
    partners = ("ncc", "city", "icb-a")
    errors: list[BaseException] = []
    barrier = threading.Barrier(WRITERS)

    def writer(n: int) -> None:
        # each writer has its own Ledger, as separate API processes would
        own = Ledger(engine, SystemClock(), default_catalogue(), hooks=[Projector()])
        partner = partners[n % len(partners)]
        barrier.wait()
        try:
            for i in range(PER_WRITER):
                own.execute(
                    contribution("eq", partner, "1.00", date(2025, 6, 1), reference=f"w{n}-{i}"),
                    officer(partner),
                )
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []

    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT position, recorded_at, payload FROM events"
                " WHERE position > :s ORDER BY position"
            ),
            {"s": start},
        ).all()
        head = read_head(conn)
    # nothing lost or duplicated: every writer's every reference exactly once
    refs = sorted(r.payload.split('"reference":"')[1].split('"')[0] for r in rows)
    assert refs == sorted(f"w{n}-{i}" for n in range(WRITERS) for i in range(PER_WRITER))
    # gap-free positions in commit order: recorded times never go backwards
    positions = [r.position for r in rows]
    assert positions == list(range(start + 1, start + 1 + WRITERS * PER_WRITER))
    times = [r.recorded_at for r in rows]
    assert times == sorted(times)
    assert head.position == positions[-1]
    result = verify(engine)
    assert result.ok, result.problem
    # and the read model counted every penny
    from projections.queries import Reader

    b = Reader(engine).balances("eq", "2025-26")
    assert b.pool.income == WRITERS * PER_WRITER * 100


def test_threads_sharing_one_ledger_commit_together_yet_each_is_decided_alone(
    engine: Engine, ledger: Ledger
) -> None:
    """Group commit: concurrent requests share a transaction, but a refused one writes
    nothing and gets its own error, and retries with one idempotency key write once."""
    from ledger.domain.errors import Forbidden
    from ledger.handlers import Idempotency

    given_equipment_pool(ledger)
    start = read_head(engine.connect()).position
    barrier = threading.Barrier(WRITERS)
    outcomes: dict[int, list[object]] = {n: [] for n in range(WRITERS)}
    retry = contribution("eq", "city", "5.00", date(2025, 6, 2), reference="retried")
    idem = Idempotency(
        key="same",
        token_id="tok-city",
        method="POST",
        path="/c",
        request=retry.model_dump(mode="json"),
    )

    def writer(n: int) -> None:
        barrier.wait()
        for i in range(50):
            try:
                if i % 10 == 0:  # city posting for ncc: refused
                    ledger.execute(
                        contribution("eq", "ncc", "1.00", date(2025, 6, 1)), officer("city")
                    )
                elif i % 10 == 1:  # everyone retries one request
                    out = ledger.execute(retry, officer("city"), idempotency=idem)
                    outcomes[n].append(out.events[0].event_id)
                else:
                    ledger.execute(
                        contribution("eq", "city", "1.00", date(2025, 6, 1), reference=f"w{n}-{i}"),
                        officer("city"),
                    )
            except Forbidden as e:
                outcomes[n].append(type(e).__name__)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    with engine.connect() as conn:
        rows = read_range(conn, start)
    refs = [r.event.reference for r in rows]  # type: ignore[attr-defined]
    assert refs.count("retried") == 1
    assert sorted(r for r in refs if r != "retried") == sorted(
        f"w{n}-{i}" for n in range(WRITERS) for i in range(50) if i % 10 > 1
    )
    # every retry got the one event's id; every refusal its own error
    ids = {x for n in outcomes for x in outcomes[n] if x != "Forbidden"}
    assert len(ids) == 1
    assert sum(x == "Forbidden" for n in outcomes for x in outcomes[n]) == WRITERS * 5
    assert [r.position for r in rows] == list(range(start + 1, start + 1 + len(rows)))
    assert verify(engine).ok

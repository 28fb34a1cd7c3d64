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
from ledger.store import eventstore as es
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
    start = es.read_head(engine.connect()).position
    partners = ("ncc", "city", "icb-a")
    errors: list[BaseException] = []
    barrier = threading.Barrier(WRITERS)

    def writer(n: int) -> None:
        # each writer has its own Ledger, as separate API processes would
        own = Ledger(engine, SystemClock(), default_catalogue(), hooks=[Projector().apply])
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
        head = es.read_head(conn)
    # nothing lost or duplicated: every writer's every reference exactly once
    refs = sorted(r.payload.split('"reference":"')[1].split('"')[0] for r in rows)
    assert refs == sorted(f"w{n}-{i}" for n in range(WRITERS) for i in range(PER_WRITER))
    # gap-free positions in commit order: recorded times never go backwards
    positions = [r.position for r in rows]
    assert positions == list(range(start + 1, start + 1 + WRITERS * PER_WRITER))
    times = [r.recorded_at for r in rows]
    assert times == sorted(times)
    assert head.position == positions[-1]
    result = es.verify(engine)
    assert result.ok, result.problem
    # and the read model counted every penny
    from projections.queries import Reader

    b = Reader(engine).balances("eq", "2025-26")
    assert b.pool.income == WRITERS * PER_WRITER * 100

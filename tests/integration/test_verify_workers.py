"""verify split across worker processes (``ledger.store.scan_ranges``) answers exactly
what verify in one process answers, on SQLite and PostgreSQL: for a sound ledger, an
event changed in place, a gap in the positions and a rewritten history convicted by a
checkpoint. The ranges are made small (8 positions) so a small ledger spans several."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from typing import Any

import pytest
from sqlalchemy import Engine, text

from ledger.store import scan_ranges
from ledger.store.verify import VerifyResult, verify
from tests.conftest import owner
from tests.e2e.api_support import World, build_world, contribution, spend
from tests.integration.test_proofs import post_ok, raise_amount, rewrite_history, sign_now


@pytest.fixture(autouse=True)
def small_ranges(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scan_ranges, "CHUNK", 8)


def a_busy_pool(engine: Engine) -> World:
    """Contributions and spend over several ranges, checkpoints inside ranges."""
    w = build_world(engine)
    for i in range(10):
        post_ok(w, "city", "/v1/pools/eq/contributions", contribution("city", f"{1000 + i}.00"))
        post_ok(w, "ncc", "/v1/pools/eq/expenditures", spend(f"{100 + i}.50"))
        if i % 2:
            sign_now(w)
    assert w.head() > 3 * 8 and w.head() % 8 != 0
    return w


def both_ways(w: World) -> tuple[VerifyResult, VerifyResult]:
    ring = w.client.app.state.ledger.key_ring()  # type: ignore[attr-defined]
    return verify(w.engine, keys=ring, workers=1), verify(w.engine, keys=ring, workers=2)


def test_a_sound_ledger_verifies_in_workers_as_in_one_process(engine: Engine) -> None:
    # given a pool with events over four ranges and checkpoints signed inside them
    w = a_busy_pool(engine)
    # when it is verified by two workers and by this process alone
    one, split = both_ways(w)
    # then both accept every event, the tree at every checkpoint and the head
    assert split == one
    assert split.ok and split.events_checked == w.head()


def _without_guards(conn: Any, dialect: str, table: str = "events") -> None:
    """What the owner can do: drop the guards that refuse UPDATE and DELETE on ``table``."""
    if dialect == "sqlite":
        for trigger in (f"{table}_no_update", f"{table}_no_delete"):
            conn.execute(text(f"DROP TRIGGER {trigger}"))
    else:
        conn.execute(text(f"DROP TRIGGER {table}_no_change ON {table}"))


def test_an_event_changed_in_place_is_named_alike(engine: Engine) -> None:
    # given an event in the third range whose amount was changed in the database
    w = a_busy_pool(engine)
    with owner(engine).begin() as conn:
        _without_guards(conn, engine.dialect.name)
        conn.execute(
            text("UPDATE events SET payload = replace(payload, :was, :now) WHERE position = 19"),
            {"was": '"amount":', "now": '"amount":9'},
        )
    # when it is verified both ways
    one, split = both_ways(w)
    # then both name it, having checked the 18 before it
    assert split == one
    assert not split.ok and split.first_bad_position == 19 and split.events_checked == 18
    assert split.problem == "event at position 19 does not match its hash"


@pytest.mark.parametrize("gone", [16, 13])
def test_a_removed_event_is_named_alike_at_a_range_end_or_inside(engine: Engine, gone: int) -> None:
    # given an event deleted from the end of a range (16) or from inside one (13)
    w = a_busy_pool(engine)
    with owner(engine).begin() as conn:
        _without_guards(conn, engine.dialect.name)
        conn.execute(text("DELETE FROM events WHERE position = :p"), {"p": gone})
    # when it is verified both ways
    one, split = both_ways(w)
    # then both name the missing position and what came next
    assert split == one
    assert split.first_bad_position == gone
    assert split.problem == f"position {gone} is missing (found {gone + 1})"


def test_a_rewritten_history_is_convicted_alike(engine: Engine) -> None:
    # given a contribution in the second range raised by £50,000, every later hash, the
    # tree and the head rewritten to match
    w = a_busy_pool(engine)
    rewrite_history(engine, 10, raise_amount)
    # when it is verified both ways
    one, split = both_ways(w)
    # then the first checkpoint signed after it (at position 11) no longer matches
    assert split == one
    assert not split.ok and split.events_checked == w.head()
    assert split.first_bad_position == 11
    assert split.problem == (
        "checkpoint 1 (on demand) at position 11 recorded a chain head the chain no longer has"
    )


def test_a_large_ledger_is_split_across_the_cpus_by_default(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a ledger of 27 events (four ranges of 8) above the (lowered) size from which
    # verify uses workers, on a machine of three CPUs
    w = a_busy_pool(engine)
    monkeypatch.setattr(scan_ranges, "PARALLEL_FROM", 10)
    monkeypatch.setattr(scan_ranges.os, "cpu_count", lambda: 3)
    started: list[int] = []
    real = ProcessPoolExecutor

    def counted(workers: int, **kw: Any) -> Any:
        started.append(workers)
        return real(workers, **kw)

    monkeypatch.setattr(scan_ranges, "ProcessPoolExecutor", counted)
    # when it is verified with no worker count given
    found = verify(engine, keys=w.client.app.state.ledger.key_ring())  # type: ignore[attr-defined]
    # then it ran in one worker process per CPU and accepted the ledger
    assert found.ok and found.events_checked == w.head()
    assert started == [3]


def forty_one_events(engine: Engine) -> World:
    """41 events: stored nodes over 1-16, 17-32 and 1-32; the frontier is 1-32, 33-40, 41."""
    w = build_world(engine)
    for i in range(17):
        post_ok(w, "city", "/v1/pools/eq/contributions", contribution("city", f"{1000 + i}.00"))
        post_ok(w, "ncc", "/v1/pools/eq/expenditures", spend(f"{100 + i}.50"))
    assert w.head() == 41
    return w


@pytest.mark.parametrize("workers", [1, 2])
def test_a_changed_stored_node_inside_the_tree_is_named_by_the_positions_it_covers(
    engine: Engine, workers: int
) -> None:
    # given the stored node over positions 17 to 32, which no root at the head reads,
    # changed in the database
    w = forty_one_events(engine)
    with owner(engine).begin() as conn:
        _without_guards(conn, engine.dialect.name, "merkle_nodes")
        conn.execute(
            text("UPDATE merkle_nodes SET hash = :h WHERE node = :n"),
            {"h": bytes(32), "n": 1 << 6 | 4},
        )
    # when the ledger is verified
    ring = w.client.app.state.ledger.key_ring()  # type: ignore[attr-defined]
    found = verify(engine, keys=ring, workers=workers)
    # then it names that node: proofs and past roots read it
    assert not found.ok and found.first_bad_position == 17
    assert (
        found.problem
        == "the stored Merkle node over positions 17 to 32 is not the tree of those events"
    )


@pytest.mark.parametrize("workers", [1, 2])
def test_a_removed_stored_node_is_named(engine: Engine, workers: int) -> None:
    # given the stored node over positions 1 to 16 deleted from the database
    w = forty_one_events(engine)
    with owner(engine).begin() as conn:
        _without_guards(conn, engine.dialect.name, "merkle_nodes")
        conn.execute(text("DELETE FROM merkle_nodes WHERE node = :n"), {"n": 0 << 6 | 4})
    # when the ledger is verified
    ring = w.client.app.state.ledger.key_ring()  # type: ignore[attr-defined]
    found = verify(engine, keys=ring, workers=workers)
    # then it says which node the stored tree lacks
    assert not found.ok and found.first_bad_position == 1
    assert found.problem == "the stored Merkle tree lacks its node over positions 1 to 16"


def test_workers_that_cannot_start_leave_the_check_to_this_process(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # given workers told to open a database file that cannot be opened
    w = a_busy_pool(engine)
    monkeypatch.setattr(
        scan_ranges, "_source", lambda *_: ("sqlite", "/nonexistent/dir/pooled.db", None, None)
    )
    ring = w.client.app.state.ledger.key_ring()  # type: ignore[attr-defined]
    # when the ledger is verified in workers
    found = verify(engine, keys=ring, workers=2)
    # then this process verified it alone, and said why
    assert found == verify(engine, keys=ring, workers=1)
    assert found.ok and found.events_checked == w.head()
    assert "verify's worker processes failed" in caplog.text

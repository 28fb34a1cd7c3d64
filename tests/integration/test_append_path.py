"""The lean append path on SQLite and PostgreSQL: another process's writes are seen
through the write-side cache and the projector's remembered totals, a rolled-back
append leaves nothing remembered, a posting writes no state row, event ids are time
ordered, and migration 0002_ledger keeps every stored byte."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

import pytest
from alembic import command
from sqlalchemy import Connection, Engine, text

from ledger.clock import FixedClock
from ledger.domain import commands as c
from ledger.domain.errors import AlreadyExists, PeriodClosed
from ledger.handlers import Ledger
from ledger.hooks import AppendHook
from ledger.refdata import default_catalogue
from ledger.store import eventstore as es
from ledger.store.migrate import alembic_config
from ledger.store.reads import StoredEvent, read_range, read_stream
from ledger.store.verify import verify
from projections.projector import Projector
from projections.queries import Reader
from projections.rebuild import compare_with_rebuild
from tests.builders import ADMIN, contribution, given_equipment_pool, officer
from tests.conftest import owner, upgrade_as_owner


def another_process(engine: Engine, clock: FixedClock) -> Ledger:
    """A second writer on the same database, with caches of its own (as another API
    process would have)."""
    return Ledger(engine, clock, default_catalogue())


def test_a_quarter_closed_by_another_process_is_closed_here_too(
    engine: Engine, ledger: Ledger, clock: FixedClock
) -> None:
    # given this process has posted (its cache holds the pool) and another closed Q1
    given_equipment_pool(ledger)
    ledger.execute(contribution("eq", "city", "1.00", date(2025, 5, 1)), officer("city"))
    other = another_process(engine, clock)
    other.execute(contribution("eq", "ncc", "2.00", date(2025, 5, 2)), officer("ncc"))
    other.execute(c.ClosePeriod(pool_id="eq", quarter="2025-26-Q1"), ADMIN)
    # when this process posts into Q1 then it is refused as the other process decided
    with pytest.raises(PeriodClosed):
        ledger.execute(contribution("eq", "city", "3.00", date(2025, 6, 1)), officer("city"))
    # and a post into Q2 takes the stream's next version after the other's two events
    out = ledger.execute(contribution("eq", "city", "4.00", date(2025, 7, 1)), officer("city"))
    with engine.connect() as conn:
        stream = read_stream(conn, "pool:eq")
    assert [e.stream_version for e in stream] == list(range(1, len(stream) + 1))
    assert out.events[0].event_id == stream[-1].event_id


def test_a_posting_writes_no_state_row_yet_a_new_process_knows_the_version(
    engine: Engine, ledger: Ledger, clock: FixedClock
) -> None:
    given_equipment_pool(ledger)
    with engine.connect() as conn:
        written = conn.execute(text("SELECT version, state FROM ws_pools")).one()
    for day in (1, 2, 3):
        ledger.execute(contribution("eq", "city", "1.00", date(2025, 5, day)), officer("city"))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version, state FROM ws_pools")).one() == written
        state = another_process(engine, clock).load_pool(conn, "eq")
    assert state is not None and state.version == written[0] + 3


def test_event_ids_are_uuid7_in_time_order(ledger: Ledger, clock: FixedClock) -> None:
    given_equipment_pool(ledger)
    out = ledger.execute_many(
        [contribution("eq", "city", "1.00", date(2025, 5, d)) for d in range(1, 9)],
        officer("city"),
    )
    ids = [uuid.UUID(e.event_id) for e in out.events]
    assert {u.version for u in ids} == {7}
    assert {u.variant for u in ids} == {uuid.RFC_4122}
    later = es.new_event_id()
    assert all(str(u)[:13] <= later[:13] for u in ids)  # the millisecond prefix


def test_migration_0002_keeps_every_event_and_the_chain(engine: Engine, ledger: Ledger) -> None:
    # given a ledger with events
    given_equipment_pool(ledger)
    ledger.execute(contribution("eq", "city", "1.00", date(2025, 5, 1)), officer("city"))
    with engine.connect() as conn:
        before = [e.as_row() for e in read_range(conn)]
    # when the ledger branch goes down to 0001 and up again
    cfg = alembic_config()
    with owner(engine).begin() as conn:  # migrations are the owner's
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0001_ledger")
    upgrade_as_owner(engine)
    # then every stored value is as it was, the chain verifies and appends go on
    with engine.connect() as conn:
        assert [e.as_row() for e in read_range(conn)] == before
    assert verify(engine).ok
    ledger.forget_caches()
    ledger.execute(contribution("eq", "city", "2.00", date(2025, 5, 2)), officer("city"))
    assert verify(engine).events_checked == len(before) + 1


def projecting(engine: Engine, clock: FixedClock, *extra: AppendHook) -> Ledger:
    """A writer process with a projector of its own (its remembered totals too)."""
    return Ledger(engine, clock, default_catalogue(), hooks=[Projector(), *extra])


def test_two_projecting_processes_keep_the_running_totals_exact(
    engine: Engine, clock: FixedClock
) -> None:
    # given two processes posting into the same line groups in turn
    first, second = projecting(engine, clock), projecting(engine, clock)
    given_equipment_pool(first)
    for i in range(8):
        writer = (first, second, second, first)[i % 4]
        writer.execute(contribution("eq", "city", f"{i + 1}.00", date(2025, 5, 1)), officer("city"))
    # then the read models are a rebuild's, and the total is every posting's
    assert compare_with_rebuild(engine) == []
    balances = Reader(engine).balances("eq", "2025-26")
    city = next(p for p in balances.partners if p.partner_id == "city")
    assert city.received == 3600  # 1 + 2 + ... + 8 pounds


def test_an_append_rolled_back_after_projecting_leaves_no_trace_in_the_totals(
    engine: Engine, clock: FixedClock
) -> None:
    # given a process whose append fails after the projector has run (a later hook)
    fail = {"now": False}

    def refuse(_conn: Connection, _events: Sequence[StoredEvent]) -> None:
        if fail["now"]:
            raise RuntimeError("the disk is full")

    ledger = projecting(engine, clock, refuse)
    given_equipment_pool(ledger)
    ledger.execute(contribution("eq", "city", "1.00", date(2025, 5, 1)), officer("city"))
    fail["now"] = True
    with pytest.raises(RuntimeError):
        ledger.execute(contribution("eq", "city", "50.00", date(2025, 5, 1)), officer("city"))
    fail["now"] = False
    # and another process then takes the position the failed append would have had
    other = projecting(engine, clock)
    other.execute(contribution("eq", "ncc", "7.00", date(2025, 5, 1)), officer("ncc"))
    # when this process next posts in the same group as the failed append
    ledger.execute(contribution("eq", "city", "2.00", date(2025, 5, 1)), officer("city"))
    # then its running total counts the committed postings only
    assert compare_with_rebuild(engine) == []
    balances = Reader(engine).balances("eq", "2025-26")
    assert next(p for p in balances.partners if p.partner_id == "city").received == 300


def test_the_lock_reads_the_pools_versions_asked_for(engine: Engine, ledger: Ledger) -> None:
    given_equipment_pool(ledger)
    ledger.execute(contribution("eq", "city", "1.00", date(2025, 5, 1)), officer("city"))
    with es.write_transaction(engine, ["eq", "nowhere"]) as (_conn, head):
        assert head.pools == {"eq": (2, 3), "nowhere": None}  # state row at 2 (the plan)


def test_processes_appending_in_turn_read_versions_with_the_lock_and_stay_exact(
    engine: Engine, ledger: Ledger, clock: FixedClock
) -> None:
    given_equipment_pool(ledger)
    other = another_process(engine, clock)
    for _ in range(4):
        for writer in (ledger, other):
            writer.execute(contribution("eq", "city", "1.00", date(2025, 5, 1)), officer("city"))
    other.execute(c.ClosePeriod(pool_id="eq", quarter="2025-26-Q1"), ADMIN)
    assert ledger._contended  # it has seen the other's writes
    with pytest.raises(PeriodClosed):
        ledger.execute(contribution("eq", "city", "1.00", date(2025, 5, 1)), officer("city"))
    ledger.execute(contribution("eq", "city", "1.00", date(2025, 7, 1)), officer("city"))
    assert verify(engine).ok
    with engine.connect() as conn:
        versions = [e.stream_version for e in read_stream(conn, "pool:eq")]
    assert versions == list(range(1, len(versions) + 1))


class Recorder:
    """A ``ReadModelHook`` that notes what the ledger tells it."""

    def __init__(self) -> None:
        self.applied: list[list[int]] = []
        self.commits: list[tuple[int, int]] = []
        self.forgotten = 0

    def apply(self, conn: Connection, events: Sequence[StoredEvent]) -> None:
        self.applied.append([e.position for e in events])

    def committed(self, h0: int, h1: int) -> None:
        self.commits.append((h0, h1))

    def forget(self) -> None:
        self.forgotten += 1


def test_a_read_model_hook_is_applied_then_told_of_the_commit_and_to_forget(
    engine: Engine, clock: FixedClock
) -> None:
    recorder, seen = Recorder(), []
    ledger = Ledger(
        engine,
        clock,
        default_catalogue(),
        hooks=[recorder, lambda conn, events: seen.extend(e.position for e in events)],
    )
    ledger.execute(c.RegisterPartner(partner_id="ncc", name="NCC", kind="local_authority"), ADMIN)
    ledger.execute(c.RegisterPartner(partner_id="city", name="City", kind="local_authority"), ADMIN)
    assert recorder.applied == [[1], [2]] and seen == [1, 2]
    assert recorder.commits == [(0, 1), (1, 2)]
    assert recorder.forgotten == 0
    ledger.forget_caches()
    assert recorder.forgotten == 1
    # a refused command is applied to nobody and commits nothing
    with pytest.raises(AlreadyExists):
        ledger.execute(
            c.RegisterPartner(partner_id="ncc", name="NCC", kind="local_authority"), ADMIN
        )
    assert recorder.commits == [(0, 1), (1, 2)] and seen == [1, 2]

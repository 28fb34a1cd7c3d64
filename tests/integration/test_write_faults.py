"""Faults on the write path, on SQLite and PostgreSQL, with real failures where the
database can give them: a group commit retries only what provably did not commit
(two requests give exactly two events, whatever fails and when), and the caches of a
process notice a database restored from an earlier copy and written back to the same
position, or read models rebuilt under them."""

from __future__ import annotations

import shutil
import sqlite3
import threading
import time
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, text

from ledger.clock import FixedClock
from ledger.domain import commands as c
from ledger.domain.errors import PeriodClosed
from ledger.group_commit import CommitRequest
from ledger.handlers import Ledger
from ledger.refdata import default_catalogue
from ledger.store import tables as lt
from ledger.store.engine import make_engine
from ledger.store.reads import StoredEvent, read_head, read_stream
from ledger.store.sql import run_sql
from ledger.store.verify import verify
from projections import tables as pt
from projections.projector import Projector
from projections.rebuild import compare_with_rebuild, rebuild
from tests.builders import ADMIN, contribution, given_equipment_pool, officer
from tests.conftest import PG_URL, owner, upgrade_as_owner


class Fault:
    """A read-model hook (``ledger.hooks.ReadModelHook``) that fails once, at the point
    asked for: in the append, or when told of the commit."""

    def __init__(self, engine: Engine, at: str) -> None:
        self.engine, self.at, self.fired = engine, at, False
        self.armed = False
        self.seen_query: str | None = None

    def apply(self, conn: Connection, stored: Sequence[StoredEvent]) -> None:
        if not self.armed or self.fired or self.at not in ("before", "kill", "commit"):
            return
        self.fired = True
        if self.at == "before":
            raise RuntimeError("a failure before COMMIT")
        pid = int(run_sql(conn, "SELECT pg_backend_pid()").fetchone()[0])
        if self.at == "kill":  # the connection is lost before COMMIT
            self._terminate(pid)
            return
        # the COMMIT runs a deferred trigger that sleeps; it is killed while it does
        run_sql(conn, "SET LOCAL pooled.fault = 'sleep'")
        threading.Thread(target=self._terminate_in_commit, args=(pid,), daemon=True).start()

    def committed(self, h0: int, h1: int) -> None:
        if self.armed and self.at == "after" and not self.fired:
            self.fired = True
            raise RuntimeError("a failure after COMMIT")

    def forget(self) -> None:
        pass  # it remembers nothing

    def _terminate(self, pid: int) -> None:
        with self.engine.connect() as admin:
            admin.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
            admin.commit()

    def _terminate_in_commit(self, pid: int) -> None:
        with self.engine.connect() as admin:
            for _ in range(500):
                row = admin.execute(
                    text("SELECT query, wait_event FROM pg_stat_activity WHERE pid = :p"),
                    {"p": pid},
                ).first()
                admin.rollback()
                if row is not None and row.wait_event == "PgSleep":
                    self.seen_query = row.query
                    break
                time.sleep(0.01)
        self._terminate(pid)


SLEEP_AT_COMMIT = (
    "CREATE FUNCTION fault_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "IF current_setting('pooled.fault', true) = 'sleep' THEN PERFORM pg_sleep(20); END IF; "
    "RETURN NULL; END $$",
    "CREATE CONSTRAINT TRIGGER fault_at_commit AFTER UPDATE ON ledger_head "
    "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION fault_at_commit()",
)


def faulty_ledger(engine: Engine, clock: FixedClock, at: str) -> tuple[Ledger, Fault]:
    fault = Fault(engine, at)
    hooks = [Projector(), fault]
    return Ledger(engine, clock, default_catalogue(), hooks=hooks), fault


def together(ledger: Ledger, *commands: c.PostContribution) -> list[CommitRequest]:
    """Requests run as one group commit, as concurrent API calls are."""
    reqs = [CommitRequest(cmd, officer(cmd.partner_id), None, None, None, None) for cmd in commands]
    ledger._run_group(reqs)
    return reqs


def posted(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                text("SELECT COUNT(*) FROM events WHERE type = 'contribution_posted'")
            ).scalar_one()
        )


TWO = (
    contribution("eq", "city", "1.00", date(2025, 5, 1)),
    contribution("eq", "ncc", "2.00", date(2025, 5, 2)),
)


@pytest.mark.parametrize("at", ["before", "after", "kill", "commit"])
def test_two_requests_in_a_failing_group_give_exactly_two_events(
    engine: Engine, clock: FixedClock, at: str
) -> None:
    postgres = engine.dialect.name == "postgresql"
    if at in ("kill", "commit") and not postgres:
        pytest.skip("terminating the server's backend is a PostgreSQL fault")
    ledger, fault = faulty_ledger(engine, clock, at)
    given_equipment_pool(ledger)
    if at == "commit":
        with owner(engine).begin() as conn:  # a trigger only the owner may add
            for sql in SLEEP_AT_COMMIT:
                conn.exec_driver_sql(sql)
    # when two requests share a transaction that fails once, at the point named
    fault.armed = True
    reqs = together(ledger, *TWO)
    # then each is answered with its own one event, and exactly two are stored
    assert fault.fired
    assert [r.error for r in reqs] == [None, None]
    assert [len(r.outcome.events) for r in reqs if r.outcome] == [1, 1]
    assert posted(engine) == 2
    answered = {r.outcome.events[0].event_id for r in reqs if r.outcome}
    with engine.connect() as conn:
        stored = {e.event_id for e in read_stream(conn, "pool:eq")}
    assert answered <= stored
    if at == "commit":
        assert fault.seen_query == "COMMIT"  # it was killed during COMMIT itself
    assert verify(engine).ok
    assert compare_with_rebuild(engine) == []
    # and the ledger goes on, its caches and the projector's rebuilt from the database
    ledger.execute(contribution("eq", "city", "3.00", date(2025, 5, 3)), officer("city"))
    assert posted(engine) == 3
    assert compare_with_rebuild(engine) == []


def test_one_request_failing_after_commit_is_answered_with_its_event(
    engine: Engine, clock: FixedClock
) -> None:
    ledger, fault = faulty_ledger(engine, clock, "after")
    given_equipment_pool(ledger)
    fault.armed = True
    out = ledger.execute(TWO[0], officer("city"))
    assert len(out.events) == 1 and posted(engine) == 1


def test_a_batch_failing_after_commit_is_answered_with_its_events(
    engine: Engine, clock: FixedClock
) -> None:
    ledger, fault = faulty_ledger(engine, clock, "after")
    given_equipment_pool(ledger)
    fault.armed = True
    out = ledger.execute_many(
        [contribution("eq", "city", f"{d}.00", date(2025, 5, d)) for d in (1, 2)],
        officer("city"),
    )
    assert fault.fired
    assert len(out.events) == 2 and posted(engine) == 2


# --- caches and a restored database -------------------------------------------------------

TABLES = [
    *(t.name for t in lt.metadata.sorted_tables),
    *(t.name for t in pt.metadata.sorted_tables),
]


class Backup:
    """A copy of the database, put back as a restore would (the processes' pooled
    connections are dropped, as a restore drops them)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sqlite = engine.dialect.name == "sqlite"
        if self.sqlite:
            self.path = str(engine.url.database)
            with sqlite3.connect(self.path) as src, sqlite3.connect(self.path + ".bak") as dst:
                src.backup(dst)
            return
        with engine.connect() as conn:
            self.schema = conn.execute(text("SELECT current_schema()")).scalar_one()
            self.rows = {
                name: [tuple(r) for r in conn.execute(text(f"SELECT * FROM {name}"))]
                for name in TABLES
            }

    def restore(self, *others: Engine) -> None:
        own = owner(self.engine)  # what pg_restore does is the owner's
        for e in (self.engine, own, *others):
            e.dispose()
        if self.sqlite:
            with sqlite3.connect(self.path + ".bak") as src, sqlite3.connect(self.path) as dst:
                src.backup(dst)
            return
        with own.begin() as conn:  # a fresh schema of the same name, as pg_restore
            conn.exec_driver_sql(f'ALTER SCHEMA "{self.schema}" RENAME TO "{self.schema}_old"')
        assert PG_URL
        with own.begin() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{self.schema}"')
        upgrade_as_owner(self.engine)
        with own.begin() as conn:
            for name in TABLES:
                conn.exec_driver_sql(f"DELETE FROM {name}")
                rows: list[Any] = self.rows[name]
                if rows:
                    marks = ", ".join(["%s"] * len(rows[0]))
                    conn.exec_driver_sql(f"INSERT INTO {name} VALUES ({marks})", rows)
            conn.exec_driver_sql(f'DROP SCHEMA "{self.schema}_old" CASCADE')


def test_a_restored_database_written_back_to_the_same_position_is_not_trusted(
    engine: Engine, ledger: Ledger, clock: FixedClock
) -> None:
    # given this process posted into Q1 and holds the pool in its cache
    given_equipment_pool(ledger)
    ledger.execute(contribution("eq", "city", "1.00", date(2025, 5, 1)), officer("city"))
    backup = Backup(engine)
    ledger.execute(contribution("eq", "city", "2.00", date(2025, 5, 2)), officer("city"))
    with engine.connect() as conn:
        mine = read_head(conn)
    # when the database is restored to the copy and another process closes Q1, which
    # brings the head back to the same position with another hash
    backup.restore()
    other = Ledger(engine, clock, default_catalogue(), hooks=[Projector()])
    other.execute(c.ClosePeriod(pool_id="eq", quarter="2025-26-Q1"), ADMIN)
    with engine.connect() as conn:
        theirs = read_head(conn)
    assert theirs.position == mine.position and theirs.hash != mine.hash
    # then this process does not accept a posting into the quarter closed there
    with pytest.raises(PeriodClosed):
        ledger.execute(contribution("eq", "city", "3.00", date(2025, 6, 1)), officer("city"))
    # and its projector's totals follow the restored history
    ledger.execute(contribution("eq", "city", "4.00", date(2025, 7, 1)), officer("city"))
    assert compare_with_rebuild(engine) == []
    assert verify(engine).ok


def test_a_rebuild_of_the_read_models_makes_the_live_projector_forget_its_totals(
    engine: Engine, ledger: Ledger, clock: FixedClock
) -> None:
    # given a group's kept total is wrong, and a fresh process's projector read it
    given_equipment_pool(ledger)
    ledger.execute(contribution("eq", "city", "1.00", date(2025, 5, 1)), officer("city"))
    with engine.begin() as conn:
        conn.execute(text("UPDATE rm_lines SET total = total + 99900"))
    live = Ledger(engine, clock, default_catalogue(), hooks=[Projector()])
    live.execute(contribution("eq", "city", "2.00", date(2025, 5, 2)), officer("city"))
    assert compare_with_rebuild(engine) != []
    # when the read models are rebuilt (by another process: the CLI)
    rebuild(engine)
    assert compare_with_rebuild(engine) == []
    # then the live process's next append does not carry the wrong total on
    live.execute(contribution("eq", "city", "4.00", date(2025, 5, 3)), officer("city"))
    assert compare_with_rebuild(engine) == []


def test_a_process_alone_keeps_its_caches_warm_across_its_appends(
    engine: Engine, clock: FixedClock
) -> None:
    # the keys are not so strict that nothing is ever reused: alone, a process's pool
    # cache and its projector's totals stand at the head after each of its appends
    projector = Projector()
    ledger = Ledger(engine, clock, default_catalogue(), hooks=[projector])
    given_equipment_pool(ledger)
    for day in (1, 2):
        ledger.execute(contribution("eq", "city", "1.00", date(2025, 5, day)), officer("city"))
        with engine.connect() as conn:
            head = read_head(conn)
        assert ledger._cache_key == (head.position, head.hash, head.generation)
        assert (projector._position, projector._hash) == (head.position, head.hash)
        assert projector._groups  # the totals it wrote, remembered


def test_when_the_database_cannot_say_whether_a_group_landed_nothing_is_retried(
    tmp_path: Path, sqlite_template: Path, clock: FixedClock
) -> None:
    # given a SQLite ledger whose file goes away right after a group's COMMIT, and the
    # failure is seen only then (so the events' fate must be asked, and cannot be)
    path = tmp_path / "pooled.db"
    shutil.copy(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    try:
        ledger, fault = faulty_ledger(engine, clock, "after")
        given_equipment_pool(ledger)

        def lose_the_file(h0: int, h1: int) -> None:
            engine.dispose()
            path.rename(path.with_suffix(".away"))
            raise RuntimeError("the database went away after COMMIT")

        fault.armed = True
        ledger._on_commit[-1] = lose_the_file
        reqs = together(ledger, *TWO)
        # then each request is answered with the failure and none was run again
        assert [type(r.error) for r in reqs] == [RuntimeError, RuntimeError]
        engine.dispose()
        path.with_suffix(".away").replace(path)
        assert posted(engine) == 2  # kept once: a retry with its Idempotency-Key replays
    finally:
        engine.dispose()

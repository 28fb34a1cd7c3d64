"""Backup and restore: a backup taken while writers run, restored into a new database,
holds every event acknowledged before it began, the same chain (head hash) as the
source at its head, and read models identical to a rebuild; a restore refuses a
database that already holds a ledger. On SQLite (a file) and PostgreSQL (a schema,
restored into a new database)."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, select, text
from typer.testing import CliRunner

from api.cli import app as cli
from ledger.clock import SystemClock
from ledger.handlers import Ledger
from ledger.refdata import default_catalogue
from ledger.store import backup as bk
from ledger.store import tables as t
from ledger.store.engine import make_engine, normalise_url
from ledger.store.reads import read_head
from ledger.store.verify import verify
from projections.projector import Projector
from projections.rebuild import compare_with_rebuild, status
from tests.builders import contribution, given_equipment_pool, officer
from tests.conftest import PG_URL, owner

WRITERS = 3


@contextmanager
def new_database(source: Engine, tmp_path: Path) -> Iterator[Engine]:
    """An empty database to restore into: a new SQLite file, or a new PostgreSQL
    database (dropped afterwards) searched in the source's schema name."""
    if source.dialect.name == "sqlite":
        eng = make_engine(f"sqlite:///{tmp_path / 'restored.db'}")
        try:
            yield eng
        finally:
            eng.dispose()
        return
    assert PG_URL
    with source.connect() as conn:
        schema = conn.execute(text("SELECT current_schema()")).scalar()
    name = f"restore_{uuid.uuid4().hex[:10]}"
    admin = create_engine(normalise_url(PG_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = owner(source).url.set(database=name)  # a restore is the owner's, as a migration
    eng = create_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    try:
        yield eng
    finally:
        eng.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_a_backup_under_write_load_restores_every_acknowledged_event_and_the_same_chain(
    engine: Engine, ledger: Ledger, tmp_path: Path
) -> None:
    given_equipment_pool(ledger)
    acknowledged: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()
    failures: list[BaseException] = []

    def writer(n: int) -> None:
        own = Ledger(engine, SystemClock(), default_catalogue(), hooks=[Projector()])
        i = 0
        try:
            while not stop.is_set():
                out = own.execute(
                    contribution("eq", "ncc", "1.00", date(2025, 6, 1), reference=f"w{n}-{i}"),
                    officer("ncc"),
                )
                with lock:
                    acknowledged.extend(e.event_id for e in out.events)
                i += 1
        except BaseException as e:
            failures.append(e)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for th in threads:
        th.start()
    try:
        while len(acknowledged) < 30 and not failures:
            time.sleep(0.01)
        with lock:
            before = set(acknowledged)
        file = tmp_path / "ledger.backup"
        bk.backup(engine, file)
        during = len(acknowledged)
        time.sleep(0.1)
    finally:
        stop.set()
        for th in threads:
            th.join()
    assert failures == []
    assert len(acknowledged) > during >= len(before)  # writers ran through the backup

    with new_database(engine, tmp_path) as restored:
        bk.restore(restored, file)
        with restored.connect() as conn:
            ids = set(conn.execute(select(t.events.c.event_id)).scalars())
            head = read_head(conn)
        assert before <= ids
        verified = verify(restored)
        assert verified.ok, verified.problem
        with engine.connect() as conn:
            source_hash = conn.execute(
                select(t.events.c.hash).where(t.events.c.position == head.position)
            ).scalar_one()
            source_ids = set(
                conn.execute(
                    select(t.events.c.event_id).where(t.events.c.position <= head.position)
                ).scalars()
            )
        assert verified.head_hash == head.hash == source_hash
        assert ids == source_ids  # the restored events are exactly the source's up to there
        assert status(restored) == (head.position, head.position)
        assert compare_with_rebuild(restored) == []

        with pytest.raises(bk.BackupError, match="already holds a ledger"):
            bk.restore(restored, file)


def test_the_cli_backs_up_and_restores_a_sqlite_ledger_and_checks_both(
    tmp_path: Path, sqlite_template: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "source.db"
    source.write_bytes(sqlite_template.read_bytes())
    eng = make_engine(f"sqlite:///{source}")
    given_equipment_pool(Ledger(eng, SystemClock(), default_catalogue(), [Projector()]))
    with eng.connect() as conn:
        head = read_head(conn)
    eng.dispose()
    runner = CliRunner()
    monkeypatch.setenv("POOLED_DATABASE_URL", f"sqlite:///{source}")
    made = runner.invoke(cli, ["db", "backup", str(tmp_path / "b.sqlite")])
    assert made.exit_code == 0, made.output
    assert f"head position {head.position}, hash {head.hash}" in made.output

    monkeypatch.setenv("POOLED_DATABASE_URL", f"sqlite:///{tmp_path / 'new.db'}")
    restored = runner.invoke(cli, ["db", "restore", str(tmp_path / "b.sqlite")])
    assert restored.exit_code == 0, restored.output
    assert f"head position {head.position}, hash {head.hash}" in restored.output
    assert "read models identical to a rebuild" in restored.output

    again = runner.invoke(cli, ["db", "restore", str(tmp_path / "b.sqlite")])
    assert again.exit_code == 1
    assert "refusing to restore" in again.output and f"({head.position} events" in again.output

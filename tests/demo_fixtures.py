"""The demo partnership, loaded ONCE per test process (each xdist worker) and database,
and handed to the modules that check it.

Loading the demo writes a few thousand events through the ledger: seconds on SQLite and
6-10 s on PostgreSQL, which several modules used to pay each. Here it is loaded lazily,
the first time a module asks, with the clock and hooks those modules used (the
projector keeping the read models; no signing key), and then:

- ``shared(db)``: the loaded database itself, for modules that only READ it. At the end
  of the session the fixture checks that nothing was appended to it (the chain head is
  still the demo's last position), so a module that writes to a shared demo fails loudly
  instead of changing what later modules see.
- ``copy(db)``: a copy of its own, for modules that write (file returns, tokens, a
  rebuild). SQLite: the online backup API; PostgreSQL: a ``pg_dump`` of the demo's schema
  restored under a new schema name (the project's own backup and restore).
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from ledger.clock import FixedClock
from ledger.demo import DemoSummary, load_demo
from ledger.handlers import Ledger
from ledger.refdata import default_catalogue
from ledger.store.backup import backup, restore
from ledger.store.engine import make_engine, normalise_url
from ledger.store.migrate import upgrade
from projections.projector import Projector
from tests.conftest import (
    PG_TEST_OPTIONS,
    PG_URL,
    app_engine_over,
    dispose_app_engine,
    drop_postgres_schema,
    owner,
    postgres_engine,
    require_postgres,
)

# the day the demo-checking modules load it on (their TODAY / NOW)
DEMO_NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
DEMO_TODAY = DEMO_NOW.date()


@dataclass(frozen=True)
class Demo:
    engine: Engine
    summary: DemoSummary


def demo_ledger(engine: Engine) -> Ledger:
    """A ledger over ``engine`` as the demo was loaded: the projector keeps the read side."""
    return Ledger(engine, FixedClock(DEMO_NOW), default_catalogue(), hooks=[Projector()])


def head(engine: Engine) -> int:
    """The last position in ``engine``'s ledger (0 when it is empty)."""
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT coalesce(max(position), 0) FROM events")).scalar_one())


def written(demo: Demo) -> bool:
    """Whether anything was appended to the demo after it was loaded."""
    return head(demo.engine) != demo.summary.last_position


def _admin() -> Engine:
    assert PG_URL
    return create_engine(normalise_url(PG_URL))


class DemoTemplates:
    """The demo per database, loaded on first use, with shared and copied access."""

    def __init__(self, tmp: pytest.TempPathFactory, sqlite_template: Path) -> None:
        self._tmp = tmp
        self._sqlite_template = sqlite_template
        self._loaded: dict[str, Demo] = {}
        self._schema: str | None = None
        self._dump: Path | None = None

    def shared(self, db: str) -> Demo:
        """The demo itself: READ it only (checked at the end of the session)."""
        if db not in self._loaded:
            if db == "sqlite":
                path = self._tmp.mktemp("demo-template") / "pooled.db"
                shutil.copy(self._sqlite_template, path)
                engine = make_engine(f"sqlite:///{path}")
            else:
                require_postgres()
                self._schema = f"demo_{uuid.uuid4().hex[:12]}"
                owner_engine = postgres_engine(self._schema)
                upgrade(owner_engine)
                engine = app_engine_over(owner_engine, self._schema)  # as a deployment
            self._loaded[db] = Demo(engine, load_demo(demo_ledger(engine), DEMO_TODAY))
        return self._loaded[db]

    @contextmanager
    def copy(self, db: str) -> Iterator[Demo]:
        """A copy of the demo of its own, dropped afterwards: write to it freely."""
        template = self.shared(db)
        if db == "sqlite":
            path = self._tmp.mktemp("demo-copy") / "pooled.db"
            backup(template.engine, path)
            engine = make_engine(f"sqlite:///{path}")
            try:
                yield Demo(engine, template.summary)
            finally:
                engine.dispose()
            return
        schema = self._restore_copy(template)
        engine = app_engine_over(postgres_engine_of(schema), schema)
        try:
            yield Demo(engine, template.summary)
        finally:
            dispose_app_engine(engine)
            drop_postgres_schema(schema)

    def _restore_copy(self, template: Demo) -> str:
        """pg_restore recreates the dumped schema under its own name: move the template
        aside, restore, and rename the restored schema to a new one."""
        assert self._schema is not None
        if self._dump is None:
            self._dump = self._tmp.mktemp("demo-dump") / "demo.pgdump"
            backup(owner(template.engine), self._dump)
        name, aside = f"t_{uuid.uuid4().hex[:12]}", f"{self._schema}_aside"
        dispose_pools(template.engine)  # no pooled connection keeps the old search path open
        admin = _admin()
        try:
            with admin.begin() as conn:
                conn.execute(text(f'ALTER SCHEMA "{self._schema}" RENAME TO "{aside}"'))
            target = create_engine(
                normalise_url(PG_URL or ""),
                connect_args={"options": f"-csearch_path={self._schema}"},
            )
            try:
                restore(target, self._dump)
            finally:
                target.dispose()
                with admin.begin() as conn:
                    if conn.execute(
                        text("SELECT 1 FROM pg_namespace WHERE nspname = :n"), {"n": self._schema}
                    ).first():
                        conn.execute(text(f'ALTER SCHEMA "{self._schema}" RENAME TO "{name}"'))
                    conn.execute(text(f'ALTER SCHEMA "{aside}" RENAME TO "{self._schema}"'))
        finally:
            admin.dispose()
        return name

    def close(self) -> list[str]:
        """Dispose of the templates; the databases a module wrote to, if any."""
        changed = []
        try:
            for db, demo in self._loaded.items():
                if written(demo):
                    changed.append(db)
                dispose_app_engine(demo.engine)
        finally:  # the template schema goes whatever happened above
            if self._schema is not None:
                drop_postgres_schema(self._schema)
        return changed


def dispose_pools(engine: Engine) -> None:
    """Close the pooled connections of an engine and of its owner's, keeping both."""
    engine.dispose()
    owner(engine).dispose()


def postgres_engine_of(schema: str) -> Engine:
    """An engine over an existing schema (``postgres_engine`` creates it first)."""
    return create_engine(
        normalise_url(PG_URL or ""),
        pool_size=12,
        max_overflow=20,
        connect_args={"options": f"-csearch_path={schema} {PG_TEST_OPTIONS}"},
    )


@pytest.fixture(scope="session")
def demo_templates(
    tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path
) -> Iterator[DemoTemplates]:
    templates = DemoTemplates(tmp_path_factory, sqlite_template)
    yield templates
    written = templates.close()
    assert not written, (
        f"a module appended to the shared demo on {written}: use demo_templates.copy(db) "
        "for a module that writes"
    )

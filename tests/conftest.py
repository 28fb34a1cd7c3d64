"""Shared fixtures: every storage test runs on SQLite (a file, WAL) and PostgreSQL.

PostgreSQL tests read POOLED_TEST_POSTGRES_URL. When it is unset or the server does not
answer, they are skipped, all with one reason (so ``-ra`` prints ONE line saying how to
enable them); with CI=true they fail instead, naming the server. Each PostgreSQL test
gets its own schema, dropped afterwards.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, settings
from sqlalchemy import Engine, create_engine, text

from ledger.clock import FixedClock
from ledger.handlers import Ledger
from ledger.store.engine import make_engine, normalise_url
from ledger.store.migrate import upgrade

settings.register_profile(
    "ci",
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.register_profile(
    "dev",
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# the checkpoint signing keys the tests' apps create go to a temporary directory
os.environ.setdefault("POOLED_DATA_DIR", tempfile.mkdtemp(prefix="pooled-test-"))

PG_URL = os.environ.get("POOLED_TEST_POSTGRES_URL")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _pg_reachable() -> str | None:
    if not PG_URL:
        return "POOLED_TEST_POSTGRES_URL is not set"
    try:
        eng = create_engine(normalise_url(PG_URL), connect_args={"connect_timeout": 5})
        with eng.connect() as conn:
            conn.execute(text("select 1"))
        eng.dispose()
    except Exception as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else ""
        return f"PostgreSQL at {PG_URL} is unreachable ({e.__class__.__name__}: {first})"
    return None


_PG_PROBLEM: str | None = None
_PG_CHECKED = False


def require_postgres() -> None:
    global _PG_PROBLEM, _PG_CHECKED
    if not _PG_CHECKED:
        _PG_PROBLEM, _PG_CHECKED = _pg_reachable(), True
    if _PG_PROBLEM is None:
        return
    if IN_CI:
        pytest.fail(f"PostgreSQL tests cannot run (CI=true): {_PG_PROBLEM}", pytrace=False)
    pytest.skip(
        f"{_PG_SKIP}: {_PG_PROBLEM}; to run them, start PostgreSQL or set "
        "POOLED_TEST_POSTGRES_URL=postgresql://USER@HOST:PORT/DB"
    )


_PG_SKIP = "PostgreSQL tests skipped"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Fold every PostgreSQL skip into one summary line (pytest reports a skip raised in
    a fixture at each test's own location, which would list every test)."""
    outcome = yield
    report: pytest.TestReport = outcome.get_result()  # type: ignore[attr-defined]
    longrepr = report.longrepr
    if report.skipped and isinstance(longrepr, tuple) and _PG_SKIP in str(longrepr[2]):
        report.longrepr = (__file__, 0, str(longrepr[2]))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file, copied for each test (faster than migrating each time)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


# Tests do not survive a server crash, so their commits need not wait for the WAL flush:
# the same visibility and isolation, ~35% less time for write-heavy tests (bench/RESULTS.md)
PG_TEST_OPTIONS = "-csynchronous_commit=off"


def postgres_engine(schema: str) -> Engine:
    assert PG_URL
    admin = create_engine(normalise_url(PG_URL))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    engine = create_engine(
        normalise_url(PG_URL),
        pool_size=12,
        max_overflow=20,
        connect_args={"options": f"-csearch_path={schema} {PG_TEST_OPTIONS}"},
    )
    return engine


def drop_postgres_schema(schema: str) -> None:
    assert PG_URL
    admin = create_engine(normalise_url(PG_URL))
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> Iterator[Engine]:
    """A migrated, empty database: a SQLite file or a PostgreSQL schema of its own."""
    if request.param == "sqlite":
        path = tmp_path / "pooled.db"
        shutil.copy(sqlite_template, path)
        eng = make_engine(f"sqlite:///{path}")
        yield eng
        eng.dispose()
        return
    require_postgres()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    eng = postgres_engine(schema)
    upgrade(eng)
    try:
        yield eng
    finally:
        eng.dispose()
        drop_postgres_schema(schema)


# one key for every test's ledger (the tests that need their own make one)
SIGNING_KEY = Ed25519PrivateKey.generate()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))


@pytest.fixture
def ledger(engine: Engine, clock: FixedClock) -> Ledger:
    """The write side over a fresh database, with the read models kept in step by the
    projector."""
    from ledger.refdata import default_catalogue
    from projections.projector import Projector

    return Ledger(
        engine, clock, default_catalogue(), hooks=[Projector().apply], signing_key=SIGNING_KEY
    )


# the demo loaded once per process and database (imported last: it uses the above)
from tests.demo_fixtures import demo_templates  # noqa: E402, F401

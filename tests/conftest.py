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
from sqlalchemy.engine import make_url

from ledger.clock import FixedClock
from ledger.handlers import Ledger
from ledger.store.engine import make_engine, normalise_url
from ledger.store.migrate import upgrade
from ledger.store.roles import grant_app_role

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


SLOW_TIMEOUT = 900  # seconds; pyproject.toml's default for the others is 300


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test marked slow gets a longer timeout, unless it names its own."""
    for item in items:
        if item.get_closest_marker("slow") and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(SLOW_TIMEOUT))


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


_APP_ROLE: list[str] = []  # the application's role for this session, made on first use
_OWNERS: dict[int, Engine] = {}  # id(application engine) -> the owner's engine


def _app_role() -> str:
    """A role of this test session's own, owning nothing, as production's application
    role (``ledger.store.roles``); dropped when the session ends."""
    if not _APP_ROLE:
        assert PG_URL
        role = f"pooled_app_{uuid.uuid4().hex[:10]}"
        admin = create_engine(normalise_url(PG_URL))
        with admin.begin() as conn:
            conn.execute(text(f'CREATE ROLE "{role}" LOGIN'))
        admin.dispose()
        _APP_ROLE.append(role)
    return _APP_ROLE[0]


def pytest_sessionfinish() -> None:
    for role in _APP_ROLE:
        admin = create_engine(normalise_url(PG_URL or ""))
        with admin.begin() as conn:
            conn.execute(text(f'DROP OWNED BY "{role}"'))
            conn.execute(text(f'DROP ROLE "{role}"'))
        admin.dispose()


def postgres_app_engine(schema: str) -> Engine:
    """A new schema migrated by the owner, and an engine that connects to it as the
    application's role (SELECT and INSERT only on the append-only tables), as a
    deployment does: a privilege the application lacks fails the tests. The owner's
    engine, for what only the owner may do (tampering, migrations), is ``owner(engine)``."""
    owner_engine = postgres_engine(schema)
    upgrade(owner_engine)
    return app_engine_over(owner_engine, schema)


def app_engine_over(owner_engine: Engine, schema: str) -> Engine:
    """The application role's engine over ``schema``, a schema the owner's engine has
    migrated (or restored): its rights granted, the owner kept for ``owner(engine)``."""
    role = _app_role()
    with owner_engine.begin() as conn:
        grant_app_role(conn, role)
    assert PG_URL
    app = create_engine(
        make_url(normalise_url(PG_URL)).set(username=role),
        pool_size=12,
        max_overflow=20,
        connect_args={"options": f"-csearch_path={schema} {PG_TEST_OPTIONS}"},
    )
    _OWNERS[id(app)] = owner_engine
    return app


def owner(engine: Engine) -> Engine:
    """The engine of the owner of ``engine``'s database (itself on SQLite)."""
    return _OWNERS.get(id(engine), engine)


def upgrade_as_owner(engine: Engine) -> None:
    """Migrate as the owner, then grant the application's role its rights again (a
    table a migration made anew has none)."""
    found = _OWNERS.get(id(engine))
    if found is None:
        upgrade(engine)
        return
    upgrade(found)
    with found.begin() as conn:
        grant_app_role(conn, _app_role())


def dispose_app_engine(engine: Engine) -> None:
    engine.dispose()
    found = _OWNERS.pop(id(engine), None)
    if found is not None:
        found.dispose()


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
    """A migrated, empty database: a SQLite file or a PostgreSQL schema of its own, which
    the application reaches as its own role (``owner(engine)``: as the owner)."""
    if request.param == "sqlite":
        path = tmp_path / "pooled.db"
        shutil.copy(sqlite_template, path)
        eng = make_engine(f"sqlite:///{path}")
        yield eng
        eng.dispose()
        return
    require_postgres()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    eng = postgres_app_engine(schema)
    try:
        yield eng
    finally:
        dispose_app_engine(eng)
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

    return Ledger(engine, clock, default_catalogue(), hooks=[Projector()], signing_key=SIGNING_KEY)


# the demo loaded once per process and database (imported last: it uses the above)
from tests.demo_fixtures import demo_templates  # noqa: E402, F401

"""Engines for SQLite (embedded default, a file in WAL mode) and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url


def normalise_url(url: str) -> str:
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def make_engine(url: str, *, synchronous: str = "FULL", pool_size: int = 10) -> Engine:
    """Build an engine. SQLite connections run in WAL mode with ``synchronous`` (FULL by
    default: an acknowledged write survives power loss) and take the write lock at
    BEGIN for write transactions (``execution_options(sqlite_begin="IMMEDIATE")``)."""
    url = normalise_url(url)
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        if u.database and u.database != ":memory:":
            Path(u.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 60})

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA synchronous={synchronous}")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=60000")
            cur.execute("PRAGMA cache_size=-65536")  # 64 MiB: keeps index inserts flat
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Any) -> None:
            dbapi_conn = conn.connection.dbapi_connection
            if not dbapi_conn.in_transaction:  # the append path began it already
                mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
                dbapi_conn.execute(f"BEGIN {mode}")

        return engine
    # No pre-ping: it is a round trip before every transaction. A connection broken by a
    # server restart fails its one request and SQLAlchemy then replaces the pool's
    # connections (it invalidates the pool on a disconnect error).
    return create_engine(url, pool_size=pool_size, max_overflow=20)

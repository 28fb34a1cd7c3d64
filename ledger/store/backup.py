"""Backups of the whole ledger (events, write-side state, read models, tokens, filed
documents) and their restore into an empty database.

- SQLite: the online backup API (``sqlite3.Connection.backup``) copies the database
  in one step, a consistent snapshot however many writers are running (WAL: they go
  on while it reads).
- PostgreSQL: ``pg_dump --format=custom`` of the ledger's schema (one REPEATABLE READ
  snapshot, so consistent under writes); ``pg_restore`` into a database where that
  schema has no tables yet. Ownership is not restored (``--no-owner``): the restoring
  role owns what it creates.

A restore refuses a target that already holds the ledger's tables (events or not): a
backup is never merged into another ledger. The CLI follows each command with the chain
verification and the read models' check (``pooled db backup|restore``).
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, inspect, text
from sqlalchemy.engine import make_url

from ledger.store.engine import is_sqlite


class BackupError(Exception):
    """A backup or restore that cannot be done (the message says why)."""


@dataclass(frozen=True)
class Copied:
    path: Path
    schema: str | None  # PostgreSQL: the schema dumped or restored


def _sqlite_path(engine: Engine) -> Path:
    database = engine.url.database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(database)


def _libpq_url(engine: Engine) -> str:
    """The engine's URL for libpq tools (no driver suffix; the password kept)."""
    url = engine.url.set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def _schema(engine: Engine) -> str:
    with engine.connect() as conn:
        return str(conn.execute(text("SELECT current_schema()")).scalar())


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not installed (Debian: apt-get install postgresql-client)")
    return found


def backup(engine: Engine, file: Path) -> Copied:
    """Write a consistent copy of ``engine``'s ledger to ``file`` (replaced if it exists)."""
    file = Path(file)
    file.parent.mkdir(parents=True, exist_ok=True)
    partial = file.with_name(file.name + ".partial")
    partial.unlink(missing_ok=True)
    if is_sqlite(engine):
        source = sqlite3.connect(_sqlite_path(engine))
        target = sqlite3.connect(partial)
        try:
            source.backup(target)  # all pages in one step: one consistent snapshot
        finally:
            target.close()
            source.close()
        partial.replace(file)
        return Copied(file, None)
    schema = _schema(engine)
    run = subprocess.run(
        [
            _tool("pg_dump"),
            "--format=custom",
            "--no-owner",
            "--schema",
            schema,
            "--file",
            str(partial),
            "--dbname",
            _libpq_url(engine),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if run.returncode != 0:
        partial.unlink(missing_ok=True)
        raise BackupError(f"pg_dump failed: {run.stderr.strip()}")
    partial.replace(file)
    return Copied(file, schema)


def ledger_tables(engine: Engine) -> list[str]:
    """The ledger's tables present in ``engine``'s database (schema)."""
    with engine.connect() as conn:
        names = set(inspect(conn).get_table_names())
    return sorted(n for n in names if n in ("events", "alembic_version"))


def restore(engine: Engine, file: Path) -> Copied:
    """Restore ``file`` (made by :func:`backup`) into ``engine``'s database, which must
    not hold the ledger's tables yet."""
    file = Path(file)
    if not file.is_file():
        raise BackupError(f"no backup file at {file}")
    if is_sqlite(engine):
        target_path = _sqlite_path(engine)
        if target_path.exists() and target_path.stat().st_size > 0:
            present = ledger_tables(engine)
            if present:
                raise BackupError(_not_empty(engine, present))
        source = sqlite3.connect(f"file:{file}?mode=ro", uri=True)
        try:
            if source.execute("PRAGMA quick_check").fetchone() != ("ok",):
                raise BackupError(f"{file} is not a sound SQLite database")
            target = sqlite3.connect(target_path)
            try:
                source.backup(target)
            finally:
                target.close()
        except sqlite3.DatabaseError as e:
            raise BackupError(f"{file} is not a SQLite backup: {e}") from e
        finally:
            source.close()
        engine.dispose()  # connections opened before the restore see the old file
        return Copied(file, None)
    present = ledger_tables(engine)
    if present:
        raise BackupError(_not_empty(engine, present))
    listing = subprocess.run(
        [_tool("pg_restore"), "--list", str(file)], capture_output=True, text=True, check=False
    )
    if listing.returncode != 0:
        raise BackupError(f"{file} is not a pg_dump custom archive: {listing.stderr.strip()}")
    run = subprocess.run(
        [
            _tool("pg_restore"),
            "--no-owner",
            "--exit-on-error",
            "--single-transaction",
            "--dbname",
            _libpq_url(engine),
            str(file),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if run.returncode != 0:
        raise BackupError(f"pg_restore failed: {run.stderr.strip()}")
    return Copied(file, _schema(engine))


def _not_empty(engine: Engine, present: list[str]) -> str:
    where = make_url(str(engine.url)).render_as_string(hide_password=True)
    with engine.connect() as conn:
        n = conn.execute(text("SELECT count(*) FROM events")).scalar() if "events" in present else 0
    return (
        f"refusing to restore into {where}: it already holds a ledger ({n} events; tables "
        f"{', '.join(present)}); restore into a new, empty database"
    )

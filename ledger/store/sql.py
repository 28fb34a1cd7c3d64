"""Sending SQL on the hot paths: fixed statements on the DBAPI cursor, and several
statements in one round trip to PostgreSQL.

SQLAlchemy's execution context costs more than the small statements the append path
and the API's reads run, and SQLAlchemy 2 cannot read results in psycopg's pipeline
mode. So these statements go to the DBAPI cursor of the connection's current
transaction (which stays SQLAlchemy's), and ``one_round_trip`` sends a group of them
without waiting for each answer.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.sql import Executable

_PARAMSTYLE_SQL: dict[tuple[str, str], str] = {}


def is_sqlite_conn(conn: Connection) -> bool:
    return conn.dialect.name == "sqlite"


def driver_sql(conn: Connection, sql: str) -> str:
    """Hot-path SQL written with ``?`` placeholders, in the driver's own paramstyle.

    The append path runs a handful of fixed statements per command; sending them with
    ``exec_driver_sql`` skips SQLAlchemy's statement construction and compilation,
    which otherwise costs more than the statements themselves."""
    key = (conn.dialect.name, sql)
    found = _PARAMSTYLE_SQL.get(key)
    if found is None:
        found = in_paramstyle(sql, qmark=conn.dialect.paramstyle == "qmark")
        _PARAMSTYLE_SQL[key] = found
    return found


def in_paramstyle(sql: str, *, qmark: bool) -> str:
    """SQL written with ``?`` placeholders for a driver taking ``?`` (sqlite3) or ``%s``
    (psycopg), for code holding a DBAPI connection without SQLAlchemy's."""
    return sql if qmark else sql.replace("?", "%s")


def run_sql(conn: Connection, sql: str, params: Sequence[Any] = ()) -> Any:
    """Run a fixed hot-path statement (``?`` placeholders) on the DBAPI cursor of the
    connection's current transaction and return the cursor."""
    cur = conn.connection.cursor()
    cur.execute(driver_sql(conn, sql), params)
    return cur


def without_transaction(conn: Connection) -> bool:
    """Put a fresh connection in autocommit on PostgreSQL, for reads that need no shared
    snapshot (a single statement, or statements that each read as at a position): no
    BEGIN and ROLLBACK round trips. SQLite's deferred transaction costs no round trip,
    so it is kept there; returns whether the connection is in autocommit."""
    if is_sqlite_conn(conn):
        return False
    conn.execution_options(isolation_level="AUTOCOMMIT")
    return True


_PLAIN_BLOCK = nullcontext()  # reusable; SQLite sends each statement as it comes


def one_round_trip(conn: Connection) -> AbstractContextManager[Any]:
    """Statements sent together: a psycopg pipeline on PostgreSQL (nothing waits for a
    result until one is read, or the block ends), a plain block on SQLite. Read inside
    it through ``run_sql`` or ``read_together``: SQLAlchemy sees no result rows in
    pipeline mode. (Not a generator: it is entered twice on every append, and a
    generator-based context costs several calls each.)"""
    if is_sqlite_conn(conn):
        return _PLAIN_BLOCK
    return conn.connection.driver_connection.pipeline()  # type: ignore[union-attr,no-any-return]


Query = tuple[Executable, Mapping[str, Any]]

# (statement, dialect name) -> (its SQL, its literal parameters); the statements are
# built once and kept (a statement hashes by identity)
_COMPILED: dict[tuple[Executable, str], tuple[str, dict[str, Any]]] = {}
_ROW_TYPES: dict[tuple[str, ...], Any] = {}


def _compiled(conn: Connection, stmt: Executable) -> tuple[str, dict[str, Any]]:
    key = (stmt, conn.dialect.name)
    found = _COMPILED.get(key)
    if found is None:
        compiled = stmt.compile(dialect=conn.dialect)  # type: ignore[attr-defined]
        found = _COMPILED[key] = (str(compiled), dict(compiled.params))
    return found


def _row_type(names: tuple[str, ...]) -> Any:
    found = _ROW_TYPES.get(names)
    if found is None:
        found = _ROW_TYPES[names] = namedtuple("Row", names)
    return found


def read_together(conn: Connection, queries: Sequence[Query]) -> list[list[Any]]:
    """The rows of each of ``queries`` (statements built once and kept, with named
    parameters), in one round trip to PostgreSQL.

    Rows read by column name as SQLAlchemy's do. On SQLite, where a statement is a
    function call, they run through SQLAlchemy in turn (and its type processing, which
    SQLite needs for dates); on PostgreSQL psycopg's own types are SQLAlchemy's."""
    if is_sqlite_conn(conn):
        return [list(conn.execute(stmt, params)) for stmt, params in queries]
    cursors = []
    with one_round_trip(conn):
        for stmt, params in queries:
            sql, literals = _compiled(conn, stmt)
            cur = conn.connection.cursor()
            cur.execute(sql, {**literals, **params})
            cursors.append(cur)
    out = []
    for cur in cursors:
        make = _row_type(tuple(d[0] for d in cur.description))._make
        out.append([make(r) for r in cur.fetchall()])
    return out

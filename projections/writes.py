"""How the projector writes rows: each read-model table's columns and ``INSERT``,
run with ``executemany`` on the driver's cursor, or PostgreSQL ``COPY`` (rebuilds)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection

from ledger.store.sql import driver_sql, run_sql

LINE_COLUMNS = (
    "group_id",
    "position",
    "amount",
    "total",
    "prior_period_adjustment",
    "reversal",
)
GROUP_COLUMNS = (
    "group_id",
    "pool_id",
    "year",
    "kind",
    "partner_id",
    "counterparty_id",
    "scheme_id",
    "funding_stream",
    "quarter",
    "key",
    "position",
)
FACT_COLUMNS = (
    "position",
    "event_id",
    "type",
    "pool_id",
    "year",
    "period",
    "key",
    "effective_date",
    "data",
    "recorded_at",
    "actor",
    "reversed_position",
)
PARTNER_COLUMNS = ("partner_id", "name", "kind", "ods_code", "ons_code", "position")
POOL_COLUMNS = (
    "pool_id",
    "name",
    "kind",
    "host_partner_id",
    "hwb_name",
    "hwb_ons_code",
    "position",
)
MEMBER_COLUMNS = ("pool_id", "partner_id", "position")


def _insert(table: str, columns: tuple[str, ...]) -> str:
    marks = ", ".join("?" for _ in columns)
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608 - fixed names


_INSERTS = {
    "rm_lines": (_insert("rm_lines", LINE_COLUMNS), LINE_COLUMNS),
    "rm_groups": (_insert("rm_groups", GROUP_COLUMNS), GROUP_COLUMNS),
    "rm_facts": (_insert("rm_facts", FACT_COLUMNS), FACT_COLUMNS),
    "rm_partners": (_insert("rm_partners", PARTNER_COLUMNS), PARTNER_COLUMNS),
    "rm_pools": (_insert("rm_pools", POOL_COLUMNS), POOL_COLUMNS),
    "rm_pool_members": (_insert("rm_pool_members", MEMBER_COLUMNS), MEMBER_COLUMNS),
}


def run_many(conn: Connection, sql: str, rows: Sequence[Sequence[Any]]) -> None:
    if len(rows) == 1:
        run_sql(conn, sql, tuple(rows[0]))
    else:
        conn.connection.cursor().executemany(
            driver_sql(conn, sql), rows if isinstance(rows[0], tuple) else list(map(tuple, rows))
        )


def insert_many(conn: Connection, table: str, rows: Sequence[Sequence[Any]]) -> None:
    run_many(conn, _INSERTS[table][0], rows)


def copy_rows(conn: Connection, table: str, rows: Sequence[Sequence[Any]]) -> None:
    """PostgreSQL COPY into ``table`` in the connection's own transaction."""
    columns = _INSERTS[table][1]
    raw: Any = conn.connection.driver_connection
    with raw.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as cp:
        for r in rows:
            cp.write_row(r)

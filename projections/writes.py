"""How the projector writes rows: each read-model table's row (a ``NamedTuple`` whose
fields are the table's columns, in order) and ``INSERT``, run with ``executemany`` on the
driver's cursor, or PostgreSQL ``COPY`` (rebuilds)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any, NamedTuple

from sqlalchemy import Connection

from ledger.store.sql import driver_sql, run_sql

# An ``rm_lines`` row: (group_id, position, amount, total, prior_period_adjustment,
# reversal), a money line in its group with the group's running total. A plain tuple:
# one is made per money line, where a ``NamedTuple`` costs more than the rest of the work.
LineRow = tuple[int, int, int, int, bool, bool]
LINE_COLUMNS = ("group_id", "position", "amount", "total", "prior_period_adjustment", "reversal")


class GroupRow(NamedTuple):
    """An ``rm_groups`` row: a line group, numbered in the order of its first line."""

    group_id: int
    pool_id: str
    year: str
    kind: str
    partner_id: str | None
    counterparty_id: str | None
    scheme_id: str | None
    funding_stream: str | None
    quarter: str
    key: str
    position: int


class FactRow(NamedTuple):
    """An ``rm_facts`` row: a fact other than money (a plan, forecast, metric, close...)."""

    position: int
    event_id: str
    type: str
    pool_id: str | None
    year: str | None
    period: str | None
    key: str | None
    effective_date: date | str | None
    data: str
    recorded_at: str
    actor: str
    reversed_position: int | None


class PartnerRow(NamedTuple):
    partner_id: str
    name: str
    kind: str
    ods_code: str | None
    ons_code: str | None
    position: int


class PoolRow(NamedTuple):
    pool_id: str
    name: str
    kind: str
    host_partner_id: str
    hwb_name: str | None
    hwb_ons_code: str | None
    position: int


class MemberRow(NamedTuple):
    pool_id: str
    partner_id: str
    position: int


# each table's columns, in the order its row's fields are written
GROUP_COLUMNS = GroupRow._fields
FACT_COLUMNS = FactRow._fields
PARTNER_COLUMNS = PartnerRow._fields
POOL_COLUMNS = PoolRow._fields
MEMBER_COLUMNS = MemberRow._fields


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

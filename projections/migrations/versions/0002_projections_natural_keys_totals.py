"""read models: line groups with running totals, natural keys

``rm_lines`` becomes one row per money event in its group (``rm_groups``: pool, year,
kind, partner, counterparty, scheme, funding stream, quarter) with the group's running
total, keyed by (group, position): a balance as at any position is one index seek per
group, and a rebuild gives the same rows as the incremental projection on every
database (no surrogate id: a PostgreSQL sequence does not restart when rows are
deleted). ``rm_facts`` loses its unique event id (reversals stamp their target by
position). On SQLite the lines are clustered on their key (WITHOUT ROWID) and
``rm_facts`` is keyed by the rowid itself. Rows are carried over in SQL (window
functions, on SQLite and PostgreSQL alike); no rebuild is needed.

Revision ID: 0002_projections
Revises: 0001_projections
Create Date: 2026-11-23 11:00:00
"""

# ruff: noqa: S608 - fixed column lists, no input
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_projections"
down_revision = "0001_projections"
branch_labels = None
depends_on = None

_FACT_COLUMNS = (
    "position, event_id, type, pool_id, year, period, key, effective_date, data, "
    "recorded_at, actor, reversed_position"
)
_DIMS = "pool_id, year, kind, partner_id, counterparty_id, scheme_id, funding_stream, quarter"
_KEY = (
    "kind || '|' || COALESCE(partner_id, '') || '|' || COALESCE(counterparty_id, '') || '|' "
    "|| COALESCE(scheme_id, '') || '|' || COALESCE(funding_stream, '') || '|' || quarter"
)


def _facts_table(*, unique_event_id: bool) -> None:
    # from 0002 on, INTEGER on SQLite: the rowid itself, no separate key index
    position = (
        sa.BigInteger() if unique_event_id else sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    )
    op.create_table(
        "rm_facts",
        sa.Column("position", position, autoincrement=False, nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("type", sa.String(length=60), nullable=False),
        sa.Column("pool_id", sa.String(length=40), nullable=True),
        sa.Column("year", sa.String(length=7), nullable=True),
        sa.Column("period", sa.String(length=11), nullable=True),
        sa.Column("key", sa.String(length=120), nullable=True),
        sa.Column("effective_date", sa.Date(), nullable=True),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("recorded_at", sa.String(length=27), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("reversed_position", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("position"),
        *([sa.UniqueConstraint("event_id")] if unique_event_id else []),
    )
    op.create_index("ix_rm_facts_pool_type_year", "rm_facts", ["pool_id", "type", "year"])


def upgrade() -> None:
    op.execute("CREATE TABLE rm_lines_v1 AS SELECT * FROM rm_lines")
    op.execute("CREATE TABLE rm_facts_v1 AS SELECT * FROM rm_facts")
    op.drop_table("rm_lines")
    op.drop_table("rm_facts")

    op.create_table(
        "rm_groups",
        sa.Column("group_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("pool_id", sa.String(length=40), nullable=False),
        sa.Column("year", sa.String(length=7), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("partner_id", sa.String(length=40), nullable=True),
        sa.Column("counterparty_id", sa.String(length=40), nullable=True),
        sa.Column("scheme_id", sa.String(length=40), nullable=True),
        sa.Column("funding_stream", sa.String(length=60), nullable=True),
        sa.Column("quarter", sa.String(length=10), nullable=False),
        sa.Column("key", sa.String(length=240), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("group_id"),
    )
    op.create_index("ux_rm_groups_key", "rm_groups", ["pool_id", "year", "key"], unique=True)
    op.create_table(
        "rm_lines",
        sa.Column("group_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("position", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.Column("prior_period_adjustment", sa.Boolean(), nullable=False),
        sa.Column("reversal", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("group_id", "position"),
        sqlite_with_rowid=False,
    )
    op.create_index(
        "ix_rm_lines_adjustments",
        "rm_lines",
        ["group_id", "position"],
        sqlite_where=sa.text("prior_period_adjustment = 1"),
        postgresql_where=sa.text("prior_period_adjustment"),
    )
    _facts_table(unique_event_id=False)

    # groups are numbered in the order of their first line, as the projector numbers them
    op.execute(
        f"INSERT INTO rm_groups (group_id, key, position, {_DIMS}) "
        f"SELECT ROW_NUMBER() OVER (ORDER BY MIN(position), MIN(id)), {_KEY}, MIN(position), "
        f"{_DIMS} FROM rm_lines_v1 GROUP BY {_DIMS}"
    )
    op.execute(
        "INSERT INTO rm_lines (group_id, position, amount, total, prior_period_adjustment, "
        "reversal) "
        "SELECT g.group_id, l.position, l.amount, SUM(l.amount) OVER "
        "(PARTITION BY g.group_id ORDER BY l.position ROWS UNBOUNDED PRECEDING), "
        "l.prior_period_adjustment, l.reversal "
        f"FROM (SELECT rm_lines_v1.*, {_KEY} AS key FROM rm_lines_v1) AS l "
        "JOIN rm_groups AS g ON g.pool_id = l.pool_id AND g.year = l.year AND g.key = l.key"
    )
    op.execute(f"INSERT INTO rm_facts ({_FACT_COLUMNS}) SELECT {_FACT_COLUMNS} FROM rm_facts_v1")
    op.drop_table("rm_lines_v1")
    op.drop_table("rm_facts_v1")


def downgrade() -> None:
    op.execute(
        "CREATE TABLE rm_lines_v2 AS SELECT l.position, e.event_id, g.pool_id, g.year, "
        "g.quarter, e.effective_date, g.kind, g.partner_id, g.counterparty_id, g.scheme_id, "
        "g.funding_stream, l.amount, l.prior_period_adjustment, l.reversal "
        "FROM rm_lines AS l JOIN rm_groups AS g ON g.group_id = l.group_id "
        "JOIN events AS e ON e.position = l.position"
    )
    op.execute("CREATE TABLE rm_facts_v2 AS SELECT * FROM rm_facts")
    op.drop_table("rm_lines")
    op.drop_table("rm_groups")
    op.drop_table("rm_facts")
    op.create_table(
        "rm_lines",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("pool_id", sa.String(length=40), nullable=False),
        sa.Column("year", sa.String(length=7), nullable=False),
        sa.Column("quarter", sa.String(length=10), nullable=False),
        sa.Column("effective_date", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("partner_id", sa.String(length=40), nullable=True),
        sa.Column("counterparty_id", sa.String(length=40), nullable=True),
        sa.Column("scheme_id", sa.String(length=40), nullable=True),
        sa.Column("funding_stream", sa.String(length=60), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("prior_period_adjustment", sa.Boolean(), nullable=False),
        sa.Column("reversal", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_rm_lines_event", "rm_lines", ["event_id"])
    op.create_index("ix_rm_lines_pool_year_position", "rm_lines", ["pool_id", "year", "position"])
    _facts_table(unique_event_id=True)
    columns = (
        "position, event_id, pool_id, year, quarter, effective_date, kind, partner_id, "
        "counterparty_id, scheme_id, funding_stream, amount, prior_period_adjustment, reversal"
    )
    op.execute(
        f"INSERT INTO rm_lines ({columns}) SELECT {columns} FROM rm_lines_v2 ORDER BY position"
    )
    op.execute(f"INSERT INTO rm_facts ({_FACT_COLUMNS}) SELECT {_FACT_COLUMNS} FROM rm_facts_v2")
    op.drop_table("rm_lines_v2")
    op.drop_table("rm_facts_v2")

"""events: leaner indexes (each append writes fewer B-trees)

* SQLite: ``position`` becomes ``INTEGER PRIMARY KEY``, the rowid itself, instead of a
  BIGINT key with an index of its own beside the rowid (the table is rebuilt once,
  rows copied as they are: the hash chain covers values, not storage).
* ``reverses_event_id`` (an event is reversed once) and the partner, scheme and funding
  stream indexes only hold rows that have the column: most events have no
  reversal target, spend has no partner and contributions no scheme.
* The index on ``type`` goes: nothing reads events by type alone (the partial unique
  indexes keep their ``type = ...`` conditions).

Revision ID: 0002_ledger
Revises: 0001_ledger
Create Date: 2026-11-23 13:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_ledger"
down_revision = "0001_ledger"
branch_labels = None
depends_on = None

_PARTIAL = {
    "ix_events_partner": ("partner_id",),
    "ix_events_scheme": ("scheme_id",),
    "ix_events_stream_year": ("funding_stream", "year"),
}
_ONCE = {
    "uq_events_period_closed": ("pool_id", "period", "period_closed"),
    "uq_events_return_filed": ("pool_id", "period", "return_generated"),
    "uq_events_settled": ("pool_id", "year", "risk_share_settled"),
}


def _columns(position: sa.types.TypeEngine[int]) -> list[sa.Column[object]]:
    return [
        sa.Column("position", position, autoincrement=False, nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("stream_id", sa.String(length=120), nullable=False),
        sa.Column("stream_version", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=60), nullable=False),
        sa.Column("schema_version", sa.Integer(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("effective_date", sa.Date(), nullable=True),
        sa.Column("recorded_at", sa.String(length=27), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("actor_role", sa.String(length=20), nullable=False),
        sa.Column("actor_partner_id", sa.String(length=40), nullable=True),
        sa.Column("token_id", sa.String(length=40), nullable=True),
        sa.Column("request_id", sa.String(length=80), nullable=True),
        sa.Column("request_meta", sa.Text(), nullable=True),
        sa.Column("pool_id", sa.String(length=40), nullable=True),
        sa.Column("partner_id", sa.String(length=40), nullable=True),
        sa.Column("counterparty_id", sa.String(length=40), nullable=True),
        sa.Column("scheme_id", sa.String(length=40), nullable=True),
        sa.Column("funding_stream", sa.String(length=60), nullable=True),
        sa.Column("year", sa.String(length=7), nullable=True),
        sa.Column("period", sa.String(length=11), nullable=True),
        sa.Column("reverses_event_id", sa.String(length=36), nullable=True),
        sa.Column("hash", sa.String(length=64), nullable=False),
    ]


def _where(sql: str) -> dict[str, sa.TextClause]:
    return {"sqlite_where": sa.text(sql), "postgresql_where": sa.text(sql)}


def _sqlite_rebuild(position: sa.types.TypeEngine[int], lean: bool) -> None:
    """Copy events into a table of the new shape; dropping the old one drops its
    indexes and triggers (DROP fires no DELETE trigger), which are then made again."""
    extra = [] if lean else [sa.UniqueConstraint("reverses_event_id")]
    op.create_table(
        "events_new",
        *_columns(position),
        sa.PrimaryKeyConstraint("position"),
        sa.UniqueConstraint("event_id"),
        sa.UniqueConstraint("stream_id", "stream_version", name="uq_events_stream_version"),
        *extra,
    )
    op.execute("INSERT INTO events_new SELECT * FROM events ORDER BY position")
    op.execute("DROP TABLE events")
    op.execute("ALTER TABLE events_new RENAME TO events")
    op.create_index("ix_events_pool_position", "events", ["pool_id", "position"])
    op.create_index("ix_events_recorded_at", "events", ["recorded_at"])
    for name, (a, b, kind) in _ONCE.items():
        op.create_index(name, "events", [a, b], unique=True, **_where(f"type = '{kind}'"))
    for action in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER events_no_{action.lower()} BEFORE {action} ON events "
            f"BEGIN SELECT RAISE(ABORT, 'events are immutable: {action} refused; "
            "corrections are reversal events'); END"
        )


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        _sqlite_rebuild(sa.Integer(), lean=True)
    else:
        for name in (*_PARTIAL, "ix_events_type"):
            op.drop_index(name, table_name="events")
        op.drop_constraint("events_reverses_event_id_key", "events", type_="unique")
    for name, cols in _PARTIAL.items():
        op.create_index(name, "events", list(cols), **_where(f"{cols[0]} IS NOT NULL"))
    op.create_index(
        "uq_events_reverses_event_id",
        "events",
        ["reverses_event_id"],
        unique=True,
        **_where("reverses_event_id IS NOT NULL"),
    )


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        _sqlite_rebuild(sa.BigInteger(), lean=False)
    else:
        for name in (*_PARTIAL, "uq_events_reverses_event_id"):
            op.drop_index(name, table_name="events")
        op.create_unique_constraint("events_reverses_event_id_key", "events", ["reverses_event_id"])
    for name, cols in _PARTIAL.items():
        op.create_index(name, "events", list(cols))
    op.create_index("ix_events_type", "events", ["type"])

"""Read-model tables. Rebuildable from the events at any time; as-at reads filter on
the position columns, so one set of rows answers "now" and "as the ledger knew it".

- ``rm_lines`` / ``rm_groups``: money movements, append-only. Each money event makes
  one line in its group (pool, year, kind, partner, counterparty, scheme, funding
  stream, quarter), carrying the group's running total; a reversal adds its
  target's line negated at the reversal's own position (in the target's group, so
  its amount leaves its own period). A figure as at P is, per group, the running
  total of its last line at or before P: one index seek per group, however long the
  pool's history. The events behind a figure are the positions of its lines (the
  event id and effective date of a line are those of the event at its position).
- ``rm_facts``: everything else that counts (plans, forecasts, closes, settlements,
  populations, assessments, metrics, risk/reward results, returns, reference data,
  reversals); a reversal stamps ``reversed_position`` on its target, and as-at
  reads take ``position <= P AND (reversed_position IS NULL OR reversed_position > P)``.

Every table has a natural key (groups: numbers given in the order of first lines),
so a rebuild gives the same rows as the incremental projection, row for row
(``projections.rebuild.compare_with_rebuild``).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    text,
)

metadata = MetaData()
POSITION = BigInteger().with_variant(Integer(), "sqlite")

rm_checkpoint = Table(
    "rm_checkpoint",
    metadata,
    Column("name", String(40), primary_key=True),
    Column("position", BigInteger, nullable=False),
)

rm_partners = Table(
    "rm_partners",
    metadata,
    Column("partner_id", String(40), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("ods_code", String(20), nullable=True),
    Column("ons_code", String(20), nullable=True),
    Column("position", BigInteger, nullable=False),
)

rm_pools = Table(
    "rm_pools",
    metadata,
    Column("pool_id", String(40), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("host_partner_id", String(40), nullable=False),
    Column("hwb_name", String(200), nullable=True),
    Column("hwb_ons_code", String(20), nullable=True),
    Column("position", BigInteger, nullable=False),
)

rm_pool_members = Table(
    "rm_pool_members",
    metadata,
    Column("pool_id", String(40), primary_key=True),
    Column("partner_id", String(40), primary_key=True),
    Column("position", BigInteger, nullable=False),
)

# A group of money lines: one pool-year's lines of one kind, partner, counterparty,
# scheme, funding stream and quarter. Groups are numbered in the order of their first
# line, so a rebuild numbers them exactly as the appends did.
rm_groups = Table(
    "rm_groups",
    metadata,
    Column("group_id", Integer, primary_key=True, autoincrement=False),
    Column("pool_id", String(40), nullable=False),
    Column("year", String(7), nullable=False),
    # opening | contribution | refund | expenditure | credit | transfer_in (partner pays
    # the pool) | transfer_out (the pool pays partner) | partner_transfer (partner_id
    # pays counterparty_id)
    Column("kind", String(20), nullable=False),
    Column("partner_id", String(40), nullable=True),
    Column("counterparty_id", String(40), nullable=True),
    Column("scheme_id", String(40), nullable=True),
    Column("funding_stream", String(60), nullable=True),
    Column("quarter", String(10), nullable=False),
    Column("key", String(240), nullable=False),  # kind|partner|counterparty|scheme|stream|quarter
    Column("position", BigInteger, nullable=False),  # its first line
    Index("ux_rm_groups_key", "pool_id", "year", "key", unique=True),
)

# One line per money event (a posting, transfer or opening balance moves one amount;
# a reversal adds its target's line negated), with the group's running total.
rm_lines = Table(
    "rm_lines",
    metadata,
    Column("group_id", Integer, primary_key=True, autoincrement=False),
    Column("position", BigInteger, primary_key=True, autoincrement=False),  # the event's
    Column("amount", BigInteger, nullable=False),  # pence; negative on a reversal's line
    Column("total", BigInteger, nullable=False),  # the group's sum of lines <= position
    Column("prior_period_adjustment", Boolean, nullable=False),
    Column("reversal", Boolean, nullable=False),
    Index(
        "ix_rm_lines_adjustments",
        "group_id",
        "position",
        sqlite_where=text("prior_period_adjustment = 1"),
        postgresql_where=text("prior_period_adjustment"),
    ),
    sqlite_with_rowid=False,  # clustered on (group, position): as at P is one seek a group
)

rm_facts = Table(
    "rm_facts",
    metadata,
    # INTEGER on SQLite: the rowid itself, so no separate key index (rows hold payloads)
    Column("position", POSITION, primary_key=True, autoincrement=False),
    Column("event_id", String(36), nullable=False),
    Column("type", String(60), nullable=False),
    Column("pool_id", String(40), nullable=True),
    Column("year", String(7), nullable=True),
    Column("period", String(11), nullable=True),
    Column("key", String(120), nullable=True),  # scheme, unit/cohort, service/outcome, metric
    Column("effective_date", Date, nullable=True),
    Column("data", Text, nullable=False),  # the event's payload (canonical JSON)
    Column("recorded_at", String(27), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("reversed_position", BigInteger, nullable=True),
    Index("ix_rm_facts_pool_type_year", "pool_id", "type", "year"),
)

# in the order a rebuild empties them
READ_MODEL_TABLES = (
    rm_lines,
    rm_groups,
    rm_facts,
    rm_pool_members,
    rm_pools,
    rm_partners,
)

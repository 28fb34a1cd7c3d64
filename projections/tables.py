"""Read-model tables. Rebuildable from the events at any time; as-at reads filter on
the position columns, so one set of rows answers "now" and "as the ledger knew it".

- ``rm_lines``: money movements, append-only. A reversal adds the negated lines of its
  target at the reversal's position (in the target's own period), so any sum as at
  position P is ``SUM(amount) WHERE position <= P``.
- ``rm_facts``: everything else that counts (plans, forecasts, closes, settlements,
  populations, assessments, metrics, risk/reward results, returns, reference data);
  a reversal stamps ``reversed_position`` on its target, and as-at reads take
  ``position <= P AND (reversed_position IS NULL OR reversed_position > P)``.
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
)

metadata = MetaData()

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

rm_lines = Table(
    "rm_lines",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("position", BigInteger, nullable=False),
    Column("event_id", String(36), nullable=False),
    Column("pool_id", String(40), nullable=False),
    Column("year", String(7), nullable=False),
    Column("quarter", String(10), nullable=False),
    Column("effective_date", Date, nullable=False),
    # opening | contribution | refund | expenditure | credit | transfer_in | transfer_out
    # | partner_transfer (partner_id pays counterparty_id)
    Column("kind", String(20), nullable=False),
    Column("partner_id", String(40), nullable=True),
    Column("counterparty_id", String(40), nullable=True),
    Column("scheme_id", String(40), nullable=True),
    Column("funding_stream", String(60), nullable=True),
    Column("amount", BigInteger, nullable=False),  # pence; negative on a reversal's line
    Column("prior_period_adjustment", Boolean, nullable=False),
    Column("reversal", Boolean, nullable=False),
    Index("ix_rm_lines_pool_year_position", "pool_id", "year", "position"),
    Index("ix_rm_lines_event", "event_id"),
)

rm_facts = Table(
    "rm_facts",
    metadata,
    Column("position", BigInteger, primary_key=True, autoincrement=False),
    Column("event_id", String(36), nullable=False, unique=True),
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

READ_MODEL_TABLES = (rm_lines, rm_facts, rm_pool_members, rm_pools, rm_partners)

"""The write side's tables (SQLAlchemy Core). Read models live in ``projections``."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

metadata = MetaData()


def _only_set(name: str, *columns: str) -> Index:
    """An index holding only the rows whose first column is set."""
    where = text(f"{columns[0]} IS NOT NULL")
    return Index(name, *columns, sqlite_where=where, postgresql_where=where)


events = Table(
    "events",
    metadata,
    # on SQLite the rowid itself (INTEGER PRIMARY KEY): no separate key index
    Column(
        "position",
        BigInteger().with_variant(Integer(), "sqlite"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("stream_id", String(120), nullable=False),
    Column("stream_version", Integer, nullable=False),
    Column("type", String(60), nullable=False),
    Column("schema_version", Integer, nullable=False),
    Column("payload", Text, nullable=False),
    Column("effective_date", Date, nullable=True),
    Column("recorded_at", String(27), nullable=False),  # 2026-11-23T09:47:50.123456Z
    Column("actor", String(200), nullable=False),
    Column("actor_role", String(20), nullable=False),
    Column("actor_partner_id", String(40), nullable=True),
    Column("token_id", String(40), nullable=True),
    Column("request_id", String(80), nullable=True),
    Column("request_meta", Text, nullable=True),
    # what the event concerns, indexed so any figure can be traced to its events
    Column("pool_id", String(40), nullable=True),
    Column("partner_id", String(40), nullable=True),
    Column("counterparty_id", String(40), nullable=True),
    Column("scheme_id", String(40), nullable=True),
    Column("funding_stream", String(60), nullable=True),
    Column("year", String(7), nullable=True),
    Column("period", String(11), nullable=True),
    Column("reverses_event_id", String(36), nullable=True),  # reversed once (index below)
    Column("hash", String(64), nullable=False),
    UniqueConstraint("stream_id", "stream_version", name="uq_events_stream_version"),
    # the indexes each append writes are kept few; those on columns most events leave
    # empty hold only the rows that have them (migration 0002_ledger)
    Index("ix_events_pool_position", "pool_id", "position"),
    Index("ix_events_recorded_at", "recorded_at"),
    _only_set("ix_events_partner", "partner_id"),
    _only_set("ix_events_scheme", "scheme_id"),
    _only_set("ix_events_stream_year", "funding_stream", "year"),
    Index(
        "uq_events_reverses_event_id",
        "reverses_event_id",
        unique=True,
        sqlite_where=text("reverses_event_id IS NOT NULL"),
        postgresql_where=text("reverses_event_id IS NOT NULL"),
    ),
    # one filed return per pool and quarter, one close per quarter, one settlement per year
    Index(
        "uq_events_return_filed",
        "pool_id",
        "period",
        unique=True,
        sqlite_where=text("type = 'return_generated'"),
        postgresql_where=text("type = 'return_generated'"),
    ),
    Index(
        "uq_events_period_closed",
        "pool_id",
        "period",
        unique=True,
        sqlite_where=text("type = 'period_closed'"),
        postgresql_where=text("type = 'period_closed'"),
    ),
    Index(
        "uq_events_settled",
        "pool_id",
        "year",
        unique=True,
        sqlite_where=text("type = 'risk_share_settled'"),
        postgresql_where=text("type = 'risk_share_settled'"),
    ),
)

# The single row every writer locks: the head of the chain. Appends hold it until
# commit, so positions are gap-free and in commit order across processes.
ledger_head = Table(
    "ledger_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("position", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
    Column("recorded_at", String(27), nullable=False),
    # moved on by a rebuild of the write-side state or the read models (and migration
    # 0003): the caches of every process are keyed on it with the head (ledger.handlers)
    Column("generation", Integer, nullable=False, server_default=text("0")),
    # the Merkle tree's frontier at ``position``: the hashes of its complete subtrees,
    # largest first, as hex (``ledger.domain.merkle``); and the ledger's own id, which
    # every signed checkpoint names (both migration 0004)
    Column("frontier", Text, nullable=False, server_default=""),
    Column("ledger_id", String(36), nullable=False, server_default=""),
)

# The Merkle tree's complete subtrees (RFC 9162 2.1) of 16 leaves and up
# (``merkle.STORED_FROM_LEVEL``; the ones below are rehashed from the events, migration
# 0005), written in the transaction of the append that completes them: ``node`` is
# ``index << 6 | level`` for the 2**level leaves from index * 2**level (leaf i is the
# event at position i + 1). Never changed.
merkle_nodes = Table(
    "merkle_nodes",
    metadata,
    Column(
        "node",
        BigInteger().with_variant(Integer(), "sqlite"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("hash", LargeBinary(32), nullable=False),
)

# Signed checkpoints: (ledger id, position, tree root, chain head, recorded time) and
# the Ed25519 signature over their canonical text (``ledger.domain.checkpoint``).
checkpoints = Table(
    "checkpoints",
    metadata,
    Column("checkpoint_id", Integer, primary_key=True, autoincrement=True),
    Column("ledger_id", String(36), nullable=False),
    Column("position", BigInteger, nullable=False),
    Column("root", String(64), nullable=False),
    Column("chain_head", String(64), nullable=False),
    Column("recorded_at", String(27), nullable=False),
    Column("reason", String(80), nullable=False),
    Column("key_id", String(64), nullable=False),
    Column("signature", String(128), nullable=False),
    Index("ix_checkpoints_position", "position"),
)

ws_partners = Table(
    "ws_partners",
    metadata,
    Column("partner_id", String(40), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(40), nullable=False),
)

ws_pools = Table(
    "ws_pools",
    metadata,
    Column("pool_id", String(40), primary_key=True),
    Column("version", Integer, nullable=False),  # the stream version the state was written at
    Column("state", Text, nullable=False),
)

ws_reference = Table(
    "ws_reference",
    metadata,
    Column("content_hash", String(64), primary_key=True),
    Column("year", String(7), nullable=False),
    Column("position", BigInteger, nullable=False),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("scope", String(64), primary_key=True),  # sha256(token, method, path, key)
    Column("request_hash", String(64), nullable=False),
    Column("request", Text, nullable=False),  # the normalised request, to name differences
    Column("positions", Text, nullable=False),  # JSON list of the positions it wrote
    Column("status", Integer, nullable=False),
    Column("created_at", String(27), nullable=False),
)

tokens = Table(
    "tokens",
    metadata,
    Column("token_id", String(40), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("role", String(20), nullable=False),
    Column("partner_id", String(40), nullable=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", String(27), nullable=False),
    Column("revoked_at", String(27), nullable=True),
)

# The bytes of each filed return, written in the transaction of its event and never
# changed (the same guard triggers as events).
filed_documents = Table(
    "filed_documents",
    metadata,
    Column("pool_id", String(40), primary_key=True),
    Column("period", String(11), primary_key=True),
    Column("format", String(10), primary_key=True),
    Column("position", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("content", LargeBinary, nullable=False),
)

# A re-filed return's documents (``return_refiled``) are kept beside the first filing's
# under the format and version, "xlsx@v2" (ten characters fit "json@v99"), so no
# version's bytes are ever replaced.
MAX_RETURN_VERSION = 99


def stored_format(fmt: str, version: int) -> str:
    """The ``filed_documents.format`` a return version's document is kept under."""
    return fmt if version == 1 else f"{fmt}@v{version}"


def split_stored_format(stored: str) -> tuple[str, int]:
    """(format, version) of a ``filed_documents.format``."""
    fmt, _, version = stored.partition("@v")
    return fmt, int(version) if version else 1


IMMUTABLE_TABLES = ("events", "filed_documents", "merkle_nodes", "checkpoints")

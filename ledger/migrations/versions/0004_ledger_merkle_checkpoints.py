"""Merkle tree and signed checkpoints

* ``merkle_nodes``: the complete subtrees of the RFC 9162 tree over the events, built
  here for the events already stored, then by every append.
* ``ledger_head.frontier`` (the tree's frontier at the head) and ``ledger_head.ledger_id``
  (a new random id, named by every checkpoint).
* ``checkpoints``: signed (ledger id, position, root, chain head, recorded time).
* Both new tables get the append-only guards of ``events``.

Revision ID: 0004_ledger
Revises: 0003_ledger
Create Date: 2026-12-03 10:50:00
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from alembic import op

from ledger.domain import merkle
from ledger.domain.hashing import HASHED_COLUMNS, canonical_row

revision = "0004_ledger"
down_revision = "0003_ledger"
branch_labels = None
depends_on = None

NEW_TABLES = ("merkle_nodes", "checkpoints")


def upgrade() -> None:
    op.create_table(
        "merkle_nodes",
        sa.Column(
            "node",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("node"),
    )
    op.create_table(
        "checkpoints",
        sa.Column("checkpoint_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ledger_id", sa.String(length=36), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("root", sa.String(length=64), nullable=False),
        sa.Column("chain_head", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", sa.String(length=27), nullable=False),
        sa.Column("reason", sa.String(length=80), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("signature", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("checkpoint_id"),
    )
    op.create_index("ix_checkpoints_position", "checkpoints", ["position"])
    with op.batch_alter_table("ledger_head") as batch:
        batch.add_column(sa.Column("frontier", sa.Text(), nullable=False, server_default=""))
        batch.add_column(
            sa.Column("ledger_id", sa.String(length=36), nullable=False, server_default="")
        )
    _build_tree()
    _guard(NEW_TABLES)


def _build_tree(batch: int = 5000) -> None:
    """The tree over the events already stored, and the head's frontier and id."""
    bind = op.get_bind()
    cols = ", ".join([*HASHED_COLUMNS, "payload"])
    size, frontier = 0, []
    while True:
        rows = bind.execute(
            sa.text(f"SELECT {cols} FROM events WHERE position > :p ORDER BY position LIMIT :n"),
            {"p": size, "n": batch},
        ).all()
        if not rows:
            break
        leaves = [merkle.leaf_hash(canonical_row(dict(r._mapping)).encode()) for r in rows]
        created, frontier = merkle.append_leaves(size, frontier, leaves)
        bind.execute(
            sa.text("INSERT INTO merkle_nodes (node, hash) VALUES (:node, :hash)"),
            [{"node": i << 6 | lv, "hash": h} for (lv, i), h in created],
        )
        size += len(rows)
    bind.execute(
        sa.text("UPDATE ledger_head SET frontier = :f, ledger_id = :id WHERE id = 1"),
        {"f": b"".join(frontier).hex(), "id": str(uuid.uuid4())},
    )


def _guard(tables: tuple[str, ...]) -> None:
    """The guards of migration 0001 (its refusing function on PostgreSQL)."""
    if op.get_bind().dialect.name == "sqlite":
        for table in tables:
            for action in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} are immutable: {action} refused'); END"
                )
        return
    for table in tables:
        op.execute(
            f"CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION pooled_refuse_change()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION pooled_refuse_change()"
        )


def downgrade() -> None:
    with op.batch_alter_table("ledger_head") as batch:
        batch.drop_column("ledger_id")
        batch.drop_column("frontier")
    op.drop_index("ix_checkpoints_position", table_name="checkpoints")
    op.drop_table("checkpoints")
    op.drop_table("merkle_nodes")

"""Merkle nodes below level 4 no longer stored

``merkle_nodes`` keeps the complete subtrees of 16 leaves and up
(``ledger.domain.merkle.STORED_FROM_LEVEL``); the ones below are rehashed from the
events when a root or proof needs them. This deletes the stored ones below level 4
(``node`` is ``index << 6 | level``). The table's DELETE guard is lifted for that
delete only, in this migration's transaction, and put back as migration 0004 made it.
The frontier in ``ledger_head`` is unchanged (it holds every level).

The downgrade rehashes the nodes below level 4 from the events and inserts them again,
byte for byte as appends before this migration wrote them.

Revision ID: 0005_ledger
Revises: 0004_ledger
Create Date: 2026-12-03 16:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ledger.domain import merkle
from ledger.domain.hashing import HASHED_COLUMNS, canonical_row

revision = "0005_ledger"
down_revision = "0004_ledger"
branch_labels = None
depends_on = None

# merkle.STORED_FROM_LEVEL when this migration was written: a later change of that
# constant needs a migration of its own, not an edit of this one
LEVEL = 4


def upgrade() -> None:
    bind = op.get_bind()
    delete = f"DELETE FROM merkle_nodes WHERE (node & 63) < {LEVEL}"
    if bind.dialect.name == "sqlite":
        op.execute("DROP TRIGGER merkle_nodes_no_delete")
        op.execute(delete)
        op.execute(  # migration 0004's guard, word for word
            "CREATE TRIGGER merkle_nodes_no_delete BEFORE DELETE ON merkle_nodes "
            "BEGIN SELECT RAISE(ABORT, 'merkle_nodes are immutable: DELETE refused'); END"
        )
        return
    # the owner's; the trigger itself (as 0004 made it) is kept, only switched off
    op.execute("ALTER TABLE merkle_nodes DISABLE TRIGGER merkle_nodes_no_change")
    op.execute(delete)
    op.execute("ALTER TABLE merkle_nodes ENABLE TRIGGER merkle_nodes_no_change")


def downgrade() -> None:
    _insert_low_nodes()


def _insert_low_nodes(batch: int = 5000) -> None:
    """The nodes below level 4 again, rehashed from the events as 0004 built them
    (inserts: no guard refuses them)."""
    bind = op.get_bind()
    cols = ", ".join([*HASHED_COLUMNS, "payload"])
    size, frontier = 0, list[bytes]()
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
            [{"node": i << 6 | lv, "hash": h} for (lv, i), h in created if lv < LEVEL],
        )
        size += len(rows)

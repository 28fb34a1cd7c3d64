"""write-side state rebuilt from the events; the head gains a generation

* ``ws_pools`` snapshots written before event ids existed at evolve time hold plans
  and opening balances under an empty event id (so a reversal of them was never seen
  by the state). Every snapshot (and ``ws_partners``, ``ws_reference``) is rewritten
  from the events with the one ``evolve`` the append path uses
  (``ledger.snapshots.rebuild_state_on``); ``pooled ledger check`` then finds nothing.
* ``ledger_head.generation``: moved on by every rebuild of stored state, so the caches
  of running processes, keyed on (position, hash, generation), are dropped.

Downgrade drops the column; the rebuilt snapshots are correct under 0002 too.

Revision ID: 0003_ledger
Revises: 0002_ledger
Create Date: 2026-12-03 11:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_ledger"
down_revision = "0002_ledger"
branch_labels = None
depends_on = None


def upgrade() -> None:
    from ledger.snapshots import rebuild_state_on

    with op.batch_alter_table("ledger_head") as batch:
        batch.add_column(
            sa.Column("generation", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )
    rebuild_state_on(op.get_bind())
    op.execute("UPDATE ledger_head SET generation = generation + 1")


def downgrade() -> None:
    with op.batch_alter_table("ledger_head") as batch:
        batch.drop_column("generation")

"""The signed checkpoint on a return's cover: signed when the return is filed (at its
as-at position, with the reason ``return as at POOL QUARTER``), and put on a draft as
at that same position too, so a draft as at the filed position is still the filed
return byte for byte."""

from __future__ import annotations

import dataclasses

from sqlalchemy import Connection, select

from ledger.clock import format_instant
from ledger.domain.checkpoint import SignedCheckpoint
from ledger.handlers import Ledger
from ledger.store import tables as lt
from ledger.store.checkpoints import take_checkpoint
from projections.returns.canonical import sealed
from projections.returns.return_document import ReturnContent


def filing_reason(pool_id: str, quarter: str) -> str:
    return f"return as at {pool_id} {quarter}"


def embed(content: ReturnContent, signed: SignedCheckpoint) -> ReturnContent:
    cover = dataclasses.replace(content.cover, checkpoint=signed.as_json())
    return sealed(dataclasses.replace(content, cover=cover))


def sign_for_filing(ledger: Ledger, content: ReturnContent) -> ReturnContent:
    """Sign and store a checkpoint at the content's as-at position and put it on the
    cover (the content as it stands when the ledger has no signing key)."""
    if ledger.signing_key is None:
        return content
    c = content.cover
    signed = take_checkpoint(
        ledger.engine,
        ledger.signing_key,
        format_instant(ledger.clock.now()),
        filing_reason(c.pool_id, c.quarter),
        c.as_at_position,
    )
    return embed(content, signed)


def with_filing_checkpoint(conn: Connection, content: ReturnContent) -> ReturnContent:
    """A draft with the checkpoint its quarter's filing signed at the same position."""
    c = content.cover
    k = lt.checkpoints.c
    row = conn.execute(
        select(k.ledger_id, k.position, k.root, k.chain_head, k.recorded_at, k.key_id, k.signature)
        .where(k.reason == filing_reason(c.pool_id, c.quarter), k.position == c.as_at_position)
        .order_by(k.checkpoint_id)
        .limit(1)
    ).first()
    if row is None:
        return content
    return embed(content, SignedCheckpoint.from_json(dict(row._mapping)))

"""Chain verification: recompute the hash chain from position 1 and name the first bad
event."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import Engine, func, select

from ledger.domain import events as ev
from ledger.store import tables as t
from ledger.store.reads import hash_at, iter_events, read_head
from ledger.store.serialization import ZERO_HASH, chain_hash, payload_is_canonical


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    events_checked: int
    head_hash: str
    head_position: int
    first_bad_position: int | None = None
    problem: str | None = None


def verify(engine: Engine, batch: int = 5000) -> VerifyResult:
    """Recompute the chain from position 1 and name the first bad event.

    Checks: positions gap-free from 1; each payload in canonical form; each stored
    hash equals SHA-256(previous || canonical row); the head row matches the last
    event; and every filed return's recorded chain head is still in the chain (so
    removing events from the end is detected)."""
    prev, expected, checked = ZERO_HASH, 1, 0
    heads: list[tuple[int, str, int]] = []  # (as_at_position, chain_head, return's position)
    for e in iter_events(engine, batch=batch):
        row = e.as_row()
        if e.position != expected:
            return _bad(
                checked,
                prev,
                expected - 1,
                expected,
                f"position {expected} is missing (found {e.position})",
            )
        if not payload_is_canonical(e.payload):
            return _bad(
                checked,
                prev,
                expected - 1,
                e.position,
                f"event at position {e.position} has a payload that is not as stored",
            )
        if chain_hash(prev, row) != e.hash:
            return _bad(
                checked,
                prev,
                expected - 1,
                e.position,
                f"event at position {e.position} does not match its hash",
            )
        if e.type == ev.ReturnGenerated.type:
            data = json.loads(e.payload)
            heads.append((int(data["as_at_position"]), str(data["chain_head"]), e.position))
        prev, expected, checked = e.hash, expected + 1, checked + 1
    with engine.connect() as conn:
        head = read_head(conn)
        if head.position != checked or head.hash != prev:
            return _bad(
                checked,
                prev,
                checked,
                checked + 1 if head.position > checked else checked,
                f"the ledger head says position {head.position} but the chain ends at {checked}",
            )
        # the stored bytes of each filed return name their event: if the events were cut
        # from the end (and the head row rewritten), the documents still point past it
        beyond = conn.execute(
            select(func.min(t.filed_documents.c.position)).where(
                t.filed_documents.c.position > checked
            )
        ).scalar()
        if beyond is not None:
            return _bad(
                checked,
                prev,
                checked,
                int(beyond),
                f"a filed return's documents name position {beyond}, beyond the chain's end "
                f"at {checked}: events were removed from the end",
            )
        for as_at, chain_head, pos in heads:
            if hash_at(conn, as_at) != chain_head:
                return _bad(
                    checked,
                    prev,
                    checked,
                    as_at,
                    f"the return filed at position {pos} recorded chain head "
                    f"{chain_head[:12]}… at position {as_at}, which the chain no longer has",
                )
    return VerifyResult(True, checked, prev, checked)


def _bad(checked: int, prev: str, head_pos: int, pos: int, why: str) -> VerifyResult:
    return VerifyResult(False, checked, prev, head_pos, pos, why)

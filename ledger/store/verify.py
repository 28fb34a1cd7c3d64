"""Chain verification: recompute the hash chain from position 1 and name the first bad
event."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Connection, Engine, func, select

from ledger.domain.checkpoint import KeyRing, SignedCheckpoint, ring_of, ring_problem
from ledger.store import tables as t
from ledger.store.checkpoints import all_checkpoints
from ledger.store.engine import is_sqlite
from ledger.store.reads import Head, hash_at, read_head
from ledger.store.scan_ranges import scan


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    events_checked: int
    head_hash: str
    head_position: int
    first_bad_position: int | None = None
    problem: str | None = None


def verify(
    engine: Engine,
    batch: int = 10_000,
    public_key: Ed25519PublicKey | None = None,
    keys: KeyRing | None = None,
    workers: int | None = None,
) -> VerifyResult:
    """Recompute the chain and the Merkle tree from position 1 and name the first bad
    event, return or checkpoint.

    Checks: positions gap-free from 1; each payload in canonical form; each stored
    hash equals SHA-256(previous || canonical row); the head row matches the last
    event; every filed return's recorded chain head is still in the chain (so
    removing events from the end is detected); the head's stored frontier and every
    stored node (``merkle_nodes``) are the tree of the events; and every stored
    checkpoint is signed by ``public_key`` (when given), or by the key of ``keys`` (a
    key ring: key id -> public key) it names, within the chain, and names the chain
    head and tree root the events have at its position.

    ``workers``: processes for the pass over the events (None: one per CPU on a large
    ledger, ``ledger.store.scan_ranges``)."""
    ring: dict[str, Ed25519PublicKey] | None = None
    if public_key is not None or keys:
        ring = {**(keys or {}), **ring_of([public_key] if public_key else [])}
    with _snapshot(engine) as conn:
        stored_cps = all_checkpoints(conn)
        wanted = {s.checkpoint.position for _, _, s in stored_cps}
        found = scan(conn, wanted, batch, workers)
        checked, prev, heads, frontier, roots = (
            found.checked,
            found.prev,
            found.heads,
            found.frontier,
            found.roots,
        )
        if found.problem is not None:
            assert found.bad_position is not None
            return _bad(checked, prev, checked, found.bad_position, found.problem)
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
        problem = (
            _tree_problem(head, checked, frontier)
            or _nodes_problem(conn, found.nodes)
            or _checkpoint_problem(conn, stored_cps, roots, checked, ring)
        )
        if problem is not None:
            return _bad(checked, prev, checked, problem[0], problem[1])
    return VerifyResult(True, checked, prev, checked)


@contextmanager
def _snapshot(engine: Engine) -> Iterator[Connection]:
    """One read transaction over one snapshot: the events, the head and the
    checkpoints are read as of the same instant even while appends go on (SQLite's
    deferred transaction in WAL mode; REPEATABLE READ on PostgreSQL)."""
    with engine.connect() as conn:
        if not is_sqlite(engine):
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        yield conn


def _tree_problem(head: Head, size: int, frontier: list[bytes]) -> tuple[int, str] | None:
    """The head's stored frontier (every level, the small subtrees included) against the
    events'. The stored nodes, the frontier's among them, are ``_nodes_problem``'s."""
    if bytes.fromhex(head.frontier) != b"".join(frontier):
        return size, f"the stored Merkle tree at position {size} is not the tree of the events"
    return None


def _nodes_problem(conn: Any, nodes: list[tuple[int, bytes]]) -> tuple[int, str] | None:
    """Every stored node (``merkle_nodes``: the complete subtrees of
    ``merkle.STORED_FROM_LEVEL`` and up, which proofs and past roots are read from)
    against the events' tree: the first wrong, missing or extra one, by the positions
    it covers."""
    events = dict(nodes)
    stored = {
        int(k): bytes(h) for k, h in conn.exec_driver_sql("SELECT node, hash FROM merkle_nodes")
    }
    if stored == events:
        return None
    wrong = [k for k in events.keys() | stored.keys() if stored.get(k) != events.get(k)]
    key = min(wrong, key=lambda k: ((k >> 6) << (k & 63), k & 63))
    level, index = key & 63, key >> 6
    first, last = (index << level) + 1, (index + 1) << level
    over = f"positions {first} to {last}"
    if key not in stored:
        return first, f"the stored Merkle tree lacks its node over {over}"
    if key not in events:
        return (
            first,
            f"the stored Merkle tree has a node over {over}, which the events do not complete",
        )
    return first, f"the stored Merkle node over {over} is not the tree of those events"


def _checkpoint_problem(
    conn: Any,
    stored: list[tuple[int, str, SignedCheckpoint]],
    roots: dict[int, bytes],
    size: int,
    ring: KeyRing | None,
) -> tuple[int, str] | None:
    for cid, reason, s in stored:
        cp = s.checkpoint
        name = f"checkpoint {cid} ({reason}) at position {cp.position}"
        wrong = ring_problem(ring, s) if ring is not None else None
        if wrong is not None:
            return cp.position, f"{name} {wrong}"
        if cp.position > size:
            return cp.position, (
                f"{name} is beyond the chain's end at {size}: events were removed from the end"
            )
        if hash_at(conn, cp.position) != cp.chain_head:
            return cp.position, f"{name} recorded a chain head the chain no longer has"
        if roots[cp.position].hex() != cp.root:
            return cp.position, (
                f"{name} recorded a tree root the events no longer have: history up to "
                f"position {cp.position} was rewritten"
            )
    return None


def _bad(checked: int, prev: str, head_pos: int, pos: int, why: str) -> VerifyResult:
    return VerifyResult(False, checked, prev, head_pos, pos, why)

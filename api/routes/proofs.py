"""Signed checkpoints and Merkle proofs (RFC 9162): what a partner or auditor needs to
check the ledger without trusting its host (``ledger.audit`` verifies them offline)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Query

from api.deps import CurrentActor, LedgerDep
from api.routes import READ_PROBLEMS, WRITE_PROBLEMS, new_router
from api.schemas.proofs import (
    CheckpointList,
    CheckpointPublic,
    ConsistencyProof,
    InclusionProof,
    RingKey,
    SigningKey,
)
from ledger.clock import format_instant
from ledger.domain import checkpoint as dc
from ledger.domain import commands as c
from ledger.domain.errors import Forbidden, NotFound, RuleViolation
from ledger.domain.hashing import HASHED_COLUMNS
from ledger.store import checkpoints as cps
from ledger.store import tree
from ledger.store.reads import StoredEvent, get_by_positions, read_head

router = new_router(tags=["audit"])

READERS = ("auditor", "board", "admin", "finance_officer")


def _readers(actor: c.Actor) -> None:
    if actor.role not in READERS:  # pragma: no cover - every role reads these
        raise Forbidden(f"the {actor.role} role may not read checkpoints")


def _public(cid: int, reason: str, s: dc.SignedCheckpoint) -> CheckpointPublic:
    return CheckpointPublic(checkpoint_id=cid, reason=reason, **s.as_json())


@router.get(
    "/v1/checkpoints",
    summary="The signed checkpoints, newest first (every role)",
    responses=READ_PROBLEMS,
)
def list_checkpoints(
    ledger: LedgerDep,
    actor: CurrentActor,
    limit: Annotated[int, Query(ge=1, le=1000, description="at most this many")] = 100,
) -> CheckpointList:
    _readers(actor)
    with ledger.engine.connect() as conn:
        rows = cps.list_checkpoints(conn, limit)
    return CheckpointList(checkpoints=[_public(*r) for r in rows])


@router.post(
    "/v1/checkpoints",
    status_code=201,
    summary="Sign a checkpoint of the ledger as it stands now (admin)",
    responses=WRITE_PROBLEMS,
)
def create_checkpoint(ledger: LedgerDep, actor: CurrentActor) -> CheckpointPublic:
    if actor.role != "admin":
        raise Forbidden("only an admin may sign a checkpoint on demand")
    if ledger.signing_key is None:  # pragma: no cover - the app always has a key
        raise RuleViolation("this server has no signing key")
    s = cps.take_checkpoint(
        ledger.engine, ledger.signing_key, format_instant(ledger.clock.now()), "on demand"
    )
    with ledger.engine.connect() as conn:
        cid, reason, _ = cps.list_checkpoints(conn, 1, s.checkpoint.position)[0]
    return _public(cid, reason, s)


@router.get(
    "/v1/checkpoints/key",
    summary="The public key that checkpoints are signed with, and the key ring of every "
    "key they may name (every role)",
    responses=READ_PROBLEMS,
)
def signing_key(ledger: LedgerDep, actor: CurrentActor) -> SigningKey:
    _readers(actor)
    assert ledger.signing_key is not None
    pub = ledger.signing_key.public_key()
    current = dc.key_id(pub)
    ring = sorted(ledger.key_ring().items(), key=lambda kv: (kv[0] != current, kv[0]))
    return SigningKey(
        algorithm="Ed25519",
        key_id=current,
        public_key_pem=dc.public_pem(pub),
        ring=[RingKey(key_id=k, public_key_pem=dc.public_pem(v)) for k, v in ring],
    )


@router.get(
    "/v1/proofs/consistency",
    summary="RFC 9162 consistency proof that the tree at `to` extends the tree at `from` "
    "(every role)",
    responses=READ_PROBLEMS,
)
def consistency(
    ledger: LedgerDep,
    actor: CurrentActor,
    from_: Annotated[int, Query(alias="from", ge=1, le=10**18, description="the older size")],
    to: Annotated[int, Query(ge=1, le=10**18, description="the newer size")],
) -> ConsistencyProof:
    _readers(actor)
    if from_ > to:
        raise RuleViolation(f"from ({from_}) must not be after to ({to})")
    with ledger.engine.connect() as conn:
        head = read_head(conn).position
        if to > head:
            raise NotFound(f"the ledger has {head} events; there is no tree of {to}")
        proof = tree.consistency_proof(conn, from_, to)
        a, b = tree.root_at(conn, from_), tree.root_at(conn, to)
    return ConsistencyProof(
        from_position=from_,
        to_position=to,
        from_root=a.hex(),
        to_root=b.hex(),
        proof=[p.hex() for p in proof],
    )


def event_json(e: StoredEvent) -> dict[str, Any]:
    """The event's hashed columns and payload exactly as stored (dates as ISO text)."""
    row = e.as_row()
    out = {k: row[k] for k in (*HASHED_COLUMNS, "payload", "hash")}
    if out["effective_date"] is not None:
        out["effective_date"] = out["effective_date"].isoformat()
    return out


@router.get(
    "/v1/events/{position}/proof",
    summary="RFC 9162 inclusion proof of an event in a signed checkpoint's tree (auditor, "
    "board; a finance officer for its own partner's events)",
    responses=READ_PROBLEMS,
)
def inclusion(
    ledger: LedgerDep,
    actor: CurrentActor,
    position: Annotated[int, Path(ge=1, le=10**18, description="the event's position")],
    checkpoint: Annotated[
        int | None,
        Query(ge=1, le=10**18, description="a checkpoint's position (default: the latest)"),
    ] = None,
) -> InclusionProof:
    _readers(actor)
    with ledger.engine.connect() as conn:
        found = get_by_positions(conn, [position])
        if not found:
            raise NotFound(f"there is no event at position {position}")
        e = found[0]
        if actor.role == "finance_officer" and actor.partner_id not in (
            e.partner_id,
            e.counterparty_id,
            e.actor_partner_id,
        ):
            raise Forbidden(
                f"a finance officer of '{actor.partner_id}' reads proofs only of its own "
                "partner's events"
            )
        signed = cps.list_checkpoints(conn, 1, checkpoint)
        if not signed:
            raise NotFound(
                "no checkpoint has been signed"
                + (f" at position {checkpoint}" if checkpoint else "")
            )
        cid, reason, s = signed[0]
        size = s.checkpoint.position
        if position > size:
            raise RuleViolation(
                f"the event at position {position} is after checkpoint {size}; ask for a later one"
            )
        proof = tree.inclusion_proof(conn, position, size)
    return InclusionProof(
        position=position,
        leaf_index=position - 1,
        tree_size=size,
        leaf_hash=tree.leaf_of(e).hex(),
        proof=[p.hex() for p in proof],
        event=event_json(e),
        checkpoint=_public(cid, reason, s),
    )

"""Signed checkpoints in storage, and the signing key outside it.

The key is an Ed25519 private key in a PEM file the database never sees: the path in
``POOLED_SIGNING_KEY_FILE``, or ``signing-key.pem`` under the data directory, created
(mode 0600) the first time it is asked for. Whoever can write the database cannot sign:
a rewritten history no longer matches the checkpoints already handed out.

``pooled checkpoint rotate-key`` replaces the key and keeps the retired keys' public
halves in a key ring beside it (``signing-key-ring.json``), so checkpoints signed
before still verify, by the key id each names.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import Connection, Engine, insert, select

from ledger.domain.checkpoint import (
    Checkpoint,
    SignedCheckpoint,
    key_id,
    load_keys,
    raw_public,
    ring_of,
    sign,
)
from ledger.store import tables as t
from ledger.store.reads import hash_at, read_head
from ledger.store.tree import root_at

KEY_FILE_NAME = "signing-key.pem"


def load_or_create_key(path: Path) -> Ed25519PrivateKey:
    """The private key in ``path``; a new one written there (0600) if there is none."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first: use theirs
            return load_or_create_key(path)
        with os.fdopen(fd, "wb") as f:
            f.write(pem)
        return key
    loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(loaded, Ed25519PrivateKey):
        raise ValueError(f"{path} does not hold an Ed25519 private key")
    return loaded


def ring_path(key_path: Path) -> Path:
    """The key ring beside the key file: the public halves of the retired keys."""
    return key_path.with_name(key_path.stem + "-ring.json")


def load_retired_keys(key_path: Path) -> dict[str, Ed25519PublicKey]:
    """The retired keys' public halves by key id (none before the first rotation)."""
    path = ring_path(key_path)
    if not path.exists():
        return {}
    return ring_of(load_keys(path.read_text(encoding="utf-8")))


def _write_atomically(path: Path, data: bytes, mode: int) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def rotate_key(key_path: Path, retired_at: str) -> tuple[str, str]:
    """Retire the key in ``key_path``: its public half joins the key ring (written
    first, so a crash between the two steps loses no public key), then a new key
    replaces it. Returns (old key id, new key id). Processes holding the old key sign
    with it until restarted; their checkpoints still verify (the ring has it)."""
    if not key_path.exists():
        raise FileNotFoundError(f"there is no signing key at {key_path} to rotate")
    old = load_or_create_key(key_path).public_key()
    ring_file = ring_path(key_path)
    data: dict[str, Any] = {"keys": []}
    if ring_file.exists():
        data = json.loads(ring_file.read_text(encoding="utf-8"))
    old_id = key_id(old)
    if all(e["key_id"] != old_id for e in data["keys"]):
        data["keys"].append(
            {"key_id": old_id, "public_key": raw_public(old).hex(), "retired_at": retired_at}
        )
    _write_atomically(ring_file, (json.dumps(data, indent=2) + "\n").encode(), 0o644)
    new = Ed25519PrivateKey.generate()
    pem = new.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    _write_atomically(key_path, pem, 0o600)
    return old_id, key_id(new.public_key())


def ledger_id(conn: Connection) -> str:
    return str(conn.execute(select(t.ledger_head.c.ledger_id)).scalar_one())


def checkpoint_at(conn: Connection, position: int | None, recorded_at: str) -> Checkpoint:
    """The (unsigned) checkpoint of the ledger at ``position`` (the head if None)."""
    if position is None:
        position = read_head(conn).position
    return Checkpoint(
        ledger_id(conn),
        position,
        root_at(conn, position).hex(),
        hash_at(conn, position),
        recorded_at,
    )


def take_checkpoint(
    engine: Engine,
    key: Ed25519PrivateKey,
    recorded_at: str,
    reason: str,
    position: int | None = None,
) -> SignedCheckpoint:
    """Sign the ledger as it stands at ``position`` (the head if None) and store it."""
    with engine.begin() as conn:
        signed = sign(key, checkpoint_at(conn, position, recorded_at))
        store(conn, signed, reason)
    return signed


def store(conn: Connection, signed: SignedCheckpoint, reason: str) -> None:
    cp = signed.checkpoint
    conn.execute(
        insert(t.checkpoints).values(
            ledger_id=cp.ledger_id,
            position=cp.position,
            root=cp.root,
            chain_head=cp.chain_head,
            recorded_at=cp.recorded_at,
            reason=reason,
            key_id=signed.key_id,
            signature=signed.signature,
        )
    )


def _signed(row: object) -> tuple[int, str, SignedCheckpoint]:
    r = row._mapping  # type: ignore[attr-defined]
    cp = Checkpoint(
        r["ledger_id"], int(r["position"]), r["root"], r["chain_head"], r["recorded_at"]
    )
    return int(r["checkpoint_id"]), r["reason"], SignedCheckpoint(cp, r["key_id"], r["signature"])


def list_checkpoints(
    conn: Connection, limit: int = 100, position: int | None = None
) -> list[tuple[int, str, SignedCheckpoint]]:
    """(id, reason, checkpoint), newest first; only those at ``position`` if given."""
    c = t.checkpoints.c
    q = select(t.checkpoints).order_by(c.checkpoint_id.desc()).limit(limit)
    if position is not None:
        q = q.where(c.position == position)
    return [_signed(r) for r in conn.execute(q)]


def all_checkpoints(conn: Connection) -> list[tuple[int, str, SignedCheckpoint]]:
    c = t.checkpoints.c
    return [_signed(r) for r in conn.execute(select(t.checkpoints).order_by(c.checkpoint_id))]

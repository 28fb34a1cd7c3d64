"""Signed checkpoints and Merkle proofs as responses (RFC 9162; hashes as hex)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from api.schemas.fields import response_config

_H = "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"
_CP = {
    "checkpoint_id": 7,
    "reason": "return filed eq 2025-26-Q2",
    "ledger_id": "0b4e8c6e-4d59-4a43-9c3f-6f1d2a3b4c5d",
    "position": 1200,
    "root": _H,
    "chain_head": _H,
    "recorded_at": "2026-11-23T09:47:50.123456Z",
    "key_id": _H,
    "signature": "ab" * 64,
}


class CheckpointPublic(BaseModel):
    """A signed checkpoint: Ed25519 over the canonical text of (ledger id, position,
    tree root, chain head, recorded time), see ``ledger.domain.checkpoint``."""

    model_config = response_config(_CP)
    checkpoint_id: int
    reason: str
    ledger_id: str
    position: int = Field(description="the tree's size: it covers positions 1..position")
    root: str = Field(description="the RFC 9162 Merkle tree hash over positions 1..position")
    chain_head: str = Field(description="the hash chain's value at position")
    recorded_at: str
    key_id: str = Field(description="SHA-256 of the raw Ed25519 public key")
    signature: str = Field(description="Ed25519 signature of the checkpoint's text, hex")


class CheckpointList(BaseModel):
    model_config = response_config({"checkpoints": [_CP]})
    checkpoints: list[CheckpointPublic]


_KEY = {"key_id": _H, "public_key_pem": "-----BEGIN PUBLIC KEY-----…"}


class RingKey(BaseModel):
    model_config = response_config(_KEY)
    key_id: str = Field(description="SHA-256 of the raw Ed25519 public key")
    public_key_pem: str


class SigningKey(BaseModel):
    """The key new checkpoints are signed with, and the key ring: every key this
    ledger's checkpoints may name (the current one first, then those rotated out)."""

    model_config = response_config({"algorithm": "Ed25519", **_KEY, "ring": [_KEY]})
    algorithm: str
    key_id: str
    public_key_pem: str
    ring: list[RingKey]


class ConsistencyProof(BaseModel):
    model_config = response_config(
        {"from_position": 1, "to_position": 8, "from_root": _H, "to_root": _H, "proof": [_H]}
    )
    from_position: int
    to_position: int
    from_root: str
    to_root: str
    proof: list[str] = Field(description="RFC 9162 2.1.4 consistency proof, hex")


class InclusionProof(BaseModel):
    model_config = response_config(
        {
            "position": 3,
            "leaf_index": 2,
            "tree_size": 1200,
            "leaf_hash": _H,
            "proof": [_H],
            "event": {"position": 3, "type": "contribution_recorded", "payload": "{…}"},
            "checkpoint": _CP,
        }
    )
    position: int
    leaf_index: int = Field(description="position - 1")
    tree_size: int
    leaf_hash: str = Field(description="SHA-256(0x00 || the event's canonical form)")
    proof: list[str] = Field(description="RFC 9162 2.1.3 inclusion proof (audit path), hex")
    event: dict[str, Any] = Field(description="the event's stored columns, as hashed")
    checkpoint: CheckpointPublic

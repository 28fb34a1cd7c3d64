"""Signed checkpoints: what the ledger commits to at a position, and the Ed25519
signature over it (imports only the standard library and ``cryptography``, so an
auditor's verifier can check them without the server).

A checkpoint names the ledger, a position (the tree's size), the Merkle tree's root
over positions 1..position (RFC 9162 2.1), the hash chain's head at that position and
the time it was signed. A signed checkpoint also names its key (``key_id``, the
SHA-256 of the raw public key), so checkpoints signed before a key rotation are checked
against the retired key that made them (a key ring). What is signed is its canonical
text: six lines, each a fixed
label, one space and the value, each ending in a newline (UTF-8)::

    pooled checkpoint v1
    ledger 7f1c...
    position 1200
    root 5dc9...        (hex)
    chain 9f2c...       (hex)
    recorded 2026-11-23T09:47:50.123456Z
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

HEADER = "pooled checkpoint v1"


@dataclass(frozen=True)
class Checkpoint:
    ledger_id: str
    position: int
    root: str  # hex
    chain_head: str  # hex
    recorded_at: str

    def message(self) -> bytes:
        return (
            f"{HEADER}\nledger {self.ledger_id}\nposition {self.position}\nroot {self.root}\n"
            f"chain {self.chain_head}\nrecorded {self.recorded_at}\n"
        ).encode()


@dataclass(frozen=True)
class SignedCheckpoint:
    checkpoint: Checkpoint
    key_id: str  # SHA-256 of the raw public key, hex
    signature: str  # Ed25519 over ``checkpoint.message()``, hex

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self.checkpoint), "key_id": self.key_id, "signature": self.signature}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SignedCheckpoint:
        cp = Checkpoint(
            str(data["ledger_id"]),
            int(data["position"]),
            str(data["root"]),
            str(data["chain_head"]),
            str(data["recorded_at"]),
        )
        return cls(cp, str(data["key_id"]), str(data["signature"]))


def raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(key: Ed25519PublicKey) -> str:
    return hashlib.sha256(raw_public(key)).hexdigest()


def public_pem(key: Ed25519PublicKey) -> str:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def load_public_key(text: str) -> Ed25519PublicKey:
    """A public key as PEM (SubjectPublicKeyInfo) or as 64 hex digits (raw)."""
    text = text.strip()
    if text.startswith("-----BEGIN"):
        key = serialization.load_pem_public_key(text.encode())
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("the public key is not an Ed25519 key")
        return key
    return Ed25519PublicKey.from_public_bytes(bytes.fromhex(text))


def sign(key: Ed25519PrivateKey, cp: Checkpoint) -> SignedCheckpoint:
    return SignedCheckpoint(cp, key_id(key.public_key()), key.sign(cp.message()).hex())


KeyRing = Mapping[str, Ed25519PublicKey]  # key id -> public key


def ring_of(keys: Iterable[Ed25519PublicKey]) -> dict[str, Ed25519PublicKey]:
    return {key_id(k): k for k in keys}


_PEM = re.compile(r"-----BEGIN PUBLIC KEY-----.*?-----END PUBLIC KEY-----", re.S)


def load_keys(text: str) -> list[Ed25519PublicKey]:
    """The public keys in a file: one key (PEM or 64 hex digits), several PEM blocks,
    a key ring (``{"keys": [{"public_key": ...}, ...]}``, as ``pooled checkpoint
    rotate-key`` keeps it) or the answer of ``GET /v1/checkpoints/key`` (the current
    key and its ``ring``)."""
    text = text.strip()
    if text.startswith("{"):
        data = json.loads(text)
        entries = [data, *data.get("ring", ()), *data.get("keys", ())]
        found = [e.get("public_key_pem") or e.get("public_key") for e in entries]
        return list(ring_of(load_public_key(k) for k in found if k).values())
    blocks = _PEM.findall(text)
    if len(blocks) > 1:
        return [load_public_key(b) for b in blocks]
    return [load_public_key(text)]


def ring_problem(ring: KeyRing, signed: SignedCheckpoint) -> str | None:
    """None when a key of ``ring`` made the signature; else what is wrong, naming the
    key id the checkpoint claims."""
    key = ring.get(signed.key_id)
    if key is None:
        return f"is signed by key {signed.key_id}, which is not one of the ledger's keys"
    if not signature_ok(key, signed):
        return f"is not signed by key {signed.key_id[:16]}, the key it names"
    return None


def signature_ok(key: Ed25519PublicKey, signed: SignedCheckpoint) -> bool:
    if signed.key_id != key_id(key):
        return False
    try:
        key.verify(bytes.fromhex(signed.signature), signed.checkpoint.message())
    except (InvalidSignature, ValueError):
        return False
    return True

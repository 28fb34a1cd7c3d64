"""The canonical form of a stored event and the hashes over it (standard library only).

The hash chain (domain.md section 9) and the Merkle tree's leaves (``merkle``) hash the
same bytes: the canonical JSON of an event's stored columns and its payload. This module
imports nothing but the standard library, so an auditor's verifier (``ledger.audit``)
can recompute both from an exported event without the server's code or database.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

ZERO_HASH = "00" * 32

# Every stored column but the hash itself goes into the chain, so changing any byte of
# a stored event is detected (the payload as the text first stored).
HASHED_COLUMNS = (
    "position",
    "event_id",
    "stream_id",
    "stream_version",
    "type",
    "schema_version",
    "effective_date",
    "recorded_at",
    "actor",
    "actor_role",
    "actor_partner_id",
    "token_id",
    "request_id",
    "request_meta",
    "pool_id",
    "partner_id",
    "counterparty_id",
    "scheme_id",
    "funding_stream",
    "year",
    "period",
    "reverses_event_id",
)


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


_PAYLOAD_SLOT = "\x00payload\x00"
_PAYLOAD_KEY = canonical_json({"payload": _PAYLOAD_SLOT})[1:-1]  # "payload":"\u0000..."


def canonical_row(row: dict[str, Any]) -> str:
    """The canonical JSON of a stored row: its columns and its payload object.

    The payload is stored in canonical form already, so its text is spliced in as it
    stands (identical to dumping the parsed object, without parsing it); a payload that
    is not canonical is caught by ``payload_is_canonical`` and changes the hash anyway.
    """
    body: dict[str, Any] = {}
    for col in HASHED_COLUMNS:
        v = row[col]
        body[col] = v.isoformat() if hasattr(v, "isoformat") else v
    body["payload"] = _PAYLOAD_SLOT
    return canonical_json(body).replace(_PAYLOAD_KEY, '"payload":' + row["payload"], 1)


def chain_hash(previous: str, row: dict[str, Any]) -> str:
    """``hash_n = SHA-256(hash_{n-1} || canonical_n)`` over raw bytes, as hex."""
    h = hashlib.sha256(bytes.fromhex(previous))
    h.update(canonical_row(row).encode("utf-8"))
    return h.hexdigest()


def payload_is_canonical(payload: str) -> bool:
    try:
        return canonical_json(json.loads(payload)) == payload
    except ValueError:
        return False

"""Either document (``Content``) in its canonical JSON form, and the content hash.

- **Hash.** ``content_hash`` is the SHA-256 of the canonical JSON document (UTF-8,
  keys sorted, no spaces, money as decimal strings) with ``cover.content_hash``
  removed: anyone holding the JSON can recompute it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Any, TypeVar

from ledger.domain.money import format_pence
from projections.returns.memorandum_document import MemorandumContent
from projections.returns.return_document import ReturnContent

Content = ReturnContent | MemorandumContent


def to_json_obj(value: Any) -> Any:
    """The JSON form of content: dataclasses as objects, tuples as arrays, money as
    decimal strings of pounds (``"-123.45"``)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out: dict[str, Any] = {}
        for f in dataclasses.fields(value):
            v = getattr(value, f.name)
            if v is None and f.metadata.get("omit_none"):
                continue
            if f.metadata.get("money") and v is not None:
                out[f.name] = format_pence(int(v))
            else:
                out[f.name] = to_json_obj(v)
        return out
    if isinstance(value, tuple | list):
        return [to_json_obj(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_json_obj(v) for k, v in value.items()}
    return value


def canonical_json(obj: Any) -> bytes:
    """UTF-8 JSON with keys sorted and no spaces: the bytes served and hashed."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def content_hash_of(document: dict[str, Any]) -> str:
    """SHA-256 of a JSON document (as parsed) without its ``cover.content_hash``."""
    doc = dict(document)
    doc["cover"] = {k: v for k, v in doc["cover"].items() if k != "content_hash"}
    return hashlib.sha256(canonical_json(doc)).hexdigest()


_C = TypeVar("_C", ReturnContent, MemorandumContent)


def sealed(content: _C) -> _C:
    """The content with its cover's ``content_hash`` filled in."""
    digest = content_hash_of(to_json_obj(content))
    cover = dataclasses.replace(content.cover, content_hash=digest)
    return dataclasses.replace(content, cover=cover)

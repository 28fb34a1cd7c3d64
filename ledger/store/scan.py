"""The verify loop: a pass over stored events that checks positions, payloads and the
hash chain and rebuilds the Merkle tree (reading them, in one process or several:
``ledger.store.scan_ranges``; the rest of the checks: ``ledger.store.verify``).

Speed without a weaker check (issue 16: 1,000,000 events at >= 100,000 events/s):

* the rows are the driver's plain tuples, the columns selected in the canonical form's
  key order;
* the canonical form is printed by orjson (C) from a dict built in sorted key order,
  the stored payload spliced in as it stands (``orjson.Fragment``): byte for byte
  ``hashing.canonical_row`` (a property over random rows and the golden events holds
  them equal), with ``canonical_row`` itself for anything orjson cannot print the
  same way (an integer column that is not an ``int``, an integer beyond 64 bits, a
  lone surrogate);
* "the payload is canonical" is decided by orjson when orjson's print of the parsed
  payload is the payload and holds no float (``payload_ok``), and by
  ``hashing.payload_is_canonical`` otherwise;
* the tree's frontier is a stack of complete subtrees updated in place (one node hash
  per event on average), kept only at the positions of stored checkpoints;
* a pass can cover any range of positions from a multiple of a power of two at least
  its length, chained onto the stored hash before it; ``combine`` joins such passes
  into the pass from position 1.

The offline verifier (``ledger.audit``) keeps the standard library's encoder: it must
run without the server's dependencies.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from hashlib import sha256
from typing import Any

import orjson

from ledger.domain import events as ev
from ledger.domain import merkle
from ledger.domain.hashing import HASHED_COLUMNS, ZERO_HASH, canonical_row, payload_is_canonical

KEYS = tuple(sorted((*HASHED_COLUMNS, "payload")))
_P = KEYS.index("payload")
_POS = KEYS.index("position")
_SV = KEYS.index("stream_version")
_SCH = KEYS.index("schema_version")
_SORT = orjson.OPT_SORT_KEYS
_TYPE = len(KEYS)  # the type column again, then the hash, after the canonical keys
_HASH = len(KEYS) + 1
COLUMNS_SELECTED = f"{', '.join(KEYS)}, type, hash"  # the canonical keys, then type and hash
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')  # a JSON string, escapes and all
_RETURN = ev.ReturnGenerated.type
_STORED = merkle.STORED_FROM_LEVEL


def canonical_of(row: Sequence[Any], body: dict[str, Any] | None = None) -> bytes:
    """``canonical_row`` of a row whose first values are in ``KEYS`` order, as UTF-8.
    ``body``: a dict to reuse (the loop passes one, so no dict is made per event)."""
    if body is None:
        body = {}
    body.update(zip(KEYS, row, strict=False))  # the type and hash after them are left
    eff = body["effective_date"]
    if eff is not None and not isinstance(eff, str):
        body["effective_date"] = eff.isoformat()
    ints = (body["position"], body["stream_version"], body["schema_version"])
    if type(ints[0]) is type(ints[1]) is type(ints[2]) is int:
        body["payload"] = orjson.Fragment(row[_P])
        try:
            return orjson.dumps(body)
        except (orjson.JSONEncodeError, TypeError):
            body["payload"] = row[_P]
    return canonical_row(body).encode("utf-8")


def payload_ok(payload: str) -> tuple[bool, Any]:
    """(is the payload in canonical form, its parsed value when orjson decided).

    orjson decides only when its own print of the payload is the payload and holds no
    float: orjson prints every float with ``.``, ``e+`` or ``e-``, so a text holding
    none of them outside its strings holds no float (``true``, ``false`` and ``null``
    have none). An integer beyond 64 bits orjson reads as a float, so its print
    differs. Anything else is decided by ``hashing.payload_is_canonical``."""
    try:
        text = payload.encode("utf-8")
        value = orjson.loads(text)
        if orjson.dumps(value, option=orjson.OPT_SORT_KEYS) == text and (
            not _float_marks(text) or not _float_marks(_STRING.sub(b"", text))
        ):
            return True, value
    except (UnicodeEncodeError, orjson.JSONDecodeError, orjson.JSONEncodeError):
        pass
    return payload_is_canonical(payload), None


def _float_marks(text: bytes) -> bool:
    return b"." in text or b"e+" in text or b"e-" in text


@dataclass
class Part:
    """What the pass over the positions after ``start`` found: the events that passed
    from ``start + 1`` (``checked``), the last one's hash, the chain heads filed returns
    recorded (as-at position, head, the return's position), the range's own complete
    subtrees (its local frontier: leaves counted from ``start``) at its end and at each
    wanted position, or the first problem."""

    start: int
    checked: int = 0
    prev: str = ZERO_HASH
    heads: list[tuple[int, str, int]] = field(default_factory=list)
    stack: list[bytes] = field(default_factory=list)
    stacks: dict[int, list[bytes]] = field(default_factory=dict)
    # the complete subtrees storage keeps (``merkle.STORED_FROM_LEVEL`` and up) the
    # range completes, as (``merkle_nodes.node``, hash)
    nodes: list[tuple[int, bytes]] = field(default_factory=list)
    bad_position: int | None = None
    problem: str | None = None


@dataclass
class Scan:
    """What the whole pass found: the events checked, the last hash, the recorded chain
    heads, the tree's frontier and its roots at the ``wanted`` sizes, or the first
    problem."""

    checked: int = 0
    prev: str = ZERO_HASH
    heads: list[tuple[int, str, int]] = field(default_factory=list)
    frontier: list[bytes] = field(default_factory=list)
    nodes: list[tuple[int, bytes]] = field(default_factory=list)  # as ``Part.nodes``
    roots: dict[int, bytes] = field(default_factory=lambda: {0: merkle.EMPTY_ROOT})
    bad_position: int | None = None
    problem: str | None = None


def scan_rows(
    rows: Iterable[Sequence[Any]],
    wanted: Collection[int],
    start: int = 0,
    prev_hex: str = ZERO_HASH,
) -> Part:
    """The pass over rows as ``SELECT`` gives them, expected to hold positions
    ``start + 1`` on, the first chained onto ``prev_hex``: stops at the first bad one.
    ``start`` is 0 or a multiple of a power of two at least the range's length, so the
    range's complete subtrees are the tree's (``combine``)."""
    s = Part(start)
    body: dict[str, Any] = dict.fromkeys(KEYS)  # in key order, refilled for each event
    prev = bytes.fromhex(prev_hex)
    stack, kept = s.stack, s.nodes
    # what ``payload_ok`` and ``canonical_of`` do, inline for the common case (a payload
    # without float marks, integer columns that are ``int``); the functions decide the rest
    loads, dumps, fragment, sort = orjson.loads, orjson.dumps, orjson.Fragment, _SORT
    refill = body.update
    n = start
    for row in rows:
        position = row[_POS]
        if position != n + 1:
            s.bad_position, s.problem = n + 1, f"position {n + 1} is missing (found {position})"
            break
        payload = row[_P]
        try:
            text = payload.encode()
            value = loads(text)
            ok = dumps(value, option=sort) == text
            if ok and (
                text.find(b".") >= 0
                or (text.find(b"+") >= 0 and text.find(b"e+") >= 0)
                or text.find(b"e-") >= 0
            ):  # a float mark: is it outside the strings?
                ok = not _float_marks(_STRING.sub(b"", text))
        except (UnicodeEncodeError, orjson.JSONDecodeError, orjson.JSONEncodeError):
            ok = False
        if not ok:
            ok, value = payload_ok(payload)
            if not ok:
                s.bad_position = position
                s.problem = f"event at position {position} has a payload that is not as stored"
                break
        refill(zip(KEYS, row, strict=False))  # the type and hash after them are left
        eff = body["effective_date"]
        if eff is not None and type(eff) is not str:
            body["effective_date"] = eff.isoformat()
        if type(position) is int and type(row[_SV]) is int and type(row[_SCH]) is int:
            body["payload"] = fragment(payload)
            try:
                canonical = dumps(body)
            except (orjson.JSONEncodeError, TypeError):
                canonical = canonical_of(row)
        else:
            canonical = canonical_of(row)
        digest = sha256(prev + canonical).digest()
        digest_hex = digest.hex()
        if digest_hex != row[_HASH]:
            s.bad_position = position
            s.problem = f"event at position {position} does not match its hash"
            break
        if row[_TYPE] == _RETURN:
            data = value if value is not None else json.loads(row[_P])
            s.heads.append((int(data["as_at_position"]), str(data["chain_head"]), position))
        # the leaf, then the complete subtrees it completes (RFC 9162 2.1)
        h = sha256(b"\x00" + canonical).digest()
        index = n - start
        level = 0
        while index & 1:
            h = sha256(b"\x01" + stack.pop() + h).digest()
            index >>= 1
            level += 1
            if level >= _STORED:
                kept.append(((n >> level) << 6 | level, h))
        stack.append(h)
        prev, prev_hex, n = digest, digest_hex, n + 1
        if n in wanted:
            s.stacks[n] = stack.copy()
    s.checked, s.prev = n - start, prev_hex
    return s


def combine(parts: Iterable[Part], chunk: int | None = None) -> Scan:
    """The whole pass from the passes over consecutive ranges: each ``chunk`` positions
    (a power of two) from a multiple of it, the last possibly shorter, or one range
    from position 1 (``chunk`` None). A full range's tree is one complete subtree, so
    the tree's frontier is the full ranges' subtrees, merged as an append merges
    leaves, then the last range's own; the first problem decides."""
    s = Scan()
    merged: list[bytes] = []  # the complete subtrees of the full ranges so far
    for part in parts:
        s.heads.extend(part.heads)
        s.nodes.extend(part.nodes)
        for position, local in part.stacks.items():
            s.roots[position] = merkle.fold(merged + local)
        s.checked, s.prev = part.start + part.checked, part.prev
        if part.problem is None and chunk is not None and part.checked == chunk:
            above, merged = merkle.append_leaves(part.start // chunk, merged, part.stack, 1)
            level = chunk.bit_length() - 1  # the ranges' subtrees are this level's
            s.nodes += [(i << 6 | level + lv, h) for (lv, i), h in above if level + lv >= _STORED]
            s.frontier = merged
        else:  # the last range, or the one with the problem: the tree up to its end
            s.frontier = merged + part.stack
        if part.problem is not None:
            s.bad_position, s.problem = part.bad_position, part.problem
            return s
    return s

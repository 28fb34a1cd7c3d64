"""The write path's fast canonical form (orjson) is byte for byte the canonical form
of section 9 (``json.dumps`` with sorted keys, compact, UTF-8), so hashes made on the
write path verify, and verify's recomputation agrees, whichever encoder made them."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from ledger.store.serialization import (
    HASHED_COLUMNS,
    canonical_bytes,
    canonical_json,
    chain_hash,
    chain_hash_of,
)
from projections.rows import load_payload

# what events and rows hold: text (any code point but lone surrogates), integers within
# 64 bits, booleans, null, lists and objects; never floats (decimals are strings)
_text = st.text(st.characters(blacklist_categories=("Cs",)))
_scalars = st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | _text
json_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_text, inner, max_size=4),
    max_leaves=20,
)


@given(json_values)
def test_the_fast_form_is_the_canonical_form(value: Any) -> None:
    assert canonical_bytes(value) == canonical_json(value).encode("utf-8")


def test_an_integer_beyond_64_bits_still_gets_the_canonical_form() -> None:
    value = {"b": 2**70, "a": "é"}
    assert canonical_bytes(value) == canonical_json(value).encode("utf-8")


@given(
    st.fixed_dictionaries({c: _text | st.none() | st.integers(0, 10**9) for c in HASHED_COLUMNS}),
    st.dictionaries(_text, json_values, max_size=4),
    st.binary(min_size=32, max_size=32),
)
def test_the_write_path_hash_is_the_chain_hash(
    columns: dict[str, Any], payload_obj: dict[str, Any], previous: bytes
) -> None:
    payload = canonical_json(payload_obj)
    row = {**columns, "payload": payload}
    assert chain_hash_of(previous.hex(), columns, payload) == chain_hash(previous.hex(), row)


@given(json_values | st.integers(min_value=-(10**40), max_value=10**40))
def test_the_projector_reads_a_payload_exactly_as_json_does(value: Any) -> None:
    text = canonical_json({"v": value})
    parsed = load_payload(text)
    assert parsed == json.loads(text)
    assert repr(parsed) == repr(json.loads(text))  # an int stays an int, however long

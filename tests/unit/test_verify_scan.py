"""verify's fast loop (``ledger.store.scan``) decides exactly what the canonical form of
section 9 decides: its orjson print of a stored row is ``canonical_row`` byte for byte,
and its "payload is canonical" is ``payload_is_canonical``, for any row and any text,
including the numbers orjson reads or prints differently from ``json``."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from ledger.domain.hashing import (
    HASHED_COLUMNS,
    ZERO_HASH,
    canonical_json,
    canonical_row,
    chain_hash,
)
from ledger.domain.hashing import payload_is_canonical as by_json
from ledger.store.scan import KEYS, canonical_of, payload_ok, scan_rows

GOLDEN = Path(__file__).parents[1] / "golden" / "events_v1.json"

_text = st.text(st.characters(codec="utf-8"))  # no lone surrogates
_any_text = st.text()  # lone surrogates too
_ints = st.integers(-(2**63), 2**63 - 1)
_scalars = (
    st.none()
    | st.booleans()
    | _ints
    | st.integers(-(10**30), 10**30)
    | st.floats()
    | st.sampled_from([1e16, 1e-05, 1.5e-07, 0.1, 1e300, 2.0**64, -0.0])
    | _any_text
)
values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_any_text, inner, max_size=4),
    max_leaves=12,
)
_column = _text | st.none() | _ints | st.integers(-(10**25), 10**25)


def _ok(text: str) -> bool:
    return payload_ok(text)[0]


@given(values)
def test_the_fast_payload_check_is_the_canonical_check(value: Any) -> None:
    try:
        canonical = canonical_json(value)
    except ValueError:  # not every float is JSON; json refuses nothing else here
        return
    for text in (
        canonical,
        json.dumps(value, sort_keys=True, ensure_ascii=False),  # with spaces
        json.dumps(value, separators=(",", ":"), ensure_ascii=True),  # escaped, unsorted
    ):
        assert _ok(text) == by_json(text), text


@given(st.text(max_size=30))
def test_any_text_gets_the_same_answer(text: str) -> None:
    assert _ok(text) == by_json(text)


def test_numbers_orjson_prints_differently() -> None:
    # json prints 1e-05 where orjson prints 0.00001; orjson reads 2**64 as a float
    assert (_ok('{"a":1e-05}'), _ok('{"a":0.00001}')) == (True, False)
    assert _ok('{"a":18446744073709551616}') is True
    assert _ok('{"a":1.5e-07}') is True and _ok('{"a":1.5e-7}') is False
    assert _ok('{"a":"1.5e-7 and 0.00001"}') is True  # in a string: orjson decides
    assert _ok('{"a":NaN}') is True and _ok('{"a":1,"a":2}') is False


@given(
    st.fixed_dictionaries({c: _column for c in HASHED_COLUMNS if c != "effective_date"}),
    st.none() | st.dates() | _text,
    st.dictionaries(_text, values, max_size=4),
)
def test_the_fast_row_is_the_canonical_row(
    columns: dict[str, Any], effective: Any, payload_obj: dict[str, Any]
) -> None:
    try:
        payload = canonical_json(payload_obj)
    except ValueError:
        return
    row = {**columns, "effective_date": effective, "payload": payload}
    as_selected = (*(row[k] for k in KEYS), "some_type", "00" * 32)
    assert canonical_of(as_selected) == canonical_row(row).encode("utf-8")


def test_the_golden_events_take_the_fast_path_and_agree() -> None:
    golden = json.loads(GOLDEN.read_text())
    assert len(golden) == 31  # every event type, the three end-of-year ones included
    for name, stored in golden.items():
        payload = canonical_json(stored["payload"])
        ok, parsed = payload_ok(payload)
        assert ok and parsed == stored["payload"], name  # decided by orjson itself
        row: dict[str, Any] = dict.fromkeys(HASHED_COLUMNS)
        row |= {"position": 7, "stream_version": 3, "schema_version": 1, "type": name}
        row |= {"effective_date": date(2025, 7, 3), "payload": payload}
        as_selected = (*(row[k] for k in KEYS), name, "00" * 32)
        assert canonical_of(as_selected) == canonical_row(row).encode("utf-8"), name


def _one_event_pass(columns: dict[str, Any], effective: Any, payload: str) -> Any:
    """The loop over one stored event whose hash was made over its columns as stored."""
    row = {**columns, "position": 1, "effective_date": effective, "payload": payload}
    stored_hash = chain_hash(ZERO_HASH, row)
    return scan_rows([(*(row[k] for k in KEYS), "some_type", stored_hash)], ())


@given(
    st.fixed_dictionaries({c: _column for c in HASHED_COLUMNS if c != "effective_date"}),
    st.none() | st.dates() | _text,
    values,
    st.sampled_from(["canonical", "spaced", "escaped"]),
)
def test_the_loop_accepts_a_stored_payload_exactly_when_it_is_canonical(
    columns: dict[str, Any], effective: Any, value: Any, form: str
) -> None:
    # given an event whose stored payload is some JSON text, hashed as stored
    try:
        if form == "canonical":
            payload = canonical_json(value)
        elif form == "spaced":
            payload = json.dumps(value, sort_keys=True, ensure_ascii=False)
        else:
            payload = json.dumps(value, separators=(",", ":"), ensure_ascii=True)
    except ValueError:
        return
    # when the verify loop checks it (its inline fast path, or the functions)
    found = _one_event_pass(columns, effective, payload)
    # then it passes exactly when json's canonical form is the text, and its hash matches
    if by_json(payload):
        assert found.problem is None and found.checked == 1
    else:
        assert found.problem == "event at position 1 has a payload that is not as stored"


def test_the_loop_decides_floats_and_marks_in_strings_as_json_does() -> None:
    columns = dict.fromkeys(HASHED_COLUMNS, "x") | {"stream_version": 1, "schema_version": 1}
    for payload, accepted in [
        ('{"a":1e-05}', True),
        ('{"a":0.00001}', False),
        ('{"a":1.5e-7}', False),
        ('{"a":"St. Mary\'s, 1.5e-7 and 2e+3"}', True),
        ('{"a":18446744073709551616}', True),
        ('{"a":1,"a":2}', False),
    ]:
        found = _one_event_pass(columns, "2025-07-01", payload)
        assert (found.problem is None) is accepted, payload

"""Golden files of the demo's 2025-26 Q2 BCF return (reviewed by hand once, kept in
tests/golden/): its JSON, and the workbook's sheet list with each sheet's header row.
Volatile values (event ids, the chain and content hashes, which hang on random event
ids) are blanked before comparing. Regenerate deliberately with POOLED_WRITE_GOLDEN=1."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from filing.documents import fetch_return
from tests.integration import test_demo
from tests.integration.test_demo import Loaded

# one xdist worker loads the demo for every module that uses it (tests/demo_fixtures.py)
pytestmark = pytest.mark.xdist_group("demo")

loaded = test_demo.loaded  # the shared demo (read only), as test_demo reads it
GOLDEN = Path(__file__).parent.parent / "golden"
QUARTER = "2025-26-Q2"
VOLATILE = {"event_id", "chain_head", "content_hash", "reference_data_hash"}


def _blank(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: ("…" if k in VOLATILE else _blank(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_blank(v) for v in value]
    return value


def _check(name: str, actual: Any) -> None:
    path = GOLDEN / name
    text = json.dumps(actual, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    if os.environ.get("POOLED_WRITE_GOLDEN") == "1":
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def test_the_demo_q2_return_json_is_the_golden_one(loaded: Loaded) -> None:
    doc = fetch_return(
        loaded.ledger.engine, "mid-notts-bcf", QUARTER, "json", loaded.summary.last_position
    )
    _check("demo_return_2025-26-Q2.json", _blank(json.loads(doc.content)))


def test_the_demo_q2_workbook_sheets_and_header_rows_are_the_golden_ones(loaded: Loaded) -> None:
    doc = fetch_return(
        loaded.ledger.engine, "mid-notts-bcf", QUARTER, "xlsx", loaded.summary.last_position
    )
    wb = openpyxl.load_workbook(io.BytesIO(doc.content))
    sheets = [
        {"sheet": ws.title, "header": list(next(ws.iter_rows(values_only=True)))} for ws in wb
    ]
    _check("demo_return_2025-26-Q2_sheets.json", sheets)

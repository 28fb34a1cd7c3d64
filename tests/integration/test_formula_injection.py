"""Filed returns and memoranda never carry a live formula: every text cell a finance
officer or an administrator could have typed (references, partner, pool, scheme and
stream names, explanations) is written as text, in the workbook and in the CSV zip
(OWASP's CSV injection rule); money stays money."""

from __future__ import annotations

import csv
import dataclasses
import io
import re
import zipfile
from collections.abc import Iterator
from datetime import UTC, date, datetime
from itertools import cycle
from typing import Any

import openpyxl
import pytest

from filing.documents import get_return
from filing.lifecycle import generate_return
from filing.render.csv_zip import render_csv_zip
from filing.render.sheets import sheets_of
from filing.render.xlsx import render_xlsx
from ledger.clock import FixedClock
from ledger.handlers import Ledger
from ledger.store.reads import read_head
from projections.returns.build_memorandum import build_memorandum_content
from projections.returns.build_return import build_return_content
from projections.returns.canonical import Content
from tests.builders import ADMIN, spend
from tests.integration.test_returns import (
    HOST,
    POOL,
    Q1,
    Q2,
    csv_files,
    given_a_correction_after_q1_is_filed,
    given_q1_activity,
    set_clock,
)

PAYLOADS = (
    '=HYPERLINK("http://x","y")',
    "=cmd|' /C calc'!A0",
    "+1",
    "-1+1",
    "@SUM(A1)",
    "\t=1",
    "\r=1",
)
# fields the renderer reads as numbers, statuses or instants, or the layout (reference
# data), not as free text
NOT_TEXT = {"data_as_at", "content_hash", "layout", "sheets", "status", "target", "actual", "share"}
# an XML reader turns a carriage return into a line feed (the cell is still text)
READ_BACK = {p.replace("\r", "\n"): p for p in PAYLOADS}
NEGATIVE_MONEY = re.compile(r"^-[0-9]+\.[0-9]{2}$")


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2025, 7, 31, 7, 0, tzinfo=UTC))


def poisoned(obj: Any, payloads: Iterator[str]) -> Any:
    """``obj`` with every text field replaced by the next payload."""
    if isinstance(obj, str):
        return next(payloads)
    if isinstance(obj, tuple):
        return tuple(poisoned(x, payloads) for x in obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        changes = {
            f.name: poisoned(getattr(obj, f.name), payloads)
            for f in dataclasses.fields(obj)
            if f.name not in NOT_TEXT
        }
        return dataclasses.replace(obj, **changes)
    return obj


def _contents(ledger: Ledger, clock: FixedClock) -> list[Content]:
    """A Q2 return listing prior-period adjustments, and the year's memorandum."""
    given_a_correction_after_q1_is_filed(ledger, clock)
    ledger.execute(spend(POOL, "carers", "10.00", date(2025, 9, 2)), HOST)
    with ledger.engine.connect() as conn:
        at = read_head(conn).position
        return [
            build_return_content(conn, POOL, Q2, at),
            build_memorandum_content(conn, POOL, "2025-26", at),
        ]


def _xlsx_cells(data: bytes) -> dict[str, list[Any]]:
    wb = openpyxl.load_workbook(io.BytesIO(data))
    return {ws.title: [cell for row in ws.iter_rows() for cell in row] for ws in wb}


def test_every_text_cell_of_a_return_and_a_memorandum_is_text_in_the_workbook_and_the_csv(
    ledger: Ledger, clock: FixedClock
) -> None:
    for content in _contents(ledger, clock):
        # given a document whose every text field holds a formula payload
        bad = poisoned(content, cycle(PAYLOADS))
        sheets = sheets_of(bad)
        expected = {
            s.title: sum(1 for row in s.rows for c in row if isinstance(c, str) and c in PAYLOADS)
            for s in sheets
        }
        carrying = [t for t, n in expected.items() if n]
        assert len(carrying) >= len(sheets) - 1  # every sheet of text (all, or all but one)

        # when it is rendered as a workbook
        workbook = render_xlsx(bad)
        archive = zipfile.ZipFile(io.BytesIO(workbook))
        for name in archive.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in archive.read(name) and b"<f " not in archive.read(name)
        seen: set[str] = set()
        for title, cells in _xlsx_cells(workbook).items():
            assert all(c.data_type != "f" for c in cells), title
            hits = [c for c in cells if c.value in READ_BACK]
            # then each payload reads back as the very text, a string cell quote-prefixed
            assert len(hits) == expected[title], title
            assert all(c.data_type == "s" and c.quotePrefix for c in hits), title
            seen |= {READ_BACK[c.value] for c in hits}
        assert seen == set(PAYLOADS)

        # and in the CSV zip each is prefixed with an apostrophe; only money starts with -
        files = csv_files(render_csv_zip(bad))
        quoted: set[str] = set()
        for s in sheets:
            text = files[f"{s.key}.csv"]
            cells = [c for row in csv.reader(io.StringIO(text, newline="")) for c in row]
            risky = [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
            assert all(NEGATIVE_MONEY.match(c) for c in risky), (s.key, risky)
            found = [c for c in cells if c.startswith("'") and c[1:] in PAYLOADS]
            assert len(found) == expected[s.title], s.key
            quoted |= {c[1:] for c in found}
        assert quoted == set(PAYLOADS)


def test_a_reference_typed_as_a_formula_is_filed_as_text(ledger: Ledger, clock: FixedClock) -> None:
    # given Q1 filed, then a late Q1 invoice whose reference is a formula
    given_q1_activity(ledger)
    generate_return(ledger, POOL, Q1, ADMIN)
    set_clock(clock, datetime(2025, 9, 10, 9, 0, tzinfo=UTC))
    payload = PAYLOADS[0]
    ledger.execute(
        spend(POOL, "adaptations", "5000.00", date(2025, 6, 28), ppa=True, reference=payload),
        HOST,
    )
    # when Q2 is filed
    set_clock(clock, datetime(2025, 10, 31, 7, 0, tzinfo=UTC))
    generate_return(ledger, POOL, Q2, ADMIN)
    workbook = get_return(ledger.engine, POOL, Q2, "xlsx", None)[0]
    # then the adjustments sheet holds the reference as text, and the amount as money
    ws = openpyxl.load_workbook(io.BytesIO(workbook))["Prior Period Adjustments"]
    reference, amount = ws.cell(row=2, column=9), ws.cell(row=2, column=8)
    assert (reference.value, reference.data_type, reference.quotePrefix) == (payload, "s", True)
    assert (amount.value, amount.data_type) == (5000, "n")
    lines = csv_files(get_return(ledger.engine, POOL, Q2, "csv", None)[0])
    assert '"\'=HYPERLINK(""http://x"",""y"")"' in lines["prior_period_adjustments.csv"]

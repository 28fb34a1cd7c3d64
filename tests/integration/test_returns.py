"""Quarterly BCF returns (domain.md 6.7) on SQLite and PostgreSQL: the filed workbook
checked cell by cell against hand-computed figures, byte-identical serving, drafts as
at the filed position, closing, prior-period adjustments, truncation detection, and
a LibreOffice conversion of the workbook."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import threading
import zipfile
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from freezegun import freeze_time
from sqlalchemy import Engine, select, text

from filing import lifecycle
from filing.documents import fetch_return, get_return
from filing.documents import verify_filed_returns as verify_returns
from filing.lifecycle import generate_return
from filing.records import ReturnRecord, filed_record, list_returns
from filing.render.formats import render_all
from filing.render.xlsx import render_xlsx
from ledger.clock import FixedClock
from ledger.domain import commands as c
from ledger.domain.errors import Forbidden, PeriodClosed, RuleViolation, ValidationFailed
from ledger.handlers import Ledger
from ledger.refdata import default_catalogue
from ledger.store import tables as lt
from ledger.store.engine import make_engine
from ledger.store.reads import hash_at, read_head, read_range
from ledger.store.serialization import chain_hash
from ledger.store.verify import verify
from projections.projector import Projector
from projections.returns.build_return import build_return_content
from projections.returns.canonical import content_hash_of
from tests.builders import ADMIN, contribution, given_bcf_pool, officer, pounds, spend
from tests.conftest import owner
from tests.return_parts_builders import Q1_METRICS, complete_parts

POOL = "bcf"
HOST = officer("ncc")
ICB = officer("icb-a")
Q1, Q2 = "2025-26-Q1", "2025-26-Q2"
NO_FORECAST = "no scheme forecast"  # a scheme's outturn cell while it has none


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2025, 7, 31, 7, 0, tzinfo=UTC))


def set_clock(clock: FixedClock, when: datetime) -> None:
    clock.advance(seconds=(when - clock.now()).total_seconds())


def metric(metric_id: str, period: str, target: str, actual: str) -> c.RecordMetric:
    return c.RecordMetric(
        pool_id=POOL,
        metric_id=metric_id,
        period=period,
        target=Decimal(target),
        actual=Decimal(actual),
    )


def given_q1_activity(ledger: Ledger) -> None:
    """The BCF pool of tests.builders, with a quarter's money and metrics:
    income 250,000.00 (minimum NHS) + 50,000.00 (DFG); spend carers 100,000.00,
    adaptations 30,000.00 less a 1,000.00 credit; three metrics (amber, green, red)."""
    given_bcf_pool(ledger, pool_id=POOL)
    ledger.execute(
        contribution(
            POOL, "icb-a", "250000.00", date(2025, 5, 1), stream="minimum_nhs_contribution"
        ),
        HOST,
    )
    ledger.execute(
        contribution(POOL, "ncc", "50000.00", date(2025, 6, 15), stream="dfg", reference="DFG"),
        HOST,
    )
    ledger.execute(spend(POOL, "carers", "100000.00", date(2025, 6, 1)), HOST)
    ledger.execute(spend(POOL, "adaptations", "30000.00", date(2025, 6, 20)), HOST)
    ledger.execute(
        c.CreditExpenditure(
            pool_id=POOL,
            scheme_id="adaptations",
            amount=pounds("1000.00"),
            effective_date=date(2025, 6, 25),
            reference="CN-17",
        ),
        HOST,
    )
    ledger.execute(metric("residential-admissions", Q1, "100", "104"), HOST)  # amber
    ledger.execute(metric("emergency-admissions-65-plus", Q1, "200", "190"), HOST)  # green
    ledger.execute(metric("discharged-on-discharge-ready-date", Q1, "90", "80"), HOST)  # red


def rows(workbook: bytes, title: str) -> list[tuple[Any, ...]]:
    wb = openpyxl.load_workbook(io.BytesIO(workbook))
    return [tuple(r) for r in wb[title].iter_rows(values_only=True)]


def by_first(table: list[tuple[Any, ...]]) -> dict[Any, tuple[Any, ...]]:
    return {r[0]: r for r in table[1:]}


def cell_values(workbook: bytes) -> dict[str, list[tuple[Any, ...]]]:
    wb = openpyxl.load_workbook(io.BytesIO(workbook))
    return {ws.title: [tuple(r) for r in ws.iter_rows(values_only=True)] for ws in wb}


def csv_files(data: bytes) -> dict[str, str]:
    z = zipfile.ZipFile(io.BytesIO(data))
    return {n: z.read(n).decode("utf-8-sig") for n in z.namelist()}


def doc(ledger: Ledger, quarter: str, fmt: str, position: int | None = None) -> bytes:
    return get_return(ledger.engine, POOL, quarter, fmt, position)[0]


# --- the filed workbook, against figures computed by hand ---------------------------------


def test_the_filed_workbook_holds_the_hand_computed_figures(ledger: Ledger) -> None:
    given_q1_activity(ledger)
    record = generate_return(ledger, POOL, Q1, ADMIN)
    wb_bytes = doc(ledger, Q1, "xlsx")
    wb = openpyxl.load_workbook(io.BytesIO(wb_bytes))
    # the national template's order, the Checklist first (issue 14 added the part sheets)
    assert wb.sheetnames == [
        "Checklist",
        "Cover",
        "National Conditions",
        "Metrics",
        "Metric Assessments",
        "Spend and Activity",
        "Income",
        "Expenditure",
        "Expenditure by Scheme Type",
        "Expenditure by Commissioner",
        "Ring-fence Checks",
        "Partner Balances and Risk Share",
        "Prior Period Adjustments",
    ]

    cover = {r[0]: r[1] for r in rows(wb_bytes, "Cover")[1:]}
    assert cover["Filed Late"] == "Yes"  # filed 31 July, due 30 July
    assert cover["All Parts Complete"] == "No"
    assert cover["Health and Wellbeing Board"] == "Nottinghamshire"
    assert cover["HWB ONS Code"] == "E10000024"
    assert cover["Quarter"] == Q1
    assert cover["Due Date"] == "2025-07-30"
    assert cover["As-At Position"] == record.as_at_position
    assert cover["Chain Head (SHA-256)"] == record.chain_head
    assert cover["Content Hash (SHA-256)"] == record.content_hash
    assert cover["Data As At"] == record.data_as_at == "2025-07-31T07:00:00.000000Z"

    income = by_first(rows(wb_bytes, "Income"))
    #              planned      in quarter  year to date  previous YTD  adjustments
    assert income["Minimum NHS Contribution"][2:] == (1000000, 250000, 250000, 0, 0)
    assert income["Disabled Facilities Grant (DFG)"][2:] == (200000, 50000, 50000, 0, 0)
    assert income["Local Authority Better Care Grant"][2:] == (0, 0, 0, 0, 0)
    assert income["Total"][2:] == (1200000, 300000, 300000, 0, 0)

    spend_rows = by_first(rows(wb_bytes, "Expenditure"))
    assert spend_rows["carers"][1:6] == (
        "Carers' breaks",
        "Carers Services",
        "Joint",
        "Charity / Voluntary Sector",
        "Minimum NHS Contribution",
    )
    # no forecast is recorded: a scheme's forecast outturn is not its plan but "none"
    nf = NO_FORECAST
    # then the joint split (% NHS, % LA) and the reconciliation columns
    assert spend_rows["carers"][6:] == (450000, 100000, 100000, nf, "40", "60", 0, 0)
    assert spend_rows["adaptations"][6:] == (200000, 29000, 29000, nf, None, None, 0, 0)
    assert spend_rows["total"][6:] == (650000, 129000, 129000, nf, None, None, 0, 0)

    assert by_first(rows(wb_bytes, "Expenditure by Scheme Type")) == {
        "Carers Services": ("Carers Services", 450000, 100000, 100000, nf),
        "DFG Related Schemes": ("DFG Related Schemes", 200000, 29000, 29000, nf),
        "Total": ("Total", 650000, 129000, 129000, nf),
    }
    # the joint carers scheme splits 60/40 between the LA and the ICB
    assert by_first(rows(wb_bytes, "Expenditure by Commissioner")) == {
        "Local Authority": ("Local Authority", 470000, 89000, 89000, nf),
        "NHS": ("NHS", 180000, 40000, 40000, nf),
        "Total": ("Total", 650000, 129000, 129000, nf),
    }

    balances = by_first(rows(wb_bytes, "Partner Balances and Risk Share"))
    assert balances["icb-a"][2:6] == (1000000, 250000, 0, 0)
    assert balances["icb-a"][6] == pytest.approx(0.8333333333)
    assert balances["icb-a"][7:] == (0, 1000000, 750000)  # no risk share on spend to date
    assert balances["ncc"][2:] == (
        200000,
        50000,
        0,
        0,
        pytest.approx(0.1666666667),
        0,
        200000,
        150000,
    )
    assert balances["total"][2:] == (1200000, 300000, 0, 0, None, 0, 1200000, 900000)

    metrics = by_first(rows(wb_bytes, "Metrics"))
    assert metrics["residential-admissions"][3:] == (Q1, 100, 104, "Amber")
    assert metrics["emergency-admissions-65-plus"][3:] == (Q1, 200, 190, "Green")
    assert metrics["discharged-on-discharge-ready-date"][3:] == (Q1, 90, 80, "Red")

    assert rows(wb_bytes, "Prior Period Adjustments")[1:] == []  # the first return


def test_the_workbook_is_laid_out_like_the_template(ledger: Ledger) -> None:
    given_q1_activity(ledger)
    generate_return(ledger, POOL, Q1, ADMIN)
    wb = openpyxl.load_workbook(io.BytesIO(doc(ledger, Q1, "xlsx")))
    layout = default_catalogue().for_year("2025-26")
    assert layout is not None
    for sheet in layout.return_layout.sheets:
        ws = wb[sheet.title]
        header = [c.value for c in ws[1]]
        assert tuple(header[: len(sheet.columns)]) == sheet.columns  # the template's words
        assert ws.freeze_panes == "A2"
        assert ws[1][0].font.bold
        assert all(ws.column_dimensions[c.column_letter].width >= 10 for c in ws[1])
    income = wb["Income"]
    money = income["C2"]
    assert money.number_format == "£#,##0.00" and isinstance(money.value, int | float)
    total = income.cell(row=income.max_row, column=1)
    assert total.value == "Total" and total.font.bold
    # RAG fill colours
    fills = {r[0].value: r[6].fill.start_color.rgb for r in wb["Metrics"].iter_rows(min_row=2)}
    assert fills == {
        "discharged-on-discharge-ready-date": "FFFFC7CE",
        "emergency-admissions-65-plus": "FFC6EFCE",
        "residential-admissions": "FFFFEB9C",
    }
    # fixed workbook properties: the data's time, never the time of rendering
    assert wb.properties.created == datetime(2025, 7, 31, 7, 0)
    assert wb.properties.modified == datetime(2025, 7, 31, 7, 0)


def test_json_and_csv_carry_money_as_decimal_strings_and_a_checkable_content_hash(
    ledger: Ledger,
) -> None:
    given_q1_activity(ledger)
    record = generate_return(ledger, POOL, Q1, ADMIN)
    raw = doc(ledger, Q1, "json")
    document = json.loads(raw)
    # canonical: sorted keys, no spaces
    assert (
        raw
        == json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    )
    assert document["cover"]["content_hash"] == record.content_hash == content_hash_of(document)
    assert document["cover"]["as_at_position"] == record.as_at_position
    carers = next(s for s in document["expenditure"] if s["scheme_id"] == "carers")
    assert carers["actual_in_quarter"] == "100000.00"
    assert document["totals"]["income"]["received_year_to_date"] == "300000.00"

    files = csv_files(doc(ledger, Q1, "csv"))
    assert list(files) == [  # the template's order (issue 14 added the part sheets)
        "checklist.csv",
        "cover.csv",
        "national_conditions.csv",
        "metrics.csv",
        "metric_assessments.csv",
        "spend_and_activity.csv",
        "income.csv",
        "expenditure.csv",
        "expenditure_by_scheme_type.csv",
        "expenditure_by_commissioner.csv",
        "ring_fence.csv",
        "balances.csv",
        "prior_period_adjustments.csv",
    ]
    assert "Adaptations" not in files["income.csv"]
    assert "adaptations,Home adaptations,DFG Related Schemes" in files["expenditure.csv"]
    assert (
        "200000.00,29000.00,29000.00,no scheme forecast,,,0.00,0.00\r\n" in files["expenditure.csv"]
    )
    # every filed document's hash is the one its event recorded
    for fmt, sha in record.documents.items():
        assert hashlib.sha256(doc(ledger, Q1, fmt)).hexdigest() == sha


# --- filed for ever; drafts -------------------------------------------------------------


def given_a_correction_after_q1_is_filed(ledger: Ledger, clock: FixedClock) -> ReturnRecord:
    """Q1 filed on 31 July; then Q2 activity, a late Q1 invoice and the reversal of
    the Q1 credit note, both as prior-period adjustments."""
    given_q1_activity(ledger)
    record = generate_return(ledger, POOL, Q1, ADMIN)
    set_clock(clock, datetime(2025, 9, 10, 9, 0, tzinfo=UTC))
    ledger.execute(
        contribution(
            POOL, "icb-a", "250000.00", date(2025, 8, 1), stream="minimum_nhs_contribution"
        ),
        HOST,
    )
    ledger.execute(spend(POOL, "carers", "120000.00", date(2025, 9, 1)), HOST)
    ledger.execute(
        spend(POOL, "adaptations", "5000.00", date(2025, 6, 28), ppa=True, reference="INV-Q1-LATE"),
        HOST,
    )
    with ledger.engine.connect() as conn:
        credit = next(e for e in read_range(conn, pool_id=POOL) if e.type == "expenditure_credited")
    ledger.execute(
        c.ReverseEvent(
            event_id=credit.event_id, reason="credit note cancelled", prior_period_adjustment=True
        ),
        ADMIN,
    )
    return record


def test_filing_closes_the_quarter_so_a_correction_must_be_a_prior_period_adjustment(
    ledger: Ledger, clock: FixedClock
) -> None:
    given_q1_activity(ledger)
    record = generate_return(ledger, POOL, Q1, ADMIN)
    assert record.quarter_closed
    with pytest.raises(PeriodClosed, match="prior-period adjustment"):
        ledger.execute(spend(POOL, "adaptations", "5000.00", date(2025, 6, 28)), HOST)
    ledger.execute(spend(POOL, "adaptations", "5000.00", date(2025, 6, 28), ppa=True), HOST)


def test_a_filed_return_is_served_byte_identical_after_later_postings_and_adjustments(
    ledger: Ledger, clock: FixedClock
) -> None:
    given_q1_activity(ledger)
    record = generate_return(ledger, POOL, Q1, ADMIN)
    first = {fmt: doc(ledger, Q1, fmt) for fmt in ("json", "csv", "xlsx")}
    set_clock(clock, datetime(2025, 9, 10, 9, 0, tzinfo=UTC))
    ledger.execute(spend(POOL, "adaptations", "5000.00", date(2025, 6, 28), ppa=True), HOST)
    ledger.execute(spend(POOL, "carers", "120000.00", date(2025, 9, 1)), HOST)
    # generating again returns the filed record and changes nothing
    assert generate_return(ledger, POOL, Q1, ADMIN) == record
    for fmt, data in first.items():
        assert doc(ledger, Q1, fmt) == data
        assert hashlib.sha256(data).hexdigest() == record.documents[fmt]
    # while a draft as at now shows the adjustment in Q1's year to date
    now = json.loads(doc(ledger, Q1, "json", position=_head(ledger)))
    adaptations = next(s for s in now["expenditure"] if s["scheme_id"] == "adaptations")
    assert adaptations["actual_year_to_date"] == "34000.00"


def test_a_draft_as_at_the_filed_position_is_the_filed_return(
    ledger: Ledger, clock: FixedClock
) -> None:
    record = given_a_correction_after_q1_is_filed(ledger, clock)
    at = record.as_at_position
    assert at is not None
    for fmt in ("json", "csv"):
        draft = fetch_return(ledger.engine, POOL, Q1, fmt, at)
        filed = doc(ledger, Q1, fmt)
        assert not draft.filed
        if fmt == "json":
            assert json.loads(draft.content) == json.loads(filed)
        else:
            assert csv_files(draft.content) == csv_files(filed)
        assert draft.content == filed  # byte for byte
    draft_xlsx = doc(ledger, Q1, "xlsx", at)
    # the same cells but for the draft's mark, a red line under every sheet's table
    # and its page header (issue 14: a draft never passes for the filed return)
    label = f"DRAFT as at position {at}"
    marked = cell_values(draft_xlsx)
    for title, values in cell_values(doc(ledger, Q1, "xlsx")).items():
        blank = (None,) * len(values[0])
        assert marked[title] == [*values, blank, (label, *blank[1:])]
    wb = openpyxl.load_workbook(io.BytesIO(draft_xlsx))
    assert all(ws.oddHeader.center.text == label for ws in wb)
    assert draft_xlsx == doc(ledger, Q1, "xlsx", at)  # deterministic bytes, too


def test_a_later_correction_is_listed_in_the_next_return_and_reconciles(
    ledger: Ledger, clock: FixedClock
) -> None:
    q1 = given_a_correction_after_q1_is_filed(ledger, clock)
    set_clock(clock, datetime(2025, 10, 31, 7, 0, tzinfo=UTC))
    q2 = generate_return(ledger, POOL, Q2, ADMIN)
    document = json.loads(doc(ledger, Q2, "json"))
    assert document["cover"]["previous_return_quarter"] == Q1
    assert document["cover"]["previous_return_position"] == q1.as_at_position

    # previous year to date + this quarter + adjustments = year to date
    by_scheme = {s["scheme_id"]: s for s in document["expenditure"]}
    a = by_scheme["adaptations"]
    assert (a["previous_year_to_date"], a["actual_in_quarter"], a["adjustments"]) == (
        "29000.00",
        "0.00",
        "6000.00",  # the late 5,000.00 invoice and the cancelled 1,000.00 credit
    )
    assert a["actual_year_to_date"] == "35000.00"
    carers = by_scheme["carers"]
    assert (carers["previous_year_to_date"], carers["actual_in_quarter"]) == (
        "100000.00",
        "120000.00",
    )
    assert (carers["adjustments"], carers["actual_year_to_date"]) == ("0.00", "220000.00")
    for line in [*document["income"], *document["expenditure"]]:
        prev, adj = pounds(line["previous_year_to_date"]), pounds(line["adjustments"])
        in_q = pounds(line.get("received_in_quarter", line.get("actual_in_quarter", "0")))
        ytd = pounds(line.get("received_year_to_date", line.get("actual_year_to_date", "0")))
        assert prev + in_q + adj == ytd

    listed = document["prior_period_adjustments"]
    assert [(x["kind"], x["quarter"], x["amount"], x["marked"], x["reversal"]) for x in listed] == [
        ("expenditure", Q1, "5000.00", True, False),
        ("credit", Q1, "1000.00", True, True),
    ]
    assert listed[0]["reference"] == "INV-Q1-LATE"
    assert "credit note cancelled" in listed[1]["reference"]

    # and in the workbook's adjustments sheet
    sheet = rows(doc(ledger, Q2, "xlsx"), "Prior Period Adjustments")
    assert [(r[1], r[3], r[7], r[8]) for r in sheet[1:]] == [
        ("expenditure_recorded", Q1, 5000, "INV-Q1-LATE"),
        ("event_reversed (credit)", Q1, 1000, listed[1]["reference"]),
    ]
    assert q2.quarter_closed


def test_adjustments_to_a_closed_year_are_listed_in_the_next_years_first_return(
    ledger: Ledger, clock: FixedClock
) -> None:
    given_q1_activity(ledger)
    set_clock(clock, datetime(2026, 8, 1, 7, 0, tzinfo=UTC))
    for n in (1, 2, 3, 4):
        generate_return(ledger, POOL, f"2025-26-Q{n}", ADMIN)
    # a late March invoice for the closed year
    ledger.execute(
        spend(POOL, "carers", "7000.00", date(2026, 3, 20), ppa=True, reference="MAR"), HOST
    )
    ledger.execute(
        contribution(POOL, "icb-a", "100.00", date(2026, 5, 1), stream="minimum_nhs_contribution"),
        HOST,
    )
    generate_return(ledger, POOL, "2026-27-Q1", ADMIN)
    document = json.loads(doc(ledger, "2026-27-Q1", "json"))
    assert document["cover"]["previous_return_quarter"] == "2025-26-Q4"
    assert [
        (x["year"], x["quarter"], x["amount"]) for x in document["prior_period_adjustments"]
    ] == [("2025-26", "2025-26-Q4", "7000.00")]
    # ... and it is not part of the new year's own figures
    assert all(line["adjustments"] == "0.00" for line in document["income"])
    assert document["totals"]["income"]["received_in_quarter"] == "100.00"


# --- rules of generation --------------------------------------------------------------------


def test_generation_rules(ledger: Ledger, clock: FixedClock) -> None:
    given_q1_activity(ledger)
    with pytest.raises(Forbidden):
        generate_return(ledger, POOL, Q1, officer("ncc"))
    with pytest.raises(RuleViolation, match="has not ended"):
        generate_return(ledger, POOL, Q2, ADMIN)
    with pytest.raises(RuleViolation, match="first plan year"):
        generate_return(ledger, POOL, "2024-25-Q4", ADMIN)
    with pytest.raises(ValidationFailed):
        generate_return(ledger, POOL, "2025-Q1", ADMIN)
    set_clock(clock, datetime(2025, 11, 1, tzinfo=UTC))
    with pytest.raises(RuleViolation, match="quarter order: file 2025-26-Q1"):
        generate_return(ledger, POOL, Q2, ADMIN)
    assert filed_record(ledger.engine, POOL, Q1) is None


def test_two_racing_generations_file_one_return_and_both_get_it(
    ledger: Ledger, engine: Engine
) -> None:
    given_q1_activity(ledger)
    # two processes' ledgers over one database, without the scheduler's lock: the
    # database's unique key decides
    other = Ledger(engine, ledger.clock, ledger.reference, hooks=[Projector()])
    results: list[ReturnRecord] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def run(which: Ledger) -> None:
        try:
            barrier.wait()
            results.append(generate_return(which, POOL, Q1, ADMIN))
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=run, args=(x,)) for x in (ledger, other)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(results) == 2 and results[0] == results[1]
    with engine.connect() as conn:
        filed = [e for e in read_range(conn, pool_id=POOL) if e.type == "return_generated"]
        stored = conn.execute(select(lt.filed_documents.c.format)).scalars().all()
    assert len(filed) == 1
    assert sorted(stored) == ["csv", "json", "xlsx"]


def test_the_returns_list_shows_filed_and_due_quarters_with_sign_off(
    ledger: Ledger, clock: FixedClock
) -> None:
    given_q1_activity(ledger)
    complete_parts(ledger, Q1, metrics=Q1_METRICS)
    generate_return(ledger, POOL, Q1, ADMIN)
    ledger.execute(c.ApproveReturn(pool_id=POOL, quarter=Q1, note="board 30/7"), ADMIN)
    ledger.execute(c.SubmitReturn(pool_id=POOL, quarter=Q1, reference="NHSE-123"), ADMIN)
    listed = list_returns(ledger.engine, POOL, today=date(2025, 10, 2))
    assert [(r.quarter, r.status, r.due_date) for r in listed] == [
        (Q1, "submitted", "2025-07-30"),
        (Q2, "draft", "2025-10-30"),
    ]
    assert listed[0].approved_by == "Pat Admin" and listed[0].approval_note == "board 30/7"
    assert listed[0].submitted_by == "Pat Admin" and listed[0].submission_reference == "NHSE-123"


# --- verification against the chain heads recorded in returns -----------------------------


def _head(ledger: Ledger) -> int:
    with ledger.engine.connect() as conn:
        return read_head(conn).position


def _lift_guards(conn: Any, dialect: str) -> None:
    if dialect == "sqlite":
        conn.execute(text("DROP TRIGGER events_no_update"))
        conn.execute(text("DROP TRIGGER events_no_delete"))
    else:
        conn.execute(text("DROP TRIGGER events_no_change ON events"))


def test_verify_detects_a_rewritten_history_by_the_chain_head_recorded_in_a_return(
    ledger: Ledger, engine: Engine, clock: FixedClock
) -> None:
    # given a filed return and later activity
    given_q1_activity(ledger)
    record = generate_return(ledger, POOL, Q1, ADMIN)
    set_clock(clock, datetime(2025, 9, 1, tzinfo=UTC))
    ledger.execute(spend(POOL, "carers", "10.00", date(2025, 8, 1)), HOST)
    assert verify(engine).ok and verify_returns(engine).ok
    # when an attacker truncates the log before the return's as-at position, rewrites
    # an event and re-chains everything after it (head row included) so that every
    # hash is self-consistent again
    assert record.as_at_position is not None
    cut = record.as_at_position - 2
    with owner(engine).begin() as conn:
        _lift_guards(conn, engine.dialect.name)
        tail = [e.as_row() for e in read_range(conn, after=cut - 1)]
        conn.execute(text(f"DELETE FROM events WHERE position >= {cut}"))
        prev = hash_at(conn, cut - 1)
        for row in tail:
            if row["position"] == cut:
                row["actor"] = "Mallory"
            row["hash"] = chain_hash(prev, row)
            prev = row["hash"]
            conn.execute(lt.events.insert().values(**row))
        conn.execute(
            lt.ledger_head.update().values(
                position=tail[-1]["position"], hash=prev, recorded_at=tail[-1]["recorded_at"]
            )
        )
    # then the chain alone looks whole, but the return's recorded head convicts it
    result = verify(engine)
    assert not result.ok
    assert result.first_bad_position == record.as_at_position
    assert "recorded chain head" in (result.problem or "")
    assert not verify_returns(engine).ok


def test_verify_detects_events_removed_from_the_end_by_the_filed_return(
    ledger: Ledger, engine: Engine, clock: FixedClock
) -> None:
    given_q1_activity(ledger)
    record = generate_return(ledger, POOL, Q1, ADMIN)
    assert record.as_at_position is not None
    # when the events from the return's as-at position on are removed and the head
    # row is rewritten to match what is left
    keep = record.as_at_position - 1
    with owner(engine).begin() as conn:
        _lift_guards(conn, engine.dialect.name)
        conn.execute(text(f"DELETE FROM events WHERE position > {keep}"))
        last = read_range(conn, after=keep - 1)[-1]
        conn.execute(
            lt.ledger_head.update().values(
                position=keep, hash=last.hash, recorded_at=last.recorded_at
            )
        )
    # then the filed return (whose bytes the database keeps) no longer matches the chain
    check = verify_returns(engine)
    assert not check.ok
    assert any("beyond the ledger head" in p for p in check.problems)
    assert any("chain no longer has" in p for p in check.problems)


# --- LibreOffice ---------------------------------------------------------------------------

OFFICE = shutil.which("libreoffice") or shutil.which("soffice")


@pytest.fixture
def sqlite_ledger(sqlite_template: Path, tmp_path: Path) -> Iterator[Ledger]:
    path = tmp_path / "office.db"
    shutil.copy(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    clock = FixedClock(datetime(2025, 7, 31, 7, 0, tzinfo=UTC))
    yield Ledger(engine, clock, default_catalogue(), hooks=[Projector()])
    engine.dispose()


@pytest.mark.slow
@pytest.mark.skipif(
    OFFICE is None,
    reason="LibreOffice is not installed (apt-get install -y libreoffice-calc); "
    "the workbook's conversion is not checked",
)
def test_the_workbook_converts_cleanly_with_libreoffice(
    sqlite_ledger: Ledger, tmp_path: Path
) -> None:
    given_q1_activity(sqlite_ledger)
    generate_return(sqlite_ledger, POOL, Q1, ADMIN)
    source = tmp_path / "return.xlsx"
    source.write_bytes(doc(sqlite_ledger, Q1, "xlsx"))
    profile = tmp_path / "lo-profile"  # a profile of its own: parallel runs do not clash
    assert OFFICE is not None
    done = subprocess.run(
        [
            OFFICE,
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "HOME": str(tmp_path)},
        check=False,
    )
    pdf = tmp_path / "return.pdf"
    assert done.returncode == 0, done.stderr
    assert pdf.exists(), f"no PDF: {done.stdout} {done.stderr}"
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF") and len(data) > 5000
    assert len(re.findall(rb"/Type\s*/Page\b(?!s)", data)) >= 8  # a page (or more) a sheet
    # A4 landscape on every page (842 x 595 points), not US Letter (792 x 612)
    boxes = re.findall(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", data)
    assert {(round(float(w)), round(float(h))) for w, h in boxes} == {(842, 595)}
    wb = openpyxl.load_workbook(source)
    cover = wb["Cover"]  # the cover fits one page; every sheet one page wide
    assert (cover.page_setup.fitToWidth, cover.page_setup.fitToHeight) == (1, 1)
    assert all(ws.print_title_rows == "$1:$1" for ws in wb)


@pytest.mark.slow
def test_the_workbook_bytes_do_not_depend_on_when_it_is_rendered(ledger: Ledger) -> None:
    # openpyxl writes worksheets through temporary files: their times must not leak in
    given_q1_activity(ledger)
    with ledger.engine.connect() as conn:
        content = build_return_content(conn, POOL, Q1, read_head(conn).position)
    with freeze_time("2026-11-23 09:00:00"):
        first = render_xlsx(content)
    with freeze_time("2027-03-01 17:45:30"):  # another day, hour and second
        assert render_xlsx(content) == first
    for info in zipfile.ZipFile(io.BytesIO(first)).infolist():
        assert info.date_time == (2025, 7, 31, 7, 0, 0)  # data as at


def test_an_entry_that_races_the_filing_is_reported_by_the_next_return(
    ledger: Ledger, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given Q1's content computed as at position P, while an officer posts a Q1
    # invoice (the quarter still open) before the filing is appended
    given_q1_activity(ledger)
    real = render_all

    def render_then_race(content: Any) -> dict[str, bytes]:
        documents = real(content)
        ledger.execute(spend(POOL, "carers", "777.00", date(2025, 6, 30), reference="RACE"), HOST)
        return documents

    monkeypatch.setattr(lifecycle, "render_all", render_then_race)
    q1 = generate_return(ledger, POOL, Q1, ADMIN)
    monkeypatch.setattr(lifecycle, "render_all", real)
    assert q1.as_at_position is not None and q1.position == q1.as_at_position + 2
    filed = json.loads(doc(ledger, Q1, "json"))
    carers = next(s for s in filed["expenditure"] if s["scheme_id"] == "carers")
    assert carers["actual_year_to_date"] == "100000.00"  # as at P: without the racer
    # then the next return lists it (not marked: the quarter was open) and reconciles
    set_clock(clock, datetime(2025, 10, 31, 7, 0, tzinfo=UTC))
    generate_return(ledger, POOL, Q2, ADMIN)
    q2 = json.loads(doc(ledger, Q2, "json"))
    [late] = q2["prior_period_adjustments"]
    assert (late["reference"], late["amount"], late["marked"]) == ("RACE", "777.00", False)
    carers = next(s for s in q2["expenditure"] if s["scheme_id"] == "carers")
    assert (carers["previous_year_to_date"], carers["adjustments"]) == ("100000.00", "777.00")
    assert carers["actual_year_to_date"] == "100777.00"


def test_a_filed_return_carries_a_signed_checkpoint_of_its_as_at_position(
    ledger: Ledger, engine: Engine
) -> None:
    from ledger.domain.checkpoint import SignedCheckpoint, signature_ok
    from ledger.store import tree
    from tests.conftest import SIGNING_KEY

    given_q1_activity(ledger)
    record = generate_return(ledger, POOL, Q1, ADMIN)
    at = record.as_at_position
    assert at is not None
    signed = SignedCheckpoint.from_json(json.loads(doc(ledger, Q1, "json"))["cover"]["checkpoint"])
    assert signature_ok(SIGNING_KEY.public_key(), signed)
    with engine.connect() as conn:
        assert signed.checkpoint.position == at
        assert signed.checkpoint.root == tree.root_at(conn, at).hex()
        assert signed.checkpoint.chain_head == hash_at(conn, at) == record.chain_head
    cover = {r[0]: r[1] for r in rows(doc(ledger, Q1, "xlsx"), "Cover")[1:]}
    assert cover["Checkpoint Signature (Ed25519)"] == signed.signature
    assert cover["Checkpoint Tree Root (RFC 9162)"] == signed.checkpoint.root

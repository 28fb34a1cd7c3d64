"""The commissioner in the template's terms everywhere in the return (JSON, CSV and
the workbook's Expenditure and by-commissioner sheets): Local Authority, NHS, or Joint
with the NHS and LA percentages; a member partner named as commissioner counts by its
kind. Figures of ``given_q1_activity`` worked by hand below."""

from __future__ import annotations

import csv
import io
import json
import zipfile

import openpyxl

from filing.documents import fetch_return
from ledger.handlers import Ledger
from ledger.refdata import default_catalogue
from projections.returns.lines import commissioner_kind, commissioner_label
from tests.integration.test_returns import POOL, Q1, given_q1_activity


def test_a_member_partner_commissioner_counts_by_its_kind() -> None:
    kinds = {"mansfield-dc": "district_council", "icb-a": "icb", "sfh": "nhs_trust"}
    assert [commissioner_kind(x, kinds) for x in ("mansfield-dc", "icb-a", "sfh", "joint")] == [
        "la",
        "icb",
        "icb",
        "joint",
    ]
    ref = default_catalogue().for_year("2025-26")
    assert ref is not None
    assert [commissioner_label(k, ref) for k in ("la", "icb", "joint")] == [
        "Local Authority",
        "NHS",
        "Joint",
    ]


def test_the_return_names_commissioners_in_the_template_terms(ledger: Ledger) -> None:
    given_q1_activity(ledger)
    doc = json.loads(fetch_return(ledger.engine, POOL, Q1, "json").content)
    assert [
        (x["scheme_id"], x["commissioner_label"], x["nhs_pct"], x["la_pct"])
        for x in doc["expenditure"]
    ] == [("carers", "Joint", "40", "60"), ("adaptations", "Local Authority", "", "")]
    # by hand: carers (joint, LA 60 / ICB 40) planned 450,000 -> 270,000 / 180,000 and
    # spent 100,000 -> 60,000 / 40,000; adaptations (LA) planned 200,000, spent 29,000
    assert [(x["label"], x["planned"], x["actual_in_quarter"]) for x in doc["by_commissioner"]] == [
        ("Local Authority", "470000.00", "89000.00"),
        ("NHS", "180000.00", "40000.00"),
        ("Total", "650000.00", "129000.00"),
    ]
    wb = openpyxl.load_workbook(io.BytesIO(fetch_return(ledger.engine, POOL, Q1, "xlsx").content))
    rows = list(wb["Expenditure"].iter_rows(values_only=True))
    header = list(rows[0])
    nhs, la = (
        header.index("% NHS (if Joint Commissioner)"),
        header.index("% LA (if Joint Commissioner)"),
    )
    carers = next(r for r in rows if r[0] == "carers")
    assert (carers[header.index("Commissioner")], carers[nhs], carers[la]) == ("Joint", "40", "60")
    labels = [
        r[0] for r in wb["Expenditure by Commissioner"].iter_rows(min_row=2, values_only=True)
    ]
    assert labels[:3] == ["Local Authority", "NHS", "Total"]  # then the draft line
    zipped = zipfile.ZipFile(io.BytesIO(fetch_return(ledger.engine, POOL, Q1, "csv").content))
    text = zipped.read("expenditure.csv").decode("utf-8-sig")
    assert "ICB" not in text and "Joint (" not in text
    by_row = {r[0]: r for r in csv.reader(io.StringIO(text))}
    assert by_row["carers"][3] == "Joint"

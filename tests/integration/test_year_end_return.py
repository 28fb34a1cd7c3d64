"""The end-of-year (Q4) return over HTTP, on SQLite and PostgreSQL: the year's income
by source (funding stream, partner) against the plan with its variance, the host's
variance commentary and the year-end feedback, in JSON, CSV and the workbook (sheets in
the template's order, on the Checklist), and only in Q4; approval is refused while an
end-of-year part is missing. Figures worked by hand below."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import Engine

from ledger.clock import FixedClock
from tests.builders import contribution, given_bcf_pool
from tests.integration.test_returns_api import Api
from tests.return_parts_builders import HOST, complete_parts

YEAR = "2025-26"
Q3, Q4 = "2025-26-Q3", "2025-26-Q4"
OFFICE = shutil.which("libreoffice") or shutil.which("soffice")
EOY_KEYS = [
    "income_commentary",
    "year_end_feedback:1",
    "year_end_feedback:2",
    "year_end_feedback:3",
]


@pytest.fixture
def api(engine: Engine) -> Api:
    """``given_bcf_pool`` (plan: icb-a's minimum NHS contribution £1,000,000, ncc's DFG
    £200,000) after the year: icb-a paid £250,000 in each of Q1-Q3 and £210,000 in Q4
    (£960,000), ncc its DFG in full; Q1-Q3 filed."""
    a = Api(engine, FixedClock(datetime(2026, 4, 20, 9, 0, tzinfo=UTC)))
    given_bcf_pool(a.ledger)
    for on, amount in (
        (date(2025, 4, 10), "250000"),
        (date(2025, 7, 10), "250000"),
        (date(2025, 10, 10), "250000"),
        (date(2026, 1, 10), "210000"),
    ):
        a.ledger.execute(
            contribution("bcf", "icb-a", amount, on, stream="minimum_nhs_contribution"), HOST
        )
    a.ledger.execute(contribution("bcf", "ncc", "200000", date(2025, 5, 1), stream="dfg"), HOST)
    for who, role, partner in (("admin", "admin", None), ("ncc", "finance_officer", "ncc")):
        a.issue(who, role, partner)
    a.issue("icb", "finance_officer", "icb-a")
    for q in ("2025-26-Q1", "2025-26-Q2", Q3):
        assert a.post("admin", f"/v1/pools/bcf/returns/{q}").status_code == 201
    return a


def _year_end(api: Api, path: str, body: dict[str, Any]) -> Any:
    return api.post("ncc", f"/v1/pools/bcf/years/{YEAR}/{path}", body)


def test_the_year_end_parts_are_posted_by_the_host_and_checked(api: Api) -> None:
    r = api.post(
        "icb", f"/v1/pools/bcf/years/{YEAR}/income-commentary", {"commentary": "Paid late."}
    )
    assert r.status_code == 403  # not the host's officer
    bad = _year_end(
        api, "year-end-feedback", {"statement_id": "4", "answer": "Agree", "comment": "x"}
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "statement_id"
    bad = _year_end(
        api, "year-end-feedback", {"statement_id": "1", "answer": "Yes", "comment": "x"}
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "answer"
    bad = _year_end(
        api, "year-end-feedback", {"statement_id": "1", "answer": "Agree", "comment": ""}
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "comment"
    ok = _year_end(api, "income-commentary", {"commentary": "March's instalment came in April."})
    assert ok.status_code == 201 and ok.json()["type"] == "income_variance_explained"
    parts = api.get("ncc", f"/v1/pools/bcf/returns/{Q4}/parts").json()
    assert parts["income_commentary"]["data"]["commentary"] == "March's instalment came in April."
    assert [k for k in parts["missing"] if k in EOY_KEYS] == EOY_KEYS[1:]
    # a later commentary supersedes it; as at the first one's position, the first is read
    first = ok.json()["position"]
    fb = {"statement_id": "2", "answer": "Disagree", "comment": "Two schemes started late."}
    assert _year_end(api, "year-end-feedback", fb).status_code == 201
    assert _year_end(api, "income-commentary", {"commentary": "Revised."}).status_code == 201
    now = api.get("ncc", f"/v1/pools/bcf/returns/{Q4}/parts").json()
    assert now["income_commentary"]["data"]["commentary"] == "Revised."
    assert now["year_end_feedback"]["2"]["data"]["answer"] == "Disagree"
    then = api.get("ncc", f"/v1/pools/bcf/returns/{Q4}/parts", as_at=f"position:{first}").json()
    assert then["income_commentary"]["position"] == first and then["year_end_feedback"] == {}


def test_the_end_of_year_return_carries_income_against_plan_and_feedback(api: Api) -> None:
    complete_parts(api.ledger, Q4)  # with the commentary and an "Agree" to each statement
    assert api.post("admin", f"/v1/pools/bcf/returns/{Q4}").status_code == 201
    doc = json.loads(api.get("admin", f"/v1/pools/bcf/returns/{Q4}", format="json").content)
    income = doc["parts"]["income_actual"]
    # by hand: icb-a 250,000 x 3 + 210,000 = 960,000 against 1,000,000 (-40,000);
    # ncc's DFG 200,000 against 200,000; in all 1,160,000 against 1,200,000
    assert [
        (x["funding_stream"], x["partner_id"], x["planned"], x["actual"], x["variance"])
        for x in income["lines"]
    ] == [
        ("minimum_nhs_contribution", "icb-a", "1000000.00", "960000.00", "-40000.00"),
        ("dfg", "ncc", "200000.00", "200000.00", "0.00"),
    ]
    t = income["total"]
    assert (t["planned"], t["actual"], t["variance"]) == ("1200000.00", "1160000.00", "-40000.00")
    assert income["commentary"] == "The ICB's minimum contribution for March arrived in April."
    assert [(f["statement_id"], f["answer"]) for f in doc["parts"]["year_end_feedback"]] == [
        ("1", "Agree"),
        ("2", "Agree"),
        ("3", "Agree"),
    ]
    assert doc["parts"]["year_end_feedback"][1]["statement"] == (
        "Our BCF schemes were implemented as planned in 2025-26"
    )
    assert doc["parts"]["filing"]["missing"] == []

    wb = openpyxl.load_workbook(
        io.BytesIO(api.get("admin", f"/v1/pools/bcf/returns/{Q4}", format="xlsx").content)
    )
    names = wb.sheetnames
    assert names.index("Income") + 1 == names.index("Income Actual")
    assert names[-2:] == ["Year-End Feedback", "ASC Fee Rates"]
    rows = list(wb["Income Actual"].iter_rows(values_only=True))
    assert rows[1][:7] == (
        "Minimum NHS Contribution", "minimum_nhs_contribution", "icb-a",
        "NHS Nottingham and Nottinghamshire ICB", 1000000, 960000, -40000,
    )  # fmt: skip
    assert rows[3][4:7] == (1200000, 1160000, -40000)
    checklist = {r[0]: r[2] for r in wb["Checklist"].iter_rows(min_row=2, values_only=True)}
    assert checklist["Income against plan: variance commentary"] == "Yes"
    assert checklist["Year-end feedback"] == "Yes"

    zipped = zipfile.ZipFile(
        io.BytesIO(api.get("admin", f"/v1/pools/bcf/returns/{Q4}", format="csv").content)
    )
    feedback = list(
        csv.reader(io.StringIO(zipped.read("year_end_feedback.csv").decode("utf-8-sig")))
    )
    assert feedback[0][:3] == ["Statement", "Statement Wording", "Response"]
    assert feedback[1][2] == "Agree"
    assert "income_actual.csv" in zipped.namelist()

    q3 = json.loads(api.get("admin", f"/v1/pools/bcf/returns/{Q3}", format="json").content)
    assert "income_actual" not in q3["parts"] and "year_end_feedback" not in q3["parts"]
    q3_sheets = openpyxl.load_workbook(
        io.BytesIO(api.get("admin", f"/v1/pools/bcf/returns/{Q3}", format="xlsx").content)
    ).sheetnames
    assert "Income Actual" not in q3_sheets and "Year-End Feedback" not in q3_sheets


def test_approval_is_refused_while_an_end_of_year_part_is_missing(api: Api) -> None:
    # given every part but the end-of-year ones, filed
    complete_parts(api.ledger, Q3)  # (Q3's parts do not count for Q4)
    parts = api.get("admin", f"/v1/pools/bcf/returns/{Q4}/parts").json()
    assert [k for k in parts["missing"] if k in EOY_KEYS] == EOY_KEYS
    assert api.post("admin", f"/v1/pools/bcf/returns/{Q4}").status_code == 201
    refused = api.post("admin", f"/v1/pools/bcf/returns/{Q4}/approve")
    assert refused.status_code == 409
    fields = [e["field"] for e in refused.json()["errors"]]
    assert [f for f in fields if f in EOY_KEYS] == EOY_KEYS


@pytest.mark.slow
@pytest.mark.skipif(OFFICE is None, reason="LibreOffice is not installed")
def test_the_end_of_year_workbook_converts_with_libreoffice_on_a4(
    api: Api, tmp_path: Path, engine: Engine
) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("the workbook is the same on PostgreSQL; converted once")
    complete_parts(api.ledger, Q4)
    assert api.post("admin", f"/v1/pools/bcf/returns/{Q4}").status_code == 201
    source = tmp_path / "q4.xlsx"
    source.write_bytes(api.get("admin", f"/v1/pools/bcf/returns/{Q4}", format="xlsx").content)
    assert OFFICE is not None
    done = subprocess.run(
        [
            OFFICE,
            f"-env:UserInstallation=file://{tmp_path / 'lo-profile'}",
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
    assert done.returncode == 0, done.stderr
    data = (tmp_path / "q4.pdf").read_bytes()
    # one page or more for each of the 16 sheets, every page A4 landscape
    assert len(re.findall(rb"/Type\s*/Page\b(?!s)", data)) >= 16
    boxes = re.findall(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", data)
    assert {(round(float(w)), round(float(h))) for w, h in boxes} == {(842, 595)}
    wb = openpyxl.load_workbook(source)
    assert len(wb.sheetnames) == 16
    for name in ("Income Actual", "Year-End Feedback"):
        ws = wb[name]
        assert ws.print_title_rows == "$1:$1" and ws.page_setup.orientation == "landscape"
        assert ws.page_setup.fitToWidth == 1

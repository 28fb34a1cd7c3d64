"""The returns routes over HTTP (api.md), on SQLite and PostgreSQL: generate (admin,
idempotent), list, read each format (filed, and drafts as at a position), approve,
submit, and the Section 75 annual memorandum statement."""

from __future__ import annotations

import hashlib
import io
import json
import warnings
import zipfile
from datetime import UTC, date, datetime
from typing import Any

import openpyxl
import pytest
from sqlalchemy import Engine

from api.app import create_app
from filing.settlement import settle_year
from ledger.clock import FixedClock
from ledger.domain import commands as c
from ledger.domain.errors import AlreadyExists, Forbidden, RuleViolation
from ledger.domain.events import Party
from ledger.handlers import Ledger
from ledger.settings import Settings
from ledger.store import tokens
from tests.builders import ADMIN, contribution, equipment_plan, officer, spend
from tests.integration.test_returns import given_q1_activity
from tests.return_parts_builders import Q1_METRICS, complete_parts

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

Q1 = "2025-26-Q1"


class Api:
    def __init__(self, engine: Engine, clock: FixedClock) -> None:
        self.app = create_app(Settings(scheduler=False), engine=engine, clock=clock)
        self.client = TestClient(self.app)
        self.ledger: Ledger = self.app.state.ledger
        self.clock = clock
        self.secrets: dict[str, str] = {}

    def issue(self, who: str, role: str, partner: str | None = None) -> None:
        _, secret = tokens.create_token(
            self.ledger.engine, role=role, name=who, partner_id=partner, clock=self.clock
        )
        self.secrets[who] = secret

    def h(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secrets[who]}"}

    def get(self, who: str, path: str, **params: Any) -> Any:
        return self.client.get(path, params=params, headers=self.h(who))

    def post(self, who: str, path: str, body: Any = None) -> Any:
        return self.client.post(path, json=body, headers=self.h(who))


@pytest.fixture
def api(engine: Engine) -> Api:
    clock = FixedClock(datetime(2025, 7, 31, 7, 0, tzinfo=UTC))
    a = Api(engine, clock)
    given_q1_activity(a.ledger)
    a.issue("admin", "admin")
    a.issue("board", "board")
    a.issue("auditor", "auditor")
    a.issue("ncc", "finance_officer", "ncc")
    a.issue("city", "finance_officer", "city")
    return a


def test_an_admin_generates_a_return_once_and_everyone_reads_it(api: Api) -> None:
    path = f"/v1/pools/bcf/returns/{Q1}"
    assert api.post("ncc", path).status_code == 403
    assert api.post("board", path).status_code == 403
    first = api.post("admin", path)
    assert first.status_code == 201, first.text
    record = first.json()
    assert record["status"] == "filed" and record["quarter_closed"]
    assert record["generated_by"] == "admin"
    again = api.post("admin", path)  # idempotent: the filed record
    assert again.status_code == 201 and again.json() == record

    for who in ("admin", "board", "auditor", "ncc"):
        r = api.get(who, path, format="json")
        assert r.status_code == 200, (who, r.text)
        assert r.headers["x-return-status"] == "filed"
        assert hashlib.sha256(r.content).hexdigest() == record["documents"]["json"]
    assert api.get("city", path).status_code == 403  # not a member of the pool

    xlsx = api.get("board", path, format="xlsx")
    assert xlsx.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert 'filename="bcf-2025-26-Q1.xlsx"' in xlsx.headers["content-disposition"]
    wb = openpyxl.load_workbook(io.BytesIO(xlsx.content))
    assert wb["Income"]["E2"].value == 250000  # minimum NHS contribution received to date
    zipped = api.get("board", path, format="csv")
    assert zipped.headers["content-type"] == "application/zip"
    assert "income.csv" in zipfile.ZipFile(io.BytesIO(zipped.content)).namelist()


def test_drafts_as_at_a_position_and_errors(api: Api) -> None:
    path = f"/v1/pools/bcf/returns/{Q1}"
    # before filing: a draft as at now
    draft = api.get("board", path)
    assert draft.status_code == 200 and draft.headers["x-return-status"] == "draft"
    position = int(draft.headers["x-as-at-position"])
    filed = api.post("admin", path).json()
    assert filed["as_at_position"] == position
    # the draft as at the filed position is the filed JSON, byte for byte (with the
    # checkpoint the filing signed); the draft before filing is it without that
    at = api.get("board", path, position=position)
    assert at.headers["x-return-status"] == "draft"
    assert at.content == api.get("board", path).content
    before, after = json.loads(draft.content), json.loads(at.content)
    checkpoint = after["cover"].pop("checkpoint")
    assert checkpoint["position"] == position and "checkpoint" not in before["cover"]
    del before["cover"]["content_hash"], after["cover"]["content_hash"]
    assert before == after
    earlier = api.get("board", path, position=position - 1)
    assert json.loads(earlier.content)["cover"]["as_at_position"] == position - 1
    assert api.get("board", path, position=3).status_code == 404  # before the pool existed
    assert api.get("board", path, position=10**9).status_code == 422  # beyond the head
    assert api.get("board", path, format="pdf").status_code == 422
    assert api.get("board", "/v1/pools/bcf/returns/2025-Q1").status_code == 422
    assert api.get("board", f"/v1/pools/nope/returns/{Q1}").status_code == 404
    assert api.post("admin", "/v1/pools/bcf/returns/2025-26-Q3").status_code == 422  # not ended


def test_the_list_approve_and_submit(api: Api) -> None:
    path = f"/v1/pools/bcf/returns/{Q1}"
    api.clock.advance(days=63)  # 2 October: Q2 has ended too
    assert api.post("admin", f"{path}/approve").status_code == 404  # nothing filed yet
    complete_parts(api.ledger, Q1, metrics=Q1_METRICS)
    api.post("admin", path)
    assert api.post("admin", f"{path}/submit").status_code == 422  # approve first
    assert api.post("ncc", f"{path}/approve").status_code == 403
    approved = api.post("admin", f"{path}/approve", {"note": "signed off by the HWB"})
    assert approved.status_code == 201, approved.text
    assert approved.json()["type"] == "return_approved"
    assert api.post("admin", f"{path}/approve").status_code == 409
    submitted = api.post("admin", f"{path}/submit", {"reference": "NHSE-2025-Q1-0042"})
    assert submitted.status_code == 201, submitted.text

    listed = api.get("ncc", "/v1/pools/bcf/returns")
    assert listed.status_code == 200
    by_quarter = {r["quarter"]: r for r in listed.json()["returns"]}
    assert list(by_quarter) == [Q1, "2025-26-Q2"]
    q1 = by_quarter[Q1]
    assert (q1["status"], q1["approved_by"], q1["submitted_by"]) == ("submitted", "admin", "admin")
    assert q1["approval_note"] == "signed off by the HWB"
    assert q1["submission_reference"] == "NHSE-2025-Q1-0042"
    assert q1["due_date"] == "2025-07-30"
    assert q1["late"] is True and q1["missing_parts"] == []  # filed 2 October, complete
    q2 = by_quarter["2025-26-Q2"]  # not filed, not due yet, nothing recorded for it
    assert q2["late"] is False and "sign_off" in q2["missing_parts"]
    assert (
        q1["chain_head"]
        and q1["content_hash"]
        and set(q1["documents"])
        == {
            "json",
            "csv",
            "xlsx",
        }
    )
    assert by_quarter["2025-26-Q2"]["status"] == "draft"
    assert not by_quarter["2025-26-Q2"]["filed"]


def test_the_annual_memorandum_of_a_section_75_pool(api: Api) -> None:
    ledger, host = api.ledger, officer("ncc")
    ledger.execute(
        c.EstablishPool(
            pool_id="eq",
            name="Community equipment",
            kind="section_75",
            host_partner_id="ncc",
            members=("ncc", "city", "icb-a"),
        ),
        ADMIN,
    )
    ledger.execute(c.AgreePlan(pool_id="eq", year="2025-26", plan=equipment_plan()), ADMIN)
    ledger.execute(contribution("eq", "ncc", "2000000.00", date(2025, 4, 10)), host)
    ledger.execute(contribution("eq", "city", "1000000.00", date(2025, 4, 11)), officer("city"))
    ledger.execute(contribution("eq", "icb-a", "500000.00", date(2025, 4, 12)), officer("icb-a"))
    ledger.execute(spend("eq", "equipment", "3600000.00", date(2026, 3, 1)), host)
    ledger.execute(
        c.PostTransfer(
            pool_id="eq",
            from_party=Party(partner_id="icb-a"),
            to_party=Party(pool_id="eq"),
            amount=5_000_00,
            purpose="s75",
            effective_date=date(2025, 5, 1),
            reference="T1",
        ),
        officer("icb-a"),
    )
    api.clock.advance(days=300)  # May 2026: the year has ended
    with pytest.raises(RuleViolation, match="only after 2025-26-Q4 is closed"):
        settle_year(ledger, "eq", "2025-26", ADMIN)
    with pytest.raises(Forbidden):
        settle_year(ledger, "eq", "2025-26", host)
    for n in (1, 2, 3, 4):
        ledger.execute(c.ClosePeriod(pool_id="eq", quarter=f"2025-26-Q{n}"), ADMIN)

    r = api.get("board", "/v1/pools/eq/memorandum", year="2025-26")
    assert r.status_code == 200, r.text
    m = json.loads(r.content)
    assert m["cover"]["q4_closed"] and not m["cover"]["settled"]
    assert m["pool"]["outturn"] == "3600000.00" and m["pool"]["outturn_basis"] == "actual"
    assert m["pool"]["variance"] == "100000.00"  # an overspend of worked example A
    shares = {p["partner_id"]: (p["risk_share"], p["status"]) for p in m["partners"]}
    assert shares == {
        "ncc": ("57142.86", "provisional"),
        "city": ("28571.43", "provisional"),
        "icb-a": ("14285.71", "provisional"),
    }
    assert m["transfers"] == [
        {"amount": "5000.00", "from_party": "icb-a", "kind": "partner_to_pool", "to_party": "eq"}
    ]
    income = {(x["partner_id"], x["funding_stream"]): x["received"] for x in m["income"]}
    assert income[("city", "contribution")] == "1000000.00"
    [equipment] = m["expenditure"]
    assert (equipment["planned"], equipment["actual"], equipment["variance"]) == (
        "3500000.00",
        "3600000.00",
        "100000.00",
    )

    # settled: the statement says so, and the shares are fixed
    settle_year(ledger, "eq", "2025-26", ADMIN)
    with pytest.raises(AlreadyExists):
        settle_year(ledger, "eq", "2025-26", ADMIN)
    wb = openpyxl.load_workbook(
        io.BytesIO(
            api.get("board", "/v1/pools/eq/memorandum", year="2025-26", format="xlsx").content
        )
    )
    risk = {row[0]: row for row in wb["Risk Share"].iter_rows(min_row=2, values_only=True)}
    assert risk["ncc"][7] == pytest.approx(57142.86) and risk["ncc"][8] == "settled"
    assert sorted(wb.sheetnames) == [
        "Expenditure",
        "Income",
        "Risk Share",
        "Statement",
        "Transfers",
    ]
    csv_zip = api.get("board", "/v1/pools/eq/memorandum", year="2025-26", format="csv").content
    assert "risk_share.csv" in zipfile.ZipFile(io.BytesIO(csv_zip)).namelist()
    assert api.get("board", "/v1/pools/eq/memorandum", year="2025").status_code == 422

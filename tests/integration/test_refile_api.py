"""Completing an incomplete filed return, end to end over HTTP (SQLite and
PostgreSQL): Q1 filed before the HWB's sign-off is refused approval; re-filing is
refused while the part is still missing; once it is recorded, a new version of the
same quarter is filed (naming the version it supersedes), approved and read, while the
first version's bytes stay readable and verifiable for ever; the next quarter is
reconciled to the new version, after which Q1 can no longer be re-filed."""

from __future__ import annotations

import hashlib
import io
import json

import openpyxl
import pytest

from tests.integration import test_returns_api
from tests.integration.test_return_parts_api import _complete_q1
from tests.integration.test_returns_api import Api

api = pytest.fixture(test_returns_api.api.__wrapped__, name="api")  # type: ignore[attr-defined]
Q1 = "2025-26-Q1"
BASE = f"/v1/pools/bcf/returns/{Q1}"
SIGN = {"signed_off_by": "Cllr J. Smith", "role": "Chair, HWB", "signed_off_on": "2025-07-30"}
REASON = {"reason": "Filed before the HWB's sign-off was recorded; signed off on 30 July."}


def _sha(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def test_an_incomplete_filed_return_is_completed_refiled_and_approved(api: Api) -> None:
    # given Q1 filed with every part but the HWB's sign-off
    _complete_q1(api)
    first = api.post("admin", BASE)
    assert first.status_code == 201, first.text
    v1 = first.json()
    assert (v1["version"], v1["missing_parts"], v1["due_date"]) == (1, ["sign_off"], "2025-07-30")
    listed = api.get("board", "/v1/pools/bcf/returns").json()["returns"]
    assert [(r["version"], r["missing_parts"]) for r in listed if r["filed"]] == [(1, ["sign_off"])]
    refused = api.post("admin", f"{BASE}/approve")
    assert refused.status_code == 409 and refused.json()["errors"][0]["field"] == "sign_off"

    # re-filing is refused while the part is still missing, and for an officer
    early = api.post("admin", f"{BASE}/refile", REASON)
    assert early.status_code == 409
    assert early.json()["type"] == "urn:pooled:problem:return-incomplete"
    assert [e["field"] for e in early.json()["errors"]] == ["sign_off"]
    assert api.post("ncc", f"{BASE}/refile", REASON).status_code == 403
    blank = api.post("admin", f"{BASE}/refile", {"reason": ""})
    assert blank.status_code == 422 and blank.json()["errors"][0]["field"] == "reason"

    # when the sign-off is recorded and the return filed again
    assert api.post("admin", f"{BASE}/sign-off", SIGN).status_code == 201
    api.clock.advance(hours=1)
    second = api.post("admin", f"{BASE}/refile", REASON)
    assert second.status_code == 201, second.text
    v2 = second.json()
    assert v2["version"] == 2 and v2["supersedes_event_id"] == v1["event_id"]
    assert v2["refile_reason"] == REASON["reason"] and v2["refiled_by"] == "admin"
    assert v2["missing_parts"] == [] and v2["as_at_position"] > v1["as_at_position"]
    assert v2["generated_at"] == v1["generated_at"]  # filed (for lateness) when first filed
    assert [(x["version"], x["event_id"]) for x in v2["versions"]] == [
        (1, v1["event_id"]),
        (2, v2["event_id"]),
    ]
    listed = api.get("board", "/v1/pools/bcf/returns").json()["returns"]
    assert [(r["quarter"], r["version"], r["missing_parts"]) for r in listed if r["filed"]] == [
        (Q1, 2, [])
    ]

    # then it is approved, and it is the new version that is read by default
    approved = api.post("admin", f"{BASE}/approve")
    assert approved.status_code == 201, approved.text
    now = api.get("board", BASE, format="json")
    assert now.headers["x-return-status"] == "filed"
    assert _sha(now.content) == v2["documents"]["json"]
    doc = json.loads(now.content)
    assert doc["parts"]["filing"]["complete"] is True
    assert doc["parts"]["sign_off"]["signed_off_by"] == "Cllr J. Smith"
    assert doc["cover"]["as_at_position"] == v2["as_at_position"]
    assert (doc["cover"]["version"], doc["cover"]["supersedes_event_id"]) == (2, v1["event_id"])
    wb = openpyxl.load_workbook(io.BytesIO(api.get("board", BASE, format="xlsx").content))
    cover = {r[0]: r[1] for r in wb["Cover"].iter_rows(min_row=2, values_only=True)}
    assert (cover["Version"], cover["Supersedes Filing (Event ID)"]) == (2, v1["event_id"])

    # and the first version's bytes are kept, in every format, as first filed
    for fmt in ("json", "xlsx", "csv"):
        old = api.get("auditor", BASE, format=fmt, version=1)
        assert old.status_code == 200, old.text
        assert _sha(old.content) == v1["documents"][fmt]
        assert old.headers["x-as-at-position"] == str(v1["as_at_position"])
    first_doc = json.loads(api.get("auditor", BASE, version=1).content)
    assert first_doc["parts"]["sign_off"] is None and "version" not in first_doc["cover"]
    assert api.get("auditor", BASE, version=3).status_code == 404
    assert api.get("auditor", BASE, version=1, position=5).status_code == 422
    checked = api.get("auditor", "/v1/verify").json()
    assert checked["ok"] is True and checked["documents_checked"] == 6

    # an approved return is not re-filed
    again = api.post("admin", f"{BASE}/refile", REASON)
    assert again.status_code == 422 and "approved" in again.json()["detail"]


def test_the_next_quarter_is_reconciled_to_the_new_version_and_ends_refiling(api: Api) -> None:
    _complete_q1(api)
    assert api.post("admin", BASE).status_code == 201
    assert api.post("admin", f"{BASE}/sign-off", SIGN).status_code == 201
    v2 = api.post("admin", f"{BASE}/refile", REASON).json()
    api.clock.advance(days=70)  # 9 October 2025: Q2 has ended
    q2 = api.post("admin", "/v1/pools/bcf/returns/2025-26-Q2")
    assert q2.status_code == 201, q2.text
    cover = json.loads(api.get("board", "/v1/pools/bcf/returns/2025-26-Q2").content)["cover"]
    assert (cover["previous_return_quarter"], cover["previous_return_position"]) == (
        Q1,
        v2["as_at_position"],
    )
    late = api.post("admin", f"{BASE}/refile", REASON)
    assert late.status_code == 422 and "2025-26-Q2 return is filed" in late.json()["detail"]

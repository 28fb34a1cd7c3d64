"""The BCF return's further parts over HTTP, on SQLite and PostgreSQL: the host's
officer posts assurances, assessments, activity, fee rates and contacts, an admin the
HWB sign-off; bad input is problem+json naming the field; the parts read as at any
position; approval is refused (409, listing the parts) until the filed return has them."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration import test_returns_api
from tests.integration.test_returns_api import Api
from tests.return_parts_builders import Q1_METRICS

Q1 = "2025-26-Q1"
api = pytest.fixture(test_returns_api.api.__wrapped__, name="api")  # type: ignore[attr-defined]
BASE = f"/v1/pools/bcf/returns/{Q1}"


def _fields(response: Any) -> list[str]:
    assert response.headers["content-type"].startswith("application/problem+json")
    return [e["field"] for e in response.json()["errors"]]


def test_the_host_officer_posts_each_part_and_bad_input_names_the_field(api: Api) -> None:
    no = api.post("ncc", f"{BASE}/national-conditions", {"condition_id": "3", "answer": False})
    assert no.status_code == 422 and _fields(no) == ["explanation"]
    yes = api.post("ncc", f"{BASE}/national-conditions", {"condition_id": "1", "answer": True})
    assert yes.status_code == 201, yes.text
    assert yes.json()["type"] == "national_condition_assured"
    assert (
        api.post("city", f"{BASE}/contacts", {"completed_by": "X", "email": "x@y.org"}).status_code
        == 403
    )
    bad_unit = api.post(
        "ncc",
        f"{BASE}/scheme-activity",
        {
            "scheme_id": "carers",
            "planned_output": "1200",
            "output_delivered": "1130",
            "unit": "cups",
        },
    )
    assert bad_unit.status_code == 422 and _fields(bad_unit) == ["unit"]
    not_text = api.post(
        "ncc",
        f"{BASE}/scheme-activity",
        {
            "scheme_id": "carers",
            "planned_output": 1200,
            "output_delivered": "1",
            "unit": "Packages",
        },
    )
    assert not_text.status_code == 422 and _fields(not_text) == ["planned_output"]
    wrong_words = api.post(
        "ncc",
        f"{BASE}/metric-assessments",
        {"metric_id": "residential-admissions", "assessment": "Amber"},
    )
    assert wrong_words.status_code == 422 and _fields(wrong_words) == ["assessment"]
    fees = api.post(
        "ncc",
        "/v1/pools/bcf/years/2025-26/fee-rates",
        {
            "home_care_per_hour_before": "23.12",
            "home_care_per_hour_after": "24.18",
            "residential_per_week_before": "784.00",
            "residential_per_week_after": "819.00",
            "nursing_per_week_before": "987.00",
            "nursing_per_week_after": "1032.005",
        },
    )
    assert fees.status_code == 422 and _fields(fees) == ["nursing_per_week_after"]
    sign = {"signed_off_by": "Cllr J. Smith", "role": "Chair, HWB", "signed_off_on": "2025-07-29"}
    assert api.post("ncc", f"{BASE}/sign-off", sign).status_code == 403
    signed = api.post("admin", f"{BASE}/sign-off", sign)
    assert signed.status_code == 201, signed.text


def _complete_q1(api: Api) -> None:
    for cid in ("1", "2", "3"):
        r = api.post("ncc", f"{BASE}/national-conditions", {"condition_id": cid, "answer": True})
        assert r.status_code == 201, r.text
    for m in Q1_METRICS:
        r = api.post(
            "ncc",
            f"{BASE}/metric-assessments",
            {
                "metric_id": m,
                "assessment": "On track to meet goal",
                "challenges": "Workforce gaps in home care.\nRecruitment continues.",
            },
        )
        assert r.status_code == 201, r.text
    for scheme in ("carers", "adaptations"):
        r = api.post(
            "ncc",
            f"{BASE}/scheme-activity",
            {
                "scheme_id": scheme,
                "planned_output": "120",
                "output_delivered": "118",
                "unit": "Packages",
                "area_of_spend": "Social Care",
                "new_scheme": False,
            },
        )
        assert r.status_code == 201, r.text
    r = api.post(
        "ncc",
        f"{BASE}/contacts",
        {"completed_by": "Sam Patel", "email": "sam.patel@nottscc.gov.uk", "role": "Finance"},
    )
    assert r.status_code == 201, r.text


def test_parts_read_as_at_any_position_with_what_is_missing(api: Api) -> None:
    before = api.get("board", f"{BASE}/parts")
    assert before.status_code == 200, before.text
    body = before.json()
    assert body["complete"] is False and body["missing"][:3] == [
        "contacts",
        "sign_off",
        "national_condition:1",
    ]
    assert "metric_assessment:residential-admissions" in body["missing"]
    at = body["as_at_position"]
    _complete_q1(api)
    sign = {"signed_off_by": "Cllr J. Smith", "role": "Chair, HWB", "signed_off_on": "2025-07-29"}
    assert api.post("admin", f"{BASE}/sign-off", sign).status_code == 201
    now = api.get("auditor", f"{BASE}/parts").json()
    assert now["complete"] is True and now["missing"] == []
    assert now["contacts"]["data"]["completed_by"] == "Sam Patel"
    assert now["sign_off"]["data"]["signed_off_on"] == "2025-07-29"
    then = api.get("auditor", f"{BASE}/parts", as_at=f"position:{at}").json()
    assert then == {**body, "as_at_position": at}


def test_approval_is_refused_listing_the_missing_parts_until_complete(api: Api) -> None:
    # an incomplete return filed, then refused approval
    api.clock.advance(days=1)
    _complete_q1(api)
    assert api.post("admin", BASE).status_code == 201
    refused = api.post("admin", f"{BASE}/approve")
    assert refused.status_code == 409
    assert refused.json()["type"] == "urn:pooled:problem:return-incomplete"
    assert _fields(refused) == ["sign_off"]
    assert "sign-off" in refused.json()["errors"][0]["message"]


def test_a_return_filed_complete_is_approved(api: Api) -> None:
    _complete_q1(api)
    sign = {"signed_off_by": "Cllr J. Smith", "role": "Chair, HWB", "signed_off_on": "2025-07-29"}
    assert api.post("admin", f"{BASE}/sign-off", sign).status_code == 201
    assert api.post("admin", BASE).status_code == 201
    approved = api.post("admin", f"{BASE}/approve")
    assert approved.status_code == 201, approved.text

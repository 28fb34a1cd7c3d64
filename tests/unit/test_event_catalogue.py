"""The event catalogue: every fact has a golden payload that still decodes, type names
never change, and upcasters carry old payloads forward."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from ledger.domain import events as ev
from ledger.domain.plan import Plan, PlannedContribution
from ledger.store import serialization as ser

GOLDEN = Path(__file__).parent.parent / "golden" / "events_v1.json"

SAMPLES: list[ev.Event] = [
    ev.PartnerRegistered(
        partner_id="ncc",
        name="Nottinghamshire County Council",
        kind="local_authority",
        ons_code="E10000024",
    ),
    ev.PoolEstablished(
        pool_id="ices",
        name="Equipment",
        kind="section_75",
        host_partner_id="ncc",
        members=("ncc", "city"),
    ),
    ev.PartnerJoined(pool_id="ices", partner_id="icb"),
    ev.PlanAgreed(
        pool_id="ices",
        year="2025-26",
        plan=Plan(
            contributions=(
                PlannedContribution(
                    partner_id="ncc", funding_stream="contribution", amount=200000000
                ),
            )
        ),
    ),
    ev.ReferenceDataRecorded(year="2025-26", content_hash="ab" * 32, content="{}"),
    ev.OpeningBalanceRecorded(
        pool_id="ices", year="2025-26", amount=-1250, note="b/f", effective_date=date(2025, 4, 1)
    ),
    ev.ContributionPosted(
        pool_id="ices",
        partner_id="ncc",
        funding_stream="contribution",
        amount=123450,
        effective_date=date(2025, 7, 3),
        year="2025-26",
        reference="BACS",
    ),
    ev.ContributionRefunded(
        pool_id="ices",
        partner_id="ncc",
        funding_stream="contribution",
        amount=100,
        effective_date=date(2025, 7, 4),
        year="2025-26",
        reference="R",
        refunds_event_id="e1",
    ),
    ev.ExpenditureRecorded(
        pool_id="ices",
        scheme_id="eq",
        funding_stream="contribution",
        amount=5000,
        effective_date=date(2025, 7, 5),
        year="2025-26",
        reference="INV",
    ),
    ev.ExpenditureCredited(
        pool_id="ices",
        scheme_id="eq",
        funding_stream="contribution",
        amount=500,
        effective_date=date(2025, 7, 6),
        year="2025-26",
        reference="CN",
    ),
    ev.TransferPosted(
        pool_id="bcf",
        from_party=ev.Party(partner_id="icb"),
        to_party=ev.Party(partner_id="ncc"),
        purpose="s256",
        amount=90000000,
        effective_date=date(2025, 8, 1),
        year="2025-26",
        reference="S256",
    ),
    ev.ForecastRecorded(
        pool_id="ices", year="2025-26", amount=360000000, as_of_date=date(2025, 9, 30)
    ),
    ev.RiskRewardResultRecorded(
        pool_id="a",
        scheme_id="rr",
        period="2025-26-Q1",
        costs=(ev.PartnerAmount(partner_id="ncc", amount=1),),
        savings=(ev.PartnerAmount(partner_id="icb", amount=2),),
        effective_date=date(2025, 6, 30),
    ),
    ev.PopulationRecorded(
        pool_id="a", unit_id="north", cohort="85+", count=2000, effective_date=date(2025, 4, 1)
    ),
    ev.OutcomeAssessed(
        pool_id="a",
        service_id="hc",
        outcome_id="independence",
        period="2025-26-Q1",
        met=True,
        assessed_on=date(2025, 7, 10),
        effective_date=date(2025, 6, 30),
    ),
    ev.MetricRecorded(
        pool_id="a",
        metric_id="ed-attendances",
        period="2025-26-Q1",
        target=Decimal("100.5"),
        actual=Decimal("98"),
        effective_date=date(2025, 6, 30),
    ),
    ev.EventReversed(
        reversed_event_id="e1",
        reversed_type="contribution_posted",
        reversed_position=7,
        pool_id="ices",
        reason="keyed twice",
        effective_date=date(2025, 7, 3),
    ),
    ev.PeriodClosed(pool_id="ices", quarter="2025-26-Q1"),
    ev.RiskShareSettled(
        pool_id="ices",
        year="2025-26",
        variance=100,
        direction="overspend",
        method="proportional",
        allocations=(ev.PartnerAmount(partner_id="ncc", amount=100),),
    ),
    ev.ReturnGenerated(
        pool_id="bcf",
        quarter="2025-26-Q1",
        as_at_position=10,
        data_as_at="2025-07-30T05:00:00.000000Z",
        chain_head="cd" * 32,
        content_hash="ef" * 32,
        documents=(("json", "01" * 32),),
    ),
    ev.ReturnApproved(pool_id="bcf", quarter="2025-26-Q1", approved_by="Pat"),
    ev.ReturnSubmitted(pool_id="bcf", quarter="2025-26-Q1", submitted_by="Pat"),
    ev.NationalConditionAssured(
        pool_id="bcf",
        year="2025-26",
        quarter="2025-26-Q1",
        condition_id="3",
        answer=False,
        explanation="Uplift agreed late",
    ),
    ev.MetricAssessed(
        pool_id="bcf",
        year="2025-26",
        period="2025-26-Q1",
        metric_id="average-discharge-delay",
        assessment="On track to meet goal",
        challenges="Winter",
        achievements="Transfer hub",
        support_needs="None",
    ),
    ev.SchemeActivityRecorded(
        pool_id="bcf",
        year="2025-26",
        period="2025-26-Q1",
        scheme_id="reablement",
        planned_output=Decimal("5200"),
        output_delivered=Decimal("4980.5"),
        unit="Hours of care",
        scheme_sub_type="Reablement at home",
        area_of_spend="Social Care",
        new_scheme=False,
    ),
    ev.FeeRatesRecorded(
        pool_id="bcf",
        year="2025-26",
        quarter="2025-26-Q4",
        home_care_per_hour_before=2312,
        home_care_per_hour_after=2418,
        residential_per_week_before=78400,
        residential_per_week_after=81900,
        nursing_per_week_before=98700,
        nursing_per_week_after=103200,
    ),
    ev.ReturnContactsRecorded(
        pool_id="bcf",
        year="2025-26",
        quarter="2025-26-Q1",
        completed_by="Sam Patel",
        role="Finance",
        email="sam@nottscc.gov.uk",
        telephone="0115 977 3000",
    ),
    ev.ReturnSignedOff(
        pool_id="bcf",
        year="2025-26",
        quarter="2025-26-Q1",
        signed_off_by="Cllr J. Smith",
        role="Chair, Health and Wellbeing Board",
        signed_off_on=date(2025, 7, 24),
    ),
    ev.ReturnRefiled(
        pool_id="bcf",
        quarter="2025-26-Q1",
        version=2,
        supersedes_event_id="0b7d7f1e-2f5c-4f0e-9a7e-1c2d3e4f5a6b",
        reason="Filed before the HWB's sign-off was recorded.",
        as_at_position=120,
        data_as_at="2025-08-05T09:00:00.000000Z",
        chain_head="c" * 64,
        content_hash="d" * 64,
        documents=(("json", "e" * 64), ("csv", "f" * 64), ("xlsx", "a" * 64)),
    ),
    ev.IncomeVarianceExplained(
        pool_id="bcf",
        year="2025-26",
        quarter="2025-26-Q4",
        commentary="The ICB's March instalment arrived in April.",
    ),
    ev.YearEndFeedbackGiven(
        pool_id="bcf",
        year="2025-26",
        quarter="2025-26-Q4",
        statement_id="1",
        answer="Agree",
        comment="Partners plan discharge capacity together.",
    ),
]


def _golden() -> dict[str, dict[str, object]]:
    return dict(json.loads(GOLDEN.read_text()))


def test_every_fact_of_the_catalogue_has_a_golden_sample() -> None:
    assert {type(s).type for s in SAMPLES} == set(ev.EVENT_TYPES)
    assert set(_golden()) == set(ev.EVENT_TYPES)


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: type(s).type)
def test_golden_payloads_still_decode_to_the_same_fact(sample: ev.Event) -> None:
    golden = _golden()[type(sample).type]
    stored = ser.canonical_json(golden["payload"])
    version = int(golden["schema_version"])  # type: ignore[call-overload]
    decoded = ser.decode_event(type(sample).type, version, stored)
    assert decoded == sample
    # a payload of an older schema is re-encoded as its upcast form (the stored bytes
    # themselves never change: the chain hashes them as first stored)
    upcast = ser.upcast(type(sample).type, version, json.loads(stored))
    assert ser.encode_payload(decoded) == ser.canonical_json(upcast)
    if version == type(sample).schema_version:
        assert ser.encode_payload(decoded) == stored


def test_a_schema_1_plan_is_upcast_with_no_quarterly_profiles() -> None:
    # given the golden plan as first stored (schema 1, before quarterly profiles)
    golden = _golden()["plan_agreed"]
    assert golden["schema_version"] == 1 and ev.PlanAgreed.schema_version == 2
    payload: dict[str, Any] = golden["payload"]  # type: ignore[assignment]
    # when it is read, then each contribution and scheme has no profile (straight line)
    upcast = ser.upcast("plan_agreed", 1, payload)
    assert [c["quarters"] for c in upcast["plan"]["contributions"]] == [None]
    assert "quarters" not in payload["plan"]["contributions"][0]  # the stored one untouched
    event = ser.decode_event("plan_agreed", 1, ser.canonical_json(payload))
    assert isinstance(event, ev.PlanAgreed)
    assert event.plan.contributions[0].quarters is None


def test_a_plan_with_quarterly_profiles_round_trips_at_schema_2() -> None:
    plan = Plan(
        contributions=(
            PlannedContribution(
                partner_id="ncc",
                funding_stream="contribution",
                amount=1000,
                quarters=(100, 200, 300, 400),
            ),
        ),
    )
    event = ev.PlanAgreed(pool_id="p", year="2025-26", plan=plan)
    stored = ser.encode_payload(event)
    assert '"quarters":[100,200,300,400]' in stored
    assert ser.decode_event("plan_agreed", 2, stored) == event


def test_events_are_frozen_and_refuse_unknown_fields() -> None:
    e = SAMPLES[6]
    with pytest.raises(Exception, match="frozen"):
        e.amount = 1  # type: ignore[misc]
    with pytest.raises(Exception, match="extra"):
        ev.ContributionPosted.model_validate({**e.model_dump(), "surprise": 1})


def test_an_upcaster_carries_an_old_payload_to_the_current_schema(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given metric_recorded at schema 2, whose v1 payload named the actual "value"
    monkeypatch.setattr(ev.MetricRecorded, "schema_version", 2)
    monkeypatch.setitem(
        ser.UPCASTERS,
        ("metric_recorded", 1),
        lambda p: {**{k: v for k, v in p.items() if k != "value"}, "actual": p["value"]},
    )
    v1 = {
        "pool_id": "a",
        "metric_id": "m",
        "period": "2025-26-Q1",
        "target": "1",
        "value": "2",
        "effective_date": "2025-06-30",
        "prior_period_adjustment": False,
    }
    # when a stored v1 payload is read, then it arrives as the current shape
    event = ser.decode_event("metric_recorded", 1, ser.canonical_json(v1))
    assert isinstance(event, ev.MetricRecorded) and event.actual == Decimal("2")


if __name__ == "__main__":
    # Add a golden sample for each fact that has none. Existing samples are never
    # re-baselined: they are payloads as once stored, which must go on decoding.
    golden = _golden()
    for s in SAMPLES:
        golden.setdefault(
            type(s).type,
            {"schema_version": s.schema_version, "payload": s.model_dump(mode="json")},
        )
    GOLDEN.write_text(json.dumps(golden, indent=1, sort_keys=True) + "\n")

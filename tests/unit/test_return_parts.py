"""The BCF return's further parts, pure: given a BCF pool, when an officer records an
assurance, an assessment, activity, fee rates or contacts (or an admin the sign-off),
then the fact, or an error naming the field; a return lacks what was not recorded."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from ledger.domain import commands as c
from ledger.domain import events as ev
from ledger.domain.decide import Context, decide
from ledger.domain.errors import (
    ConcurrencyError,
    Forbidden,
    ReturnIncomplete,
    RuleViolation,
    ValidationFailed,
)
from ledger.domain.plan import Plan, PlannedContribution, Scheme
from ledger.domain.return_parts import describe, missing_parts
from ledger.domain.state import PartnerInfo, PoolState, evolve
from ledger.refdata import default_catalogue
from tests.builders import ADMIN, officer

PARTNERS = {
    "ncc": PartnerInfo(partner_id="ncc", name="Notts CC", kind="local_authority"),
    "icb-a": PartnerInfo(partner_id="icb-a", name="ICB", kind="icb"),
}
HOST = officer("ncc")
PLAN = Plan(
    contributions=(
        PlannedContribution(
            partner_id="icb-a", funding_stream="minimum_nhs_contribution", amount=100_000_00
        ),
    ),
    schemes=(
        Scheme(
            id="reablement",
            name="Reablement",
            scheme_type="Home-based intermediate care services",
            commissioner="la",
            provider_type="Local Authority",
            funding_stream="minimum_nhs_contribution",
            planned=100_000_00,
        ),
    ),
)


def bcf_pool(*more: ev.Event) -> PoolState | None:
    state: PoolState | None = None
    facts: list[ev.Event] = [
        ev.PoolEstablished(
            pool_id="bcf",
            name="BCF",
            kind="bcf",
            host_partner_id="ncc",
            members=("ncc", "icb-a"),
            hwb_area=ev.HwbArea(name="Nottinghamshire", ons_code="E10000024"),
        ),
        ev.PlanAgreed(pool_id="bcf", year="2025-26", plan=PLAN),
        *more,
    ]
    for i, f in enumerate(facts):
        state = evolve(state, f, event_id=f"e{i}")
    return state


def when(command: c.Command, actor: c.Actor, pool: PoolState | None) -> list[ev.Event]:
    ctx = Context(
        actor=actor,
        today=date(2025, 10, 20),
        reference=default_catalogue(),
        partners=PARTNERS,
        pool=pool,
    )
    return decide(command, ctx)


def test_a_no_to_a_national_condition_needs_an_explanation() -> None:
    cmd = c.AssureNationalCondition(
        pool_id="bcf", quarter="2025-26-Q2", condition_id="3", answer=False
    )
    with pytest.raises(ValidationFailed) as e:
        when(cmd, HOST, bcf_pool())
    assert e.value.errors[0].field == "explanation"
    explained = cmd.model_copy(update={"explanation": "The uplift was agreed in October."})
    [fact] = when(explained, HOST, bcf_pool())
    assert fact == ev.NationalConditionAssured(
        pool_id="bcf",
        year="2025-26",
        quarter="2025-26-Q2",
        condition_id="3",
        answer=False,
        explanation="The uplift was agreed in October.",
    )


def test_condition_4_was_asked_in_2024_25_but_not_in_2025_26() -> None:
    cmd = c.AssureNationalCondition(
        pool_id="bcf", quarter="2025-26-Q2", condition_id="4", answer=True
    )
    with pytest.raises(ValidationFailed) as e:
        when(cmd, HOST, bcf_pool())
    assert e.value.errors[0].field == "condition_id" and "(1, 2, 3)" in e.value.detail
    ref = default_catalogue().for_year("2024-25")
    assert ref is not None and ref.bcf_return is not None
    assert [x.id for x in ref.bcf_return.national_conditions] == ["1", "2", "3", "4"]


def test_a_metric_assessment_uses_the_template_wording() -> None:
    cmd = c.AssessMetric(
        pool_id="bcf",
        quarter="2025-26-Q2",
        metric_id="average-discharge-delay",
        assessment="Amber",
    )
    with pytest.raises(ValidationFailed) as e:
        when(cmd, HOST, bcf_pool())
    assert e.value.errors[0].field == "assessment"
    ok = cmd.model_copy(update={"assessment": "Not on track to meet goal"})
    [fact] = when(ok, HOST, bcf_pool())
    assert isinstance(fact, ev.MetricAssessed) and fact.period == "2025-26-Q2"


def test_activity_names_a_planned_scheme_a_template_unit_and_area_of_spend() -> None:
    base = c.RecordSchemeActivity(
        pool_id="bcf",
        quarter="2025-26-Q2",
        scheme_id="reablement",
        planned_output=Decimal("5200"),
        output_delivered=Decimal("4980.5"),
        unit="Hours of care",
        area_of_spend="Social Care",
    )
    for update, field in (
        ({"scheme_id": "nope"}, "scheme_id"),
        ({"unit": "widgets"}, "unit"),
        ({"area_of_spend": "Housing"}, "area_of_spend"),
        ({"output_delivered": Decimal("-1")}, "output_delivered"),
    ):
        with pytest.raises(ValidationFailed) as e:
            when(base.model_copy(update=update), HOST, bcf_pool())
        assert e.value.errors[0].field == field
    [fact] = when(base, HOST, bcf_pool())
    assert isinstance(fact, ev.SchemeActivityRecorded) and fact.output_delivered == Decimal(
        "4980.5"
    )


def test_the_host_officer_records_parts_and_only_an_admin_signs_off() -> None:
    contacts = c.RecordReturnContacts(
        pool_id="bcf", quarter="2025-26-Q2", completed_by="Sam", email="sam@nottscc.gov.uk"
    )
    with pytest.raises(Forbidden):
        when(contacts, officer("icb-a"), bcf_pool())
    with pytest.raises(ValidationFailed) as e:
        when(contacts.model_copy(update={"email": "sam at notts"}), HOST, bcf_pool())
    assert e.value.errors[0].field == "email"
    signed = c.SignOffReturn(
        pool_id="bcf",
        quarter="2025-26-Q2",
        signed_off_by="Cllr J. Smith",
        role="Chair, Health and Wellbeing Board",
        signed_off_on=date(2025, 10, 14),
    )
    with pytest.raises(Forbidden):
        when(signed, HOST, bcf_pool())
    with pytest.raises(ValidationFailed) as e:
        when(signed.model_copy(update={"signed_off_on": date(2025, 10, 21)}), ADMIN, bcf_pool())
    assert e.value.errors[0].field == "signed_off_on"
    assert len(when(signed, ADMIN, bcf_pool())) == 1


def test_parts_are_for_bcf_pools_only() -> None:
    s75 = evolve(
        None,
        ev.PoolEstablished(
            pool_id="eq", name="Eq", kind="section_75", host_partner_id="ncc", members=("ncc",)
        ),
    )
    with pytest.raises(RuleViolation):
        when(
            c.RecordReturnContacts(
                pool_id="eq", quarter="2025-26-Q2", completed_by="Sam", email="s@x.org"
            ),
            HOST,
            s75,
        )


def test_fee_rates_belong_to_the_year_end_return_and_must_be_positive() -> None:
    fees = c.RecordFeeRates(
        pool_id="bcf",
        year="2025-26",
        home_care_per_hour_before=2312,
        home_care_per_hour_after=2418,
        residential_per_week_before=78400,
        residential_per_week_after=81900,
        nursing_per_week_before=98700,
        nursing_per_week_after=0,
    )
    with pytest.raises(ValidationFailed) as e:
        when(fees, HOST, bcf_pool())
    assert e.value.errors[0].field == "nursing_per_week_after"
    [fact] = when(fees.model_copy(update={"nursing_per_week_after": 103200}), HOST, bcf_pool())
    assert isinstance(fact, ev.FeeRatesRecorded) and fact.quarter == "2025-26-Q4"


def test_the_missing_parts_of_a_quarter_follow_the_year_plan_and_metrics() -> None:
    ref = default_catalogue().for_year("2025-26")
    recorded = {"contacts", "national_condition:1", "metric:average-discharge-delay"}
    assert missing_parts("2025-26-Q2", PLAN, ref, recorded) == (
        "sign_off",
        "national_condition:2",
        "national_condition:3",
        "metric_assessment:average-discharge-delay",
        "scheme_activity:reablement",
    )
    assert "fee_rates" in missing_parts("2025-26-Q4", PLAN, ref, recorded)
    assert describe("national_condition:2") == "the assurance on national condition 2"


def _filed(*parts: ev.Event) -> PoolState | None:
    return bcf_pool(
        *parts,
        ev.ReturnGenerated(
            pool_id="bcf",
            quarter="2025-26-Q2",
            as_at_position=9,
            data_as_at="2025-10-30T05:00:00.000000Z",
            chain_head="a" * 64,
            content_hash="b" * 64,
            documents=(),
        ),
    )


def test_approval_is_refused_while_the_filed_return_lacks_a_part_and_allowed_once_complete() -> (
    None
):
    approve = c.ApproveReturn(pool_id="bcf", quarter="2025-26-Q2")
    contacts = ev.ReturnContactsRecorded(
        pool_id="bcf",
        year="2025-26",
        quarter="2025-26-Q2",
        completed_by="Sam",
        email="s@nottscc.gov.uk",
    )
    with pytest.raises(ReturnIncomplete) as e:
        when(approve, ADMIN, _filed(contacts))
    assert [x.field for x in e.value.errors] == [
        "sign_off",
        "national_condition:1",
        "national_condition:2",
        "national_condition:3",
        "scheme_activity:reablement",
    ]
    parts = [
        contacts,
        ev.ReturnSignedOff(
            pool_id="bcf",
            year="2025-26",
            quarter="2025-26-Q2",
            signed_off_by="Cllr J. Smith",
            role="Chair",
            signed_off_on=date(2025, 10, 14),
        ),
        *(
            ev.NationalConditionAssured(
                pool_id="bcf", year="2025-26", quarter="2025-26-Q2", condition_id=i, answer=True
            )
            for i in ("1", "2", "3")
        ),
        ev.SchemeActivityRecorded(
            pool_id="bcf",
            year="2025-26",
            period="2025-26-Q2",
            scheme_id="reablement",
            planned_output=Decimal(1),
            output_delivered=Decimal(1),
            unit="Hours of care",
        ),
    ]
    [approved] = when(approve, ADMIN, _filed(*parts))
    assert isinstance(approved, ev.ReturnApproved)
    # a part recorded after filing is not in the filed return: approval still refused
    late_state = evolve(_filed(*parts[:-1]), parts[-1])
    with pytest.raises(ReturnIncomplete):
        when(approve, ADMIN, late_state)


def test_a_refiling_over_a_version_not_the_latest_is_a_concurrent_change() -> None:
    # given Q2 filed (version 1) and re-filed (version 2) with every part recorded
    signed = ev.ReturnSignedOff(
        pool_id="bcf",
        year="2025-26",
        quarter="2025-26-Q2",
        signed_off_by="Cllr J. Smith",
        role="Chair",
        signed_off_on=date(2025, 10, 14),
    )
    refiled = ev.ReturnRefiled(
        pool_id="bcf",
        quarter="2025-26-Q2",
        version=2,
        supersedes_event_id="e1",
        reason="signed off",
        as_at_position=12,
        data_as_at="2025-11-01T09:00:00.000000Z",
        chain_head="c" * 64,
        content_hash="d" * 64,
        documents=(),
    )
    state = evolve(_filed(), signed)
    state = evolve(state, refiled)
    assert state is not None
    filed = state.filed("2025-26-Q2")
    assert filed is not None and filed.version == 2 and "sign_off" in filed.parts
    # when an admin who saw version 1 files again, then it is refused
    again = c.RefileReturn(
        pool_id="bcf",
        quarter="2025-26-Q2",
        reason="again",
        supersedes_version=1,
        supersedes_event_id="e1",
        as_at_position=13,
        data_as_at="2025-11-02T09:00:00.000000Z",
        chain_head="c" * 64,
        content_hash="d" * 64,
        documents=(),
    )
    with pytest.raises(ConcurrencyError):
        when(again, ADMIN, state)

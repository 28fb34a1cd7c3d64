"""The rules, pure: given facts, when a command, then new facts or an error.
No database: the state comes from ``evolve`` over the given events."""

from __future__ import annotations

from datetime import date

import pytest

from ledger.domain import commands as c
from ledger.domain import events as ev
from ledger.domain.decide import Context, decide
from ledger.domain.errors import Forbidden, NotFound, PeriodClosed, RuleViolation, ValidationFailed
from ledger.domain.state import PartnerInfo, PoolState, TargetEvent, evolve
from ledger.refdata import default_catalogue
from tests.builders import ADMIN, BOARD, equipment_plan, officer

PARTNERS = {
    "ncc": PartnerInfo(partner_id="ncc", name="Notts CC", kind="local_authority"),
    "city": PartnerInfo(partner_id="city", name="City", kind="local_authority"),
    "icb-a": PartnerInfo(partner_id="icb-a", name="ICB", kind="icb"),
}


def given(*facts: ev.Event) -> PoolState | None:
    state: PoolState | None = None
    for i, f in enumerate(facts):
        state = evolve(state, f, event_id=f"e{i}")
    return state


def pool_with_plan(*more: ev.Event) -> PoolState | None:
    return given(
        ev.PoolEstablished(
            pool_id="eq",
            name="Equipment",
            kind="section_75",
            host_partner_id="ncc",
            members=("ncc", "city", "icb-a"),
        ),
        ev.PlanAgreed(pool_id="eq", year="2025-26", plan=equipment_plan()),
        *more,
    )


def when(
    command: c.Command, actor: c.Actor, pool: PoolState | None, target: TargetEvent | None = None
) -> list[ev.Event]:
    ctx = Context(
        actor=actor,
        today=date(2026, 11, 23),
        reference=default_catalogue(),
        partners=PARTNERS,
        pool=pool,
        target=target,
    )
    return decide(command, ctx)


def test_a_contribution_becomes_a_posted_fact_for_the_year_of_its_date() -> None:
    cmd = c.PostContribution(
        pool_id="eq",
        partner_id="city",
        funding_stream="contribution",
        amount=1700,
        effective_date=date(2026, 3, 31),
        reference="R1",
    )
    (fact,) = when(cmd, officer("city"), pool_with_plan())
    assert isinstance(fact, ev.ContributionPosted)
    assert (fact.year, fact.amount, fact.prior_period_adjustment) == ("2025-26", 1700, False)


def test_a_contribution_for_an_unknown_pool_is_not_found_before_any_role_check() -> None:
    cmd = c.PostContribution(
        pool_id="nope",
        partner_id="city",
        funding_stream="contribution",
        amount=1,
        effective_date=date(2025, 5, 1),
        reference="R",
    )
    with pytest.raises(NotFound, match="nope"):
        when(cmd, officer("city"), None)


def test_the_board_writes_nothing() -> None:
    cmd = c.RecordForecast(pool_id="eq", year="2025-26", amount=1, as_of_date=date(2025, 9, 30))
    with pytest.raises(Forbidden, match="board"):
        when(cmd, BOARD, pool_with_plan())


def test_only_the_host_records_spend() -> None:
    cmd = c.RecordExpenditure(
        pool_id="eq",
        scheme_id="equipment",
        amount=100,
        effective_date=date(2025, 5, 1),
        reference="INV",
    )
    with pytest.raises(Forbidden, match="host"):
        when(cmd, officer("city"), pool_with_plan())
    assert len(when(cmd, officer("ncc"), pool_with_plan())) == 1


def test_spend_on_a_scheme_outside_the_plan_names_the_scheme_field() -> None:
    cmd = c.RecordExpenditure(
        pool_id="eq",
        scheme_id="carers",
        amount=100,
        effective_date=date(2025, 5, 1),
        reference="INV",
    )
    with pytest.raises(ValidationFailed) as info:
        when(cmd, officer("ncc"), pool_with_plan())
    assert info.value.errors[0].field == "scheme_id"


def test_a_closed_quarter_refuses_a_reversal_unless_it_is_an_adjustment() -> None:
    pool = pool_with_plan(ev.PeriodClosed(pool_id="eq", quarter="2025-26-Q1"))
    target = TargetEvent(
        event_id="x",
        type="contribution_posted",
        position=9,
        pool_id="eq",
        poster_partner_id="city",
        effective_date=date(2025, 5, 1),
        reversed=False,
    )
    with pytest.raises(PeriodClosed):
        when(c.ReverseEvent(event_id="x", reason="dup"), officer("city"), pool, target)
    (fact,) = when(
        c.ReverseEvent(event_id="x", reason="dup", prior_period_adjustment=True),
        officer("city"),
        pool,
        target,
    )
    assert isinstance(fact, ev.EventReversed) and fact.effective_date == date(2025, 5, 1)


def test_a_partner_may_reverse_only_what_it_posted() -> None:
    target = TargetEvent(
        event_id="x",
        type="contribution_posted",
        position=9,
        pool_id="eq",
        poster_partner_id="city",
        effective_date=date(2025, 5, 1),
        reversed=False,
    )
    with pytest.raises(Forbidden, match="reverse only"):
        when(c.ReverseEvent(event_id="x", reason="dup"), officer("icb-a"), pool_with_plan(), target)


def test_a_pool_establishment_cannot_be_reversed() -> None:
    target = TargetEvent(
        event_id="x",
        type="pool_established",
        position=1,
        pool_id="eq",
        poster_partner_id=None,
        effective_date=None,
        reversed=False,
    )
    with pytest.raises(RuleViolation, match="cannot be reversed"):
        when(c.ReverseEvent(event_id="x", reason="oops"), ADMIN, pool_with_plan(), target)


def test_an_s256_transfer_must_go_from_the_nhs_to_a_council() -> None:
    cmd = c.PostTransfer(
        pool_id="eq",
        from_party=ev.Party(partner_id="city"),
        to_party=ev.Party(partner_id="ncc"),
        amount=100,
        purpose="s256",
        effective_date=date(2025, 5, 1),
        reference="T",
    )
    with pytest.raises(ValidationFailed) as info:
        when(cmd, officer("city"), pool_with_plan())
    assert info.value.errors[0].field == "from.partner_id"


def test_filing_the_next_quarters_return_closes_it() -> None:
    cmd = c.GenerateReturn(
        pool_id="eq",
        quarter="2025-26-Q1",
        as_at_position=10,
        data_as_at="2025-07-30T05:00:00.000000Z",
        chain_head="a" * 64,
        content_hash="b" * 64,
        documents=(),
    )
    facts = when(cmd, ADMIN, pool_with_plan())
    assert [type(f).__name__ for f in facts] == ["ReturnGenerated", "PeriodClosed"]
    assert isinstance(facts[1], ev.PeriodClosed) and facts[1].automatic


def test_a_plan_naming_a_commissioner_the_pool_lacks_is_refused() -> None:
    from ledger.domain.plan import Scheme

    plan = equipment_plan(
        schemes=[
            Scheme(
                id="x",
                name="X",
                scheme_type="Other",
                commissioner="trust",
                provider_type="Other",
                funding_stream="contribution",
                planned=1,
            )
        ]
    )
    with pytest.raises(ValidationFailed) as info:
        when(c.AgreePlan(pool_id="eq", year="2025-26", plan=plan), ADMIN, pool_with_plan())
    assert "schemes[0].commissioner" in [e.field for e in info.value.errors]


def test_evolve_never_raises_on_a_fact_for_a_pool_it_does_not_know() -> None:
    assert evolve(None, ev.PeriodClosed(pool_id="eq", quarter="2025-26-Q1")) is None

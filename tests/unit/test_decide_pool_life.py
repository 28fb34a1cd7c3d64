"""A pool's life and what may be refunded (domain.md 5), pure: given facts, when a
command, then the facts or the 422 naming the field. The figure a refund or credit is
limited by is given as the handler would load it (``Context.refundable``)."""

from __future__ import annotations

from datetime import date

import pytest

from ledger.domain import commands as c
from ledger.domain import events as ev
from ledger.domain.decide import Context, decide
from ledger.domain.errors import ValidationFailed
from ledger.domain.state import PoolState, evolve
from ledger.refdata import default_catalogue
from tests.builders import officer
from tests.unit.test_decide import PARTNERS, equipment_plan


def pool_from_2026(*years: str) -> PoolState | None:
    """A pool established in 2026 with plans for ``years`` (default 2026-27)."""
    state: PoolState | None = None
    facts: list[ev.Event] = [
        ev.PoolEstablished(
            pool_id="eq",
            name="Equipment",
            kind="section_75",
            host_partner_id="ncc",
            members=("ncc", "city", "icb-a"),
        ),
        *(
            ev.PlanAgreed(pool_id="eq", year=y, plan=equipment_plan())
            for y in years or ("2026-27",)
        ),
    ]
    for i, f in enumerate(facts):
        state = evolve(state, f, event_id=f"e{i}")
    return state


def when(
    command: c.Command, pool: PoolState | None, *, actor: c.Actor | None = None, refundable: int = 0
) -> list[ev.Event]:
    ctx = Context(
        actor=actor or officer("ncc"),
        today=date(2027, 1, 15),
        reference=default_catalogue(),
        partners=PARTNERS,
        pool=pool,
        refundable=refundable,
    )
    return decide(command, ctx)


def refused(command: c.Command, pool: PoolState | None, **kw: object) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as info:
        when(command, pool, **kw)  # type: ignore[arg-type]
    return info.value


def contribution(day: date, **kw: object) -> c.PostContribution:
    return c.PostContribution(
        pool_id="eq",
        partner_id="ncc",
        funding_stream="contribution",
        amount=123450,
        effective_date=day,
        reference="BACS 1",
        **kw,  # type: ignore[arg-type]
    )


def refund(amount: int) -> c.RefundContribution:
    return c.RefundContribution(
        pool_id="eq",
        partner_id="ncc",
        funding_stream="contribution",
        amount=amount,
        effective_date=date(2026, 9, 1),
        reference="Refund 1",
    )


@pytest.mark.parametrize("day", [date(1999, 5, 1), date(2030, 10, 1), date(2026, 3, 31)])
def test_a_contribution_outside_the_pools_life_is_refused_naming_its_date(day: date) -> None:
    err = refused(contribution(day), pool_from_2026())
    assert [e.field for e in err.errors] == ["effective_date"]
    assert "2026-27 (its first plan year) to 2027-28" in err.errors[0].message


def test_a_contribution_in_the_year_after_the_latest_plan_is_accepted() -> None:
    (fact,) = when(contribution(date(2027, 4, 1)), pool_from_2026())
    assert isinstance(fact, ev.ContributionPosted) and fact.year == "2027-28"


def test_a_contribution_for_a_year_outside_the_life_names_the_year() -> None:
    err = refused(contribution(date(2026, 4, 2), year="2025-26"), pool_from_2026())
    assert [e.field for e in err.errors] == ["year"]


def test_a_pool_without_a_plan_takes_no_dated_fact() -> None:
    assert len(when(contribution(date(2026, 5, 1)), pool_from_2026())) == 1
    bare = evolve(
        None,
        ev.PoolEstablished(
            pool_id="eq", name="E", kind="section_75", host_partner_id="ncc", members=("ncc",)
        ),
    )
    with pytest.raises(ValidationFailed, match="no plan yet"):
        when(contribution(date(2026, 5, 1)), bare)


def test_a_forecast_for_a_year_outside_the_life_names_the_year() -> None:
    cmd = c.RecordForecast(pool_id="eq", year="2029-30", amount=1, as_of_date=date(2026, 9, 30))
    assert [e.field for e in refused(cmd, pool_from_2026()).errors] == ["year"]


def test_spend_in_the_year_after_the_latest_plan_needs_a_plan_for_its_year() -> None:
    cmd = c.RecordExpenditure(
        pool_id="eq",
        scheme_id="equipment",
        amount=100,
        effective_date=date(2027, 5, 1),
        reference="INV",
    )
    assert [e.field for e in refused(cmd, pool_from_2026()).errors] == ["scheme_id"]
    assert len(when(cmd, pool_from_2026("2026-27", "2027-28"))) == 1


def test_a_transfer_before_the_first_plan_year_is_refused() -> None:
    cmd = c.PostTransfer(
        pool_id="eq",
        from_party=ev.Party(partner_id="icb-a"),
        to_party=ev.Party(partner_id="ncc"),
        amount=100,
        purpose="s256",
        effective_date=date(2025, 5, 1),
        reference="T",
    )
    err = refused(cmd, pool_from_2026(), actor=officer("icb-a"))
    assert [e.field for e in err.errors] == ["effective_date"]


def test_a_metric_for_a_period_outside_the_life_names_the_period() -> None:
    cmd = c.RecordMetric(
        pool_id="eq",
        metric_id="m",
        period="2031-32-Q1",
        target=1,
        actual=1,  # type: ignore[arg-type]
    )
    assert refused(cmd, pool_from_2026()).errors[0].field == "period"


def test_a_refund_of_more_than_was_paid_net_of_refunds_is_refused_with_the_most_allowed() -> None:
    err = refused(refund(9_999_900), pool_from_2026(), refundable=123450)
    assert [e.field for e in err.errors] == ["amount"]
    assert err.errors[0].message.endswith("at most 1234.50")


def test_a_refund_after_a_full_refund_is_refused_at_most_nil() -> None:
    err = refused(refund(9_999_900), pool_from_2026(), refundable=0)
    assert err.errors[0].message.endswith("at most 0.00")


def test_a_refund_of_exactly_what_was_paid_is_accepted() -> None:
    (fact,) = when(refund(123450), pool_from_2026(), refundable=123450)
    assert isinstance(fact, ev.ContributionRefunded) and fact.amount == 123450


def test_a_credit_note_beyond_the_schemes_net_spend_is_refused() -> None:
    cmd = c.CreditExpenditure(
        pool_id="eq",
        scheme_id="equipment",
        amount=50001,
        effective_date=date(2026, 9, 1),
        reference="CN-1",
    )
    err = refused(cmd, pool_from_2026(), refundable=50000)
    assert [(e.field, e.message[-14:]) for e in err.errors] == [("amount", "at most 500.00")]
    assert len(when(cmd.model_copy(update={"amount": 50000}), pool_from_2026(), refundable=50000))


def test_every_field_error_of_a_contribution_is_reported_at_once() -> None:
    cmd = c.PostContribution(
        pool_id="eq",
        partner_id="nobody",
        funding_stream="bogus",
        amount=0,
        effective_date=date(1999, 5, 1),
        reference=" ",
    )
    err = refused(cmd, pool_from_2026())
    assert sorted(e.field for e in err.errors) == [
        "amount",
        "effective_date",
        "funding_stream",
        "partner_id",
        "reference",
    ]

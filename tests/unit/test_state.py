"""Write-side state: the fast version step equals pydantic's own copy."""

from __future__ import annotations

from datetime import date

from ledger.domain import events as ev
from ledger.domain.state import PoolState, evolve, same_but_version


def a_pool() -> PoolState:
    established = ev.PoolEstablished(
        pool_id="eq",
        name="Community equipment",
        kind="section_75",
        host_partner_id="ncc",
        members=("ncc", "city"),
    )
    state = evolve(None, established)
    assert state is not None
    return state


def a_posting() -> ev.ContributionPosted:
    return ev.ContributionPosted(
        pool_id="eq",
        partner_id="city",
        funding_stream="contribution",
        amount=100,
        effective_date=date(2025, 5, 1),
        year="2025-26",
        reference="R1",
        prior_period_adjustment=False,
    )


def test_a_posting_moves_the_version_alone_as_a_pydantic_copy_would() -> None:
    state = a_pool()
    after = evolve(state, a_posting())
    assert after == state.model_copy(update={"version": 2})
    assert after is not None and after.version == 2 and state.version == 1
    assert after.model_dump_json() == state.model_copy(update={"version": 2}).model_dump_json()
    assert same_but_version(after, state)


def test_a_closed_quarter_is_more_than_a_version() -> None:
    state = a_pool()
    after = evolve(state, ev.PeriodClosed(pool_id="eq", quarter="2025-26-Q1"))
    assert after is not None and after.closed_quarters == ("2025-26-Q1",)
    assert not same_but_version(after, state)

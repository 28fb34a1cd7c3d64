"""The append path's shortcuts decide as the long way does (bench/RESULTS.md, append
instruction counts): the type memos of ``evolve`` and the return-part tally name every
class their ``match`` tests, the domain models' type checks are ``type``'s own, and the
pool's life per (first, latest) plan year is the one the plans give."""

from __future__ import annotations

import ast
import inspect
from datetime import date

from ledger.domain import events as ev
from ledger.domain import state
from ledger.domain.deciders.checks import life_of
from ledger.domain.model import Frozen
from ledger.domain.return_parts import PART_EVENTS, part_keys_of
from ledger.domain.state import PoolState


def _classes_matched(func: object) -> set[str]:
    tree = ast.parse(inspect.getsource(func))  # type: ignore[arg-type]
    return {
        node.cls.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.MatchClass) and isinstance(node.cls, ast.Attribute)
    }


def test_the_memos_name_every_class_the_matches_test() -> None:
    in_evolve = _classes_matched(state.evolve)
    in_parts = _classes_matched(part_keys_of)
    assert len(in_evolve) == 10 and len(in_parts) == 9  # hand-counted
    assert {c.__name__ for c in PART_EVENTS} == in_parts
    assert {c.__name__ for c in state._SHAPING} == in_evolve | in_parts


def _posting(year: str = "2025-26") -> ev.ContributionPosted:
    return ev.ContributionPosted(
        pool_id="eq",
        partner_id="ncc",
        funding_stream="contribution",
        amount=12_345,
        effective_date=date(2025, 7, 3),
        year=year,
        reference="R-1",
        prior_period_adjustment=False,
    )


def test_a_posting_moves_the_version_alone_and_a_part_is_tallied() -> None:
    pool = PoolState(
        pool_id="eq", name="Eq", kind="section_75", host_partner_id="ncc", members=("ncc",)
    )
    after = state.evolve(pool, _posting(), event_id="e1")
    again = state.evolve(after, _posting(), event_id="e2")  # the memo's path this time
    assert after is not None and again is not None
    assert (after.version, again.version) == (1, 2)
    assert again.model_dump(exclude={"version"}) == pool.model_dump(exclude={"version"})
    signed = ev.ReturnSignedOff(
        pool_id="eq",
        year="2025-26",
        quarter="2025-26-Q2",
        signed_off_by="A. Chair",
        role="Chair",
        signed_off_on=date(2025, 10, 20),
    )
    tallied = state.evolve(again, signed, event_id="e3")
    assert tallied is not None and tallied.return_parts == {"2025-26-Q2": ("sign_off",)}


def test_type_checks_are_types_own_and_answer_as_before() -> None:
    meta = type(Frozen)
    assert meta.__instancecheck__ is type.__instancecheck__
    assert meta.__subclasscheck__ is type.__subclasscheck__
    p = _posting()
    assert isinstance(p, ev.ContributionPosted) and isinstance(p, Frozen)
    assert not isinstance(p, ev.PlanAgreed) and not isinstance("x", ev.ContributionPosted)
    assert issubclass(ev.ContributionPosted, Frozen) and not issubclass(int, Frozen)


def test_the_pools_life_runs_from_the_first_plan_year_to_the_year_after_the_latest() -> None:
    pool = PoolState(
        pool_id="eq", name="Eq", kind="section_75", host_partner_id="ncc", members=("ncc",)
    )
    assert life_of(pool) is None
    two = pool.model_copy(update={"plans": {"2024-25": (), "2026-27": ()}})
    assert life_of(two) == ("2024-25", "2027-28")
    one = pool.model_copy(update={"plans": {"2024-25": ()}})
    assert life_of(one) == ("2024-25", "2025-26")
    assert life_of(two) == ("2024-25", "2027-28")  # kept per pair, not per pool

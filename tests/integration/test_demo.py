"""The demo partnership on SQLite and PostgreSQL: it loads quickly through the
ledger's own commands into an empty ledger, the chain verifies, and its figures are
the ones the seed papers and the story promise (checked by hand below)."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from ledger.clock import FixedClock
from ledger.demo import ALLIANCE, BCF, DEMO_PARTNERS, ICES, DemoSummary, load_demo
from ledger.domain import commands as c
from ledger.domain.calc.riskshare import RiskShareResult, SchemeVariance, allocate_risk_share
from ledger.domain.errors import RuleViolation
from ledger.domain.plan import Plan
from ledger.domain.state import PoolState
from ledger.handlers import Ledger
from ledger.refdata import default_catalogue
from ledger.snapshots import check
from ledger.store.engine import make_engine
from ledger.store.reads import StoredEvent, read_range
from ledger.store.verify import verify
from projections.projector import Projector
from tests.builders import ADMIN, pounds
from tests.demo_fixtures import DemoTemplates

# one xdist worker loads the demo for every module that uses it (tests/demo_fixtures.py)
pytestmark = pytest.mark.xdist_group("demo")

TODAY = date(2026, 11, 23)
MONEY = (
    "contribution_posted",
    "contribution_refunded",
    "expenditure_recorded",
    "expenditure_credited",
    "transfer_posted",
)


@dataclass
class Loaded:
    ledger: Ledger
    summary: DemoSummary
    events: list[StoredEvent]

    def pool(self, pool_id: str) -> PoolState:
        with self.ledger.engine.connect() as conn:
            state = self.ledger.load_pool(conn, pool_id)
        assert state is not None
        return state

    def payload(self, e: StoredEvent) -> dict[str, Any]:
        return dict(json.loads(e.payload))

    @property
    def reversed_ids(self) -> set[str]:
        return {e.reverses_event_id for e in self.events if e.reverses_event_id}

    def counted(self, pool_id: str, year: str, *types: str) -> list[StoredEvent]:
        """The pool-year's events of these types that still count (not reversed)."""
        return [
            e
            for e in self.events
            if e.pool_id == pool_id
            and e.year == year
            and e.type in types
            and e.event_id not in self.reversed_ids
        ]

    def net(self, pool_id: str, year: str, plus: str, minus: str) -> int:
        total = 0
        for e in self.counted(pool_id, year, plus, minus):
            amount = int(self.payload(e)["amount"])
            total += amount if e.type == plus else -amount
        return total


def _load(ledger: Ledger) -> Loaded:
    summary = load_demo(ledger, TODAY)
    with ledger.engine.connect() as conn:
        events = read_range(conn)
    return Loaded(ledger, summary, events)


def _ledger(engine: Engine) -> Ledger:
    """As the ``ledger`` fixture builds it: with the projector keeping the read side."""
    clock = FixedClock(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    return Ledger(engine, clock, default_catalogue(), hooks=[Projector()])


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def loaded(request: pytest.FixtureRequest, demo_templates: DemoTemplates) -> Loaded:
    """The demo, loaded once per process and database and shared by the modules that
    only read it (tests/demo_fixtures.py): this module's checks do not write."""
    demo = demo_templates.shared(request.param)
    with demo.engine.connect() as conn:
        events = read_range(conn)
    return Loaded(_ledger(demo.engine), demo.summary, events)


def test_the_demo_loads_through_the_ledger_and_the_chain_verifies(loaded: Loaded) -> None:
    s = loaded.summary
    # a few thousand events at most, every one through the ledger and chained
    assert 500 < s.events_written < 3000
    assert (s.first_position, s.last_position) == (1, s.events_written)
    assert len(loaded.events) == s.events_written
    assert sum(s.events_by_pool.values()) + len(DEMO_PARTNERS) + 2 == s.events_written
    result = verify(loaded.ledger.engine)
    assert result.ok and result.events_checked == s.events_written
    # no posting is dated after today, and every event says who and which request
    assert all(e.effective_date is None or e.effective_date <= TODAY for e in loaded.events)
    assert all(e.request_id and e.request_id.startswith("demo-") for e in loaded.events)


def test_every_stored_snapshot_equals_a_replay_of_its_stream(loaded: Loaded) -> None:
    # the ICES opening balance is held under its own event id (it was held under ""
    # when state was evolved before ids existed, so its reversal went unseen)
    opening = next(e for e in loaded.events if e.type == "opening_balance_recorded")
    assert loaded.pool(ICES).opening_balance == ("2025-26", opening.event_id)
    plans = {e.event_id for e in loaded.events if e.type == "plan_agreed"}
    for pool in (ICES, BCF, ALLIANCE):
        held = {p.event_id for stack in loaded.pool(pool).plans.values() for p in stack}
        assert held <= plans and len(held) == 2
    result = check(loaded.ledger.engine)
    assert result.problems == ()
    assert result.events_replayed == loaded.summary.events_written


def test_the_pools_exist_with_their_hosts_members_and_closed_quarters(loaded: Loaded) -> None:
    ices, bcf, alliance = (loaded.pool(p) for p in (ICES, BCF, ALLIANCE))
    assert (ices.kind, ices.host_partner_id) == ("section_75", "ncc")
    assert set(ices.members) == {
        "ncc",
        "nottm-city",
        "nhs-nottm-city",
        "nhs-notts-county",
        "bassetlaw-ccg",
    }
    assert (bcf.kind, bcf.host_partner_id, set(bcf.members)) == (
        "bcf",
        "ncc",
        {"ncc", "nn-icb", "mansfield-dc"},
    )
    assert bcf.hwb_area is not None
    assert (bcf.hwb_area.name, bcf.hwb_area.ons_code) == ("Nottinghamshire", "E10000024")
    assert (alliance.kind, set(alliance.members)) == (
        "alliance",
        {"ncc", "nn-icb", "sherwood-fh", "mears"},
    )
    # 2025-26 is complete; of 2026-27 Q1 is closed and Q2 (ended 30 September) is left
    # open, so the scheduler has a return to file; Q3 has not ended
    for state in (ices, bcf, alliance):
        assert state.closed_quarters == (
            "2025-26-Q1",
            "2025-26-Q2",
            "2025-26-Q3",
            "2025-26-Q4",
            "2026-27-Q1",
        )
        assert set(state.plans) == {"2025-26", "2026-27"}
    assert loaded.summary.open_quarter == "2026-27-Q2"
    # partners registered with their official codes
    kinds = {
        e.partner_id: loaded.payload(e) for e in loaded.events if e.type == "partner_registered"
    }
    assert kinds["ncc"]["ons_code"] == "E10000024"
    assert kinds["nottm-city"]["ons_code"] == "E06000018"
    assert (kinds["nn-icb"]["kind"], kinds["nn-icb"]["ods_code"]) == ("icb", "QT1")
    assert kinds["mansfield-dc"]["kind"] == "district_council"
    assert kinds["mears"]["kind"] == "independent_provider"


def test_hand_checked_ices_figures(loaded: Loaded) -> None:
    ices = loaded.pool(ICES)
    plan = ices.plan("2025-26")
    assert plan is not None
    # the contract of the seed paper: £5,360,123 a year, and the schemes spend it all
    assert plan.planned_total == pounds("5360123.00")
    assert sum(s.planned for s in plan.schemes) == pounds("5360123.00")
    assert len(plan.contributions) == 5
    # every partner paid its twelve instalments; the city's January instalment was
    # paid twice and refunded, so income is the plan exactly
    assert loaded.net(ICES, "2025-26", "contribution_posted", "contribution_refunded") == pounds(
        "5360123.00"
    )
    (refund,) = [e for e in loaded.events if e.type == "contribution_refunded"]
    refunded = loaded.payload(refund)["refunds_event_id"]
    (paid_twice,) = [e for e in loaded.events if e.event_id == refunded]
    assert (paid_twice.partner_id, refund.partner_id, refund.actor_partner_id) == (
        "nottm-city",
        "nottm-city",
        "ncc",
    )
    # the duplicated August invoice was reversed by the host's officer, with a reason
    (reversal,) = [e for e in loaded.events if e.type == "event_reversed"]
    (duplicate,) = [e for e in loaded.events if e.event_id == reversal.reverses_event_id]
    twins = [
        e
        for e in loaded.events
        if e.type == "expenditure_recorded"
        and loaded.payload(e)["reference"] == loaded.payload(duplicate)["reference"]
    ]
    assert len(twins) == 2 and duplicate.pool_id == ICES
    assert reversal.actor_partner_id == "ncc" and "Duplicate" in str(
        loaded.payload(reversal)["reason"]
    )
    # one credit note against November's equipment invoice
    (credit,) = [e for e in loaded.events if e.type == "expenditure_credited"]
    assert credit.pool_id == ICES and loaded.payload(credit)["amount"] == pounds("18640.00")
    # the opening balance, in the first year only
    (opening,) = [e for e in loaded.events if e.type == "opening_balance_recorded"]
    assert (opening.pool_id, opening.year, loaded.payload(opening)["amount"]) == (
        ICES,
        "2025-26",
        pounds("48210.37"),
    )
    # the year's outturn is an overspend; the tiered rule gives the first £100,000 to
    # the host and caps NHS Bassetlaw at £4,000, the rest of its share falling to the host
    spend = loaded.net(ICES, "2025-26", "expenditure_recorded", "expenditure_credited")
    assert spend == pounds("5593194.41")
    variance = spend - plan.planned_total - pounds("48210.37")
    assert variance == pounds("184861.04")
    # by hand: ncc bears the first £100,000.00; the other £84,861.04 splits 35/15/34/11/5:
    # ncc 29,701.364, city 12,729.156, notts-county 28,852.7536, nottm-city 9,334.7144,
    # bassetlaw 4,243.052 capped at £4,000.00 (its £243.052 falls to the host), so exactly
    # ncc 129,944.416 and city 12,729.156 (remainders .6: a penny each), county 28,852.7536
    # and nottm-city 9,334.7144 (rounded down): they sum to £184,861.04
    result = _risk_share(loaded, ICES, "2025-26", plan, variance)
    assert result.direction == "overspend"
    assert result.allocations == {
        "ncc": pounds("129944.42"),
        "nottm-city": pounds("12729.16"),
        "nhs-notts-county": pounds("28852.75"),
        "nhs-nottm-city": pounds("9334.71"),
        "bassetlaw-ccg": pounds("4000.00"),
    }


def test_hand_checked_bcf_figures(loaded: Loaded) -> None:
    bcf = loaded.pool(BCF)
    plan = bcf.plan("2025-26")
    assert plan is not None
    ref = default_catalogue().for_year("2025-26")
    assert ref is not None
    assert len(plan.schemes) == 12
    assert {s.scheme_type for s in plan.schemes} <= set(ref.scheme_types)
    assert {s.provider_type for s in plan.schemes} <= set(ref.provider_types)
    assert {s.commissioner for s in plan.schemes} == {"la", "icb", "joint", "mansfield-dc"}
    assert {pc.funding_stream for pc in plan.contributions} == {
        "minimum_nhs_contribution",
        "la_better_care_grant",
        "dfg",
        "additional_la",
        "additional_icb",
    }
    assert plan.planned_total == sum(s.planned for s in plan.schemes) == pounds("47583878.00")
    assert (plan.risk_share.overspend.method, plan.risk_share.underspend.method) == (
        "by_commissioner",
        "carry_forward",
    )
    # every stream was received in full in 2025-26
    assert loaded.net(BCF, "2025-26", "contribution_posted", "contribution_refunded") == (
        plan.planned_total
    )
    # the s.256 transfer: £900,000 from the ICB to the county council, posted by the ICB
    (transfer,) = [e for e in loaded.events if e.type == "transfer_posted"]
    p = loaded.payload(transfer)
    assert (transfer.pool_id, p["purpose"], p["amount"]) == (BCF, "s256", pounds("900000"))
    assert (p["from_party"]["partner_id"], p["to_party"]["partner_id"]) == ("nn-icb", "ncc")
    assert transfer.actor_partner_id == "nn-icb"
    # metrics each ended quarter: four BCF metrics for six quarters
    metrics = [e for e in loaded.events if e.type == "metric_recorded" and e.pool_id == BCF]
    assert len(metrics) == 4 * 6
    assert {str(loaded.payload(m)["metric_id"]) for m in metrics} <= {m.id for m in ref.metrics}
    # forecasts: whole pool (ICES) and per scheme (BCF), of the year in progress
    forecasts = [e for e in loaded.events if e.type == "forecast_recorded"]
    assert {(e.pool_id, loaded.payload(e)["scheme_id"] is None) for e in forecasts} == {
        (ICES, True),
        (BCF, False),
    }
    # one prior-period adjustment: a late invoice for 2026-27 Q1, posted after it closed
    (ppa,) = [e for e in loaded.events if loaded.payload(e).get("prior_period_adjustment")]
    (close,) = [
        e for e in loaded.events if e.type == "period_closed" and e.pool_id == BCF
        and e.period == "2026-27-Q1"
    ]  # fmt: skip
    assert (ppa.pool_id, ppa.period, ppa.type) == (BCF, "2026-27-Q1", "expenditure_recorded")
    assert ppa.position > close.position


def test_hand_checked_alliance_figures(loaded: Loaded) -> None:
    alliance = loaded.pool(ALLIANCE)
    plan = alliance.plan("2025-26")
    assert plan is not None and plan.capitation is not None
    assert {w.cohort for w in plan.capitation.weights} == {"0-64", "65-84", "85+"}
    # six localities x four quarters of home care at £17.00 an hour, 95% base, two outcomes
    assert len(plan.commissioned_services) == 24
    assert {cs.rate for cs in plan.commissioned_services} == {pounds("17.00")}
    assert {cs.outcomes for cs in plan.commissioned_services} == {("independence", "satisfaction")}
    assert {cs.unit_id for cs in plan.commissioned_services} == {
        "bassetlaw",
        "broxtowe",
        "gedling",
        "mansfield-ashfield",
        "newark-sherwood",
        "rushcliffe",
    }
    (rr,) = plan.risk_reward_schemes
    assert rr.id == "rapid-response"
    assert {(s.partner_id, int(s.pct)) for s in rr.gain_shares} == {("ncc", 50), ("nn-icb", 50)}
    assert {(s.partner_id, int(s.pct)) for s in rr.loss_shares} == {("ncc", 70), ("nn-icb", 30)}
    # populations from 1 April each year: 6 localities x 3 cohorts x 2 years
    pops = [e for e in loaded.events if e.type == "population_recorded"]
    assert len(pops) == 36
    assert {e.effective_date for e in pops} == {date(2025, 4, 1), date(2026, 4, 1)}
    # outcomes assessed each ended quarter, some met and some not
    assessed = [e for e in loaded.events if e.type == "outcome_assessed"]
    assert len(assessed) == 6 * 2 * 6
    assert Counter(bool(loaded.payload(e)["met"]) for e in assessed).keys() == {True, False}
    # a gain/loss result each ended quarter, with both a gain and a loss among them
    results = [e for e in loaded.events if e.type == "risk_reward_result_recorded"]
    assert [e.period for e in results] == [
        "2025-26-Q1",
        "2025-26-Q2",
        "2025-26-Q3",
        "2025-26-Q4",
        "2026-27-Q1",
        "2026-27-Q2",
    ]
    nets: set[bool] = set()
    for e in results:
        p = loaded.payload(e)
        costs = sum(int(x["amount"]) for x in p["costs"])
        savings = sum(int(x["amount"]) for x in p["savings"])
        nets.add(savings > costs)
    assert nets == {True, False}


def test_each_posting_is_made_by_the_right_actor(loaded: Loaded) -> None:
    by_type: dict[str, set[tuple[str, str | None]]] = {}
    for e in loaded.events:
        by_type.setdefault(e.type, set()).add((e.actor_role, e.actor_partner_id))
    for admin_type in (
        "partner_registered",
        "pool_established",
        "partner_joined",
        "plan_agreed",
        "opening_balance_recorded",
        "period_closed",
    ):
        assert by_type[admin_type] == {("admin", None)}, admin_type
    for host_type in (
        "expenditure_recorded",
        "expenditure_credited",
        "contribution_refunded",
        "forecast_recorded",
        "metric_recorded",
        "population_recorded",
        "outcome_assessed",
        "risk_reward_result_recorded",
    ):
        assert by_type[host_type] == {("finance_officer", "ncc")}, host_type
    # each partner posts its own contributions
    for e in loaded.events:
        if e.type == "contribution_posted":
            assert (e.actor_role, e.actor_partner_id) == ("finance_officer", e.partner_id)


@pytest.fixture(scope="module")
def again(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Loaded:
    """The demo loaded a second time, independently of the shared one (on SQLite, once
    for this module: each database's load is compared with it)."""
    path = tmp_path_factory.mktemp("again") / "again.db"
    shutil.copy(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    try:
        return _load(_ledger(engine))
    finally:
        engine.dispose()


def test_the_demo_is_deterministic(loaded: Loaded, again: Loaded) -> None:

    def content(events: list[StoredEvent], ids: dict[str, int]) -> list[tuple[object, ...]]:
        out: list[tuple[object, ...]] = []
        for e in events:  # event ids differ between loads: compare the positions they name
            p = json.loads(e.payload)
            for k in ("refunds_event_id", "credits_event_id", "reversed_event_id"):
                if p.get(k):
                    p[k] = ids[p[k]]
            out.append((e.type, json.dumps(p, sort_keys=True), e.effective_date, e.actor))
        return out

    first = content(loaded.events, {e.event_id: e.position for e in loaded.events})
    second = content(again.events, {e.event_id: e.position for e in again.events})
    assert first == second


@pytest.mark.parametrize(
    ("today", "closed", "left_open"),
    [
        (date(2025, 5, 1), 0, None),
        (date(2026, 4, 5), 4, None),
        (date(2026, 10, 27), 5, "2026-27-Q2"),
        (date(2026, 11, 9), 5, "2026-27-Q2"),
        (date(2027, 6, 1), 7, "2026-27-Q4"),
    ],
)
def test_whatever_the_day_nothing_is_dated_after_it_and_ended_quarters_close(
    tmp_path: Path, sqlite_template: Path, today: date, closed: int, left_open: str | None
) -> None:
    path = tmp_path / "day.db"
    shutil.copy(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    try:
        clock = FixedClock(datetime(today.year, today.month, today.day, 9, 0, tzinfo=UTC))
        ledger = Ledger(engine, clock, default_catalogue())
        summary = load_demo(ledger, today)
        assert verify(engine).ok
        with engine.connect() as conn:
            events = read_range(conn)
    finally:
        engine.dispose()
    assert all(e.effective_date is None or e.effective_date <= today for e in events)
    assert summary.open_quarter == left_open
    assert {len(q) for q in summary.closed_quarters.values()} <= {closed}
    assert len(summary.closed_quarters) == (3 if closed else 0)


def test_the_demo_loads_only_into_an_empty_ledger(ledger: Ledger) -> None:
    ledger.execute(
        c.RegisterPartner(
            partner_id="ncc", name="Nottinghamshire County Council", kind="local_authority"
        ),
        ADMIN,
    )
    with pytest.raises(RuleViolation):
        load_demo(ledger, TODAY)


def _risk_share(
    loaded: Loaded, pool_id: str, year: str, plan: Plan, variance: int
) -> RiskShareResult:
    kinds = {
        str(e.partner_id): str(loaded.payload(e)["kind"])
        for e in loaded.events
        if e.type == "partner_registered"
    }
    pool = loaded.pool(pool_id)
    spent: Counter[str] = Counter()
    for e in loaded.counted(pool_id, year, "expenditure_recorded", "expenditure_credited"):
        amount = int(loaded.payload(e)["amount"])
        spent[str(e.scheme_id)] += amount if e.type == "expenditure_recorded" else -amount
    return allocate_risk_share(
        variance,
        plan.risk_share,
        host=pool.host_partner_id,
        member_kinds={m: kinds[str(m)] for m in pool.members},
        planned=plan.planned_by_partner(),
        scheme_variances=[
            SchemeVariance(s.id, s.commissioner, s.joint_split, spent[s.id] - s.planned)
            for s in plan.schemes
        ],
    )

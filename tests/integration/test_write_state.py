"""The write-side state against the events, on SQLite and PostgreSQL: after any
accepted commands it equals a replay; drift is named by ``pooled ledger check`` and
mended by ``pooled ledger rebuild-state`` or by migration 0003."""

from __future__ import annotations

import contextlib
import json
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from api import cli
from ledger.clock import FixedClock
from ledger.domain import commands as c
from ledger.domain.errors import AlreadyExists, LedgerError
from ledger.handlers import Ledger
from ledger.refdata import default_catalogue
from ledger.snapshots import check, rebuild_state
from ledger.store.engine import make_engine
from ledger.store.migrate import alembic_config
from tests.builders import (
    ADMIN,
    contribution,
    equipment_plan,
    given_equipment_pool,
    officer,
    pounds,
    register_partners,
    spend,
)
from tests.conftest import owner, upgrade_as_owner


def opening(amount: str, pool_id: str = "eq") -> c.RecordOpeningBalance:
    return c.RecordOpeningBalance(
        pool_id=pool_id, year="2025-26", amount=pounds(amount), note="brought forward"
    )


def blank_the_opening_balance_id(engine: Engine, pool_id: str = "eq") -> None:
    """What snapshots written before event ids existed at evolve time hold."""
    with engine.begin() as conn:
        state = json.loads(
            conn.execute(
                text("SELECT state FROM ws_pools WHERE pool_id = :p"), {"p": pool_id}
            ).scalar_one()
        )
        state["opening_balance"][1] = ""
        conn.execute(
            text("UPDATE ws_pools SET state = :s WHERE pool_id = :p"),
            {"s": json.dumps(state), "p": pool_id},
        )


def test_a_drifted_snapshot_is_named_and_rebuilt_from_the_events(
    engine: Engine, ledger: Ledger, clock: FixedClock
) -> None:
    # given a pool whose stored state lost its opening balance's event id
    given_equipment_pool(ledger)
    wrong = ledger.execute(opening("1500.00"), ADMIN).events[0]
    blank_the_opening_balance_id(engine)
    # when checked, the first difference is named
    result = check(engine)
    assert not result.ok
    assert result.problems == (
        f'pool \'eq\' .opening_balance[1]: stored "", replay "{wrong.event_id}"',
    )
    # and a process deciding from that state refuses the documented correction
    fresh = Ledger(engine, clock, default_catalogue())
    fresh.execute(c.ReverseEvent(event_id=wrong.event_id, reason="wrong sign"), ADMIN)
    with pytest.raises(AlreadyExists, match="reverse it first"):
        fresh.execute(opening("-1500.00"), ADMIN)
    # when the state is rebuilt from the events, it equals a replay and the correction goes
    rebuilt = rebuild_state(engine)
    assert (rebuilt.pools, rebuilt.partners) == (1, 3)
    assert check(engine).ok
    out = fresh.execute(opening("-1500.00"), ADMIN)
    assert out.events[0].type == "opening_balance_recorded"
    assert check(engine).ok


def test_migration_0003_rebuilds_the_snapshots_already_stored(
    engine: Engine, ledger: Ledger
) -> None:
    given_equipment_pool(ledger)
    ledger.execute(opening("1500.00"), ADMIN)
    cfg = alembic_config()
    with owner(engine).begin() as conn:  # migrations are the owner's
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0002_ledger")
    blank_the_opening_balance_id(engine)
    upgrade_as_owner(engine)
    assert check(engine).ok


def test_pooled_ledger_check_exits_1_naming_the_drift_until_rebuilt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: FixedClock
) -> None:
    url = f"sqlite:///{tmp_path / 'pooled.db'}"
    monkeypatch.setenv("POOLED_DATABASE_URL", url)
    runner = CliRunner()
    assert runner.invoke(cli.app, ["db", "upgrade"]).exit_code == 0
    engine = make_engine(url)
    try:
        ledger = Ledger(engine, clock, default_catalogue())
        given_equipment_pool(ledger)
        ledger.execute(opening("1500.00"), ADMIN)
        ok = runner.invoke(cli.app, ["ledger", "check"])
        assert ok.exit_code == 0 and "OK: 5 streams replayed from 7 events" in ok.output
        blank_the_opening_balance_id(engine)
        drift = runner.invoke(cli.app, ["ledger", "check"])
        assert drift.exit_code == 1
        assert "DRIFT: pool 'eq' .opening_balance[1]: stored \"\"" in drift.output
        rebuilt = runner.invoke(cli.app, ["ledger", "rebuild-state"])
        assert rebuilt.exit_code == 0, rebuilt.output
        assert "Rebuilt the state of 1 pools, 3 partners" in rebuilt.output
        assert runner.invoke(cli.app, ["ledger", "check"]).exit_code == 0
    finally:
        engine.dispose()


# --- the property ------------------------------------------------------------------------

DAYS = st.dates(date(2025, 4, 1), date(2026, 3, 31))
PENCE = st.integers(1, 500_000)
OPS = st.one_of(
    st.tuples(st.just("contribution"), st.sampled_from(["ncc", "city", "icb-a"]), PENCE, DAYS),
    st.tuples(st.just("spend"), PENCE, DAYS),
    st.tuples(st.just("opening"), st.integers(-500_000, 500_000)),
    st.tuples(st.just("plan")),
    st.tuples(st.just("close")),
    st.tuples(st.just("forecast"), PENCE),
    st.tuples(st.just("reverse"), st.integers(0, 1_000)),
    st.tuples(st.just("batch"), st.lists(PENCE, min_size=1, max_size=3), DAYS),
)


def _commands(op: tuple[Any, ...], pool: str, accepted: list[str]) -> list[c.Command]:
    kind = op[0]
    if kind == "contribution":
        _, partner, amount, day = op
        return [contribution(pool, partner, f"{amount / 100:.2f}", day)]
    if kind == "spend":
        _, amount, day = op
        return [spend(pool, "equipment", f"{amount / 100:.2f}", day)]
    if kind == "opening":
        return [c.RecordOpeningBalance(pool_id=pool, year="2025-26", amount=op[1], note="b/f")]
    if kind == "plan":
        return [c.AgreePlan(pool_id=pool, year="2025-26", plan=equipment_plan())]
    if kind == "close":
        return [c.ClosePeriod(pool_id=pool, quarter=q) for q in ("2025-26-Q1", "2025-26-Q2")]
    if kind == "forecast":
        on = date(2025, 9, 30)
        return [c.RecordForecast(pool_id=pool, year="2025-26", amount=op[1], as_of_date=on)]
    if kind == "reverse":
        if not accepted:
            return []
        return [c.ReverseEvent(event_id=accepted[op[1] % len(accepted)], reason="mistake")]
    _, amounts, day = op
    return [contribution(pool, "city", f"{a / 100:.2f}", day) for a in amounts]


def _as_whom(cmd: c.Command) -> c.Actor:
    if isinstance(cmd, c.PostContribution):
        return officer(cmd.partner_id)
    if isinstance(cmd, c.RecordExpenditure | c.RecordForecast):
        return officer("ncc")
    return ADMIN


@given(st.lists(OPS, min_size=1, max_size=14))
def test_after_any_accepted_commands_every_snapshot_equals_a_replay(
    ledger: Ledger, ops: list[tuple[Any, ...]]
) -> None:
    with contextlib.suppress(AlreadyExists):  # the examples share the database
        register_partners(ledger)  # and each takes a pool of its own
    pool = f"p{uuid.uuid4().hex[:10]}"
    ledger.execute(
        c.EstablishPool(
            pool_id=pool,
            name="Equipment",
            kind="section_75",
            host_partner_id="ncc",
            members=("ncc", "city", "icb-a"),
        ),
        ADMIN,
    )
    ledger.execute(c.AgreePlan(pool_id=pool, year="2025-26", plan=equipment_plan()), ADMIN)
    accepted: list[str] = []
    for op in ops:
        commands = _commands(op, pool, accepted)
        try:
            if op[0] == "batch" and len(commands) > 1:
                out = ledger.execute_many(commands, officer("city"))
                accepted += [e.event_id for e in out.events]
                continue
            for cmd in commands:
                accepted += [e.event_id for e in ledger.execute(cmd, _as_whom(cmd)).events]
        except LedgerError:
            pass  # refused: writes nothing
    result = check(ledger.engine)
    assert result.problems == ()


def test_a_years_reference_data_is_recorded_once_across_plans_and_processes(
    ledger: Ledger, engine: Engine, clock: FixedClock
) -> None:
    """The first plan of a year records its reference data; a second pool's plan, in the
    same process or in another one (a new ``Ledger``), finds it in ``ws_reference``."""
    given_equipment_pool(ledger)  # the first plan of 2025-26
    fresh = Ledger(engine, clock, default_catalogue(), hooks=list(ledger.hooks))
    for pool_id, by in (("eq2", ledger), ("eq3", fresh)):
        by.execute(
            c.EstablishPool(
                pool_id=pool_id,
                name="Community equipment " + pool_id,
                kind="section_75",
                host_partner_id="ncc",
                members=("ncc", "city", "icb-a"),
            ),
            ADMIN,
        )
        by.execute(c.AgreePlan(pool_id=pool_id, year="2025-26", plan=equipment_plan()), ADMIN)
    with engine.connect() as conn:
        recorded = conn.execute(
            text("SELECT COUNT(*) FROM events WHERE type = 'reference_data_recorded'")
        ).scalar_one()
        plans = conn.execute(
            text("SELECT COUNT(*) FROM events WHERE type = 'plan_agreed'")
        ).scalar_one()
    assert (recorded, plans) == (1, 3)

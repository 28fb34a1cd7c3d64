"""Rebuilding the read models from the events gives exactly the rows kept up to date
incrementally (domain.md 8), on SQLite and PostgreSQL; the check and the CLI find a
read model that drifted; the projections migration carries rows over unchanged."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Engine, select, text
from typer.testing import CliRunner

from ledger.domain import commands as c
from ledger.domain.events import Party
from ledger.handlers import Ledger
from ledger.store.migrate import alembic_config
from projections import tables as t
from projections.cli import app
from projections.projector import CHECKPOINT
from projections.queries import Reader
from projections.rebuild import compare_with_rebuild, rebuild, status
from tests.builders import ADMIN, contribution, given_equipment_pool, officer, pounds, spend
from tests.conftest import owner, upgrade_as_owner

HOST = officer("ncc")
YEAR = "2025-26"


def dump(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every read-model row, ordered by its key."""
    with engine.connect() as conn:
        return {
            table.name: [
                tuple(r) for r in conn.execute(select(table).order_by(*table.primary_key.columns))
            ]
            for table in (*t.READ_MODEL_TABLES, t.rm_checkpoint)
        }


def given_a_varied_ledger(ledger: Ledger) -> None:
    """Every kind of money line and fact, reversals of both, and an adjustment."""
    given_equipment_pool(ledger)
    ledger.execute(
        c.RecordOpeningBalance(pool_id="eq", year=YEAR, amount=pounds("1234.56"), note="b/f"),
        ADMIN,
    )
    first = ledger.execute(contribution("eq", "city", "1000.00", date(2025, 4, 2)), officer("city"))
    ledger.execute(contribution("eq", "ncc", "5000.00", date(2025, 4, 3)), HOST)
    bill = ledger.execute(spend("eq", "equipment", "700.00", date(2025, 5, 1)), HOST)
    ledger.execute(
        c.CreditExpenditure(
            pool_id="eq",
            scheme_id="equipment",
            amount=pounds("50.00"),
            effective_date=date(2025, 5, 9),
            reference="credit",
        ),
        HOST,
    )
    ledger.execute(
        c.RefundContribution(
            pool_id="eq",
            partner_id="city",
            funding_stream="contribution",
            amount=pounds("20.00"),
            effective_date=date(2025, 6, 1),
            reference="refund",
        ),
        HOST,
    )
    for src, dst, who in (
        (Party(partner_id="icb-a"), Party(partner_id="ncc"), officer("icb-a")),
        (Party(partner_id="city"), Party(pool_id="eq"), officer("city")),
        (Party(pool_id="eq"), Party(partner_id="city"), HOST),
    ):
        ledger.execute(
            c.PostTransfer(
                pool_id="eq",
                from_party=src,
                to_party=dst,
                amount=pounds("30.00"),
                purpose="s256" if src.partner_id == "icb-a" else "other",
                effective_date=date(2025, 6, 2),
                reference="t",
            ),
            who,
        )
    forecast = ledger.execute(
        c.RecordForecast(
            pool_id="eq", year=YEAR, amount=pounds("3600000"), as_of_date=date(2025, 6, 30)
        ),
        HOST,
    )
    ledger.execute(
        c.RecordMetric(
            pool_id="eq",
            metric_id="ed-attendances",
            period=f"{YEAR}-Q1",
            target=Decimal("1000"),
            actual=Decimal("1010.5"),
        ),
        HOST,
    )
    ledger.execute(
        c.ReverseEvent(event_id=first.events[0].event_id, reason="twice"), officer("city")
    )
    ledger.execute(c.ReverseEvent(event_id=forecast.events[0].event_id, reason="early"), HOST)
    ledger.execute(c.ClosePeriod(pool_id="eq", quarter=f"{YEAR}-Q1"), ADMIN)
    ledger.execute(
        c.ReverseEvent(
            event_id=bill.events[0].event_id, reason="wrong", prior_period_adjustment=True
        ),
        HOST,
    )
    ledger.execute(
        contribution("eq", "icb-a", "99.99", date(2025, 6, 3), ppa=True), officer("icb-a")
    )
    ledger.execute(contribution("eq", "icb-a", "10.00", date(2025, 7, 3)), officer("icb-a"))


def test_a_rebuild_gives_the_incrementally_kept_read_models_row_for_row(
    ledger: Ledger, engine: Engine
) -> None:
    # given a ledger with every kind of fact, kept up to date by the append hook
    given_a_varied_ledger(ledger)
    kept = dump(engine)
    head = status(engine)[1]
    assert status(engine) == (head, head)
    assert len(kept["rm_lines"]) == 13 and len(kept["rm_facts"]) > 5
    # when the read models are rebuilt from the events, in batches of 3
    result = rebuild(engine, batch=3)
    # then every row is the same, and so is the checkpoint
    assert (result.events, result.checkpoint) == (head, head)
    assert dump(engine) == kept
    assert compare_with_rebuild(engine) == []


def test_the_check_names_a_drifted_row_and_leaves_the_kept_rows_alone(
    ledger: Ledger, engine: Engine
) -> None:
    # given a read model someone changed behind the projector's back
    given_a_varied_ledger(ledger)
    with engine.begin() as conn:
        conn.execute(text("UPDATE rm_lines SET amount = amount + 1 WHERE position = 8"))
        conn.execute(text("DELETE FROM rm_facts WHERE type = 'metric_recorded'"))
        conn.execute(text("UPDATE rm_lines SET total = 0 WHERE position = 9"))
    drifted = dump(engine)
    # when compared with a rebuild
    differences = compare_with_rebuild(engine)
    # then both sides of the changed line and the missing fact are named
    assert any(
        "rm_lines: only in the kept read model" in d and "'position': 8" in d for d in differences
    )
    assert any("rm_lines: only in a rebuild" in d and "'position': 8" in d for d in differences)
    assert any("rm_facts: only in a rebuild" in d and "metric_recorded" in d for d in differences)
    assert any(
        d.startswith("rm_lines: only in the kept") and "'total': 0" in d for d in differences
    )
    # and nothing was changed by looking
    assert dump(engine) == drifted
    # when rebuilt for real, the drift is gone
    rebuild(engine)
    assert compare_with_rebuild(engine) == []


def test_the_cli_reports_status_checks_and_rebuilds(ledger: Ledger, engine: Engine) -> None:
    given_a_varied_ledger(ledger)
    runner = CliRunner()
    obj = {"engine": engine}
    ok = runner.invoke(app, ["status", "--check"], obj=obj)
    assert ok.exit_code == 0, ok.output
    assert "up to date" in ok.output and "identical to a rebuild" in ok.output
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM rm_pools"))
        conn.execute(t.rm_checkpoint.update().values(position=3))
    bad = runner.invoke(app, ["status", "--check"], obj=obj)
    assert bad.exit_code == 1
    assert "behind" in bad.output and "differences from a rebuild" in bad.output
    done = runner.invoke(app, ["rebuild"], obj=obj)
    assert done.exit_code == 0, done.output
    assert "Rebuilt the read models from" in done.output
    assert runner.invoke(app, ["status", "--check"], obj=obj).exit_code == 0


def test_an_empty_ledger_rebuilds_to_nothing(engine: Engine) -> None:
    result = rebuild(engine)
    assert (result.events, result.checkpoint) == (0, 0)
    assert all(not rows for name, rows in dump(engine).items() if name != "rm_checkpoint")
    assert compare_with_rebuild(engine) == []


def test_answers_are_the_same_read_from_a_rebuild(ledger: Ledger, engine: Engine) -> None:
    given_a_varied_ledger(ledger)
    reader = Reader(engine)
    positions = range(1, reader.position() + 1, 3)
    before = [reader.balances("eq", YEAR, as_at=p) for p in positions if p >= 5]
    rebuild(engine, batch=4)
    after = [reader.balances("eq", YEAR, as_at=p) for p in positions if p >= 5]
    assert after == before


def test_the_projections_migration_carries_rows_over_down_and_up(
    ledger: Ledger, engine: Engine
) -> None:
    # given read models kept by the append hook
    given_a_varied_ledger(ledger)
    kept = dump(engine)
    # when the projections branch is migrated down to its first revision and back up
    cfg = alembic_config()
    with owner(engine).begin() as conn:  # migrations are the owner's
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0001_projections")
    with owner(engine).connect() as conn:  # the tables as the downgrade left them
        old = conn.execute(text("SELECT COUNT(*) FROM rm_lines")).scalar()
    assert old == len(kept["rm_lines"])
    upgrade_as_owner(engine)
    # then the rows (and the running totals computed in SQL) equal a rebuild's
    assert dump(engine) == kept
    assert compare_with_rebuild(engine) == []


def test_the_checkpoint_moves_with_each_append(ledger: Ledger, engine: Engine) -> None:
    given_equipment_pool(ledger)
    out = ledger.execute(contribution("eq", "city", "1.00", date(2025, 4, 2)), officer("city"))
    with engine.connect() as conn:
        cp = conn.execute(
            select(t.rm_checkpoint.c.position).where(t.rm_checkpoint.c.name == CHECKPOINT)
        ).scalar()
    assert cp == out.events[0].position == status(engine)[1]


@pytest.mark.parametrize("batch", [1, 2, 7, 10_000])
def test_any_batch_size_gives_the_same_rows(ledger: Ledger, engine: Engine, batch: int) -> None:
    given_a_varied_ledger(ledger)
    kept = dump(engine)
    rebuild(engine, batch=batch)
    assert dump(engine) == kept

"""The returns and scheduler commands (``scheduler.cli``), over a SQLite file, with the
date frozen so that what is due is fixed."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
import typer
from freezegun import freeze_time
from typer.testing import CliRunner

from ledger.clock import FixedClock
from ledger.handlers import Ledger
from ledger.refdata import default_catalogue
from ledger.store.engine import make_engine
from projections.projector import Projector
from scheduler.cli import app
from tests.integration.test_returns import given_q1_activity


@pytest.fixture
def database(sqlite_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    path = tmp_path / "cli.db"
    shutil.copy(sqlite_template, path)
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    ledger = Ledger(
        engine,
        FixedClock(datetime(2025, 7, 10, 9, 0, tzinfo=UTC)),
        default_catalogue(),
        hooks=[Projector()],
    )
    given_q1_activity(ledger)
    engine.dispose()
    monkeypatch.setenv("POOLED_DATABASE_URL", url)
    return url


def test_returns_generate_list_and_get(database: str, tmp_path: Path) -> None:
    runner = CliRunner()
    with freeze_time("2025-08-02 09:00:00"):
        done = runner.invoke(app, ["returns", "generate", "bcf", "2025-26-Q1"])
        assert done.exit_code == 0, done.output
        assert "filed: 2025-26-Q1 return of pool 'bcf'" in done.output
        again = runner.invoke(app, ["returns", "generate", "bcf", "2025-26-Q1"])
        assert again.exit_code == 0 and "already filed" in again.output
        early = runner.invoke(app, ["returns", "generate", "bcf", "2025-26-Q2"])
        assert early.exit_code == 1 and "has not ended" in early.output
        listed = runner.invoke(app, ["returns", "list", "bcf"])
        assert listed.exit_code == 0, listed.output
        assert "2025-26-Q1  filed" in listed.output
        out = tmp_path / "q1.json"
        got = runner.invoke(
            app, ["returns", "get", "bcf", "2025-26-Q1", "--format", "json", "--output", str(out)]
        )
        assert got.exit_code == 0, got.output
        assert json.loads(out.read_bytes())["cover"]["quarter"] == "2025-26-Q1"
        checked = runner.invoke(app, ["returns", "verify"])
        assert checked.exit_code == 0 and "ok: 3 documents checked" in checked.output


def test_scheduler_run_once_files_what_is_due(database: str) -> None:
    runner = CliRunner()
    with freeze_time("2025-11-01 07:00:00"):
        done = runner.invoke(app, ["scheduler", "run", "--once"])
        assert done.exit_code == 0, done.output
        assert "filed 2025-26-Q1 of pool 'bcf'" in done.output
        assert "filed 2025-26-Q2 of pool 'bcf'" in done.output
        assert "2 return(s) filed" in done.output
        again = runner.invoke(app, ["scheduler", "run", "--once"])
        assert "0 return(s) filed" in again.output


def test_the_app_mounts_into_the_pooled_command(database: str) -> None:
    main = typer.Typer()

    @main.command()
    def version() -> None:  # a parent with a command of its own, as `pooled` has
        typer.echo("pooled")

    main.add_typer(app)
    result = CliRunner().invoke(main, ["returns", "list", "bcf"])
    assert result.exit_code == 0, result.output

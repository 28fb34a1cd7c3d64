"""The ``pooled`` console script, run with Typer's CliRunner against a SQLite file
named by POOLED_DATABASE_URL."""

from __future__ import annotations

import re
import stat
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from api import cli
from ledger.settings import Settings
from ledger.store.engine import make_engine
from ledger.store.tokens import authenticate, list_tokens

SECRET = re.compile(r"^pooled_[A-Za-z0-9_-]{43}$")
EVENT_LINE = re.compile(
    r"^\s*(\d+)\s+\d{4}-\d\d-\d\dT[\d:.]+Z\s+([a-z_]+)\s+(\S+)\s+.*\s([0-9a-f]{12})$"
)


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "cli" / "pooled.db"
    monkeypatch.setenv("POOLED_DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.setenv("POOLED_SQLITE_SYNCHRONOUS", "NORMAL")
    return path


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def run(runner: CliRunner, *args: str, code: int = 0) -> str:
    result = runner.invoke(cli.app, list(args))
    assert result.exit_code == code, (result.output, result.exception)
    return result.output


def _engine(db: Path) -> Any:
    return make_engine(f"sqlite:///{db}")


def test_db_upgrade_creates_the_database(runner: CliRunner, db: Path) -> None:
    out = run(runner, "db", "upgrade")
    assert db.exists() and "up to date" in out
    assert "up to date" in run(runner, "db", "upgrade")  # idempotent


def test_token_create_prints_the_secret_alone_on_its_last_line(runner: CliRunner, db: Path) -> None:
    run(runner, "db", "upgrade")
    out = run(runner, "token", "create", "--role", "admin", "--name", "Pat Admin")
    *summary, last = out.rstrip("\n").split("\n")
    assert SECRET.match(last), out
    assert len(summary) == 1 and "admin" in summary[0] and "Pat Admin" in summary[0]
    engine = _engine(db)
    try:
        record = authenticate(engine, last)
        assert record is not None and record.role == "admin"
        assert record.token_id in summary[0]
    finally:
        engine.dispose()


def test_token_list_and_revoke(runner: CliRunner, db: Path) -> None:
    run(runner, "db", "upgrade")
    secret = run(runner, "token", "create", "--role", "board", "--name", "Board").split()[-1]
    run(runner, "token", "create", "--role", "auditor", "--name", "Audit")
    engine = _engine(db)
    try:
        board = next(r for r in list_tokens(engine) if r.role == "board")
        listed = run(runner, "token", "list")
        assert board.token_id in listed and "auditor" in listed and "active" in listed
        assert secret not in listed
        out = run(runner, "token", "revoke", board.token_id)
        assert "Revoked" in out and board.token_id in out
        assert authenticate(engine, secret) is None
        assert "revoked" in run(runner, "token", "list")
        # an unknown token, a bad role and an officer without a registered partner fail
        assert "does not exist" in run(runner, "token", "revoke", "tok_0000000000", code=1)
        assert "role" in run(runner, "token", "create", "--role", "root", "--name", "X", code=1)
        out = run(
            runner, "token", "create", "--role", "finance_officer", "--partner", "ncc",
            "--name", "Jo", code=1,
        )  # fmt: skip
        assert "not registered" in out
        assert len(list_tokens(engine)) == 2
    finally:
        engine.dispose()


def test_demo_load_verify_and_events(runner: CliRunner, db: Path) -> None:
    out = run(runner, "demo", "load")  # migrates first
    assert "Loaded the demo partnership" in out
    assert "not empty" in run(runner, "demo", "load")  # a second time loads nothing
    # officers of the demo partners can now be issued tokens
    out = run(
        runner, "token", "create", "--role", "finance_officer", "--partner", "nottm-city",
        "--name", "City finance",
    )  # fmt: skip
    assert "finance_officer of nottm-city" in out
    verified = run(runner, "verify")
    assert verified.startswith("OK:")
    # the tail of the log, oldest first
    lines = run(runner, "events", "--limit", "5").strip().split("\n")
    assert len(lines) == 5
    positions = [int(m.group(1)) for line in lines if (m := EVENT_LINE.match(line))]
    assert len(positions) == 5 and positions == sorted(positions)
    n = int(re.search(r"OK: (\d+) events", verified).group(1))  # type: ignore[union-attr]
    assert positions[-1] == n
    # a page after a position, for one pool
    lines = run(runner, "events", "--pool", "ices", "--after", "0", "--limit", "3").split("\n")
    matched = [m for line in lines if (m := EVENT_LINE.match(line))]
    assert len(matched) == 3 and all(m.group(3) == "ices" for m in matched)
    assert matched[0].group(2) == "pool_established"


def test_the_demo_load_makes_the_key_and_signs_its_quarter_closes(
    runner: CliRunner, db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ledger.domain.checkpoint import load_public_key, signature_ok
    from ledger.store.checkpoints import all_checkpoints
    from ledger.store.verify import verify

    key_file = db.parent / "keys" / "signing-key.pem"
    monkeypatch.setenv("POOLED_SIGNING_KEY_FILE", str(key_file))
    run(runner, "demo", "load")
    # the key file is made as on a first start, readable only by the user
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    public = load_public_key(run(runner, "checkpoint", "key"))
    engine = _engine(db)
    try:
        with engine.connect() as conn:
            stored = all_checkpoints(conn)
            closes = conn.execute(
                text("SELECT position, pool_id, period FROM events WHERE type = 'period_closed'")
            ).fetchall()
            filed = conn.execute(
                text("SELECT pool_id, period FROM events WHERE type = 'return_generated'")
            ).fetchall()
        reasons = {reason for _, reason, _ in stored}
        # every quarter of 2025-26 closed in each of the three pools, each signed once
        for pool in ("ices", "mid-notts-bcf", "mid-notts-alliance"):
            for q in (1, 2, 3, 4):
                assert f"quarter closed {pool} 2025-26-Q{q}" in reasons
        at_closes = [(s.checkpoint.position, r) for _, r, s in stored if r.startswith("quarter")]
        assert len(at_closes) == len(closes) and len(at_closes) >= 12
        assert set(at_closes) == {
            (p, f"quarter closed {pool} {period}") for p, pool, period in closes
        }
        # and every return the demo filed signed its cover's as-at and its filing (one
        # checkpoint per append: a filing that closed its quarter signs the close)
        assert filed
        for p, q in filed:
            assert f"return as at {p} {q}" in reasons
            assert f"return filed {p} {q}" in reasons or f"quarter closed {p} {q}" in reasons
        assert all(signature_ok(public, s) for _, _, s in stored)
        assert verify(engine, public_key=public).ok
    finally:
        engine.dispose()


def test_verify_exits_1_naming_the_first_bad_position(runner: CliRunner, db: Path) -> None:
    run(runner, "demo", "load")
    engine = _engine(db)
    try:
        with engine.begin() as conn:
            conn.execute(text("DROP TRIGGER events_no_update"))
            conn.execute(text("UPDATE events SET actor = 'someone else' WHERE position = 7"))
    finally:
        engine.dispose()
    result = CliRunner().invoke(cli.app, ["verify"])
    assert result.exit_code == 1
    assert "BROKEN" in result.output and "first bad position: 7" in result.output


def test_build_ledger_composes_the_write_side(db: Path) -> None:
    ledger = cli.build_ledger(Settings())
    try:
        assert ledger.engine.dialect.name == "sqlite"
        assert str(ledger.engine.url.database) == str(db)
        assert ledger.reference.for_year("2025-26") is not None
        assert len(ledger.hooks) == 1
    finally:
        ledger.engine.dispose()


def test_serve_loads_the_demo_and_prints_a_token_per_role(
    runner: CliRunner, db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    from ledger.settings import Settings

    for name in Settings.model_fields:  # serve exports its settings: undo that afterwards
        monkeypatch.setenv(f"POOLED_{name.upper()}", "")
        monkeypatch.delenv(f"POOLED_{name.upper()}")
    monkeypatch.setenv("POOLED_DATABASE_URL", f"sqlite:///{db}")
    calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: calls.append((a, k)))
    result = runner.invoke(cli.app, ["serve", "--demo", "--no-scheduler", "--port", "8765"])
    out = result.output
    assert "http://127.0.0.1:8765" in out and "Loaded the demo partnership" in out
    secrets = [w for w in out.split() if SECRET.match(w)]
    assert len(secrets) == 3 + 9  # admin, board, auditor and an officer per demo partner
    engine = _engine(db)
    try:
        roles = {r.role for s in secrets if (r := authenticate(engine, s)) is not None}
        assert roles == {"admin", "board", "auditor", "finance_officer"}
        # they are kept beside the database, readable only by the user
        kept = db.parent / "demo-tokens.json"
        assert str(kept) in out
        assert stat.S_IMODE(kept.stat().st_mode) == 0o600
        assert set(secrets) <= set(re.findall(r"pooled_[A-Za-z0-9_-]{43}", kept.read_text()))
        # a second run loads nothing more and prints the same, still valid, tokens
        again = runner.invoke(
            cli.app, ["serve", "--demo", "--no-scheduler", "--port", "8765"]
        ).output
        assert "Loaded" not in again
        assert [w for w in again.split() if SECRET.match(w)] == secrets
        assert all(authenticate(engine, s) is not None for s in secrets)
        # a revoked one is replaced on the next run; the others stay
        board = authenticate(engine, secrets[1])
        assert board is not None and board.role == "board"
        run(runner, "token", "revoke", board.token_id)
        third = runner.invoke(
            cli.app, ["serve", "--demo", "--no-scheduler", "--port", "8765"]
        ).output
        now = [w for w in third.split() if SECRET.match(w)]
        assert now[0] == secrets[0] and now[2:] == secrets[2:]
        assert now[1] != secrets[1] and authenticate(engine, secrets[1]) is None
        replacement = authenticate(engine, now[1])
        assert replacement is not None and replacement.role == "board"
        assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    finally:
        engine.dispose()
    if calls:  # api/app.py exists: uvicorn was asked for the factory
        assert calls[0][0] == ("api.app:create_app",)
        assert calls[0][1]["factory"] is True and calls[0][1]["port"] == 8765
    else:
        assert result.exit_code == 1 and "api/app.py" in out

"""The Merkle tree kept by appends, signed checkpoints, proofs served to partners and
checked offline, and the attack of issue 16: a rewritten history convicted by the
checkpoints and the filed documents (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from api import cli
from api.verification import verify_all
from ledger import audit
from ledger.domain import merkle
from ledger.handlers import Ledger
from ledger.store import tables as t
from ledger.store import tree
from ledger.store.engine import make_engine
from ledger.store.migrate import alembic_config, upgrade
from ledger.store.reads import StoredEvent, hash_at, read_head, read_range
from ledger.store.serialization import chain_hash
from tests import builders
from tests.builders import given_equipment_pool
from tests.conftest import owner
from tests.e2e.api_support import World, build_world, contribution, spend

ROOT = Path(__file__).resolve().parents[2]


def fetch_as(w: World, who: str) -> Callable[[str], Any]:
    """The verifier's GETs, answered by the app in process."""

    def get(path: str) -> Any:
        r = w.client.get(path, headers=w.auth(who))
        assert r.status_code == 200, r.text
        return r.json()

    return get


def post_ok(w: World, who: str, path: str, body: Any) -> dict[str, Any]:
    r = w.post(who, path, body)
    assert r.status_code == 201, r.text
    return dict(r.json())


def sign_now(w: World) -> dict[str, Any]:
    r = w.client.post("/v1/checkpoints", headers=w.auth("admin"))
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_the_stored_tree_is_the_rfc_tree_of_the_events_at_every_size(engine: Engine) -> None:
    w = build_world(engine)
    post_ok(w, "city", "/v1/pools/eq/contributions", contribution("city", "250000"))
    post_ok(w, "ncc", "/v1/pools/eq/expenditures", spend("1200.00"))
    with engine.connect() as conn:
        events = read_range(conn, 0, 10_000)
        leaves = [tree.leaf_of(e) for e in events]
        n = len(events)
        assert n == w.head() and n > 5
        for size in range(1, n + 1):
            root = tree.root_at(conn, size)
            assert root == merkle.root_of(leaves[:size])
            for first in range(1, size + 1):
                proof = tree.consistency_proof(conn, first, size)
                assert merkle.verify_consistency(
                    first, size, merkle.root_of(leaves[:first]), root, proof
                )
        for i in range(n):
            proof = tree.inclusion_proof(conn, i + 1, n)
            assert merkle.verify_inclusion(i, n, leaves[i], proof, merkle.root_of(leaves))


def test_an_officer_verifies_an_inclusion_proof_of_its_own_contribution_offline(
    engine: Engine, tmp_path: Path
) -> None:
    # given the city's contribution and a checkpoint signed after it
    w = build_world(engine)
    mine = post_ok(w, "city", "/v1/pools/eq/contributions", contribution("city", "250000"))
    signed = sign_now(w)
    assert signed["position"] == w.head() and signed["reason"] == "on demand"
    # when the city's officer fetches the proof and the public key and saves them
    r = w.get("city", f"/v1/events/{mine['position']}/proof")
    assert r.status_code == 200, r.text
    proof = r.json()
    assert proof["checkpoint"] == signed and proof["event"]["partner_id"] == "city"
    key = w.get("city", "/v1/checkpoints/key").json()
    (tmp_path / "proof.json").write_text(json.dumps(proof))
    (tmp_path / "key.pem").write_text(key["public_key_pem"])
    args = ["audit", "verify", "--checkpoints", str(tmp_path / "proof.json")]
    args += ["--public-key", str(tmp_path / "key.pem"), "--events", str(tmp_path / "proof.json")]
    # then the verifier, with no server, accepts it
    out = CliRunner().invoke(cli.app, args)
    assert out.exit_code == 0, out.output
    assert f"event at position {mine['position']} is in the signed tree" in out.output
    # and a saved event whose amount was changed fails
    payload = json.loads(proof["event"]["payload"])
    payload["amount"] += 5_000_000
    proof["event"]["payload"] = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    del proof["leaf_hash"]
    (tmp_path / "proof.json").write_text(json.dumps(proof))
    out = CliRunner().invoke(cli.app, args)
    assert out.exit_code == 1
    assert f"event at position {mine['position']} is not in the signed tree" in out.output


def test_proofs_are_for_board_auditors_and_a_partners_own_events(engine: Engine) -> None:
    w = build_world(engine)
    mine = post_ok(w, "city", "/v1/pools/eq/contributions", contribution("city", "250000"))
    r = w.get("city", f"/v1/events/{mine['position']}/proof")
    assert r.status_code == 404  # no checkpoint signed yet
    sign_now(w)
    for who in ("board", "auditor", "city"):
        assert w.get(who, f"/v1/events/{mine['position']}/proof").status_code == 200, who
    r = w.get("icb-a", f"/v1/events/{mine['position']}/proof")
    assert r.status_code == 403 and "own partner" in r.json()["detail"]
    assert w.client.post("/v1/checkpoints", headers=w.auth("city")).status_code == 403
    r = w.get("auditor", "/v1/proofs/consistency", **{"from": 3, "to": w.head() + 1})
    assert r.status_code == 404
    signed_at = w.head()
    later = post_ok(w, "city", "/v1/pools/eq/contributions", contribution("city", "10"))
    r = w.get("city", f"/v1/events/{later['position']}/proof", checkpoint=signed_at)
    assert r.status_code == 422 and "after checkpoint" in r.json()["detail"]
    assert w.get("city", f"/v1/events/{later['position']}/proof", checkpoint=2).status_code == 404


def test_the_verifier_imports_only_the_domains_hashing_code_and_cryptography() -> None:
    code = (
        "import sys, ledger.audit; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('ledger','sqlalchemy','pydantic','fastapi','orjson','psycopg','typer','api')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == [
        "['ledger',",
        "'ledger.audit',",
        "'ledger.domain',",
        "'ledger.domain.checkpoint',",
        "'ledger.domain.hashing',",
        "'ledger.domain.merkle']",
    ]


# --- the attack --------------------------------------------------------------------------


def rewrite_history(
    engine: Engine, position: int, change: Callable[[dict[str, Any]], None]
) -> None:
    """What someone with the database owner's rights can do: change an old event, re-chain
    every later one, rebuild the Merkle tree (the nodes storage keeps) and the head row
    so all of it is self-consistent again (the guard triggers dropped first)."""
    with owner(engine).begin() as conn:
        if engine.dialect.name == "sqlite":
            for trigger in ("events_no_update", "merkle_nodes_no_delete"):
                conn.execute(text(f"DROP TRIGGER {trigger}"))
        else:
            conn.execute(text("DROP TRIGGER events_no_change ON events"))
            conn.execute(text("DROP TRIGGER merkle_nodes_no_change ON merkle_nodes"))
        events = [e.as_row() for e in read_range(conn, 0, 100_000)]
        prev = hash_at(conn, position - 1)
        for row in events[position - 1 :]:
            if row["position"] == position:
                change(row)
            row["hash"] = prev = chain_hash(prev, row)
            conn.execute(
                text("UPDATE events SET payload = :p, hash = :h WHERE position = :n"),
                {"p": row["payload"], "h": row["hash"], "n": row["position"]},
            )
        leaves = [tree.leaf_of(StoredEvent(**row)) for row in events]
        created, frontier = merkle.append_leaves(0, [], leaves, merkle.STORED_FROM_LEVEL)
        conn.execute(text("DELETE FROM merkle_nodes"))
        if created:
            conn.execute(
                text("INSERT INTO merkle_nodes (node, hash) VALUES (:n, :h)"),
                [{"n": i << 6 | lv, "h": h} for (lv, i), h in created],
            )
        conn.execute(
            text("UPDATE ledger_head SET hash = :h, frontier = :f WHERE id = 1"),
            {"h": prev, "f": b"".join(frontier).hex()},
        )


def raise_amount(row: dict[str, Any]) -> None:
    payload = json.loads(row["payload"])
    payload["amount"] += 5_000_000  # £50,000.00
    row["payload"] = json.dumps(payload, sort_keys=True, separators=(",", ":"))


def test_a_rewritten_history_is_convicted_by_checkpoints_and_the_partners_saved_ones(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given the city's contribution, a checkpoint the city saved with its proof, and
    # later activity
    w = build_world(engine)
    mine = post_ok(w, "city", "/v1/pools/eq/contributions", contribution("city", "250000"))
    saved = sign_now(w)
    saved_proof = w.get("city", f"/v1/events/{mine['position']}/proof").json()
    post_ok(w, "ncc", "/v1/pools/eq/expenditures", spend("1200.00"))
    post_ok(w, "ncc", "/v1/pools/eq/expenditures", spend("800.00"))
    ledger = w.client.app.state.ledger  # type: ignore[attr-defined]
    # (enough that the contribution is under stored nodes: 32 events and more)
    later = [builders.contribution("eq", "city", "1.00", date(2025, 6, d)) for d in range(1, 25)]
    ledger.execute_many(later, builders.officer("city"))
    assert w.head() >= 32 and mine["position"] <= 16
    assert verify_all(ledger).ok
    # when the contribution is raised by £50,000 and every later hash, the tree and
    # the head are rewritten in the database, and the server signs its new state
    rewrite_history(engine, mine["position"], raise_amount)
    sign_now(w)
    # then verify names the checkpoint the events no longer match
    full = verify_all(ledger)
    assert not full.ok
    assert full.chain.first_bad_position == saved["position"]
    assert f"checkpoint {saved['checkpoint_id']}" in full.problems[0]
    answer = w.get("auditor", "/v1/verify").json()
    assert answer["ok"] is False and answer["first_bad_position"] == saved["position"]
    if engine.dialect.name == "sqlite":  # the command line reads its database from the env
        monkeypatch.setenv("POOLED_DATABASE_URL", str(engine.url))
        out = CliRunner().invoke(cli.app, ["verify"])
        assert out.exit_code == 1
        assert f"BROKEN: checkpoint {saved['checkpoint_id']} (on demand)" in out.output
    # and the partner's verifier, with its earlier checkpoint and saved proof, names
    # the position where history diverged
    key = w.get("city", "/v1/checkpoints/key").json()["public_key_pem"]
    report = audit.audit_verify(
        audit.load_checkpoints(saved), key, [saved_proof], fetch_as(w, "city")
    )
    assert not report.ok
    assert report.diverged_at == mine["position"]
    assert any(
        f"history diverged at position {mine['position']}" in p and "payload" in p
        for p in report.problems
    )
    assert any(
        f"does not extend the saved checkpoint at position {saved['position']}" in p
        for p in report.problems
    )


def test_the_verifier_without_saved_events_bounds_the_divergence(engine: Engine) -> None:
    w = build_world(engine)
    before = sign_now(w)
    mine = post_ok(w, "city", "/v1/pools/eq/contributions", contribution("city", "250000"))
    saved = sign_now(w)
    rewrite_history(engine, mine["position"], raise_amount)
    sign_now(w)
    key = w.get("city", "/v1/checkpoints/key").json()["public_key_pem"]
    report = audit.audit_verify(audit.load_checkpoints(saved), key, [], fetch_as(w, "city"))
    assert not report.ok and report.diverged_at == saved["position"]
    assert any(
        f"after position {before['position']} and at or before position {saved['position']}" in p
        for p in report.problems
    )


def test_removing_events_from_the_end_is_caught_by_a_checkpoint(engine: Engine) -> None:
    w = build_world(engine)
    post_ok(w, "city", "/v1/pools/eq/contributions", contribution("city", "250000"))
    saved = sign_now(w)
    keep = saved["position"] - 1
    with owner(engine).begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.execute(text("DROP TRIGGER events_no_delete"))
        else:
            conn.execute(text("DROP TRIGGER events_no_change ON events"))
        conn.execute(text(f"DELETE FROM events WHERE position > {keep}"))
        last = read_range(conn, keep - 1)[-1]
        conn.execute(
            text("UPDATE ledger_head SET position = :p, hash = :h WHERE id = 1"),
            {"p": keep, "h": last.hash},
        )
    full = verify_all(w.client.app.state.ledger)  # type: ignore[attr-defined]
    assert not full.ok
    assert "removed from the end" in full.problems[0] or "tree" in full.problems[0]


@pytest.mark.parametrize("flip", [0, 31])
def test_a_checkpoint_with_a_changed_root_fails_its_signature(engine: Engine, flip: int) -> None:
    w = build_world(engine)
    saved = sign_now(w)
    root = bytearray(bytes.fromhex(saved["root"]))
    root[flip] ^= 1
    key = w.get("city", "/v1/checkpoints/key").json()["public_key_pem"]
    report = audit.audit_verify(audit.load_checkpoints({**saved, "root": root.hex()}), key)
    assert not report.ok and "is not signed" in report.problems[0]


def test_migration_0004_builds_the_tree_of_the_events_already_stored(
    ledger: Ledger, engine: Engine, tmp_path: Path
) -> None:
    # given events appended with the tree kept incrementally
    given_equipment_pool(ledger)
    with engine.connect() as conn:
        rows = [e.as_row() for e in read_range(conn, 0, 10_000)]
        head = read_head(conn)
        roots = [tree.root_at(conn, n) for n in range(1, head.position + 1)]
    # when the same events sit in a database from before migration 0004, and it runs
    old = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    cfg = alembic_config()
    with old.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0002_ledger")
        conn.execute(t.events.insert(), rows)
        conn.execute(
            text("UPDATE ledger_head SET position = :p, hash = :h, recorded_at = :r"),
            {"p": head.position, "h": head.hash, "r": head.recorded_at},
        )
    upgrade(old)
    # then it holds the same tree, frontier and all
    with old.connect() as conn:
        assert read_head(conn).frontier == head.frontier != ""
        assert [tree.root_at(conn, n) for n in range(1, head.position + 1)] == roots
    old.dispose()


def test_every_scheduler_run_signs_a_checkpoint_of_the_ledger(
    ledger: Ledger, engine: Engine
) -> None:
    from ledger.domain.checkpoint import signature_ok
    from ledger.settings import Settings
    from ledger.store.checkpoints import list_checkpoints
    from scheduler.service import CatchUp
    from tests.conftest import SIGNING_KEY

    given_equipment_pool(ledger)
    CatchUp(ledger, ledger.clock, Settings(scheduler=False))()
    with engine.connect() as conn:
        head = read_head(conn).position
        signed = list_checkpoints(conn)
    assert [(reason, s.checkpoint.position) for _, reason, s in signed] == [("daily", head)]
    assert signature_ok(SIGNING_KEY.public_key(), signed[0][2])

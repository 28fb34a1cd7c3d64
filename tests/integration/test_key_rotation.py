"""Rotating the checkpoint signing key (issue 16): `pooled checkpoint rotate-key` makes a
new key and keeps the old public key in a key ring beside it; checkpoints signed before
and after both verify (on the server, through /v1/checkpoints/key's ring, and offline);
a checkpoint signed by a key outside the ring fails, naming its key id."""

from __future__ import annotations

import json
import stat
import warnings
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine
from typer.testing import CliRunner

from api import cli
from api.app import create_app
from api.verification import verify_all
from ledger import audit
from ledger.domain import checkpoint as dc
from ledger.settings import Settings
from ledger.store.checkpoints import load_or_create_key, ring_path, rotate_key, store
from ledger.store.verify import verify
from tests.e2e.api_support import World, build_world, contribution

with warnings.catch_warnings():  # Starlette asks for httpx2 (as in api_support)
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


def _app_world(engine: Engine, w: World, key_file: Path) -> World:
    """The same database and tokens, served by an app that reads ``key_file`` (as a
    restart after a rotation would)."""
    settings = Settings(scheduler=False, signing_key_file=str(key_file))
    return World(
        TestClient(create_app(settings, engine=engine, clock=w.clock)),
        engine,
        w.clock,
        w.secrets,
        w.token_ids,
    )


def _sign(w: World) -> dict[str, object]:
    r = w.client.post("/v1/checkpoints", headers=w.auth("admin"))
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_checkpoints_signed_before_and_after_a_rotation_both_verify(
    engine: Engine, tmp_path: Path
) -> None:
    key_file = tmp_path / "keys" / "signing-key.pem"
    # given a ledger signing with key A, a contribution and a checkpoint
    w = _app_world(engine, build_world(engine), key_file)
    r = w.post("city", "/v1/pools/eq/contributions", contribution("city", "250000"))
    assert r.status_code == 201, r.text
    before = _sign(w)
    old_id = dc.key_id(load_or_create_key(key_file).public_key())
    assert before["key_id"] == old_id
    # when the key is rotated and the service restarted
    retired, new_id = rotate_key(key_file, "2026-11-24T09:00:00.000000Z")
    assert retired == old_id and new_id != old_id
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    w = _app_world(engine, w, key_file)
    r = w.post("city", "/v1/pools/eq/contributions", contribution("city", "10"))
    assert r.status_code == 201, r.text
    after = _sign(w)
    assert after["key_id"] == new_id
    # then the server's verify checks each checkpoint with the key it names
    assert verify_all(w.client.app.state.ledger).ok  # type: ignore[attr-defined]
    # and the key answer names the current key and the ring, current first
    answer = w.get("auditor", "/v1/checkpoints/key").json()
    assert answer["key_id"] == new_id
    assert [k["key_id"] for k in answer["ring"]] == [new_id, old_id]
    # and offline: the ring as served, or both keys given, verify both checkpoints
    (tmp_path / "saved.json").write_text(json.dumps([before, after]))
    (tmp_path / "ring.json").write_text(json.dumps(answer))
    (tmp_path / "new.pem").write_text(answer["public_key_pem"])
    (tmp_path / "old.pem").write_text(answer["ring"][1]["public_key_pem"])
    saved = str(tmp_path / "saved.json")
    for keys in (["ring.json"], ["old.pem", "new.pem"], [str(ring_path(key_file)), "new.pem"]):
        report = audit.run(saved, [str(tmp_path / k) for k in keys])
        assert report.ok, (keys, report.lines)
    # but with only the new key, the checkpoint signed before fails, naming its key id
    args = ["audit", "verify", "--checkpoints", saved, "--public-key", str(tmp_path / "new.pem")]
    out = CliRunner().invoke(cli.app, args)
    assert out.exit_code == 1
    assert (
        f"checkpoint at position {before['position']} is signed by key {old_id}, "
        "which is not one of the ledger's keys"
    ) in out.output
    # and the server's verify without the ring names it too
    result = verify(engine, public_key=load_or_create_key(key_file).public_key())
    assert not result.ok and result.first_bad_position == before["position"]
    assert f"is signed by key {old_id}, which is not one of the ledger's keys" in str(
        result.problem
    )


def test_a_checkpoint_signed_by_an_unknown_key_fails_naming_it(engine: Engine) -> None:
    w = build_world(engine)
    signed = _sign(w)
    stranger = Ed25519PrivateKey.generate()
    forged = dc.sign(stranger, dc.SignedCheckpoint.from_json(signed).checkpoint)
    with engine.begin() as conn:
        store(conn, forged, "planted")
    ledger = w.client.app.state.ledger  # type: ignore[attr-defined]
    check = verify_all(ledger)
    stranger_id = dc.key_id(stranger.public_key())
    assert not check.ok
    assert check.problems[0] == (
        f"checkpoint {int(str(signed['checkpoint_id'])) + 1} (planted) at position "
        f"{signed['position']} is signed by key {stranger_id}, which is not one of the "
        "ledger's keys"
    )
    # a checkpoint naming the ledger's key id with another key's signature fails too
    current = dc.key_id(ledger.signing_key.public_key())
    lying = dc.SignedCheckpoint(forged.checkpoint, current, forged.signature)
    assert dc.ring_problem(ledger.key_ring(), lying) == (
        f"is not signed by key {current[:16]}, the key it names"
    )


def test_rotate_key_on_the_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key_file = tmp_path / "signing-key.pem"
    monkeypatch.setenv("POOLED_SIGNING_KEY_FILE", str(key_file))
    runner = CliRunner()
    out = runner.invoke(cli.app, ["checkpoint", "rotate-key"])
    assert out.exit_code == 1 and "no signing key" in out.output  # nothing to rotate yet
    first = dc.load_public_key(runner.invoke(cli.app, ["checkpoint", "key"]).output)
    out = runner.invoke(cli.app, ["checkpoint", "rotate-key"])
    assert out.exit_code == 0, out.output
    second = dc.load_public_key(runner.invoke(cli.app, ["checkpoint", "key"]).output)
    ids = [dc.key_id(first), dc.key_id(second)]
    assert f"Retired key {ids[0]}" in out.output and f"New signing key {ids[1]}" in out.output
    runner.invoke(cli.app, ["checkpoint", "rotate-key"])  # a second rotation retires B
    ring = json.loads((tmp_path / "signing-key-ring.json").read_text())
    assert [k["key_id"] for k in ring["keys"]] == ids
    assert dc.ring_of(dc.load_keys(json.dumps(ring))).keys() >= set(ids)

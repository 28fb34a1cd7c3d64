"""Bearer tokens on SQLite and PostgreSQL: issue, authenticate, list, revoke; the
secret is shown once and stored only as its SHA-256."""

from __future__ import annotations

import hashlib
import re
import threading
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from ledger.clock import FixedClock, format_instant
from ledger.domain import commands as c
from ledger.domain.errors import NotFound, ValidationFailed
from ledger.handlers import Ledger
from ledger.store import tables as t
from ledger.store.tokens import authenticate, create_token, get_token, list_tokens, revoke_token
from tests.builders import register_partners

SECRET = re.compile(r"^pooled_[A-Za-z0-9_-]{43}$")  # 32 random bytes, URL-safe base64
TOKEN_ID = re.compile(r"^tok_[0-9a-f]{10}$")


def test_a_token_is_issued_once_and_authenticates_as_its_actor(
    engine: Engine, clock: FixedClock
) -> None:
    # when an admin token is issued
    record, secret = create_token(engine, role="admin", name="Pat Admin", clock=clock)
    # then its secret is 256 bits with the product's prefix, its id a short slug
    assert SECRET.match(secret) and TOKEN_ID.match(record.token_id)
    assert (record.role, record.name, record.partner_id, record.revoked_at) == (
        "admin",
        "Pat Admin",
        None,
        None,
    )
    assert record.created_at == format_instant(clock.now())
    # and the secret authenticates as that token, whose actor names it
    found = authenticate(engine, secret)
    assert found == record
    assert found is not None
    assert found.actor() == c.Actor(
        name="Pat Admin", role="admin", partner_id=None, token_id=record.token_id
    )


def test_the_secret_is_stored_only_as_its_sha256(engine: Engine, clock: FixedClock) -> None:
    _record, secret = create_token(engine, role="auditor", name="External audit", clock=clock)
    with engine.connect() as conn:
        rows = conn.execute(select(t.tokens)).all()
    assert len(rows) == 1
    row = rows[0]._mapping
    assert row["token_hash"] == hashlib.sha256(secret.encode()).hexdigest()
    random_part = secret[len("pooled_") :]
    assert all(random_part not in str(v) for v in row.values())
    if engine.dialect.name == "sqlite":  # nowhere in the database file either
        engine.dispose()
        db = Path(str(engine.url.database))
        for path in (db, db.with_name(db.name + "-wal")):
            if path.exists():
                assert random_part.encode() not in path.read_bytes()


def test_unknown_malformed_and_tampered_secrets_do_not_authenticate(
    engine: Engine, clock: FixedClock
) -> None:
    _, secret = create_token(engine, role="board", name="Board", clock=clock)
    flipped = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    for bad in ("", "pooled_", flipped, secret + "x", secret.upper(), "x" * 5000):
        assert authenticate(engine, bad) is None
    assert authenticate(engine, secret) is not None


def test_a_revoked_token_no_longer_authenticates(engine: Engine, clock: FixedClock) -> None:
    record, secret = create_token(engine, role="board", name="Board member", clock=clock)
    other, other_secret = create_token(engine, role="auditor", name="Auditor", clock=clock)
    clock.advance(minutes=5)
    revoked = revoke_token(engine, record.token_id, clock)
    assert revoked.revoked_at == format_instant(clock.now())
    assert authenticate(engine, secret) is None
    assert authenticate(engine, other_secret) == other  # the others still work
    # revoking again keeps the first revocation time
    clock.advance(minutes=5)
    assert revoke_token(engine, record.token_id, clock).revoked_at == revoked.revoked_at
    assert get_token(engine, record.token_id) == revoked
    with pytest.raises(NotFound):
        revoke_token(engine, "tok_0000000000", clock)


def test_list_shows_every_token_oldest_first_with_its_status(
    ledger: Ledger, engine: Engine, clock: FixedClock
) -> None:
    register_partners(ledger, ("ncc", "city"))
    issued = []
    for role, partner in (("admin", None), ("finance_officer", "ncc"), ("finance_officer", "city")):
        issued.append(
            create_token(
                engine, role=role, name=f"{role} {partner}", partner_id=partner, clock=clock
            )[0]
        )
        clock.advance(seconds=1)
    revoke_token(engine, issued[1].token_id, clock)
    listed = list_tokens(engine)
    assert [r.token_id for r in listed] == [r.token_id for r in issued]
    assert [r.revoked_at is not None for r in listed] == [False, True, False]
    assert [(r.role, r.partner_id) for r in listed] == [
        ("admin", None),
        ("finance_officer", "ncc"),
        ("finance_officer", "city"),
    ]
    assert len({r.token_id for r in listed}) == 3


def test_an_officer_token_needs_a_registered_partner_and_other_roles_take_none(
    ledger: Ledger, engine: Engine, clock: FixedClock
) -> None:
    with pytest.raises(ValidationFailed) as e:
        create_token(engine, role="finance_officer", name="Jo", partner_id="ncc", clock=clock)
    assert e.value.errors[0].field == "partner_id"
    assert "not registered" in e.value.detail
    with pytest.raises(ValidationFailed):
        create_token(engine, role="finance_officer", name="Jo", clock=clock)
    register_partners(ledger, ("ncc",))
    record, _ = create_token(
        engine, role="finance_officer", name="Jo", partner_id="ncc", clock=clock
    )
    assert record.actor().partner_id == "ncc"
    for role in ("admin", "board", "auditor"):
        with pytest.raises(ValidationFailed) as e:
            create_token(engine, role=role, name="X", partner_id="ncc", clock=clock)
        assert e.value.errors[0].field == "partner_id"
    with pytest.raises(ValidationFailed) as e:
        create_token(engine, role="superuser", name="X", clock=clock)
    assert e.value.errors[0].field == "role"
    with pytest.raises(ValidationFailed) as e:
        create_token(engine, role="admin", name="  ", clock=clock)
    assert e.value.errors[0].field == "name"
    assert len(list_tokens(engine)) == 1  # nothing refused was stored


def test_every_event_a_token_writes_records_its_id(
    ledger: Ledger, engine: Engine, clock: FixedClock
) -> None:
    record, secret = create_token(engine, role="admin", name="Pat Admin", clock=clock)
    actor = authenticate(engine, secret)
    assert actor is not None
    out = ledger.execute(
        c.RegisterPartner(
            partner_id="ncc", name="Nottinghamshire County Council", kind="local_authority"
        ),
        actor.actor(),
    )
    (event,) = out.events
    assert (event.token_id, event.actor, event.actor_role) == (
        record.token_id,
        "Pat Admin",
        "admin",
    )


def test_tokens_issued_and_revoked_at_once_from_many_threads_all_succeed(
    ledger: Ledger, engine: Engine, clock: FixedClock
) -> None:
    # given a registered partner (an officer's token reads it, then writes)
    register_partners(ledger, ("ncc",))
    barrier = threading.Barrier(8)
    failures: list[BaseException] = []
    issued: list[str] = []

    def issue() -> None:
        try:
            barrier.wait()
            for _ in range(4):
                record, _secret = create_token(
                    engine, role="finance_officer", name="Officer", partner_id="ncc", clock=clock
                )
                revoke_token(engine, record.token_id, clock)
                issued.append(record.token_id)
        except BaseException as e:  # reported below
            failures.append(e)

    # when eight processes' worth of `pooled token create` and `revoke` run at once
    threads = [threading.Thread(target=issue) for _ in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    # then none is refused with "database is locked", and every one is stored, revoked
    assert failures == []
    stored = {r.token_id: r for r in list_tokens(engine)}
    assert len(issued) == 32 and set(issued) <= set(stored)
    assert all(stored[tid].revoked for tid in issued)

"""The demo tokens ``pooled serve --demo`` prints, kept between runs.

The secrets are written to ``demo-tokens.json`` beside the SQLite file (``var/`` for
another database), readable and writable only by the user (0600), with the database
they belong to. The next run reprints the ones still valid (not revoked, same
database) instead of revoking and issuing new ones; a role whose token is gone or
revoked gets a fresh one. Demo tokens whose secrets are not in the file (an earlier
run's, or revoked) are revoked: nobody can be shown them again.

Revoke one with ``pooled token revoke ID`` (the next run issues a replacement), or
delete the file to have every demo token revoked and reissued on the next run.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from ledger.clock import Clock
from ledger.store import tokens

FILE_NAME = "demo-tokens.json"
PREFIX = "demo "


def tokens_file(database_url: str) -> Path:
    """Where the demo secrets are kept: beside a SQLite file, else under ``var/``."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database).resolve().parent / FILE_NAME
    return Path("var").resolve() / FILE_NAME


def _database_key(database_url: str) -> str:
    return make_url(database_url).render_as_string(hide_password=True)


def read_kept(path: Path, database_url: str) -> dict[str, str]:
    """token id -> secret, as kept for this database (nothing if unreadable)."""
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("database") != _database_key(database_url):
        return {}
    out: dict[str, str] = {}
    for t in data.get("tokens") or []:
        if (
            isinstance(t, dict)
            and isinstance(t.get("token_id"), str)
            and isinstance(t.get("secret"), str)
        ):
            out[t["token_id"]] = t["secret"]
    return out


def write_kept(
    path: Path, database_url: str, issued: Sequence[tuple[tokens.TokenRecord, str]]
) -> None:
    """Write the file 0600 from the start (a temporary file, then renamed over)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    body: dict[str, Any] = {
        "database": _database_key(database_url),
        "tokens": [
            {
                "token_id": r.token_id,
                "name": r.name,
                "role": r.role,
                "partner_id": r.partner_id,
                "secret": s,
            }
            for r, s in issued
        ],
    }
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)  # an older file of the same name keeps its mode otherwise
        os.write(fd, (json.dumps(body, indent=2) + "\n").encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def demo_tokens(
    engine: Engine,
    clock: Clock,
    database_url: str,
    wanted: Sequence[tuple[str, str | None]],
) -> tuple[list[tuple[tokens.TokenRecord, str]], Path]:
    """A token per ``(role, partner)`` in ``wanted``: the kept one while valid, else a
    new one; every other demo token is revoked. Returns them and the file kept in."""
    path = tokens_file(database_url)
    kept = read_kept(path, database_url)
    valid: dict[tuple[str, str | None], tuple[tokens.TokenRecord, str]] = {}
    for token_id, secret in kept.items():
        record = tokens.authenticate(engine, secret)
        if record is not None and record.token_id == token_id:
            valid.setdefault((record.role, record.partner_id), (record, secret))
    issued: list[tuple[tokens.TokenRecord, str]] = []
    for role, partner in wanted:
        found = valid.get((role, partner))
        if found is None:
            name = f"{PREFIX}{role}" if partner is None else f"{PREFIX}officer {partner}"
            found = tokens.create_token(
                engine, role=role, partner_id=partner, name=name, clock=clock
            )
        issued.append(found)
    keep = {r.token_id for r, _ in issued}
    for old in tokens.list_tokens(engine):
        if old.name.startswith(PREFIX) and old.revoked_at is None and old.token_id not in keep:
            tokens.revoke_token(engine, old.token_id, clock)
    write_kept(path, database_url, issued)
    return issued, path

"""Bearer tokens (api.md "Auth"): issued by the CLI, shown once, stored as a hash.

A token's secret is 256 bits from ``secrets`` (``pooled_`` + 43 URL-safe characters).
Only its SHA-256 is stored: with that much entropy a fast hash is enough, and a
stolen table gives nobody a usable token. The token id (``tok_`` + 10 hex digits) is
not secret; every event records it, so each figure can be traced to who posted it.

Tokens are not events: issuing or revoking one changes who may ask, not what the
ledger holds.
"""

from __future__ import annotations

import hashlib
import secrets
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, cast, get_args

from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from ledger.clock import Clock, format_instant
from ledger.domain.commands import Actor, Role
from ledger.domain.errors import NotFound, ValidationFailed
from ledger.store import tables as t
from ledger.store.sql import run_sql, without_transaction

ROLES: tuple[Role, ...] = get_args(Role)
SECRET_PREFIX = "pooled_"
_MAX_SECRET_LEN = 200  # a real secret is 50 characters; anything far longer is not one


@dataclass(frozen=True)
class TokenRecord:
    """A token as stored (never its secret). Instants are RFC 3339 UTC strings."""

    token_id: str
    name: str
    role: Role
    partner_id: str | None
    created_at: str
    revoked_at: str | None = None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    def actor(self) -> Actor:
        """Who acts when this token is presented: recorded on every event it writes."""
        return Actor(
            name=self.name, role=self.role, partner_id=self.partner_id, token_id=self.token_id
        )


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


# What a TokenRecord holds, in its fields' order (never the hash)
_FIELDS = ("token_id", "name", "role", "partner_id", "created_at", "revoked_at")
_RECORD = tuple(t.tokens.c[f] for f in _FIELDS)


def _record(row: Any) -> TokenRecord:
    """A row of ``_FIELDS`` (from ``select(*_RECORD)`` or the DBAPI cursor)."""
    token_id, name, role, partner_id, created_at, revoked_at = row
    return TokenRecord(token_id, name, cast(Role, role), partner_id, created_at, revoked_at)


def _writing(engine: Engine) -> AbstractContextManager[Connection]:
    """A write transaction that reads first: on SQLite it takes the write lock at BEGIN
    (``BEGIN IMMEDIATE``), so two at once queue on the busy timeout instead of one
    failing with "database is locked" when it upgrades its read lock. PostgreSQL
    ignores the option."""
    return engine.execution_options(sqlite_begin="IMMEDIATE").begin()


def _check(role: str, name: str, partner_id: str | None) -> Role:
    if role not in ROLES:
        raise ValidationFailed.field("role", f"'{role}' is not a role (one of: {', '.join(ROLES)})")
    if not name.strip():
        raise ValidationFailed.field("name", "must not be empty: say whose token it is")
    if len(name) > 200:
        raise ValidationFailed.field("name", "must be at most 200 characters")
    if role == "finance_officer" and not partner_id:
        raise ValidationFailed.field(
            "partner_id", "a finance_officer token acts for a partner: name it (--partner ID)"
        )
    if role != "finance_officer" and partner_id:
        raise ValidationFailed.field(
            "partner_id", f"only a finance_officer token names a partner, not a {role} token"
        )
    return role


def create_token(
    engine: Engine,
    *,
    role: str,
    name: str,
    partner_id: str | None = None,
    clock: Clock,
) -> tuple[TokenRecord, str]:
    """Issue a token. Returns its record and its secret, which is never stored and
    cannot be shown again. A finance officer's partner must be registered."""
    checked_role = _check(role, name, partner_id)
    name = name.strip()
    for _ in range(5):  # a clash of 40 random bits is rare; a second try is certain
        secret = SECRET_PREFIX + secrets.token_urlsafe(32)
        record = TokenRecord(
            token_id="tok_" + secrets.token_hex(5),
            name=name,
            role=checked_role,
            partner_id=partner_id or None,
            created_at=format_instant(clock.now()),
        )
        try:
            with _writing(engine) as conn:
                if record.partner_id is not None:
                    known = conn.execute(
                        select(t.ws_partners.c.partner_id).where(
                            t.ws_partners.c.partner_id == record.partner_id
                        )
                    ).first()
                    if known is None:
                        raise ValidationFailed.field(
                            "partner_id", f"partner '{record.partner_id}' is not registered"
                        )
                conn.execute(
                    insert(t.tokens).values(
                        token_id=record.token_id,
                        name=record.name,
                        role=record.role,
                        partner_id=record.partner_id,
                        token_hash=hash_secret(secret),
                        created_at=record.created_at,
                        revoked_at=None,
                    )
                )
        except IntegrityError:
            continue
        return record, secret
    raise RuntimeError("could not issue a unique token id")  # pragma: no cover


def list_tokens(engine: Engine) -> list[TokenRecord]:
    """Every token ever issued (revoked ones too), oldest first."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(*_RECORD).order_by(t.tokens.c.created_at, t.tokens.c.token_id)
        ).all()
    return [_record(r) for r in rows]


def get_token(engine: Engine, token_id: str) -> TokenRecord | None:
    with engine.connect() as conn:
        row = conn.execute(select(*_RECORD).where(t.tokens.c.token_id == token_id)).first()
    return _record(row) if row is not None else None


def revoke_token(engine: Engine, token_id: str, clock: Clock) -> TokenRecord:
    """Revoke a token from now on. Revoking a revoked token keeps its first
    revocation time. Events it wrote keep naming it."""
    with _writing(engine) as conn:
        row = conn.execute(select(*_RECORD).where(t.tokens.c.token_id == token_id)).first()
        if row is None:
            raise NotFound(f"token '{token_id}' does not exist (see `pooled token list`)")
        if row.revoked_at is None:
            conn.execute(
                update(t.tokens)
                .where(t.tokens.c.token_id == token_id)
                .values(revoked_at=format_instant(clock.now()))
            )
        row = conn.execute(select(*_RECORD).where(t.tokens.c.token_id == token_id)).one()
    return _record(row)


def authenticate(engine: Engine, secret: str) -> TokenRecord | None:
    """The live token whose secret this is, or None (unknown, malformed or revoked)."""
    with engine.connect() as conn:
        without_transaction(conn)  # one SELECT needs none
        return authenticate_in(conn, secret)


_BY_HASH = f"SELECT {', '.join(_FIELDS)} FROM tokens WHERE token_hash = ?"  # noqa: S608


def authenticate_in(conn: Connection, secret: str) -> TokenRecord | None:
    """``authenticate`` in an open transaction (a request's read transaction). Read on
    every request, so a revocation takes effect on the next one. Sent on the DBAPI
    cursor, so it may go in a PostgreSQL pipeline with the request's first reads."""
    if not secret or len(secret) > _MAX_SECRET_LEN or not secret.startswith(SECRET_PREFIX):
        return None
    row = run_sql(conn, _BY_HASH, (hash_secret(secret),)).fetchone()
    if row is None or row[5] is not None:  # unknown, or revoked
        return None
    return _record(row)

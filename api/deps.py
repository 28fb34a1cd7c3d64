"""The routes' collaborators as ``Annotated`` dependencies, and every access rule of the
HTTP edge in one place:

- ``CurrentActor``: the bearer token's actor (401 problem+json, with WWW-Authenticate,
  when the token is missing, unknown or revoked);
- ``require_roles(...)``: read routes limited to some roles (403);
- ``ReadablePool``: a pool a read may look at (404 unknown; 403 for a finance officer
  whose partner is not a member);
- ``PoolReadDep``: the same rules as ``CurrentActor`` and ``ReadablePool``, checked in
  reads on one connection that the route then answers on (the head read once, with
  the token: the hot reads use it);
- ``Writer``: runs a command for the actor with its Idempotency-Key, request id and
  client details. Whether the actor may *write* is a rule of the ledger
  (``ledger.domain.permissions``); its ``Forbidden`` comes back as a 403.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Header, Path, Query, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Connection, Engine
from starlette.concurrency import run_in_threadpool

from api.problems import Unauthorized
from api.schemas.events import WriteResult, write_result
from api.schemas.fields import Slug
from ledger.domain import commands as c
from ledger.domain.errors import FieldError, Forbidden, NotFound, ValidationFailed
from ledger.handlers import Idempotency, Ledger, Outcome
from ledger.logs import annotate
from ledger.settings import Settings
from ledger.store import tokens
from ledger.store.sql import one_round_trip, run_sql, without_transaction
from projections import base, queries
from projections.asat import AS_AT_PATTERN
from projections.parties import pools_of_partner
from projections.queries import Reader

T = TypeVar("T")

# --- the app's collaborators (built by create_app, kept on app.state) -------------------------


async def get_ledger(request: Request) -> Ledger:
    ledger: Ledger = request.app.state.ledger
    return ledger


async def get_reader(request: Request) -> Reader:
    reader: Reader = request.app.state.reader
    return reader


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


LedgerDep = Annotated[Ledger, Depends(get_ledger)]
ReaderDep = Annotated[Reader, Depends(get_reader)]
SettingsDep = Annotated[Settings, Depends(get_settings)]

# --- who is asking ----------------------------------------------------------------------------

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    description="A token issued by `pooled token create --role ROLE [--partner ID] --name NAME`.",
)
_MAX_TOKEN_CHARS = 200


def _actor(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None,
    authenticate: Callable[[str], tokens.TokenRecord | None],
) -> c.Actor:
    if credentials is None:
        sent = request.headers.get("authorization")
        raise Unauthorized(
            "send a token as 'Authorization: Bearer <token>'"
            + ("" if sent is None else " (the header sent is not a bearer token)"),
            error="invalid_request",
        )
    secret = credentials.credentials
    record = None
    if 0 < len(secret) <= _MAX_TOKEN_CHARS:
        record = authenticate(secret)
    if record is None:
        raise Unauthorized("the bearer token is not valid or has been revoked")
    annotate(token_id=record.token_id)  # the request log names the token, never its secret
    return record.actor()


def current_actor(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> c.Actor:
    engine: Engine = request.app.state.engine
    return _actor(request, credentials, lambda secret: tokens.authenticate(engine, secret))


CurrentActor = Annotated[c.Actor, Depends(current_actor)]


# --- one connection for a request's checks and its answer ------------------------------------


_HEAD_AND_MEMBERS = (
    "SELECT h.position, m.partner_id FROM ledger_head h LEFT JOIN rm_pool_members m "
    "ON m.pool_id = ? AND m.position <= h.position WHERE h.id = 1 ORDER BY m.partner_id"
)


class ReadTx:
    """A request's reads on one connection, opened by the first check that needs it.
    The route closes it when it has answered; ``read_tx`` closes it otherwise (a
    refused request).

    Every read after the head is as at a position at or before it, and a position's
    rows never change once committed, so the reads need no shared snapshot. On
    PostgreSQL they run in autocommit (no BEGIN and ROLLBACK round trips); on SQLite in
    a deferred transaction (which costs no round trip there)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.conn: Connection | None = None
        self.head: int | None = None  # the head, when read with the token
        self.members: tuple[str, list[str]] | None = None  # (pool, its members at the head)

    def begin(self) -> Connection:
        if self.conn is None:
            conn = self.engine.connect()
            try:
                if not without_transaction(conn):
                    conn.begin()
            except BaseException:
                conn.close()
                raise
            self.conn = conn
        return self.conn

    def authenticate(self, secret: str, pool: str | None = None) -> tokens.TokenRecord | None:
        """The token, read with the head (and the members of ``pool`` at the head: one
        statement, so one snapshot), which then need no statement of their own. On
        PostgreSQL this is one round trip."""
        conn = self.begin()
        with one_round_trip(conn):
            if pool is None:
                head = run_sql(conn, "SELECT position FROM ledger_head WHERE id = 1")
            else:
                head = run_sql(conn, _HEAD_AND_MEMBERS, (pool,))
            record = tokens.authenticate_in(conn, secret)
            rows = head.fetchall()
        self.head = int(rows[0][0])
        if pool is not None:
            self.members = (pool, [r[1] for r in rows if r[1] is not None])
        return record

    def close(self) -> None:
        conn, self.conn = self.conn, None
        if conn is not None:
            conn.close()  # back to the pool (SQLite: the read transaction rolled back)


async def read_tx(request: Request) -> AsyncIterator[ReadTx]:
    tx = ReadTx(request.app.state.engine)
    try:
        yield tx
    finally:
        if tx.conn is not None:  # the route did not get to close it
            await run_in_threadpool(tx.close)


ReadTxDep = Annotated[ReadTx, Depends(read_tx)]


def read_actor(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    tx: ReadTxDep,
) -> c.Actor:
    """``current_actor``, with the token read on the request's read connection."""
    pool = request.path_params.get("pool")
    return _actor(
        request, credentials, lambda secret: tx.authenticate(secret, pool if pool else None)
    )


def require_roles(*roles: c.Role) -> Callable[[c.Actor], Coroutine[Any, Any, c.Actor]]:
    """A dependency giving the actor when its role is one of ``roles`` (403 otherwise)."""

    async def check(actor: CurrentActor) -> c.Actor:
        if actor.role not in roles:
            raise Forbidden(
                f"the {actor.role} role may not read this; it is for: {', '.join(roles)}"
            )
        return actor

    return check


AuditorActor = Annotated[c.Actor, Depends(require_roles("auditor"))]
LogReaderActor = Annotated[c.Actor, Depends(require_roles("auditor", "board"))]


def visible_pools(reader: Reader, actor: c.Actor) -> set[str] | None:
    """The pools ``actor`` may read: every pool (None) but for a finance officer, whose
    partner's pools only."""
    if actor.role != "finance_officer":
        return None
    with reader.at() as (conn, _):
        return pools_of_partner(conn, actor.partner_id or "")


def readable_pool(
    pool: Annotated[Slug, Path(description="the pool's id", examples=["eq"])],
    actor: CurrentActor,
    reader: ReaderDep,
) -> str:
    with reader.at() as (conn, head):
        members = base.members_at(conn, pool, head)  # a pool always has its host
    _check_readable(pool, actor, members)
    return pool


ReadablePool = Annotated[str, Depends(readable_pool)]


def _check_readable(pool: str, actor: c.Actor, members: list[str]) -> None:
    if not members:
        raise NotFound(f"pool '{pool[:60]}' does not exist")
    if actor.role == "finance_officer" and actor.partner_id not in members:
        raise Forbidden(
            f"a finance officer of '{actor.partner_id}' reads only the pools "
            f"'{actor.partner_id}' belongs to; '{pool}' is not one of them"
        )


@dataclass
class PoolRead:
    """A readable pool (``ReadablePool``'s rules) and the open read connection the
    check ran in, with the head it read and the pool's members at the head."""

    pool: str
    actor: c.Actor
    tx: ReadTx
    head: int
    members: list[str]

    @property
    def conn(self) -> Connection:
        return self.tx.begin()

    def position(self, as_at: queries.AsAt) -> int:
        """The position ``as_at`` names, in this transaction (None: the head read)."""
        if as_at is None or as_at == "":
            return self.head
        return queries.resolve(self.conn, as_at)

    def members_at(self, at: int) -> list[str] | None:
        """The members as at ``at`` when already read (at the head), else None."""
        return self.members if at == self.head else None

    def answer(self, as_at: queries.AsAt, question: Callable[[Connection, int], T]) -> T:
        """``question`` asked on this connection as at ``as_at``; the connection is then
        closed (before the response is built)."""
        try:
            return question(self.conn, self.position(as_at))
        finally:
            self.tx.close()


def pool_read(
    pool: Annotated[Slug, Path(description="the pool's id", examples=["eq"])],
    actor: Annotated[c.Actor, Depends(read_actor)],
    tx: ReadTxDep,
) -> PoolRead:
    conn = tx.begin()
    head = tx.head if tx.head is not None else queries.resolve(conn, None)
    if tx.members is not None and tx.members[0] == pool:
        members = tx.members[1]  # read with the token
    else:
        members = base.members_at(conn, pool, head)  # a pool always has its host
    _check_readable(pool, actor, members)
    return PoolRead(pool, actor, tx, head, members)


PoolReadDep = Annotated[PoolRead, Depends(pool_read)]

AsAt = Annotated[
    str | None,
    Query(
        max_length=64,
        description="an RFC 3339 instant, a date (the end of that day in Europe/London) "
        "or position:N; default: now. A date, or an instant's date as written, falls in "
        "1900-2999; a position beyond the ledger's head is refused as `rule-violation`",
        examples=["2025-09-30", "2025-09-30T17:00:00Z", "position:1200"],
        # stated, not enforced here: the one as-at parser checks it and names the field
        json_schema_extra={"pattern": AS_AT_PATTERN},
    ),
]

# --- writing ----------------------------------------------------------------------------------

_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")

# ``request.state``'s attribute naming the body fields refused for their shape while the
# route is run again only to check the rules (``api.all_errors``): its Writer decides
# and never writes.
RULE_CHECK = "pooled_rule_check"


class RuleCheck(Exception):  # not an error: the answer of a rule check
    """What a Writer in rule-check mode found: the rule errors of its command."""

    def __init__(self, errors: tuple[FieldError, ...]) -> None:
        super().__init__("rule check")
        self.errors = errors


_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,80}$")


def request_id_of(request: Request) -> str | None:
    rid = getattr(request.state, "request_id", None)
    return rid if isinstance(rid, str) and _REQUEST_ID.match(rid) else None


def request_meta_of(request: Request) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    if request.client is not None:
        meta["client_ip"] = request.client.host
    agent = request.headers.get("user-agent")
    if agent:
        meta["user_agent"] = agent[:200]
    return meta


@dataclass
class Writer:
    """Runs commands for one request: the actor, its idempotency key, its request id."""

    ledger: Ledger
    actor: c.Actor
    key: str | None
    method: str
    path: str
    request_id: str | None
    request_meta: dict[str, Any]
    response: Response
    status: int = 201  # the route's success status: stored with the key, replayed on a repeat
    # set when the route is run only to check the rules: the fields refused for their
    # shape, standing in; the Writer then raises ``RuleCheck`` and writes nothing
    rule_check: frozenset[str] | None = None

    def idempotency(self, normalised: Mapping[str, Any]) -> Idempotency | None:
        if self.key is None:
            return None
        return Idempotency(
            key=self.key,
            token_id=self.actor.token_id or f"actor:{self.actor.name}",
            method=self.method,
            path=self.path,
            request=normalised,
            status=self.status,
        )

    def one(self, command: c.Command) -> WriteResult:
        """Run ``command``; the request it is compared by on a retry is the command itself
        (so ``"17"`` and ``"17.00"`` are the same request)."""
        if self.rule_check is not None:
            raise RuleCheck(self.ledger.rule_errors(command, self.actor, self.rule_check))
        outcome = self.ledger.execute(
            command,
            self.actor,
            idempotency=self.idempotency(
                {"command": type(command).__name__, **command.model_dump(mode="json")}
            ),
            request_id=self.request_id,
            request_meta=self.request_meta,
        )
        self.mark(outcome)
        return write_result(outcome.events)

    def many(
        self,
        commands: Sequence[c.Command],
        lines: Sequence[int],
        refused: Sequence[FieldError] = (),
    ) -> Outcome:
        """All or nothing: every refused line is reported with its line number (with
        ``refused``, the lines already refused before the rules were checked)."""
        if self.rule_check is not None:
            raise RuleCheck(())
        normalised = {
            "commands": [
                {"command": type(cmd).__name__, **cmd.model_dump(mode="json")} for cmd in commands
            ]
        }
        outcome = self.ledger.execute_many(
            commands,
            self.actor,
            idempotency=self.idempotency(normalised),
            request_id=self.request_id,
            request_meta=self.request_meta,
            lines=lines,
            refused=refused,
        )
        self.mark(outcome)
        return outcome

    def mark(self, outcome: Outcome) -> None:
        positions = [e.position for e in outcome.events]
        annotate(positions=positions[:100], events=len(positions), replayed=outcome.replayed)
        if outcome.replayed:
            self.response.headers["Idempotent-Replayed"] = "true"
            if outcome.status is not None:
                self.response.status_code = outcome.status  # the first answer's, as stored


async def writer(
    request: Request,
    response: Response,
    ledger: LedgerDep,
    actor: CurrentActor,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            description="a client-chosen key (1-255 printable characters); a retry with "
            "the same key and body returns the first answer and writes nothing",
            examples=["c0a8e5b2-2f4e-4c1a-9d8f-6b7e3a1d2c4f"],
            json_schema_extra={"pattern": _KEY.pattern, "minLength": 1, "maxLength": 255},
        ),
    ] = None,
) -> Writer:
    if idempotency_key is not None and not _KEY.match(idempotency_key):
        raise ValidationFailed(
            "Idempotency-Key must be 1-255 printable characters without spaces",
            errors=(FieldError("Idempotency-Key", "must be 1-255 printable characters"),),
        )
    return Writer(
        ledger=ledger,
        actor=actor,
        key=idempotency_key,
        method=request.method,
        path=request.url.path,
        request_id=request_id_of(request),
        request_meta=request_meta_of(request),
        response=response,
        status=_success_status(request),
        rule_check=getattr(request.state, RULE_CHECK, None),
    )


def _success_status(request: Request) -> int:
    """The status the route answers a write with (its ``status_code``; FastAPI's 200 when
    it declares none)."""
    route = request.scope.get("route")
    declared = getattr(route, "status_code", None)
    return declared if isinstance(declared, int) else 200


WriterDep = Annotated[Writer, Depends(writer)]

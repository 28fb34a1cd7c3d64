"""The ``pooled`` console script (Typer).

    pooled db upgrade                       migrate the database to the newest schema
    pooled db backup FILE | db restore FILE back up; restore into an empty database
    pooled token create --role ROLE [--partner ID] --name NAME
    pooled token list | token revoke TOKEN_ID
    pooled demo load                        load the demo partnership into an empty ledger
    pooled verify                           chain, tree, checkpoints, filed documents
    pooled checkpoint key | create | rotate-key   the public key; sign now; a new key
    pooled audit verify --checkpoints F --public-key F [--events F] [--server URL]
    pooled ledger check | ledger rebuild-state   state vs a replay (exit 1 if it drifted)
    pooled events [--pool P] [--after N] [--limit N]
    pooled serve [--demo] [--host H] [--port N] [--no-scheduler]

Configuration comes from ``POOLED_*`` environment variables (``ledger.settings``),
read when a command runs; nothing is built at import time. The write side is
composed in one place, :func:`build_ledger`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from sqlalchemy import Engine, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from ledger.clock import SystemClock, format_instant
from ledger.domain.errors import LedgerError
from ledger.handlers import Ledger
from ledger.hooks import Hook
from ledger.settings import Settings, signing_key_path
from ledger.store import tables as t
from ledger.store import tokens
from ledger.store import verify as store_verify
from ledger.store.checkpoints import load_or_create_key, load_retired_keys
from ledger.store.engine import is_sqlite, make_engine
from ledger.store.migrate import upgrade
from ledger.store.reads import read_head, read_range, row_to_stored
from projections import cli as projections_cli
from scheduler import cli as scheduler_cli

app = typer.Typer(
    help="pooled: the ledger of pooled health and social care budgets.",
    no_args_is_help=True,
    add_completion=False,
)
db_app = typer.Typer(help="The database schema.", no_args_is_help=True)
token_app = typer.Typer(help="Bearer tokens for the API (shown once, stored hashed).")
demo_app = typer.Typer(help="The demo partnership (Nottinghamshire examples).")
app.add_typer(db_app, name="db")
app.add_typer(token_app, name="token", no_args_is_help=True)
app.add_typer(demo_app, name="demo", no_args_is_help=True)
ledger_app = typer.Typer(help="The write-side state, checked against the events.")
app.add_typer(ledger_app, name="ledger", no_args_is_help=True)
checkpoint_app = typer.Typer(help="Signed checkpoints of the ledger.")
audit_app = typer.Typer(help="Checks that need no trust in the server.")
app.add_typer(checkpoint_app, name="checkpoint", no_args_is_help=True)
app.add_typer(audit_app, name="audit", no_args_is_help=True)
app.add_typer(projections_cli.app, name="projections")
app.add_typer(scheduler_cli.app)  # `returns ...` and `scheduler ...`

DEMO_TOKEN_PREFIX = "demo "


# --- composition -----------------------------------------------------------------------


def engine_for(settings: Settings) -> Engine:
    return make_engine(settings.database_url, synchronous=settings.sqlite_synchronous)


def build_ledger(settings: Settings) -> Ledger:
    """The write side with its engine, clock, reference data and append hook (the
    projector keeps the read models in the append transaction)."""
    from ledger.refdata import default_catalogue
    from projections.projector import Projector

    hooks: list[Hook] = [Projector()]
    return Ledger(
        engine_for(settings),
        SystemClock(),
        default_catalogue(),
        hooks=hooks,
        signing_key=load_or_create_key(Path(signing_key_path(settings))),
        retired_keys=load_retired_keys(Path(signing_key_path(settings))),
    )


def _where(settings: Settings) -> str:
    return make_url(settings.database_url).render_as_string(hide_password=True)


def _fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(message, err=True)
    raise typer.Exit(code)


@contextmanager
def _engine(settings: Settings) -> Iterator[Engine]:
    engine = engine_for(settings)
    try:
        yield engine
    except LedgerError as e:
        _fail(f"{e.title}: {e.detail}")
    except DBAPIError as e:
        _fail(
            f"database error at {_where(settings)}: {e.orig}\n"
            "(has it been migrated? run `pooled db upgrade`)"
        )
    finally:
        engine.dispose()


# --- db ----------------------------------------------------------------------------------


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Migrate the database to the newest schema (ledger and read models)."""
    settings = Settings()
    with _engine(settings) as engine:
        upgrade(engine)
    typer.echo(f"Database {_where(settings)} is up to date.")


def _check_copy(engine: Engine, what: str) -> None:
    """The chain verification and the read models' check, after a backup or restore."""
    from projections.rebuild import compare_with_rebuild, status

    result = store_verify.verify(engine)
    if not result.ok:
        _fail(f"{what}: the chain does not verify: {result.problem}")
    checkpoint, head = status(engine)
    differences = compare_with_rebuild(engine)
    if checkpoint != head or differences:
        _fail(
            f"{what}: read models at {checkpoint} of {head}, {len(differences)} differences "
            "from a rebuild (run `pooled projections rebuild`)"
        )
    typer.echo(
        f"{what}: chain verified ({result.events_checked} events, head position "
        f"{result.head_position}, hash {result.head_hash}); read models identical to a rebuild."
    )


@db_app.command("backup")
def db_backup(file: Annotated[Path, typer.Argument(help="the backup file to write")]) -> None:
    """Back the whole ledger up to FILE (SQLite: online backup API; PostgreSQL: pg_dump
    custom format), safe while it is being written; then verify the copy (SQLite) or
    the database it was taken from (PostgreSQL)."""
    from ledger.store import backup as bk

    settings = Settings()
    with _engine(settings) as engine:
        try:
            copied = bk.backup(engine, file)
        except bk.BackupError as e:
            _fail(str(e))
        typer.echo(f"Backed {_where(settings)} up to {copied.path}.")
        if is_sqlite(engine):
            copy = make_engine(f"sqlite:///{copied.path}")
            try:
                _check_copy(copy, "the backup")
            finally:
                copy.dispose()
        else:
            _check_copy(engine, "the database backed up")


@db_app.command("restore")
def db_restore(file: Annotated[Path, typer.Argument(help="a file `db backup` wrote")]) -> None:
    """Restore FILE into the (empty) database of POOLED_DATABASE_URL, then verify the
    chain and check the read models. Refuses a database that already holds a ledger."""
    from ledger.store import backup as bk

    settings = Settings()
    with _engine(settings) as engine:
        try:
            bk.restore(engine, file)
        except bk.BackupError as e:
            _fail(str(e))
        typer.echo(f"Restored {file} into {_where(settings)}.")
        _check_copy(engine, "the restored ledger")


# --- tokens ------------------------------------------------------------------------------


@token_app.command("create")
def token_create(
    role: Annotated[
        str, typer.Option(help="admin, finance_officer, board or auditor", show_default=False)
    ],
    name: Annotated[str, typer.Option(help="whose token it is (a person or system)")],
    partner: Annotated[
        str | None, typer.Option(help="the partner a finance_officer acts for")
    ] = None,
) -> None:
    """Issue a token. The secret is printed once, alone on the last line."""
    settings = Settings()
    with _engine(settings) as engine:
        record, secret = tokens.create_token(
            engine, role=role, name=name, partner_id=partner, clock=SystemClock()
        )
    typer.echo(
        f"Created {record.token_id} ({_role(record)}) named '{record.name}'; "
        "it is shown once and stored only as a hash:"
    )
    typer.echo(secret)


def _role(record: tokens.TokenRecord) -> str:
    return f"{record.role} of {record.partner_id}" if record.partner_id else record.role


@token_app.command("list")
def token_list() -> None:
    """Every token issued: id, role, partner, name, created, revoked."""
    settings = Settings()
    with _engine(settings) as engine:
        records = tokens.list_tokens(engine)
    if not records:
        typer.echo("No tokens yet: `pooled token create --role admin --name NAME`.")
        return
    typer.echo(f"{'token':<15} {'role':<16} {'partner':<18} {'created':<28} {'status':<8} name")
    for r in records:
        status = f"revoked {r.revoked_at}" if r.revoked_at else "active"
        typer.echo(
            f"{r.token_id:<15} {r.role:<16} {r.partner_id or '-':<18} {r.created_at:<28} "
            f"{status:<8} {r.name}"
        )


@token_app.command("revoke")
def token_revoke(token_id: Annotated[str, typer.Argument(help="e.g. tok_3f9a0c12de")]) -> None:
    """Revoke a token: from now on it gets 401. The events it wrote keep naming it."""
    settings = Settings()
    with _engine(settings) as engine:
        record = tokens.revoke_token(engine, token_id, SystemClock())
    typer.echo(
        f"Revoked {record.token_id} ({_role(record)}, '{record.name}') at {record.revoked_at}."
    )


# --- demo --------------------------------------------------------------------------------


def _head_position(engine: Engine) -> int:
    with engine.connect() as conn:
        return read_head(conn).position


def _load_demo_if_empty(ledger: Ledger) -> bool:
    from filing.lifecycle import file_for_the_demo
    from ledger.demo import load_demo_as_it_happened

    if _head_position(ledger.engine) > 0:
        return False
    # recorded on the days the facts happened, so "as at 30 September" shows something
    summary = load_demo_as_it_happened(
        ledger.engine,
        ledger.reference,
        ledger.hooks,
        ledger.clock.now(),
        ledger.signing_key,
        filer=file_for_the_demo,
    )
    by_pool = ", ".join(f"{pool} {n}" for pool, n in summary.events_by_pool.items())
    typer.echo(
        f"Loaded the demo partnership: {summary.events_written} events "
        f"(positions {summary.first_position}-{summary.last_position}; by pool: {by_pool})."
    )
    if summary.open_quarter:
        typer.echo(f"{summary.open_quarter} has ended and is left open: its return is due.")
    return True


@demo_app.command("load")
def demo_load() -> None:
    """Migrate, then load the demo partnership if the ledger is empty."""
    settings = Settings()
    ledger = build_ledger(settings)
    try:
        upgrade(ledger.engine)
        if not _load_demo_if_empty(ledger):
            n = _head_position(ledger.engine)
            typer.echo(f"The ledger is not empty ({n} events): the demo was not loaded.")
    except LedgerError as e:
        _fail(f"{e.title}: {e.detail}")
    finally:
        ledger.engine.dispose()


# --- audit -------------------------------------------------------------------------------


@app.command()
def verify() -> None:
    """Recompute the hash chain and the Merkle tree from the first event, check every
    signed checkpoint and every filed document; exit 1 naming what no longer matches."""
    from api.verification import verify_all

    ledger = build_ledger(Settings())
    try:
        full = verify_all(ledger)
    finally:
        ledger.engine.dispose()
    result = full.chain
    if full.ok:
        typer.echo(
            f"OK: {result.events_checked} events verified; head position "
            f"{result.head_position}, hash {result.head_hash}; tree and checkpoints match; "
            f"{full.documents_checked} filed documents match"
        )
        return
    for problem in full.problems:
        typer.echo(f"BROKEN: {problem}", err=True)
    if result.first_bad_position is not None:
        typer.echo(f"first bad position: {result.first_bad_position}", err=True)
    raise typer.Exit(1)


@checkpoint_app.command("key")
def checkpoint_key() -> None:
    """Print the public key checkpoints are signed with (PEM), creating the key file
    on first use."""
    from ledger.domain.checkpoint import public_pem

    key = load_or_create_key(Path(signing_key_path(Settings())))
    typer.echo(public_pem(key.public_key()), nl=False)


@checkpoint_app.command("rotate-key")
def checkpoint_rotate_key() -> None:
    """Replace the signing key: the old key's public half joins the key ring beside the
    key file, so checkpoints it signed still verify. Restart the service afterwards."""
    from ledger.domain.checkpoint import public_pem
    from ledger.store.checkpoints import ring_path, rotate_key

    path = Path(signing_key_path(Settings()))
    try:
        old, new = rotate_key(path, format_instant(SystemClock().now()))
    except FileNotFoundError as e:
        _fail(str(e))
    typer.echo(f"Retired key {old}; kept its public half in {ring_path(path)}.")
    typer.echo(f"New signing key {new} in {path}. Restart pooled to sign with it.")
    typer.echo(public_pem(load_or_create_key(path).public_key()), nl=False)


@checkpoint_app.command("create")
def checkpoint_create() -> None:
    """Sign and store a checkpoint of the ledger as it stands now."""
    from ledger.store.checkpoints import take_checkpoint

    ledger = build_ledger(Settings())
    try:
        assert ledger.signing_key is not None
        s = take_checkpoint(
            ledger.engine, ledger.signing_key, format_instant(ledger.clock.now()), "command line"
        )
    finally:
        ledger.engine.dispose()
    typer.echo(json.dumps(s.as_json(), indent=2))


@audit_app.command("verify")
def audit_verify(
    checkpoints: Annotated[str, typer.Option(help="the checkpoints you saved (JSON)")],
    public_key: Annotated[
        list[str],
        typer.Option(
            help="the ledger's public key (PEM or hex), or its key ring (JSON: `pooled "
            "checkpoint rotate-key` keeps one; the answer of /v1/checkpoints/key is one); "
            "repeat for several"
        ),
    ],
    events: Annotated[
        str | None, typer.Option(help="events you saved: inclusion-proof answers (JSON)")
    ] = None,
    server: Annotated[
        str | None, typer.Option(help="compare with this server's checkpoints (URL)")
    ] = None,
    token: Annotated[str | None, typer.Option(envvar="POOLED_TOKEN", help="bearer token")] = None,
) -> None:
    """Check saved checkpoints and inclusion proofs with only the public key; with
    --server, also that the server's latest checkpoint extends every saved one and
    still holds every saved event (exit 1 naming where history diverged)."""
    from ledger import audit

    fetch = audit.http_fetch(server, token or "") if server else None
    report = audit.run(checkpoints, public_key, events, fetch)
    for line in report.lines:
        typer.echo(line)
    if report.ok:
        typer.echo("OK")
        return
    if report.diverged_at is not None:
        typer.echo(f"history diverged at position {report.diverged_at}", err=True)
    raise typer.Exit(1)


@ledger_app.command("check")
def ledger_check() -> None:
    """Replay every stream and compare it with its stored state; exit 1 naming each
    stream's first difference."""
    from ledger.snapshots import check

    settings = Settings()
    with _engine(settings) as engine:
        result = check(engine)
    if result.ok:
        typer.echo(
            f"OK: {result.streams_checked} streams replayed from {result.events_replayed} "
            "events equal their stored state"
        )
        return
    for problem in result.problems:
        typer.echo(f"DRIFT: {problem}", err=True)
    typer.echo("run `pooled ledger rebuild-state` to rewrite the state from the events", err=True)
    raise typer.Exit(1)


@ledger_app.command("rebuild-state")
def ledger_rebuild_state() -> None:
    """Rewrite the stored write-side state from the events (appends wait for it)."""
    from ledger.snapshots import rebuild_state

    settings = Settings()
    with _engine(settings) as engine:
        r = rebuild_state(engine)
    typer.echo(
        f"Rebuilt the state of {r.pools} pools, {r.partners} partners and {r.reference} "
        f"reference data sets from {r.events_replayed} events."
    )


@app.command()
def events(
    pool: Annotated[str | None, typer.Option(help="only this pool's events")] = None,
    after: Annotated[
        int | None, typer.Option(help="events after this position (default: the latest)")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="how many")] = 20,
) -> None:
    """Tail the event log: position, recorded at, type, pool, actor, hash."""
    settings = Settings()
    with _engine(settings) as engine, engine.connect() as conn:
        if after is not None:
            rows = read_range(conn, after, limit, pool_id=pool)
        else:  # the latest events, oldest first
            q = select(t.events).order_by(t.events.c.position.desc()).limit(limit)
            if pool is not None:
                q = q.where(t.events.c.pool_id == pool)
            rows = [row_to_stored(r) for r in conn.execute(q)][::-1]
    if not rows:
        typer.echo("No events.")
        return
    for e in rows:
        who = e.actor + (f" [{e.actor_partner_id}]" if e.actor_partner_id else "")
        typer.echo(
            f"{e.position:>8}  {e.recorded_at}  {e.type:<28} {e.pool_id or '-':<20} "
            f"{who}  {e.hash[:12]}"
        )


# --- serve -------------------------------------------------------------------------------


def _issue_demo_tokens(
    ledger: Ledger, settings: Settings
) -> tuple[list[tuple[tokens.TokenRecord, str]], str]:
    """A token per role and a finance officer per demo partner: those kept from an
    earlier run while valid, else new ones (``api.demo_tokens``)."""
    from api.demo_tokens import demo_tokens
    from ledger.demo import DEMO_PARTNERS

    with ledger.engine.connect() as conn:
        registered = set(conn.execute(select(t.ws_partners.c.partner_id)).scalars())
    wanted: list[tuple[str, str | None]] = [(r, None) for r in ("admin", "board", "auditor")]
    wanted += [
        ("finance_officer", p.partner_id) for p in DEMO_PARTNERS if p.partner_id in registered
    ]
    issued, path = demo_tokens(ledger.engine, ledger.clock, settings.database_url, wanted)
    return issued, str(path)


@app.command()
def serve(
    demo: Annotated[
        bool, typer.Option("--demo", help="load the demo into an empty ledger; print tokens")
    ] = False,
    host: Annotated[str | None, typer.Option(help="default: POOLED_HOST")] = None,
    port: Annotated[int | None, typer.Option(help="default: POOLED_PORT")] = None,
    scheduler: Annotated[
        bool, typer.Option("--scheduler/--no-scheduler", help="run the return scheduler here")
    ] = True,
) -> None:
    """Run the API, the board pages and the scheduler in one process: migrate, load
    the demo into an empty ledger (``--demo``) and print a token per demo role, start
    the return scheduler (unless ``--no-scheduler``), then serve with uvicorn."""
    from api.server import run_server

    overrides: dict[str, object] = {"scheduler": scheduler}
    if host:
        overrides["host"] = host
    if port:
        overrides["port"] = port
    settings = Settings().model_copy(update=overrides)
    ledger = build_ledger(settings)
    issued: list[tuple[tokens.TokenRecord, str]] = []
    kept_in = ""
    try:
        upgrade(ledger.engine)
        if demo:
            _load_demo_if_empty(ledger)
            issued, kept_in = _issue_demo_tokens(ledger, settings)
    except LedgerError as e:
        _fail(f"{e.title}: {e.detail}")
    finally:
        ledger.engine.dispose()
    url = f"http://{settings.host}:{settings.port}"
    typer.echo(f"pooled on {url}  (API {url}/v1, docs {url}/docs, board {url}/board)")
    typer.echo(f"database {_where(settings)}")
    if issued:
        typer.echo(
            f"demo tokens (kept in {kept_in}, readable only by you, and shown again on the "
            "next start while valid; revoke one with `pooled token revoke ID`; sign in to "
            "the board with the board token):"
        )
    for record, secret in issued:
        typer.echo(f"  {_role(record):<34} {record.token_id}  {secret}")
    run_server(settings, scheduler=scheduler)


def main() -> None:
    app()


if __name__ == "__main__":  # pragma: no cover
    main()

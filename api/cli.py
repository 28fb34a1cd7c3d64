"""The ``pooled`` console script (Typer).

    pooled db upgrade                       migrate the database to the newest schema
    pooled db backup FILE | db restore FILE back up; restore into an empty database
    pooled token create --role ROLE [--partner ID] --name NAME
    pooled token list | token revoke TOKEN_ID
    pooled demo load                        load the demo partnership into an empty ledger
    pooled verify                           recompute the hash chain (exit 1 if broken)
    pooled events [--pool P] [--after N] [--limit N]
    pooled serve [--demo] [--host H] [--port N] [--no-scheduler]

Configuration comes from ``POOLED_*`` environment variables (``ledger.settings``),
read when a command runs; nothing is built at import time. The write side is
composed in one place, :func:`build_ledger`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from sqlalchemy import Engine, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from ledger.clock import SystemClock
from ledger.domain.errors import LedgerError
from ledger.handlers import AppendHook, Ledger
from ledger.settings import Settings
from ledger.store import eventstore as es
from ledger.store import tables as t
from ledger.store import tokens
from ledger.store.engine import is_sqlite, make_engine
from ledger.store.migrate import upgrade
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
app.add_typer(projections_cli.app, name="projections")
app.add_typer(scheduler_cli.app)  # `returns ...` and `scheduler ...`

DEMO_TOKEN_PREFIX = "demo "


# --- composition -----------------------------------------------------------------------


def engine_for(settings: Settings) -> Engine:
    return make_engine(settings.database_url, synchronous=settings.sqlite_synchronous)


def build_ledger(settings: Settings) -> Ledger:
    """The write side with its engine, clock, reference data and append hooks (the
    projector keeps the read models in the append transaction, when installed)."""
    from ledger.refdata import default_catalogue

    hooks: list[AppendHook] = []
    try:
        from projections.projector import Projector
    except ImportError:  # the read side is optional for the write path
        pass
    else:
        hooks.append(Projector().apply)
    return Ledger(engine_for(settings), SystemClock(), default_catalogue(), hooks=hooks)


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

    result = es.verify(engine)
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
        return es.read_head(conn).position


def _load_demo_if_empty(ledger: Ledger) -> bool:
    from ledger.demo import load_demo_as_it_happened

    if _head_position(ledger.engine) > 0:
        return False
    # recorded on the days the facts happened, so "as at 30 September" shows something
    summary = load_demo_as_it_happened(
        ledger.engine, ledger.reference, ledger.hooks, ledger.clock.now()
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
    """Recompute the hash chain from the first event; exit 1 naming the first bad one."""
    settings = Settings()
    with _engine(settings) as engine:
        result = es.verify(engine)
    if result.ok:
        typer.echo(
            f"OK: {result.events_checked} events verified; head position "
            f"{result.head_position}, hash {result.head_hash}"
        )
        return
    typer.echo(f"BROKEN: {result.problem}", err=True)
    typer.echo(f"first bad position: {result.first_bad_position}", err=True)
    raise typer.Exit(1)


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
            rows = es.read_range(conn, after, limit, pool_id=pool)
        else:  # the latest events, oldest first
            q = select(t.events).order_by(t.events.c.position.desc()).limit(limit)
            if pool is not None:
                q = q.where(t.events.c.pool_id == pool)
            rows = [es.row_to_stored(r) for r in conn.execute(q)][::-1]
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


def _issue_demo_tokens(ledger: Ledger) -> list[tuple[tokens.TokenRecord, str]]:
    """Fresh demo tokens, one per role and one finance officer per demo partner; the
    demo tokens of an earlier run are revoked (their secrets were shown once)."""
    from ledger.demo import DEMO_PARTNERS

    engine, clock = ledger.engine, ledger.clock
    for old in tokens.list_tokens(engine):
        if old.name.startswith(DEMO_TOKEN_PREFIX) and old.revoked_at is None:
            tokens.revoke_token(engine, old.token_id, clock)
    issued = [
        tokens.create_token(engine, role=role, name=f"{DEMO_TOKEN_PREFIX}{role}", clock=clock)
        for role in ("admin", "board", "auditor")
    ]
    with engine.connect() as conn:
        registered = set(conn.execute(select(t.ws_partners.c.partner_id)).scalars())
    for p in DEMO_PARTNERS:
        if p.partner_id in registered:
            issued.append(
                tokens.create_token(
                    engine,
                    role="finance_officer",
                    partner_id=p.partner_id,
                    name=f"{DEMO_TOKEN_PREFIX}officer {p.partner_id}",
                    clock=clock,
                )
            )
    return issued


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
    try:
        upgrade(ledger.engine)
        if demo:
            _load_demo_if_empty(ledger)
            issued = _issue_demo_tokens(ledger)
    except LedgerError as e:
        _fail(f"{e.title}: {e.detail}")
    finally:
        ledger.engine.dispose()
    url = f"http://{settings.host}:{settings.port}"
    typer.echo(f"pooled on {url}  (API {url}/v1, docs {url}/docs, board {url}/board)")
    typer.echo(f"database {_where(settings)}")
    if issued:
        typer.echo("demo tokens (each shown once; sign in to the board with the board token):")
    for record, secret in issued:
        typer.echo(f"  {_role(record):<34} {record.token_id}  {secret}")
    run_server(settings, demo=False, scheduler=scheduler)


def main() -> None:
    app()


if __name__ == "__main__":  # pragma: no cover
    main()

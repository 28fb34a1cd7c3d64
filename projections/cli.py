"""``pooled projections rebuild|status``: a Typer sub-app the ``pooled`` CLI mounts
(``app.add_typer(projections.cli.app, name="projections")``).

The database is ``--database-url``, else the ``engine`` a parent command put in
``ctx.obj`` (a dict), else ``POOLED_DATABASE_URL`` (ledger.settings). Exit codes:
0 fine; 1 ``status`` found the read models behind the head or (``--check``)
different from a rebuild.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer
from sqlalchemy import Engine

from ledger.settings import Settings
from ledger.store.engine import make_engine
from projections.rebuild import compare_with_rebuild, rebuild, status

app = typer.Typer(
    name="projections",
    help="The read models: rebuild them from the events, or check them.",
    no_args_is_help=True,
)

DatabaseUrl = Annotated[
    str | None,
    typer.Option("--database-url", help="Database URL (default: POOLED_DATABASE_URL)."),
]


def _engine(ctx: typer.Context, url: str | None) -> tuple[Engine, bool]:
    """The engine to use, and whether this command made it (and so disposes of it)."""
    if url:
        return make_engine(url), True
    obj: Any = ctx.obj
    if isinstance(obj, dict) and isinstance(obj.get("engine"), Engine):
        return obj["engine"], False
    settings = Settings()
    return make_engine(settings.database_url, synchronous=settings.sqlite_synchronous), True


@app.command("rebuild")
def rebuild_command(
    ctx: typer.Context,
    database_url: DatabaseUrl = None,
    batch: Annotated[int, typer.Option(min=1, help="Events read per batch.")] = 10_000,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Empty the read models and project every event again, in one transaction
    (appends wait for it; readers see the old rows until it commits)."""
    engine, owned = _engine(ctx, database_url)
    try:
        _, head = status(engine)
        if quiet:
            result = rebuild(engine, batch=batch)
        else:
            with typer.progressbar(
                length=max(head, 1), label="Projecting events", file=sys.stderr
            ) as bar:

                def progress(done: int, _total: int) -> None:
                    bar.update(done - bar.pos)

                result = rebuild(engine, progress=progress, batch=batch)
        typer.echo(
            f"Rebuilt the read models from {result.events} events in "
            f"{result.seconds:.1f} s ({result.events_per_second:,.0f} events/s); "
            f"checkpoint {result.checkpoint}."
        )
    finally:
        if owned:
            engine.dispose()


@app.command("status")
def status_command(
    ctx: typer.Context,
    database_url: DatabaseUrl = None,
    check: Annotated[
        bool,
        typer.Option(
            "--check",
            help="Also rebuild in a transaction that is rolled back and list every row "
            "that differs from the kept read models.",
        ),
    ] = False,
) -> None:
    """The read models' checkpoint against the ledger head."""
    engine, owned = _engine(ctx, database_url)
    try:
        checkpoint, head = status(engine)
        behind = head - checkpoint
        state = "up to date" if behind == 0 else f"{behind} events behind"
        typer.echo(f"checkpoint {checkpoint}, ledger head {head}: {state}")
        failed = behind != 0
        if check:
            differences = compare_with_rebuild(engine)
            for d in differences:
                typer.echo(d)
            typer.echo(
                "identical to a rebuild, row for row"
                if not differences
                else f"{len(differences)} differences from a rebuild; "
                "run `pooled projections rebuild`"
            )
            failed = failed or bool(differences)
        if failed:
            raise typer.Exit(1)
    finally:
        if owned:
            engine.dispose()

"""The returns and scheduler commands of the ``pooled`` console script (Typer).

    pooled returns generate POOL QUARTER   file a quarter's return (idempotent)
    pooled returns list POOL               the pool's returns: filed, approved, submitted, due
    pooled returns get POOL QUARTER [--format json|csv|xlsx] [--position N] [--output FILE]
    pooled returns verify                  check every filed document against the chain
    pooled scheduler run [--once]          the catch-up now, then daily (foreground)

``app`` holds the two groups; mount it with ``main_app.add_typer(scheduler.cli.app)``
(or mount ``returns_app`` and ``scheduler_app`` under names of your choice).
Configuration comes from ``POOLED_*`` variables, read when a command runs.
"""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from filing.documents import fetch_return, verify_filed_returns
from filing.lifecycle import SCHEDULER_ACTOR, generate_or_get
from filing.metrics import Metrics, serve_on_port
from filing.records import list_returns
from ledger.clock import SystemClock, london_today
from ledger.domain import commands as c
from ledger.domain.errors import LedgerError
from ledger.logs import configure_logging
from ledger.settings import Settings
from scheduler.service import CatchUp, build_ledger, build_scheduler

app = typer.Typer(no_args_is_help=True, add_completion=False)
returns_app = typer.Typer(help="Quarterly BCF returns.", no_args_is_help=True)
scheduler_app = typer.Typer(help="The return scheduler.", no_args_is_help=True)
app.add_typer(returns_app, name="returns")
app.add_typer(scheduler_app, name="scheduler")

CLI_ACTOR = c.Actor(name="pooled cli", role="admin")


def _fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(message, err=True)
    raise typer.Exit(code)


@returns_app.command("generate")
def generate(
    pool: Annotated[str, typer.Argument(help="the pool's id")],
    quarter: Annotated[str, typer.Argument(help="a quarter such as 2025-26-Q1")],
) -> None:
    """File the quarter's return (the first generation is the filed one; again: shows it)."""
    ledger = build_ledger(Settings())
    try:
        record, created = generate_or_get(ledger, pool, quarter, CLI_ACTOR)
    except LedgerError as e:
        _fail(f"{e.title}: {e.detail}")
    finally:
        ledger.engine.dispose()
    verb = "filed" if created else "already filed"
    typer.echo(
        f"{verb}: {record.quarter} return of pool '{pool}' at position {record.position} "
        f"(as at position {record.as_at_position}, data as at {record.data_as_at})"
    )
    typer.echo(f"content hash {record.content_hash}")
    typer.echo(f"chain head   {record.chain_head}")


@returns_app.command("list")
def list_(pool: Annotated[str, typer.Argument(help="the pool's id")]) -> None:
    """The pool's returns: quarter, status, due date, positions, hashes, sign-off."""
    settings = Settings()
    ledger = build_ledger(settings)
    try:
        records = list_returns(
            ledger.engine,
            pool,
            today=london_today(SystemClock()),
            reference=ledger.reference,
            due_days=settings.return_due_days,
        )
    except LedgerError as e:
        _fail(f"{e.title}: {e.detail}")
    finally:
        ledger.engine.dispose()
    if not records:
        typer.echo(f"pool '{pool}' has no returns yet")
        return
    typer.echo(f"{'quarter':<11} {'status':<9} {'due':<10} {'position':>8} {'as at':>8}  hash")
    for r in records:
        typer.echo(
            f"{r.quarter:<11} {r.status:<9} {r.due_date or '':<10} "
            f"{r.position if r.position is not None else '':>8} "
            f"{r.as_at_position if r.as_at_position is not None else '':>8}  "
            f"{(r.content_hash or '')[:16]}"
            + (f"  approved by {r.approved_by}" if r.approved_by else "")
            + (f", submitted by {r.submitted_by}" if r.submitted_by else "")
        )


@returns_app.command("get")
def get(
    pool: Annotated[str, typer.Argument(help="the pool's id")],
    quarter: Annotated[str, typer.Argument(help="a quarter such as 2025-26-Q1")],
    format: Annotated[str, typer.Option(help="json, csv (a zip) or xlsx")] = "json",
    position: Annotated[
        int | None, typer.Option(help="a draft as at this position (default: the filed one)")
    ] = None,
    output: Annotated[Path | None, typer.Option(help="write here (default: stdout)")] = None,
) -> None:
    """Write the filed return (or a draft as at a position)."""
    ledger = build_ledger(Settings())
    try:
        doc = fetch_return(ledger.engine, pool, quarter, format, position)
    except LedgerError as e:
        _fail(f"{e.title}: {e.detail}")
    finally:
        ledger.engine.dispose()
    if output is None:
        sys.stdout.buffer.write(doc.content)
        sys.stdout.buffer.flush()
    else:
        output.write_bytes(doc.content)
        kind = "filed" if doc.filed else f"draft as at position {doc.as_at_position}"
        typer.echo(f"wrote the {kind} {quarter} return of '{pool}' to {output}", err=True)


@returns_app.command("verify")
def verify() -> None:
    """Check every filed document against the chain (exit 1 on any problem)."""
    ledger = build_ledger(Settings())
    try:
        result = verify_filed_returns(ledger.engine)
    finally:
        ledger.engine.dispose()
    for problem in result.problems:
        typer.echo(f"problem: {problem}", err=True)
    typer.echo(f"{'ok' if result.ok else 'FAILED'}: {result.documents_checked} documents checked")
    if not result.ok:
        raise typer.Exit(1)


@scheduler_app.command("run")
def run(
    once: Annotated[bool, typer.Option("--once", help="run the catch-up once and exit")] = False,
) -> None:
    """Run the scheduler in the foreground: the catch-up now, then daily at
    POOLED_SCHEDULER_HOUR (Europe/London), until interrupted."""
    settings = Settings()
    clock = SystemClock()
    ledger = build_ledger(settings, clock)
    try:
        if once:
            filed = CatchUp(ledger, clock, settings)()
            for r in filed:
                typer.echo(f"filed {r.quarter} of pool '{r.pool_id}' at position {r.position}")
            typer.echo(f"{len(filed)} return(s) filed")
            return
        configure_logging(settings.log_level, settings.log_format)
        scrape = None
        if settings.metrics_port:  # this process's runs and failures, and the ledger's
            meters = Metrics(ledger.engine, ledger.reference, settings.return_due_days)
            scrape = serve_on_port(meters, settings.metrics_host, settings.metrics_port)
        scheduler = build_scheduler(ledger, clock, settings)
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        scheduler.start()
        typer.echo(
            f"scheduler running: catch-up now, then daily at {settings.scheduler_hour:02d}:00 "
            "Europe/London (Ctrl-C to stop)"
        )
        stop.wait()
        scheduler.shutdown()
        if scrape is not None:
            scrape.shutdown()
    finally:
        ledger.engine.dispose()


__all__ = ["SCHEDULER_ACTOR", "app", "returns_app", "scheduler_app"]

"""``pooled serve``: migrate, optionally load the demo partnership, start the return
scheduler (unless turned off), then serve the API and board pages with uvicorn.

The app itself is built by uvicorn in its own process state through the factory
``api.app:create_app``, which reads its settings from ``POOLED_*`` environment
variables; ``run_server`` writes the settings it was given there first, so what the
CLI decided (a database URL, a port) is what the app uses.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import uvicorn
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.clock import SystemClock
from ledger.logs import configure_logging
from ledger.settings import Settings, signing_key_path
from ledger.store.checkpoints import load_or_create_key
from ledger.store.engine import make_engine
from ledger.store.migrate import upgrade

log = logging.getLogger("pooled.server")

APP_FACTORY = "api.app:create_app"
DEMO_ROLES: tuple[tuple[str, str | None], ...] = (
    ("admin", None),
    ("board", None),
    ("auditor", None),
    ("finance_officer", "ncc"),
    ("finance_officer", "nottm-city"),
)


def run_server(settings: Settings, *, demo: bool, scheduler: bool) -> None:
    """Serve until interrupted. ``demo`` loads the demo partnership into an empty
    ledger and prints a fresh token for each demo role; ``scheduler`` starts the
    return scheduler in this process (turn it off for extra API instances)."""
    export_settings(settings)
    configure_logging(settings.log_level, settings.log_format)
    engine = make_engine(settings.database_url, synchronous=settings.sqlite_synchronous)
    try:
        upgrade(engine)
        if demo:
            key = load_or_create_key(Path(signing_key_path(settings)))
            for line in prepare_demo(engine, key):
                print(line, flush=True)
    finally:
        engine.dispose()
    stop = start_scheduler_hook(settings) if scheduler else None
    print(f"pooled: serving on http://{settings.host}:{settings.port}", flush=True)
    try:
        uvicorn.run(
            APP_FACTORY,
            factory=True,
            host=settings.host,
            port=settings.port,
            log_config=None,  # our handler (ledger.logs) formats uvicorn's records too
            access_log=False,  # api.access writes the request log, without query strings
        )
    finally:
        if stop is not None:
            stop()


def export_settings(settings: Settings) -> None:
    """Write ``settings`` to the ``POOLED_*`` variables the app factory reads."""
    for name, value in settings.model_dump().items():
        if value is not None:
            os.environ[f"POOLED_{name.upper()}"] = (
                str(value).lower() if isinstance(value, bool) else str(value)
            )


def start_scheduler_hook(settings: Settings) -> Callable[[], None] | None:
    """THE SCHEDULER HOOK: start ``scheduler.service.start_scheduler(settings)`` when the
    scheduler package provides it, and return a function that stops it (or None)."""
    try:
        found = importlib.util.find_spec("scheduler.service")
    except ModuleNotFoundError:
        found = None
    if found is None:
        log.warning("no scheduler.service module: returns will not be filed by this process")
        return None
    start: Any = getattr(importlib.import_module("scheduler.service"), "start_scheduler", None)
    if start is None:
        log.warning("scheduler.service has no start_scheduler: the scheduler is not running")
        return None
    handle = start(settings)
    if callable(handle):
        return handle  # type: ignore[no-any-return]
    shutdown = getattr(handle, "shutdown", None)
    return shutdown if callable(shutdown) else None


def prepare_demo(engine: Any, signing_key: Ed25519PrivateKey | None = None) -> list[str]:
    """Load the demo partnership if the ledger is empty (its quarter closes signed with
    ``signing_key``); issue a token per demo role. Returns the lines to print (each
    token alone at the end of its line)."""
    from ledger import demo as demo_data
    from ledger.handlers import Ledger
    from ledger.refdata import default_catalogue
    from ledger.store import tokens
    from projections import queries
    from projections.projector import Projector
    from projections.queries import Reader

    clock = SystemClock()
    ledger = Ledger(
        engine, clock, default_catalogue(), hooks=[Projector().apply], signing_key=signing_key
    )
    lines = []
    if demo_data.ledger_is_empty(ledger):
        # recorded on the days the facts happened, so as-at dates mean something
        summary = demo_data.load_demo_as_it_happened(
            engine, default_catalogue(), [Projector().apply], clock.now(), signing_key
        )
        lines.append(f"pooled: loaded the demo partnership ({', '.join(summary.pools)})")
    with Reader(engine).at() as (conn, head):
        is_demo = queries.pool_at(conn, demo_data.ICES, head) is not None
    if not is_demo:
        lines.append("pooled: the ledger holds other data, not the demo: no demo tokens issued")
        return lines
    for role, partner in DEMO_ROLES:
        record, secret = tokens.create_token(
            engine,
            role=role,
            name=f"demo {role}" + (f" of {partner}" if partner else ""),
            partner_id=partner,
            clock=clock,
        )
        who = role + (f" ({partner})" if partner else "")
        lines.append(f"pooled: demo token for {who} [{record.token_id}]: {secret}")
    return lines

"""``pooled serve``'s last step: start the return scheduler (unless turned off), then
serve the API and board pages with uvicorn. Migrating and the demo (``--demo``) are
done before, by ``api.cli.serve``: the demo has one loader, there.

The app itself is built by uvicorn in its own process state through the factory
``api.app:create_app``, which reads its settings from ``POOLED_*`` environment
variables; ``run_server`` writes the settings it was given there first, so what the
CLI decided (a database URL, a port) is what the app uses.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable

import uvicorn

from ledger.logs import configure_logging
from ledger.settings import Settings

log = logging.getLogger("pooled.server")

APP_FACTORY = "api.app:create_app"


def run_server(settings: Settings, *, scheduler: bool) -> None:
    """Serve until interrupted; ``scheduler`` starts the return scheduler in this
    process (turn it off for extra API instances). The caller (``pooled serve``) has
    migrated the database and, with ``--demo``, loaded the demo and issued its tokens."""
    export_settings(settings)
    configure_logging(settings.log_level, settings.log_format)
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
    """Start the return scheduler in this process (``scheduler.service``: the one place
    in ``api`` that imports the scheduler, declared in pyproject's import contracts) and
    return a function that stops it, or None when the settings turn it off."""
    from scheduler.service import start_scheduler

    scheduler = start_scheduler(settings)
    return scheduler.shutdown if scheduler is not None else None

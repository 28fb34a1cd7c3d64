"""Structured logs: one JSON object per line on stderr (or a console line for people).

``configure_logging(level, fmt)`` is called by the entrypoints (``pooled serve``, the
CLI), never at import. Every record of every logger (ours, uvicorn's, APScheduler's,
SQLAlchemy's) goes through one handler, so there is one format. A record's structured
fields are passed as ``extra={"fields": {...}}`` (see :func:`fields`) and appear as
top-level keys of the JSON object beside ``time``, ``level``, ``logger`` and ``event``.

The request log (``api.access``) replaces uvicorn's access log: it writes the path
without its query string, and the actor's token id, never a token.

Why the standard library and not structlog: every library here logs through
``logging`` already, so one formatter covers them all; a dependency would add nothing.
"""

from __future__ import annotations

import contextvars
import logging
import sys
from datetime import UTC, datetime
from typing import Any, Literal

import orjson

LogFormat = Literal["json", "console"]

# The request being served: a dict the request log fills as the request goes (the
# actor's token id, the positions written). Set by api.access for each request.
REQUEST_FIELDS: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "pooled_request_fields", default=None
)


def annotate(**values: Any) -> None:
    """Add ``values`` to the current request's log line (no-op outside a request)."""
    current = REQUEST_FIELDS.get()
    if current is not None:
        current.update(values)


def fields(**values: Any) -> dict[str, Any]:
    """``extra=`` for a structured record: ``log.info("filed", extra=fields(pool=...))``."""
    return {"fields": values}


def _iso(created: float) -> str:
    return datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (UTC, ISO 8601), level, logger, event, then the
    record's fields; an exception's traceback under ``exc``."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": _iso(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        extra = getattr(record, "fields", None)
        if isinstance(extra, dict):
            for key, value in extra.items():
                out.setdefault(key, value)
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(out, default=str).decode()


class ConsoleFormatter(logging.Formatter):
    """``HH:MM:SS level logger event key=value ...`` for a person at a terminal."""

    def format(self, record: logging.LogRecord) -> str:
        when = datetime.fromtimestamp(record.created, UTC).strftime("%H:%M:%S")
        line = f"{when} {record.levelname.lower():<7} {record.name}: {record.getMessage()}"
        extra = getattr(record, "fields", None)
        if isinstance(extra, dict) and extra:
            line += "  " + " ".join(f"{k}={v}" for k, v in extra.items() if v is not None)
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def configure_logging(level: str = "INFO", fmt: str = "json") -> None:
    """Send every logger's records to stderr in ``fmt`` (json or console) at ``level``.
    uvicorn's access log is silenced: ``api.access`` writes the request log."""
    if fmt not in ("json", "console"):
        raise ValueError(f"POOLED_LOG_FORMAT must be json or console, not {fmt!r}")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else ConsoleFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    access = logging.getLogger("uvicorn.access")
    access.handlers.clear()
    access.propagate = False
    access.disabled = True

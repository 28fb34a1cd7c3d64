"""The request log and request metrics, in one ASGI middleware (instead of uvicorn's
access log, which writes query strings in full: a token a client wrongly put in a URL
would be logged).

One record per request on the ``pooled.access`` logger, event ``request``, with:
request_id, method, path (never the query string), route (the template matched, e.g.
``/v1/pools/{pool}/contributions``), status, duration_ms, token_id (the actor's token
id when one was authenticated: never the token) and positions (the ledger positions
the request wrote, when it wrote). Routes and dependencies add to the record through
``ledger.logs.annotate``.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ledger.logs import REQUEST_FIELDS

log = logging.getLogger("pooled.access")

UNMATCHED = "unmatched"  # one label for every path no route matched (bounded series)


def route_template(scope: Scope) -> str:
    """The matched route's path template, else ``unmatched``."""
    route = scope.get("route")
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    return template if isinstance(template, str) else UNMATCHED


class AccessLogMiddleware:
    """Log and count every HTTP request. ``metrics`` is the app's
    :class:`filing.metrics.Metrics` (or None)."""

    def __init__(self, app: ASGIApp, metrics: Any = None) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500
        record: dict[str, Any] = {}
        token = REQUEST_FIELDS.set(record)

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            REQUEST_FIELDS.reset(token)
            seconds = time.perf_counter() - start
            method = str(scope.get("method", ""))
            route = route_template(scope)
            if self.metrics is not None:
                self.metrics.observe(method, route, status, seconds)
            if log.isEnabledFor(logging.INFO):
                state = scope.get("state") or {}
                log.info(
                    "request",
                    extra={
                        "fields": {
                            "request_id": state.get("request_id"),
                            "method": method,
                            "path": str(scope.get("path", "")),
                            "route": route,
                            "status": status,
                            "duration_ms": round(seconds * 1000, 2),
                            "token_id": record.get("token_id"),
                            "positions": record.get("positions"),
                        }
                    },
                )

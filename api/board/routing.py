"""What every board route shares: :class:`BoardRoute`, which answers HTML whatever
happens (a missing session redirects to the sign-in page; the ledger's errors become an
HTML page with the right status), who is asking, the as-at every page takes and the
page's one read transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from sqlalchemy import Connection, Engine
from starlette.responses import HTMLResponse, RedirectResponse, Response

from api.board import auth, officers
from api.board.auth import BoardUser, CsrfFailed, SignInRequired
from api.board.officers import OfficerRefused
from api.board.web import AsAt, Links, Page, app_today, chosen_as_at, render, resolve_as_at
from api.errors import DATABASE_UNAVAILABLE, RETRY_AFTER_SECONDS
from ledger.domain.errors import LedgerError
from ledger.logs import annotate
from ledger.store import tokens

NO_STORE = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)


class Problem(Exception):
    def __init__(self, status: int, heading: str, *lines: str) -> None:
        super().__init__(heading)
        self.status, self.heading, self.lines = status, heading, lines


class BoardRoute(APIRoute):
    """Answers HTML whatever happens: sign-in redirects and error pages."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def html(request: Request) -> Response:
            response: Response
            try:
                response = await handler(request)
            except SignInRequired:
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                response = RedirectResponse(
                    f"{request.url_for('board_sign_in_form').path}?next={quote(target, safe='')}",
                    status_code=303,
                )
            except CsrfFailed:
                response = error_page(
                    request,
                    400,
                    "Your form has expired",
                    "The page you sent the form from was out of date or came from elsewhere, "
                    "so nothing was done. Go back, reload the page and try again.",
                )
            except Problem as e:
                response = error_page(request, e.status, e.heading, *e.lines)
            except OfficerRefused as e:
                response = error_page(request, 403, e.heading, *e.lines)
            except LedgerError as e:
                response = error_page(
                    request,
                    e.status,
                    {404: "Page not found", 403: "You cannot see this page"}.get(
                        e.status, "There is a problem with this request"
                    ),
                    e.detail,
                )
            except DATABASE_UNAVAILABLE:
                response = error_page(
                    request,
                    503,
                    "The ledger cannot be reached just now",
                    "Its database is not answering. Nothing was changed. "
                    f"Try again in a few seconds ({RETRY_AFTER_SECONDS}).",
                )
                response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
            except RequestValidationError as e:
                fields = ", ".join(str(err.get("loc", ["?"])[-1]) for err in e.errors())
                response = error_page(
                    request, 400, "There is a problem with this address", f"Check: {fields}."
                )
            for k, v in NO_STORE.items():
                response.headers.setdefault(k, v)
            if response.media_type == "text/html" or response.headers.get(
                "content-type", ""
            ).startswith("text/html"):
                response.headers.setdefault("Content-Security-Policy", CSP)
            return response

        return html


# --- who is asking ------------------------------------------------------------------------


def engine_of(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def signed_in(request: Request) -> BoardUser:
    """The signed-in board user; a revoked token ends its sessions at once."""
    user = auth.session_user(request)
    if user is None:
        raise SignInRequired
    record = tokens.get_token(engine_of(request), user.token_id)
    if record is None or record.revoked or record.role not in auth.BOARD_ROLES:
        raise SignInRequired
    annotate(token_id=user.token_id)
    if officers.is_officer(user):
        _officer_may(request, user)
    return user


def _officer_may(request: Request, user: BoardUser) -> None:
    """An officer reads, and only its partner's pools (:mod:`api.board.officers`).
    Checked here, for every page that takes the signed-in user, so a page added later
    (a pool's page, a form) is covered without a check of its own."""
    if request.method not in ("GET", "HEAD"):
        raise OfficerRefused(
            "The board is read-only for finance officers",
            "Nothing was changed. Finance officers post and correct through the API "
            "(/v1, with the token as a bearer token).",
        )
    pool_id = request.path_params.get("pool_id")
    if isinstance(pool_id, str):
        with engine_of(request).connect() as conn:
            officers.check_pool(conn, user, pool_id)


User = Annotated[BoardUser, Depends(signed_in)]


def error_page(request: Request, status: int, heading: str, *lines: str) -> HTMLResponse:
    user = auth.session_user(request)
    page = Page(heading, request, user, Links(request, None), error=True)
    links = [("Go to the pools overview", page.home_url)] if user else []
    body, _ = render(page, "error.html", heading=heading, lines=lines, links=links, sign_out=False)
    return HTMLResponse(body, status_code=status)


# --- the as-at every page takes -----------------------------------------------------------


def as_at_choice(
    as_at: Annotated[str | None, Query(max_length=64)] = None,
    as_at_date: Annotated[str | None, Query(max_length=20)] = None,
    as_at_position: Annotated[str | None, Query(max_length=24)] = None,
) -> str | None:
    return chosen_as_at(as_at, as_at_date, as_at_position)


AsAtChoice = Annotated[str | None, Depends(as_at_choice)]


class Read:
    """One read transaction for a page: the connection and the as-at it resolved."""

    def __init__(self, request: Request, raw: str | None) -> None:
        self.request, self.raw = request, raw

    def __enter__(self) -> tuple[Connection, AsAt]:
        engine = engine_of(self.request)
        self._conn = engine.connect()
        self._tx = self._conn.begin()
        through = self.request.query_params.get("through")
        return self._conn, resolve_as_at(
            self._conn, self.raw, app_today(self.request), through[:20] if through else None
        )

    def __exit__(self, *exc: object) -> None:
        self._tx.rollback()
        self._conn.close()


def html_response(body: str, status: int) -> HTMLResponse:
    return HTMLResponse(body, status_code=status)

"""The board's web pages, served under ``/board`` by the same app as the API.

Routes are thin: resolve the as-at, read the page's figures in one read transaction
(:mod:`api.board.pages`), render a template. Every page answers HTML, errors too:
:class:`BoardRoute` turns a missing session into a redirect to the sign-in page, and
the ledger's errors into an HTML page with the right status (the API's handlers
answer problem+json, which a browser should not be shown).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from sqlalchemy import Connection, Engine
from starlette.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from api.board import auth
from api.board.auth import BoardUser, CsrfFailed, SignInRequired
from api.board.pages.alliance import alliance as alliance_data
from api.board.pages.events import event_detail, event_log
from api.board.pages.overview import overview
from api.board.pages.pool_year import pool_year as pool_year_data
from api.board.pages.returns_page import returns_page as returns_data
from api.board.pages.shared import check_year, choose_year
from api.board.pages.trace import trace as trace_data
from api.board.web import HERE, AsAt, Links, Page, app_today, chosen_as_at, render, resolve_as_at
from ledger.domain.errors import LedgerError
from ledger.domain.periods import parse_year
from ledger.store import tokens
from projections import queries as q
from scheduler import returns

NO_STORE = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)


class _Problem(Exception):
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
            except _Problem as e:
                response = error_page(request, e.status, e.heading, *e.lines)
            except LedgerError as e:
                response = error_page(
                    request,
                    e.status,
                    {404: "Page not found", 403: "You cannot see this page"}.get(
                        e.status, "There is a problem with this request"
                    ),
                    e.detail,
                )
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


router = APIRouter(route_class=BoardRoute, include_in_schema=False)


# --- who is asking ------------------------------------------------------------------------


def _engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def signed_in(request: Request) -> BoardUser:
    """The signed-in board user; a revoked token ends its sessions at once."""
    user = auth.session_user(request)
    if user is None:
        raise SignInRequired
    record = tokens.get_token(_engine(request), user.token_id)
    if record is None or record.revoked or record.role not in auth.BOARD_ROLES:
        raise SignInRequired
    return user


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
        engine = _engine(self.request)
        self._conn = engine.connect()
        self._tx = self._conn.begin()
        return self._conn, resolve_as_at(self._conn, self.raw, app_today(self.request))

    def __exit__(self, *exc: object) -> None:
        self._tx.rollback()
        self._conn.close()


def _html(body: str, status: int) -> HTMLResponse:
    return HTMLResponse(body, status_code=status)


def _status(at: AsAt) -> int:
    return 400 if at.error else 200


# --- static -------------------------------------------------------------------------------


@router.get("/static/board.css", name="board_css")
def board_css() -> Response:
    return FileResponse(
        HERE / "static" / "board.css",
        media_type="text/css",
        headers={"Cache-Control": "public, max-age=300"},
    )


# --- signing in and out ---------------------------------------------------------------------


@router.get("/sign-in", name="board_sign_in_form")
def sign_in_form(request: Request, next: str | None = None) -> Response:
    if auth.session_user(request) is not None:
        return RedirectResponse(auth.safe_next(next, str(request.url_for("board_home").path)), 303)
    return _sign_in_page(request, next, None, 200)


def _sign_in_page(
    request: Request, next_url: str | None, error: str | None, status: int
) -> Response:
    nonce, fresh = auth.pre_sign_in_nonce(request)
    page = Page("Sign in", request, None, Links(request, None), error=bool(error))
    body, _ = render(
        page,
        "sign_in.html",
        error=error,
        csrf_token=auth.csrf_token(request, nonce),
        next_url=auth.safe_next(next_url, ""),
        action=str(request.url_for("board_sign_in").path),
    )
    response = HTMLResponse(body, status_code=status)
    if fresh:
        auth.set_csrf_cookie(request, response, nonce)
    return response


@router.post("/sign-in", name="board_sign_in")
def sign_in(
    request: Request,
    token: Annotated[str, Form(max_length=400)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    auth.check_csrf(request, request.cookies.get(auth.CSRF_COOKIE), csrf_token)
    token = token.strip()
    if not token:
        return _sign_in_page(request, next, "Enter your access token", 400)
    record = tokens.authenticate(_engine(request), token)
    if record is None:
        return _sign_in_page(
            request,
            next,
            "The access token is not recognised, or it has been revoked. Check it and try again",
            401,
        )
    if record.role not in auth.BOARD_ROLES:
        return error_page(
            request,
            403,
            "The board pages are not open to this token",
            f"This token is a {record.role.replace('_', ' ')} token. The board pages are for "
            "board members, auditors and administrators.",
            "Finance officers post and read their partner's figures through the API "
            "(/v1, with the token as a bearer token). Ask the partnership administrator for "
            "a board token if you need these pages.",
        )
    user = auth.new_user(record.token_id, record.role, record.name, record.partner_id)
    response = RedirectResponse(
        auth.safe_next(next, str(request.url_for("board_home").path)), status_code=303
    )
    auth.set_session(request, response, user)
    return response


@router.post("/sign-out", name="board_sign_out")
def sign_out(request: Request, csrf_token: Annotated[str, Form(max_length=200)] = "") -> Response:
    user = auth.session_user(request)
    if user is not None:
        auth.check_csrf(request, user.csrf_nonce, csrf_token)
    response = RedirectResponse(str(request.url_for("board_signed_out").path), status_code=303)
    auth.clear_session(response)
    return response


@router.get("/signed-out", name="board_signed_out")
def signed_out(request: Request) -> Response:
    page = Page("Signed out", request, None, Links(request, None))
    body, status = render(
        page,
        "error.html",
        heading="You have signed out",
        lines=("Your session has ended. The token is not kept by your browser.",),
        links=[("Sign in again", str(request.url_for("board_sign_in_form").path))],
        sign_out=False,
    )
    return _html(body, status)


# --- pages ---------------------------------------------------------------------------------


@router.get("/", name="board_home")
def home(request: Request, user: User, as_at: AsAtChoice) -> Response:
    with Read(request, as_at) as (conn, at):
        links = Links(request, at)
        page = Page("Pools at a glance", request, user, links, at, route="board_home")
        page.breadcrumbs = [("Pools", None)]
        page.quarter_ends(at.year)
        data = overview(conn, at, links)
    body, _ = render(page, "overview.html", **data)
    return _html(body, _status(at))


@router.get("/pools/{pool_id}", name="board_pool")
def pool_home(request: Request, user: User, pool_id: str, as_at: AsAtChoice) -> Response:
    with Read(request, as_at) as (conn, at):
        pool = q.pool_at(conn, pool_id, at.position)
        if pool is None:
            raise _Problem(404, "Page not found", f"There is no pool '{pool_id}' {at.label}.")
        year = choose_year(pool, at)
        links = Links(request, at)
    if year is None:
        raise _Problem(
            404, "No plan yet", f"{pool.name} has no agreed plan {at.label}, so it has no figures."
        )
    return RedirectResponse(links.to("board_pool_year", pool_id=pool_id, year=year), 303)


@router.get("/pools/{pool_id}/years/{year}", name="board_pool_year")
def pool_year(request: Request, user: User, pool_id: str, year: str, as_at: AsAtChoice) -> Response:
    year = check_year(year)
    with Read(request, as_at) as (conn, at):
        links = Links(request, at)
        data = pool_year_data(conn, at, links, pool_id, year)
        page = Page(
            f"{data.pool.name}, {year}",
            request,
            user,
            links,
            at,
            route="board_pool_year",
            route_params={"pool_id": pool_id, "year": year},
        )
        page.breadcrumbs = [
            ("Pools", links.to("board_home")),
            (data.pool.name, None),
            (year, None),
        ]
        page.quarter_ends(parse_year(year))
    body, _ = render(page, "pool_year.html", d=data, links=links)
    return _html(body, _status(at))


@router.get("/pools/{pool_id}/alliance", name="board_alliance")
def alliance(
    request: Request,
    user: User,
    pool_id: str,
    as_at: AsAtChoice,
    period: Annotated[str | None, Query(max_length=12)] = None,
) -> Response:
    with Read(request, as_at) as (conn, at):
        links = Links(request, at)
        pool = q.pool_at(conn, pool_id, at.position)
        if pool is None:
            raise _Problem(404, "Page not found", f"There is no pool '{pool_id}' {at.label}.")
        chosen = period or choose_year(pool, at) or at.year.label
        data = alliance_data(conn, at, links, pool_id, chosen)
        page = Page(
            f"Risk and reward, {pool.name}, {data['period']}",
            request,
            user,
            links,
            at,
            route="board_alliance",
            route_params={"pool_id": pool_id},
            keep_query=[("period", data["period"])],
        )
        page.breadcrumbs = [
            ("Pools", links.to("board_home")),
            (pool.name, links.to("board_pool_year", pool_id=pool_id, year=data["year"])),
            ("Risk and reward", None),
        ]
        page.quarter_ends(parse_year(data["year"]))
    body, _ = render(page, "alliance.html", links=links, **data)
    return _html(body, _status(at))


@router.get("/pools/{pool_id}/returns", name="board_returns")
def returns_page(request: Request, user: User, pool_id: str, as_at: AsAtChoice) -> Response:
    with Read(request, as_at) as (conn, at):
        links = Links(request, at)
        data = returns_data(conn, at, links, pool_id)
        pool = data.pool
        year = choose_year(pool, at)
        page = Page(
            f"Returns, {pool.name}",
            request,
            user,
            links,
            at,
            route="board_returns",
            route_params={"pool_id": pool_id},
        )
        page.breadcrumbs = [
            ("Pools", links.to("board_home")),
            (
                pool.name,
                links.to("board_pool_year", pool_id=pool_id, year=year) if year else None,
            ),
            ("Returns", None),
        ]
    body, _ = render(page, "returns.html", d=data, links=links)
    return _html(body, _status(at))


FormatQuery = Annotated[str, Query(max_length=8)]
PositionQuery = Annotated[int | None, Query(ge=0)]


def _document(doc: returns.Document) -> Response:
    return Response(
        doc.content,
        media_type=doc.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{doc.filename}"',
            "X-As-At-Position": str(doc.as_at_position),
            **({"X-Content-Hash": doc.content_hash} if doc.content_hash else {}),
        },
    )


@router.get("/pools/{pool_id}/returns/{quarter}/download", name="board_return_download")
def return_download(
    request: Request,
    user: User,
    pool_id: str,
    quarter: str,
    format: FormatQuery = "xlsx",
    position: PositionQuery = None,
) -> Response:
    """The filed return's bytes (no position), or a draft as at ``position``."""
    return _document(returns.fetch_return(_engine(request), pool_id, quarter, format, position))


@router.get("/pools/{pool_id}/memorandum/{year}/download", name="board_memorandum_download")
def memorandum_download(
    request: Request,
    user: User,
    pool_id: str,
    year: str,
    format: FormatQuery = "xlsx",
    position: PositionQuery = None,
) -> Response:
    """The annual memorandum statement of a pool-year as at ``position``."""
    return _document(returns.fetch_memorandum(_engine(request), pool_id, year, format, position))


@router.get("/pools/{pool_id}/years/{year}/trace", name="board_trace")
def trace(
    request: Request,
    user: User,
    pool_id: str,
    year: str,
    as_at: AsAtChoice,
    figure: Annotated[str, Query(max_length=160)] = "",
    quarter: Annotated[str | None, Query(max_length=2)] = None,
) -> Response:
    year = check_year(year)
    with Read(request, as_at) as (conn, at):
        links = Links(request, at)
        data = trace_data(conn, at, links, pool_id, year, figure, quarter or None)
        page = Page(
            f"Events behind {data['label']}",
            request,
            user,
            links,
            at,
            route="board_trace",
            route_params={"pool_id": pool_id, "year": year},
            keep_query=[("figure", figure)] + ([("quarter", quarter)] if quarter else []),
        )
        page.breadcrumbs = [
            ("Pools", links.to("board_home")),
            (data["pool"].name, links.to("board_pool_year", pool_id=pool_id, year=year)),
            ("Events behind a figure", None),
        ]
    body, _ = render(page, "trace.html", links=links, **data)
    return _html(body, _status(at))


@router.get("/pools/{pool_id}/events", name="board_events")
def events(
    request: Request,
    user: User,
    pool_id: str,
    as_at: AsAtChoice,
    after: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    with Read(request, as_at) as (conn, at):
        links = Links(request, at)
        data = event_log(conn, at, links, pool_id, after)
        pool = data["pool"]
        page = Page(
            f"Event log, {pool.name}",
            request,
            user,
            links,
            at,
            route="board_events",
            route_params={"pool_id": pool_id},
        )
        year = choose_year(pool, at)
        page.breadcrumbs = [
            ("Pools", links.to("board_home")),
            (
                pool.name,
                links.to("board_pool_year", pool_id=pool_id, year=year) if year else None,
            ),
            ("Event log", None),
        ]
    body, _ = render(page, "events.html", links=links, **data)
    return _html(body, _status(at))


@router.get("/events/{position}", name="board_event")
def event(request: Request, user: User, position: int, as_at: AsAtChoice) -> Response:
    with Read(request, as_at) as (conn, at):
        links = Links(request, at)
        data = event_detail(conn, at, links, position)
        page = Page(
            f"Event at position {position}",
            request,
            user,
            links,
            at,
            route="board_event",
            route_params={"position": position},
        )
        crumbs: list[tuple[str, str | None]] = [("Pools", links.to("board_home"))]
        if data["e"].pool_id:
            crumbs.append(("Event log", links.to("board_events", pool_id=data["e"].pool_id)))
        crumbs.append((f"Position {position}", None))
        page.breadcrumbs = crumbs
    body, _ = render(page, "event.html", links=links, **data)
    return _html(body, _status(at))


@router.get("/{rest:path}", name="board_not_found")
def not_found(request: Request, rest: str) -> Response:
    raise _Problem(
        404,
        "Page not found",
        "If you typed the web address, check it is correct. "
        "If you pasted it, check you copied the entire address.",
    )

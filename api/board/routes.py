"""The board's web pages, served under ``/board`` by the same app as the API.

Routes are thin: resolve the as-at, read the page's figures in one read transaction
(:mod:`api.board.pages`), render a template. Every page answers HTML, errors too
(:class:`~api.board.routing.BoardRoute`). Signing in and out:
:mod:`api.board.session_routes`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import FileResponse, RedirectResponse, Response

from api.board import officers, pack_routes, session_routes
from api.board.names import checkpoint_reason, names_at
from api.board.pages.alliance import alliance as alliance_data
from api.board.pages.events import event_detail, event_log
from api.board.pages.overview import overview
from api.board.pages.pool_year import pool_year as pool_year_data
from api.board.pages.returns_page import returns_page as returns_data
from api.board.pages.shared import check_year, choose_year
from api.board.pages.trace import trace as trace_data
from api.board.routing import (
    AsAtChoice,
    BoardRoute,
    Problem,
    Read,
    User,
    engine_of,
    html_response,
)
from api.board.web import HERE, AsAt, Links, Page, render
from filing.documents import Document, fetch_memorandum, fetch_return
from ledger.domain.periods import parse_year
from projections.asat import resolve
from projections.parties import pool_at

router = APIRouter(route_class=BoardRoute, include_in_schema=False)


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


router.include_router(session_routes.router)  # after the stylesheet, before the pages
router.include_router(pack_routes.router)  # the board pack: HTML and PDF


# --- pages ---------------------------------------------------------------------------------


@router.get("/", name="board_home")
def home(request: Request, user: User, as_at: AsAtChoice) -> Response:
    with Read(request, as_at) as (conn, at):
        links = Links(request, at)
        page = Page("Pools at a glance", request, user, links, at, route="board_home")
        page.breadcrumbs = [("Pools", None)]
        page.quarter_ends(at.year)
        data = overview(conn, at, links, officers.visible_pools(conn, user))
    body, _ = render(page, "overview.html", **data)
    return html_response(body, _status(at))


@router.get("/pools/{pool_id}", name="board_pool")
def pool_home(request: Request, _user: User, pool_id: str, as_at: AsAtChoice) -> Response:
    with Read(request, as_at) as (conn, at):
        if at.error:  # not redirected to the latest figures: the reader asked for a moment
            raise Problem(400, "Not a moment the ledger can answer at", at.error)
        pool = pool_at(conn, pool_id, at.position)
        if pool is None:
            raise Problem(404, "Page not found", f"There is no pool '{pool_id}' {at.label}.")
        year = choose_year(pool, at)
        links = Links(request, at)
    if year is None:
        raise Problem(
            404, "No plan yet", f"{pool.name} has no agreed plan {at.label}, so it has no figures."
        )
    return RedirectResponse(links.to("board_pool_year", pool_id=pool_id, year=year), 303)


@router.get("/pools/{pool_id}/years/{year}", name="board_pool_year")
def pool_year(request: Request, user: User, pool_id: str, year: str, as_at: AsAtChoice) -> Response:
    year = check_year(year)
    with Read(request, as_at) as (conn, at):
        links = Links(request, at)
        data = pool_year_data(conn, at, links, pool_id, year)
        data.scope = officers.partner_scope(conn, user, pool_id)
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
    return html_response(body, _status(at))


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
        pool = pool_at(conn, pool_id, at.position)
        if pool is None:
            raise Problem(404, "Page not found", f"There is no pool '{pool_id}' {at.label}.")
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
    return html_response(body, _status(at))


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
    return html_response(body, _status(at))


FormatQuery = Annotated[str, Query(max_length=8)]
PositionQuery = Annotated[int | None, Query(ge=0)]


def _document(doc: Document) -> Response:
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
    _user: User,
    pool_id: str,
    quarter: str,
    format: FormatQuery = "xlsx",
    position: PositionQuery = None,
    version: Annotated[int | None, Query(ge=1, le=99)] = None,
) -> Response:
    """The filed return's bytes (no position): its newest version, or ``version``'s
    (each kept as filed); or a draft as at ``position``."""
    if version is not None and position is not None:
        raise Problem(400, "Not a return that can be read", "Give a version or a position.")
    return _document(
        fetch_return(engine_of(request), pool_id, quarter, format, position, version=version)
    )


@router.get("/pools/{pool_id}/memorandum/{year}/download", name="board_memorandum_download")
def memorandum_download(
    request: Request,
    _user: User,
    pool_id: str,
    year: str,
    format: FormatQuery = "xlsx",
    position: PositionQuery = None,
) -> Response:
    """The annual memorandum statement of a pool-year as at ``position``."""
    return _document(fetch_memorandum(engine_of(request), pool_id, year, format, position))


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
        data = trace_data(
            conn,
            at,
            links,
            pool_id,
            year,
            figure,
            quarter or None,
            officers.partner_scope(conn, user, pool_id),
        )
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
    return html_response(body, _status(at))


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
        data = event_log(
            conn, at, links, pool_id, after, officers.partner_scope(conn, user, pool_id)
        )
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
    return html_response(body, _status(at))


@router.get("/events/{position}", name="board_event")
def event(request: Request, user: User, position: int, as_at: AsAtChoice) -> Response:
    with Read(request, as_at) as (conn, at):
        links = Links(request, at)
        data = event_detail(conn, at, links, position, user)
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
    return html_response(body, _status(at))


@router.get("/audit", name="board_audit")
def audit(
    request: Request,
    user: User,
    verify: Annotated[int, Query(ge=0, le=1)] = 0,
) -> Response:
    """The latest signed checkpoints and, when asked, a full verification now (not
    for officers: the API's verification is the auditor's)."""
    if officers.is_officer(user):
        raise Problem(
            403,
            "You cannot see this page",
            "The audit page verifies the whole ledger; it is for board members, auditors "
            "and administrators. A finance officer checks its own events with the API's "
            "proofs (/v1/events/{position}/proof).",
        )
    from api.verification import verify_all
    from ledger.domain.checkpoint import key_id
    from ledger.store.checkpoints import list_checkpoints

    ledger = request.app.state.ledger
    with engine_of(request).connect() as conn:
        names = names_at(conn, resolve(conn, None))
        checkpoints = [
            (cid, checkpoint_reason(reason, names), s)
            for cid, reason, s in list_checkpoints(conn, 20)
        ]
    result = verify_all(ledger) if verify else None
    links = Links(request, None)
    page = Page("Audit", request, user, links, None, route="board_audit")
    page.breadcrumbs = [("Pools", links.to("board_home")), ("Audit", None)]
    key = ledger.signing_key.public_key() if ledger.signing_key is not None else None
    body, _ = render(
        page,
        "audit.html",
        checkpoints=checkpoints,
        result=result,
        verify_url=links.path("board_audit"),
        key_id=key_id(key) if key is not None else "",
    )
    return html_response(body, 200)


@router.get("/{rest:path}", name="board_not_found")
def not_found(rest: str) -> Response:  # noqa: ARG001 (the path is only matched)
    raise Problem(
        404,
        "Page not found",
        "If you typed the web address, check it is correct. "
        "If you pasted it, check you copied the entire address.",
    )

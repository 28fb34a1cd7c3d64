"""The board's sign-in and sign-out pages (the session itself: :mod:`api.board.auth`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from api.board import auth
from api.board.routing import BoardRoute, engine_of, error_page, html_response
from api.board.web import Links, Page, render
from ledger.store import tokens

router = APIRouter(route_class=BoardRoute, include_in_schema=False)


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
    record = tokens.authenticate(engine_of(request), token)
    if record is None:
        return _sign_in_page(
            request,
            next,
            "The access token is not recognised, or it has been revoked. Check it and try again",
            401,
        )
    if record.role not in auth.BOARD_ROLES:  # every role today; kept for a role added later
        return error_page(
            request,
            403,
            "The board pages are not open to this token",
            f"This token is a {record.role.replace('_', ' ')} token, which the board pages "
            "do not take. Ask the partnership administrator for a board token.",
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
    return html_response(body, status)

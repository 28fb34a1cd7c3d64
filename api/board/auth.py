"""Signing in to the board pages: a token typed once, then a signed session cookie.

- The sign-in form posts a token (the same bearer tokens the API takes); only the
  roles ``board``, ``auditor`` and ``admin`` may sign in. A finance officer's token
  is refused with a clear 403 page (officers use the API, scoped to their partner).
- The session is a cookie holding who signed in and when it ends, signed with
  HMAC-SHA256 (``payload.signature``, both base64url). The token itself is never
  kept. The cookie is ``HttpOnly``, ``SameSite=Strict``, ``Path=/board`` and
  ``Secure`` when the request came over https. Sessions last eight hours; every
  page re-checks that the token behind the session has not been revoked.
- Forms that change state (sign-in, sign-out) carry a CSRF token: an HMAC of a
  nonce held in the session (signed in) or in a pre-sign-in cookie (signing in),
  checked in constant time; ``SameSite=Strict`` is the second line.

The signing key is ``app.state.board_secret`` when the entrypoint sets one (all
instances of a deployment must share it); otherwise each process makes a random key
on first use, so sessions end when the process restarts.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

SESSION_COOKIE = "pooled_board_session"
CSRF_COOKIE = "pooled_board_csrf"
COOKIE_PATH = "/board"
SESSION_SECONDS = 8 * 60 * 60
BOARD_ROLES = frozenset({"board", "auditor", "admin"})


@dataclass(frozen=True)
class BoardUser:
    token_id: str
    role: str
    name: str
    partner_id: str | None
    expires: int  # Unix seconds
    csrf_nonce: str


class SignInRequired(Exception):
    """No valid session: send the browser to the sign-in page."""


class CsrfFailed(Exception):
    """A form came without the CSRF token this browser was given."""


def secret_of(request: Request) -> bytes:
    state = request.app.state
    key = getattr(state, "board_secret", None)
    if not key:
        key = secrets.token_bytes(32)
        state.board_secret = key
    return key if isinstance(key, bytes) else str(key).encode()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(key: bytes, purpose: str, body: str) -> str:
    return _b64(hmac.new(key, f"{purpose}\x1f{body}".encode(), hashlib.sha256).digest())


def encode_session(key: bytes, user: BoardUser) -> str:
    body = _b64(
        json.dumps(
            {
                "tid": user.token_id,
                "role": user.role,
                "name": user.name,
                "pid": user.partner_id,
                "exp": user.expires,
                "csrf": user.csrf_nonce,
            },
            sort_keys=True,
            separators=(",", ":"),
        ).encode()
    )
    return f"{body}.{_sign(key, 'session', body)}"


def decode_session(key: bytes, cookie: str | None, now: float | None = None) -> BoardUser | None:
    """The user a cookie names, or None when it is missing, forged or expired."""
    if not cookie or "." not in cookie:
        return None
    body, sig = cookie.rsplit(".", 1)
    if not hmac.compare_digest(sig, _sign(key, "session", body)):
        return None
    try:
        d: dict[str, Any] = json.loads(_unb64(body))
        user = BoardUser(
            str(d["tid"]), str(d["role"]), str(d["name"]), d.get("pid"), int(d["exp"]), d["csrf"]
        )
    except (ValueError, KeyError, TypeError):
        return None
    if user.expires <= (time.time() if now is None else now) or user.role not in BOARD_ROLES:
        return None
    return user


def new_user(token_id: str, role: str, name: str, partner_id: str | None) -> BoardUser:
    return BoardUser(
        token_id,
        role,
        name,
        partner_id,
        int(time.time()) + SESSION_SECONDS,
        secrets.token_urlsafe(16),
    )


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def set_session(request: Request, response: Response, user: BoardUser) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        encode_session(secret_of(request), user),
        max_age=SESSION_SECONDS,
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
    )
    response.delete_cookie(CSRF_COOKIE, path=COOKIE_PATH)


def clear_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path=COOKIE_PATH, httponly=True, samesite="strict")


def session_user(request: Request) -> BoardUser | None:
    return decode_session(secret_of(request), request.cookies.get(SESSION_COOKIE))


# --- CSRF ---------------------------------------------------------------------------


def csrf_token(request: Request, nonce: str) -> str:
    return _sign(secret_of(request), "csrf", nonce)


def pre_sign_in_nonce(request: Request) -> tuple[str, bool]:
    """The nonce of the pre-sign-in CSRF cookie, and whether it must be (re)set."""
    nonce = request.cookies.get(CSRF_COOKIE, "")
    if 16 <= len(nonce) <= 64 and nonce.replace("-", "").replace("_", "").isalnum():
        return nonce, False
    return secrets.token_urlsafe(16), True


def set_csrf_cookie(request: Request, response: Response, nonce: str) -> None:
    response.set_cookie(
        CSRF_COOKIE,
        nonce,
        max_age=60 * 60,
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
    )


def check_csrf(request: Request, nonce: str | None, submitted: str | None) -> None:
    if not nonce or not submitted:
        raise CsrfFailed
    if not hmac.compare_digest(submitted, csrf_token(request, nonce)):
        raise CsrfFailed
    origin = request.headers.get("origin")
    if origin and origin != "null":
        expected = f"{request.url.scheme}://{request.url.netloc}"
        if origin != expected:
            raise CsrfFailed


def safe_next(target: str | None, default: str) -> str:
    """Only a path inside the board pages may be a place to return to after sign-in."""
    if (
        target
        and target.startswith(COOKIE_PATH)
        and not target.startswith("//")
        and "\\" not in target
        and "\n" not in target
        and "\r" not in target
    ):
        return target
    return default

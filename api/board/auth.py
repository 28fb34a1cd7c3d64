"""Signing in to the board pages: a token typed once, then a signed session cookie.

- The sign-in form posts a token (the same bearer tokens the API takes); the roles
  ``board``, ``auditor``, ``admin`` and ``finance_officer`` may sign in. An officer
  reads only its partner's pools, and posts nothing (:mod:`api.board.officers`).
- The session is a cookie holding who signed in and when it ends, signed and
  timestamped by ``itsdangerous`` (HMAC-SHA1 over a key derived from the session key
  and a purpose-specific salt). The token itself is never
  kept. The cookie is ``HttpOnly``, ``SameSite=Strict``, ``Path=/board`` and
  ``Secure`` when the request came over https. Sessions last eight hours; every
  page re-checks that the token behind the session has not been revoked.
- Forms that change state (sign-in, sign-out) carry a CSRF token: the signature of a
  nonce held in the session (signed in) or in a pre-sign-in cookie (signing in),
  checked in constant time; ``SameSite=Strict`` is the second line.

The keys are the same for every instance of a deployment, so a session works behind a
load balancer and survives a restart: ``POOLED_SESSION_KEY`` (comma-separated; the
first signs, the others are still accepted, for rotation), else the key file
``<POOLED_DATA_DIR>/session.key``, made on first use with mode 0600.
"""

from __future__ import annotations

import os
import secrets
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from itsdangerous import BadSignature, Signer, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

from ledger.settings import Settings

SESSION_COOKIE = "pooled_board_session"
CSRF_COOKIE = "pooled_board_csrf"
COOKIE_PATH = "/board"
SESSION_SECONDS = 8 * 60 * 60
BOARD_ROLES = frozenset({"board", "auditor", "admin", "finance_officer"})


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


KEY_FILE = "session.key"


def load_session_keys(settings: Settings) -> tuple[str, ...]:
    """The session keys, newest first: ``settings.session_key`` when set, else the key
    file in ``settings.data_dir`` (made now if missing, atomically: two instances
    starting at once agree on one key)."""
    if settings.session_key:
        keys = tuple(k.strip() for k in settings.session_key.split(",") if k.strip())
        if keys:
            return keys
    folder = Path(settings.data_dir)
    path = folder / KEY_FILE
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".session-key-")  # mode 0600
        try:
            os.write(fd, secrets.token_urlsafe(32).encode())
            os.close(fd)
            os.link(tmp, path)  # fails if another instance made it first: use theirs
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
    key = path.read_text().strip()
    if not key:
        raise RuntimeError(f"the session key file {path} is empty: delete it to make a new one")
    return (key,)


def _keys(request: Request) -> list[str]:
    """Oldest first, as itsdangerous takes them (it signs with the last)."""
    state = request.app.state
    keys: tuple[str, ...] | None = getattr(state, "session_keys", None)
    if keys is None:
        keys = load_session_keys(state.settings)
        state.session_keys = keys
    return list(reversed(keys))


def _sessions(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(_keys(request), salt="pooled.board.session")


def _csrf_signer(request: Request) -> Signer:
    return Signer(_keys(request), salt="pooled.board.csrf")


def encode_session(request: Request, user: BoardUser) -> str:
    return _sessions(request).dumps(
        {
            "tid": user.token_id,
            "role": user.role,
            "name": user.name,
            "pid": user.partner_id,
            "exp": user.expires,
            "csrf": user.csrf_nonce,
        }
    )


def decode_session(request: Request, cookie: str | None) -> BoardUser | None:
    """The user a cookie names, or None when it is missing, forged or expired."""
    if not cookie:
        return None
    try:
        d: dict[str, Any] = _sessions(request).loads(cookie, max_age=SESSION_SECONDS)
        user = BoardUser(
            str(d["tid"]), str(d["role"]), str(d["name"]), d.get("pid"), int(d["exp"]), d["csrf"]
        )
    except (BadSignature, ValueError, KeyError, TypeError):
        return None
    if user.expires <= time.time() or user.role not in BOARD_ROLES:
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
        encode_session(request, user),
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
    return decode_session(request, request.cookies.get(SESSION_COOKIE))


# --- CSRF ---------------------------------------------------------------------------


def csrf_token(request: Request, nonce: str) -> str:
    return _csrf_signer(request).get_signature(nonce).decode()


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
    if not _csrf_signer(request).verify_signature(nonce, submitted):  # constant time
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

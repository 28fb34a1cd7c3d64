"""Board sessions are shared by every instance of a deployment and survive a restart:
signed with ``POOLED_SESSION_KEY`` (or a key file made once in the data directory),
rotated by listing the new key first."""

from __future__ import annotations

import stat
import warnings
from pathlib import Path

import pytest
from sqlalchemy import Engine

from api.app import create_app
from api.board.auth import SESSION_COOKIE
from ledger.settings import Settings
from tests.e2e.api_support import build_world
from tests.e2e.test_board_pages import sign_in

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from fastapi.testclient import TestClient


def instance(engine: Engine, **settings: str) -> TestClient:
    return TestClient(create_app(Settings(scheduler=False, **settings), engine=engine))


def signed_in_cookie(client: TestClient, secret: str) -> str:
    sign_in(client, secret)
    cookie = client.cookies.get(SESSION_COOKIE)
    assert cookie
    return cookie


def reads_the_overview(client: TestClient, cookie: str) -> bool:
    client.cookies.set(SESSION_COOKIE, cookie, path="/board")
    r = client.get("/board/", follow_redirects=False)
    if r.status_code == 303:
        assert "/board/sign-in" in r.headers["location"]
        return False
    assert r.status_code == 200, r.text[:500]
    return True


@pytest.fixture
def board_secret(engine: Engine) -> str:
    return build_world(engine).secrets["board"]


def test_a_session_made_on_one_instance_is_good_on_another(
    engine: Engine, board_secret: str
) -> None:
    # given two instances over one database and one POOLED_SESSION_KEY
    a = instance(engine, session_key="the-deployments-key")
    b = instance(engine, session_key="the-deployments-key")
    # when a board member signs in on the first
    cookie = signed_in_cookie(a, board_secret)
    # then the second reads their pages, and one with another key does not
    assert reads_the_overview(b, cookie)
    assert not reads_the_overview(instance(engine, session_key="another-key"), cookie)


def test_without_a_key_set_one_is_made_once_in_the_data_directory_and_survives_a_restart(
    engine: Engine, board_secret: str, tmp_path: Path
) -> None:
    data = str(tmp_path / "data")
    cookie = signed_in_cookie(instance(engine, data_dir=data), board_secret)
    key_file = tmp_path / "data" / "session.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    made = key_file.read_text()
    # a restarted instance (a new app over the same data directory) keeps the session
    assert reads_the_overview(instance(engine, data_dir=data), cookie)
    assert key_file.read_text() == made
    # an instance with a data directory of its own does not
    assert not reads_the_overview(instance(engine, data_dir=str(tmp_path / "other")), cookie)


def test_rotation_keeps_sessions_signed_with_the_old_key_while_it_is_listed(
    engine: Engine, board_secret: str
) -> None:
    cookie = signed_in_cookie(instance(engine, session_key="old"), board_secret)
    rotated = instance(engine, session_key="new,old")
    assert reads_the_overview(rotated, cookie)
    # new sessions are signed with the new key, good once the old is dropped
    fresh = signed_in_cookie(instance(engine, session_key="new,old"), board_secret)
    assert reads_the_overview(instance(engine, session_key="new"), fresh)
    assert not reads_the_overview(instance(engine, session_key="new"), cookie)

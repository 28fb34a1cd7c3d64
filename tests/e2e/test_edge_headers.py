"""The HTTP edge whatever the answer: ``nosniff`` on every response, and a database
that cannot be reached answered 503 with ``Retry-After`` (API and board), never 500."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from sqlalchemy import Engine

from api.app import create_app
from ledger.settings import Settings
from tests.e2e.api_support import World, build_world
from tests.e2e.test_board_pages import csrf_of

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from fastapi.testclient import TestClient


@pytest.fixture
def world(engine: Engine) -> World:
    return build_world(engine)


def test_every_kind_of_answer_says_nosniff(world: World) -> None:
    w = world
    answers = [
        w.get("city", "/v1/pools/eq"),  # 200 JSON
        w.get("city", "/v1/pools/eq/balances.csv", year="2025-26"),  # CSV
        w.client.get("/v1/pools"),  # 401
        w.get("city", "/v1/nothing-here"),  # 404
        w.client.delete("/v1/pools/eq/contributions", headers=w.auth("city")),  # 405
        w.post("city", "/v1/pools/eq/contributions", {"amount": "x"}),  # 422
        w.client.get("/healthz"),
        w.client.get("/openapi.json"),
        w.client.get("/board/sign-in"),  # HTML
        w.client.get("/board/static/board.css"),
        w.client.get("/board/", follow_redirects=False),  # 303
    ]
    for r in answers:
        assert r.headers.get("x-content-type-options") == "nosniff", (r.url, r.status_code)


def test_an_unexpected_500_says_nosniff_too(world: World) -> None:
    w = world
    app = w.client.app
    original = app.state.reader.traced  # type: ignore[attr-defined]

    def broken(*args: object, **kwargs: object) -> object:
        raise RuntimeError("disk on fire")

    app.state.reader.traced = broken  # type: ignore[attr-defined]
    try:
        client = TestClient(app, raise_server_exceptions=False)
        r = client.get(
            "/v1/pools/eq/balances",
            params={"year": "2025-26", "trace": "pool:spend"},
            headers=w.auth("city"),
        )
    finally:
        app.state.reader.traced = original  # type: ignore[attr-defined]
    assert r.status_code == 500
    assert r.headers["x-content-type-options"] == "nosniff" and r.headers["x-request-id"]


def _unreachable(kind: str, tmp_path: Path) -> str:
    if kind == "postgresql":
        return "postgresql://postgres@127.0.0.1:1/test"  # nothing listens on port 1
    return f"sqlite:///{tmp_path}"  # a directory: SQLite cannot open it as a database


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_a_database_that_cannot_be_reached_is_a_503_with_retry_after(
    kind: str, tmp_path: Path
) -> None:
    # given an app whose database cannot be reached
    app = create_app(Settings(database_url=_unreachable(kind, tmp_path), scheduler=False))
    client = TestClient(app, raise_server_exceptions=False)
    auth = {"Authorization": "Bearer pooled_" + "a" * 43}
    # when it is asked to read and to write
    for r in (
        client.get("/v1/pools/eq/balances", params={"year": "2025-26"}, headers=auth),
        client.post(
            "/v1/pools/eq/contributions",
            json={
                "partner_id": "city",
                "funding_stream": "contribution",
                "amount": "1.00",
                "effective_date": "2025-07-01",
                "reference": "R",
            },
            headers=auth,
        ),
    ):
        # then it answers 503 as a problem, saying when to try again
        assert r.status_code == 503, r.text
        assert r.headers["retry-after"] == "5"
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["type"] == "urn:pooled:problem:database-unavailable"
        assert r.headers["x-content-type-options"] == "nosniff"
    # and the board's sign-in answers a 503 page
    form = client.get("/board/sign-in")
    r = client.post(
        "/board/sign-in",
        data={"token": "pooled_" + "a" * 43, "csrf_token": csrf_of(form.text), "next": ""},
        follow_redirects=False,
    )
    assert r.status_code == 503, r.text[:500]
    assert r.headers["retry-after"] == "5"
    assert r.headers["content-type"].startswith("text/html")
    assert "cannot be reached" in r.text
    app.state.engine.dispose()


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("DELETE", "/v1/pools/eq/returns/2025-26-Q1", "GET, POST"),  # two routes, one path
        ("PUT", "/v1/pools", "GET, POST"),
        ("DELETE", "/v1/pools/eq/contributions", "POST"),
        ("HEAD", "/v1/pools/eq", "GET"),
        ("POST", "/board/", "GET"),
        ("PUT", "/openapi.json", "GET, HEAD"),
    ],
)
def test_a_405_names_every_method_the_path_answers(
    world: World, method: str, path: str, allow: str
) -> None:
    r = world.client.request(method, path, headers=world.auth("admin"))
    assert r.status_code == 405
    assert r.headers["allow"] == allow

"""Finance officers on the board: they sign in with their token and read, only their
partner's pools, and scoped as the API scopes them (``api/board/officers.py``).

The world is ``test_board_pages``' (pools ``eq``: host ncc, members city and icb-a;
``bcf``: ncc and icb-a; ``alliance``: ncc, icb-a and mears). City's officer belongs
to ``eq`` only; in it, city posted one contribution: £250,000.00 effective 1 July 2025.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from typing import Annotated, Any

import pytest
from fastapi import APIRouter, Depends
from starlette.responses import PlainTextResponse, Response

from api.board import router as board_router
from api.board.auth import BoardUser
from api.board.routing import BoardRoute, signed_in
from ledger.store import tokens
from ledger.store.reads import StoredEvent, read_range
from tests.e2e.test_board_pages import Board, csrf_of, row, sign_in, table, text
from tests.e2e.test_board_pages import world as world  # the shared world (a fixture)

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from fastapi.testclient import TestClient


@pytest.fixture(scope="module")
def officers(world: Board) -> dict[str, str]:
    """Officers' tokens: city's (a member of eq only) and ncc's (the host of all)."""
    out = {}
    for partner in ("city", "ncc"):
        _, secret = tokens.create_token(
            world.engine,
            role="finance_officer",
            name=f"Finance officer of {partner}",
            partner_id=partner,
            clock=world.clock,
        )
        out[partner] = secret
    return out


@pytest.fixture
def city(world: Board, officers: dict[str, str]) -> Iterator[Board]:
    world.client.cookies.clear()
    sign_in(world.client, officers["city"])
    yield world
    world.client.cookies.clear()


def positions(html: str) -> list[int]:
    return [int(p) for p in re.findall(r'data-position="(\d+)"', table(html, "events"))]


def city_contribution(world: Board) -> StoredEvent:
    with world.engine.connect() as conn:
        found = [
            e
            for e in read_range(conn, pool_id="eq")
            if e.type == "contribution_posted" and e.partner_id == "city"
        ]
    assert len(found) == 1
    return found[0]


def test_an_officer_signs_in_and_sees_only_its_partners_pools(city: Board) -> None:
    html = city.page("/board/")
    assert "Signed in as Finance officer of city (finance officer, read only)" in text(html)
    assert re.findall(r'data-pool="([^"]+)"', html) == ["eq"]
    assert "Community equipment" in text(html)
    assert "Better Care Fund" not in text(html) and "Better Together Alliance" not in text(html)
    # no audit page for officers, and no link to it
    assert 'href="/board/audit"' not in html
    assert city.client.get("/board/audit").status_code == 403
    # its pool's pages read as for a board member
    pool = city.page("/board/pools/eq/years/2025-26")
    assert "£875,000.00" in text(pool)


@pytest.mark.parametrize(
    "path",
    [
        "/board/pools/bcf",
        "/board/pools/bcf/years/2025-26",
        "/board/pools/bcf/returns",
        "/board/pools/bcf/events",
        "/board/pools/bcf/years/2025-26/trace?figure=pool:income",
        "/board/pools/bcf/returns/2025-26-Q1/download?format=json",
        "/board/pools/alliance/alliance",
        "/board/pools/alliance/years/2025-26",
    ],
)
def test_another_pool_is_a_403_page_naming_the_rule(city: Board, path: str) -> None:
    r = city.client.get(path, follow_redirects=False)
    assert r.status_code == 403, r.text[:500]
    assert r.headers["content-type"].startswith("text/html")
    assert "sees only the pools its partner belongs to" in text(r.text)


def test_an_unknown_pool_is_still_a_404(city: Board) -> None:
    assert city.client.get("/board/pools/nope/years/2025-26").status_code == 404


def test_the_event_log_lists_only_the_events_naming_the_officers_partner(city: Board) -> None:
    mine = city_contribution(city)
    html = city.page("/board/pools/eq/events")
    assert positions(html) == [mine.position]
    r = row(table(html, "events"), "position", str(mine.position))
    assert "Contribution posted" in text(r) and "£250,000.00" in text(r)
    assert "1 July 2025" in text(r)
    assert "The events of this pool naming Nottingham City Council or recorded by" in text(html)
    # its own event opens; another partner's event of the same pool does not
    assert city.client.get(f"/board/events/{mine.position}").status_code == 200
    other = city.positions["first spend"]  # ncc's spend in eq
    refused = city.client.get(f"/board/events/{other}")
    assert refused.status_code == 403
    assert "sees the events naming its partner" in text(refused.text)


def test_a_trace_lists_every_event_behind_the_figure_linking_only_the_officers(
    city: Board,
) -> None:
    mine = city_contribution(city)
    html = city.page("/board/pools/eq/years/2025-26/trace", figure="pool:income")
    # ncc 500,000.00 + city 250,000.00 + icb-a 125,000.00: the figure adds up
    assert 'The figure is <strong data-figure="value">£875,000.00</strong>' in html
    shown = positions(html)
    assert len(shown) == 3 and mine.position in shown
    linked = [int(p) for p in re.findall(r'href="/board/events/(\d+)', table(html, "events"))]
    assert linked == [mine.position]
    # who recorded another partner's event (name, token) is not shown, only the role
    ncc = table(html, "events").split(f'data-position="{mine.position}"')[0]
    assert "Officer of ncc" not in ncc and "tok-ncc" not in ncc
    assert "another partner's event" in text(ncc)


def test_the_pool_page_links_only_the_officers_own_payments(city: Board) -> None:
    """Who owes what lists every partner's payments; the officer opens only its own."""
    mine = city_contribution(city)
    html = city.page("/board/pools/eq/years/2025-26")
    assert set(re.findall(r'href="/board/events/(\d+)', html)) == {str(mine.position)}


def test_the_host_officer_sees_the_whole_pool(world: Board, officers: dict[str, str]) -> None:
    world.client.cookies.clear()
    sign_in(world.client, officers["ncc"])
    home = world.page("/board/")
    assert re.findall(r'data-pool="([^"]+)"', home) == ["alliance", "bcf", "eq"]
    log = world.page("/board/pools/eq/events")
    with world.engine.connect() as conn:
        every = [e.position for e in read_range(conn, pool_id="eq")]
    assert positions(log) == every
    assert world.client.get(f"/board/events/{world.positions['first spend']}").status_code == 200
    world.client.cookies.clear()


def test_an_officer_cannot_post_any_board_form_but_signing_out(
    world: Board, officers: dict[str, str]
) -> None:
    """A form a later page adds (any POST taking the signed-in user) refuses an
    officer's session; a board member's goes through. Signing out still works."""
    extra = APIRouter(route_class=BoardRoute)

    @extra.post("/board/test-only-form")
    def form(user: Annotated[BoardUser, Depends(signed_in)]) -> Response:
        return PlainTextResponse(f"done for {user.role}")

    app = world.client.app
    app.include_router(extra)  # type: ignore[attr-defined]
    added = app.router.routes[-1]  # type: ignore[attr-defined]
    try:
        client = TestClient(app)
        sign_in(client, officers["city"])
        r = client.post("/board/test-only-form")
        assert r.status_code == 403
        assert "The board is read-only for finance officers" in text(r.text)
        client.cookies.clear()
        sign_in(client, world.secrets["board"])
        assert client.post("/board/test-only-form").text == "done for board"
        # signing out is open to an officer (it changes nothing in the ledger)
        client.cookies.clear()
        sign_in(client, officers["city"])
        home = client.get("/board/").text
        out = client.post(
            "/board/sign-out", data={"csrf_token": csrf_of(home)}, follow_redirects=False
        )
        assert out.status_code == 303
    finally:
        app.router.routes.remove(added)  # type: ignore[attr-defined]


def _posts(routes: list[Any], prefix: str = "") -> list[str]:
    """Every POST route's path, through the routers included in others."""
    out = []
    for r in routes:
        inner = getattr(r, "original_router", None)
        if inner is not None:
            out += _posts(inner.routes, prefix + str(getattr(inner, "prefix", "")))
        elif "POST" in (getattr(r, "methods", None) or ()):
            out.append(prefix + r.path)
    return out


def test_the_board_has_no_form_but_signing_in_and_out() -> None:
    """The officers' read-only rule is enforced for any POST taking the user (above);
    today the board's only forms are these two, which take none."""
    assert sorted(_posts(board_router.routes)) == ["/sign-in", "/sign-out"]

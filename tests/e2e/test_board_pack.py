"""The board pack over HTTP: ``/board/pools/{pool}/pack`` (HTML) and ``/pack.pdf``.

On the demo partnership (loaded once, SQLite), the pack holds the ICES pool's 2025-26
figures that ``tests/integration/test_demo.py`` checks by hand (plan £5,360,123.00, all
of it received, spend £5,593,194.41 after the reversed duplicate and the credit note,
opening balance £48,210.37, overspend £184,861.04 shared by the tiered rule), names
where the ledger has names, and its PDF carries the as-at line on every page. On the
equipment pool of ``tests/e2e/test_board_pages.py`` (SQLite and PostgreSQL), a pack as
at 30 September 2025 shows the figures the board saw then, and only signed-in board
roles get a pack.
"""

from __future__ import annotations

import http.server
import importlib.abc
import io
import re
import socketserver
import sys
import threading
import warnings
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from pypdf import PdfReader
from sqlalchemy import Engine, text

from api.app import create_app
from api.board import pdf
from ledger.clock import FixedClock
from ledger.refdata import load_reference_data
from ledger.settings import Settings
from ledger.store import tokens
from projections import asat
from projections.base import plan_at
from projections.parties import partners_at, pool_at
from tests.demo_fixtures import DEMO_NOW, DemoTemplates
from tests.e2e import test_board_pages as pages
from tests.e2e.test_board_pages import MINUS, Board, cell, figures, row, sign_in, table
from tests.e2e.test_board_pages import text as visible

# one xdist worker loads the demo for every module that uses it (tests/demo_fixtures.py)
pytestmark = pytest.mark.xdist_group("demo")

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from fastapi.testclient import TestClient

world = pages.world  # the equipment and alliance pools, on SQLite and PostgreSQL
NOW = DEMO_NOW  # 2026-11-23 09:00 UTC, the day the demo is loaded on


@dataclass
class Demo:
    client: TestClient
    engine: Engine
    head: int  # the demo's last position, as its loader counted the events it wrote


@pytest.fixture(scope="module")
def demo(demo_templates: DemoTemplates) -> Iterator[Demo]:
    """A copy of the demo (loaded at NOW) of its own: signing in writes a token."""
    with demo_templates.copy("sqlite") as copied:
        engine, clock = copied.engine, FixedClock(NOW)
        app = create_app(Settings(scheduler=False), engine=engine, clock=clock)
        _, secret = tokens.create_token(engine, role="board", name="Chair", clock=clock)
        client = TestClient(app)
        sign_in(client, secret)
        yield Demo(client, engine, copied.summary.last_position)


@pytest.fixture
def board(world: Board) -> Board:
    world.client.cookies.clear()
    world.sign_in("board")
    return world


def stored_hash(engine: Engine, position: int) -> str:
    with engine.connect() as conn:
        return str(
            conn.execute(
                text("SELECT hash FROM events WHERE position = :p"), {"p": position}
            ).scalar_one()
        )


def get(client: TestClient, path: str, **params: str) -> str:
    r = client.get(path, params=params)
    assert r.status_code == 200, r.text[:2000]
    assert r.headers["content-type"].startswith("text/html")
    return r.text


# --- the demo's pack -----------------------------------------------------------------------


def test_the_pack_holds_the_key_figures_balances_and_risk_share_of_the_year(demo: Demo) -> None:
    html = get(demo.client, "/board/pools/ices/pack", year="2025-26")
    assert figures(html) == {
        "planned": "£5,360,123.00",
        "income": "£5,360,123.00",  # every instalment paid; the double payment refunded
        "spend": "£5,593,194.41",
        "balance": f"{MINUS}£184,861.04",  # 48,210.37 + 5,360,123.00 - 5,593,194.41
        "outturn": "£5,593,194.41",  # the year is closed: the outturn is the actual spend
        "variance": "+£184,861.04",
    }
    assert "Opening balance £48,210.37" in visible(html)
    balances = table(html, "partner-balances")
    for partner, share in (
        ("ncc", "+£129,944.42"),  # the first £100,000.00 and 35% of the rest, by hand
        ("nottm-city", "+£12,729.16"),
        ("nhs-notts-county", "+£28,852.75"),
        ("nhs-nottm-city", "+£9,334.71"),
        ("bassetlaw-ccg", "+£4,000.00"),  # capped
    ):
        assert cell(row(balances, "partner", partner), "risk_share") == share
    assert visible(row(balances, "partner", "ncc")).startswith("Nottinghamshire County Council")
    # the rest of the pack: who owes what, the charts, metrics and returns sections
    assert cell(row(table(html, "receivables-table"), "partner", "ncc"), "overdue") == "£0.00"
    assert html.count('role="img"') >= 3  # risk share, spend by type, quarterly trend
    for section in ("key-figures", "balances", "receivables", "risk-share", "spend"):
        assert f'id="{section}"' in html
    assert 'id="metrics"' in html and 'id="returns"' in html
    assert "is not a Better Care Fund pool, so it files no quarterly return" in html
    # the as-at line: the demo's last position and the chain head stored for it
    assert f"As at ledger position {demo.head}, recorded 23 November 2026, 09:00:00" in html
    assert f"chain head {stored_hash(demo.engine, demo.head)}" in html


def _word(word: str, shown: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", shown) is not None


def _ids_and_names(demo: Demo, pool_id: str) -> tuple[set[str], list[str]]:
    """The internal codes of the pool's 2025-26 year, and the names the ledger and the
    reference data hold for the things they code."""
    with demo.engine.connect() as conn:
        head = asat.head_position(conn)
        plan = plan_at(conn, pool_id, "2025-26", head)
        pool = pool_at(conn, pool_id, head)
        partners = partners_at(conn, head)
    assert plan is not None and pool is not None
    ref = load_reference_data("2025-26")
    assert ref is not None
    ids = {p.partner_id for p in partners} | {"ices", "mid-notts-bcf", "mid-notts-alliance"}
    ids |= {s.id for s in plan.schemes} | {m.id for m in plan.metrics}
    ids |= {s.id for s in plan.commissioned_services} | {r.id for r in plan.risk_reward_schemes}
    ids |= {c.funding_stream for c in plan.contributions}
    names = [p.name for p in partners] + [pool.name] + [s.name for s in plan.schemes]
    names += [m.name for m in plan.metrics] + [m.name for m in ref.metrics]
    names += [f.name for f in ref.funding_streams] + [r.name for r in plan.risk_reward_schemes]
    return ids, names


@pytest.mark.parametrize("pool_id", ["ices", "mid-notts-bcf", "mid-notts-alliance"])
def test_the_pack_names_partners_pools_schemes_streams_and_metrics_not_their_codes(
    demo: Demo, pool_id: str
) -> None:
    shown = visible(get(demo.client, f"/board/pools/{pool_id}/pack", year="2025-26"))
    ids, names = _ids_and_names(demo, pool_id)
    # a code that is also a word of a name ("carers", "reablement", "discharge") cannot
    # be told apart in the text; "contribution" is a stream's code and a word of prose
    words = {i for i in ids if any(_word(i, n) for n in names)} | {"contribution"}
    found = sorted(i for i in ids - words if _word(i, shown))
    assert found == [], found
    assert len(ids - words) >= 15  # partners and pools at least, and the plan's codes
    assert "· la" not in shown and "· icb" not in shown and "(Actual (" not in shown
    if pool_id == "mid-notts-bcf":  # BCF commissioners are categories, said in words
        assert "jointly commissioned" in shown
        assert "commissioned by the local authority" in shown


# --- the PDF -------------------------------------------------------------------------------


def test_the_pdf_has_the_as_at_position_and_chain_head_on_every_page(demo: Demo) -> None:
    r = demo.client.get("/board/pools/ices/pack.pdf", params={"year": "2025-26"})
    assert r.status_code == 200, r.text[:2000]
    assert r.headers["content-type"] == "application/pdf"
    assert r.content.startswith(b"%PDF-")
    assert r.headers["content-disposition"] == (
        f'attachment; filename="board-pack-ices-2025-26-position-{demo.head}.pdf"'
    )
    pages_text = [
        re.sub(r"\s+", " ", p.extract_text()) for p in PdfReader(io.BytesIO(r.content)).pages
    ]
    assert len(pages_text) >= 2
    chain_head = stored_hash(demo.engine, demo.head)
    for n, page in enumerate(pages_text, 1):
        assert f"As at ledger position {demo.head}" in page, n
        assert chain_head in page.replace(" ", ""), n
        assert f"Page {n} of {len(pages_text)}" in page
        assert "Integrated Community Equipment Service (ICES), 2025-26" in page
    assert "£5,593,194.41" in pages_text[0] and "+£184,861.04" in pages_text[0]


def test_without_weasyprint_the_pdf_is_a_503_naming_it_and_the_html_pack_still_works(
    demo: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "weasyprint", None)  # the import now fails
    r = demo.client.get("/board/pools/ices/pack.pdf", params={"year": "2025-26"})
    assert r.status_code == 503
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["type"] == "urn:pooled:problem:pdf-unavailable"
    assert "weasyprint is not installed" in body["detail"]
    assert "The HTML pack works without it" in body["detail"]
    get(demo.client, "/board/pools/ices/pack", year="2025-26")


def test_any_other_failure_loading_weasyprint_is_a_503_too(
    demo: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Failing(importlib.abc.MetaPathFinder):
        """WeasyPrint's import failing as it does under pytest's warnings-as-errors
        where HarfBuzz's subset library is missing."""

        def find_spec(self, name: str, *_: object) -> None:
            if name == "weasyprint":
                raise UserWarning("HarfBuzz-Subset will be required by future versions")

    for name in [m for m in sys.modules if m.split(".")[0] == "weasyprint"]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setattr(sys, "meta_path", [Failing(), *sys.meta_path])
    r = demo.client.get("/board/pools/ices/pack.pdf", params={"year": "2025-26"})
    assert r.status_code == 503
    assert "WeasyPrint failed to load" in r.json()["detail"]
    assert "HarfBuzz-Subset" in r.json()["detail"]


def test_rendering_a_pdf_fetches_nothing_a_document_names() -> None:
    hits: list[str] = []

    class Counting(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    with socketserver.TCPServer(("127.0.0.1", 0), Counting) as srv:
        port = srv.server_address[1]
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        try:
            made = pdf.render(
                f'<link rel="stylesheet" href="http://127.0.0.1:{port}/x.css">'
                f'<p>Pack</p><img src="http://127.0.0.1:{port}/x.png" alt="">'
            )
        finally:
            srv.shutdown()
    assert made.startswith(b"%PDF-") and hits == []


def test_a_missing_system_library_is_named_with_the_debian_packages_to_install() -> None:
    cffi = pytest.importorskip("cffi")
    with pytest.raises(OSError, match="cannot load library") as e:
        cffi.FFI().dlopen("libpango-0.0-missing")  # the loader's own message, as WeasyPrint's
    detail = pdf.missing_library(str(e.value))
    assert "WeasyPrint cannot load the library libpango-0.0-missing" in detail
    assert "libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-liberation" in detail


# --- as at a past date, access, errors (the equipment pool) ----------------------------------


def test_a_pack_as_at_30_september_shows_the_figures_the_board_saw_then(board: Board) -> None:
    html = get(board.client, "/board/pools/eq/pack", as_at="2025-09-30")
    assert figures(html) == {
        "planned": "£3,500,000.00",
        "income": "£750,000.00",
        "spend": "£400,000.00",
        "balance": "£350,000.00",
        "planned_to_date": "£1,750,000.00",
        "variance_to_date": f"{MINUS}£1,350,000.00",
    }
    ncc = row(table(html, "receivables-table"), "partner", "ncc")
    assert (cell(ncc, "overdue"), cell(ncc, "days_overdue")) == ("£500,000.00", "91")
    then = board.positions["first spend"]  # the last event recorded by 30 September
    assert f"As at ledger position {then}, recorded 1 July 2025, 10:00:00" in html
    assert f"chain head {stored_hash(board.engine, then)}" in html
    # the PDF link keeps the as-at; the latest pack has the later figures
    assert 'href="/board/pools/eq/pack.pdf?year=2025-26&amp;as_at=2025-09-30"' in html
    later = figures(get(board.client, "/board/pools/eq/pack"))
    assert (later["income"], later["spend"]) == ("£875,000.00", "£1,634,567.89")
    r = board.client.get("/board/pools/eq/pack.pdf", params={"as_at": "2025-09-30"})
    assert r.status_code == 200
    for page in PdfReader(io.BytesIO(r.content)).pages:
        assert f"As at ledger position {then}, recorded 1 July 2025" in page.extract_text()


def test_the_pool_page_links_to_its_pack_keeping_the_as_at(board: Board) -> None:
    html = get(board.client, "/board/pools/eq/years/2025-26", as_at="2025-09-30")
    assert 'href="/board/pools/eq/pack?year=2025-26&amp;as_at=2025-09-30"' in html


@pytest.mark.parametrize("path", ["/board/pools/eq/pack", "/board/pools/eq/pack.pdf"])
def test_only_signed_in_board_roles_get_a_pack(world: Board, path: str) -> None:
    world.client.cookies.clear()
    r = world.client.get(path, follow_redirects=False)
    assert r.status_code == 303 and "/board/sign-in" in r.headers["location"]
    # a bearer token is not a board session
    auth = {"Authorization": f"Bearer {world.secrets['officer']}"}
    r = world.client.get(path, headers=auth, follow_redirects=False)
    assert r.status_code == 303 and "/board/sign-in" in r.headers["location"]
    # a finance officer signed in reads its own partner's pool's pack, as its other pages
    for who in ("officer", "auditor", "admin"):
        world.client.cookies.clear()
        world.sign_in(who)
        assert world.client.get(path).status_code == 200


@pytest.mark.parametrize("path", ["/board/pools/eq/pack", "/board/pools/eq/pack.pdf"])
def test_a_pack_names_a_moment_so_a_bad_as_at_is_a_400_not_the_latest_figures(
    board: Board, path: str
) -> None:
    r = board.client.get(path, params={"as_at": "2025-02-30"})
    assert r.status_code == 400
    assert "Not a moment the ledger can answer at" in r.text
    assert board.client.get("/board/pools/nope/pack").status_code == 404
    assert board.client.get(path, params={"year": "2031-32"}).status_code == 404

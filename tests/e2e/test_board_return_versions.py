"""A return filed before its parts were complete, re-filed and approved, as the board's
returns page and the API's listing show it (SQLite and PostgreSQL).

Pool ``bcf`` (``tests.builders.given_bcf_pool``), 2025-26 Q1 (due 30 July 2025):

- 20 July 2025, 10:00 London: every part recorded but the HWB's sign-off; Q1 filed
  by Pat Admin (version 1, missing the sign-off);
- 24 July 2025, 10:00: the sign-off recorded, Q1 re-filed by Pat Admin with the reason
  below (version 2, superseding version 1);
- 28 July 2025, 10:00: approved by Pat Admin ("board 28 July").

Each version's download on the board is its own filed bytes: the same SHA-256 as the
API's ``?version=N`` and as the event recorded.
"""

from __future__ import annotations

import hashlib
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from api.app import create_app
from filing.lifecycle import approve_return, generate_or_get, refile_return
from ledger.clock import FixedClock
from ledger.handlers import Ledger
from ledger.settings import Settings
from ledger.store import tokens
from ledger.store.reads import read_head
from tests.builders import ADMIN, given_bcf_pool
from tests.e2e.api_support import database
from tests.e2e.test_board_pages import row, sign_in, table, text
from tests.e2e.test_board_returns_detail import Filed, cell, london_10am, page_on
from tests.return_parts_builders import activity, assure_all, record_contacts, sign_off

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from fastapi.testclient import TestClient

Q1 = "2025-26-Q1"
REASON = "Filed before the HWB's sign-off was recorded; signed off on 1 July."


def _sha(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


@dataclass
class Refiled(Filed):
    """``q4_filing`` is unused here; ``before_refile``: the head after the first filing."""

    before_refile: int = 0
    api_secret: str = ""


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def refiled(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    sqlite_template: Path,
) -> Iterator[Refiled]:
    with database(request.param, tmp_path_factory.mktemp("versions"), sqlite_template) as engine:
        clock = FixedClock(london_10am(2025, 6, 1))
        app = create_app(Settings(scheduler=False), engine=engine, clock=clock)
        ledger: Ledger = app.state.ledger

        def at(y: int, m: int, d: int) -> None:
            clock.advance(seconds=(london_10am(y, m, d) - clock.now()).total_seconds())

        given_bcf_pool(ledger)
        at(2025, 7, 20)
        record_contacts(ledger, Q1)
        assure_all(ledger, Q1)
        for scheme in ("carers", "adaptations"):
            activity(ledger, Q1, scheme)
        generate_or_get(ledger, "bcf", Q1, ADMIN)
        with engine.connect() as conn:
            before = read_head(conn).position
        at(2025, 7, 24)
        sign_off(ledger, Q1)
        refile_return(ledger, "bcf", Q1, ADMIN, REASON)
        at(2025, 7, 28)
        approve_return(ledger, "bcf", Q1, ADMIN, note="board 28 July")
        _, secret = tokens.create_token(engine, role="board", name="Chair", clock=clock)
        _, api_secret = tokens.create_token(engine, role="auditor", name="Auditor", clock=clock)
        yield Refiled(engine, secret, 0, before, api_secret)


def _client(refiled: Refiled) -> TestClient:
    client = TestClient(create_app(Settings(scheduler=False), engine=refiled.engine))
    sign_in(client, refiled.secret)
    return client


def test_the_page_lists_both_versions_with_dates_reason_and_which_is_current(
    refiled: Refiled,
) -> None:
    html = page_on(refiled, "2025-08-01 12:00:00")
    versions = table(html, "return-versions")
    v2 = row(versions, "version", "2")
    v1 = row(versions, "version", "1")
    assert versions.index('data-version="2"') < versions.index('data-version="1"')  # current first
    assert "data-current" in v2 and "data-superseded" not in v2
    assert "data-superseded" in v1 and "data-current" not in v1
    assert text(v1.split("</th>")[0]) == (
        "2025-26-Q1 Version 1 Superseded on 24 July 2025, 10:00:00"
    )
    assert cell(v1, "data-filed").startswith("20 July 2025, 10:00:00 by Pat Admin (administrator)")
    assert cell(v2, "data-filed").startswith("24 July 2025, 10:00:00 by Pat Admin (administrator)")
    assert cell(v1, "data-reason") == "First filing"
    assert cell(v2, "data-reason") == REASON
    # approval went to version 2, current when it was recorded; version 1 was never approved
    assert cell(v2, "data-approval") == (
        "Approved by Pat Admin (administrator), 28 July 2025, 10:00:00 (board 28 July)"
    )
    assert cell(v1, "data-approval") == "Not approved"
    assert cell(v1, "data-submission") == "Not submitted"
    assert cell(v2, "data-submission") == "Not submitted yet"
    # the quarter's row says which version is current and how many there are
    q1 = row(table(html, "returns"), "quarter", Q1)
    assert cell(q1, "data-version") == "Version 2 of 2: re-filed 24 July 2025, 10:00:00"


def test_each_versions_download_is_its_own_filed_bytes(refiled: Refiled) -> None:
    client = _client(refiled)
    html = client.get("/board/pools/bcf/returns").text
    versions = table(html, "return-versions")
    api = {"Authorization": f"Bearer {refiled.api_secret}"}
    listed = client.get("/v1/pools/bcf/returns", headers=api).json()["returns"]
    recorded = listed[0]
    by_version: dict[int, dict[str, str]] = {}
    for n in (1, 2):
        hrefs = {
            fmt: href.replace("&amp;", "&")
            for href, fmt in _links(row(versions, "version", str(n)))
        }
        assert set(hrefs) == {"xlsx", "csv", "json"}
        by_version[n] = {}
        for fmt, href in hrefs.items():
            board = client.get(href)
            assert board.status_code == 200, href
            from_api = client.get(
                f"/v1/pools/bcf/returns/{Q1}", params={"format": fmt, "version": n}, headers=api
            )
            assert from_api.status_code == 200
            assert _sha(board.content) == _sha(from_api.content)
            by_version[n][fmt] = _sha(board.content)
    # the current version's hashes are the listing's; the two versions differ in every format
    assert by_version[2] == recorded["documents"]
    assert all(by_version[1][f] != by_version[2][f] for f in ("xlsx", "csv", "json"))
    # the quarter row's downloads name the current version
    q1 = row(table(html, "returns"), "quarter", Q1)
    assert {fmt for _, fmt in _links(q1)} == {"xlsx", "csv", "json"}
    assert all("version=2" in href for href, _ in _links(q1))
    # a version and a position together is not a return
    both = client.get(f"/board/pools/bcf/returns/{Q1}/download?version=1&position=5")
    assert both.status_code == 400
    refused = client.get(
        f"/v1/pools/bcf/returns/{Q1}", params={"version": 1, "position": 5}, headers=api
    )
    assert refused.status_code == 422
    assert refused.json()["type"] == "urn:pooled:problem:rule-violation"
    assert refused.json()["errors"][0]["field"] == "version"


def test_the_listing_says_which_version_is_current_and_how_many(refiled: Refiled) -> None:
    client = _client(refiled)
    api = {"Authorization": f"Bearer {refiled.api_secret}"}
    listed = client.get("/v1/pools/bcf/returns", headers=api).json()["returns"]
    q1 = next(r for r in listed if r["quarter"] == Q1)
    assert (q1["current_version"], q1["version_count"], q1["version"]) == (2, 2, 2)
    drafts = [r for r in listed if not r["filed"]]
    assert drafts and all((r["current_version"], r["version_count"]) == (None, 0) for r in drafts)


def test_as_at_before_the_refiling_the_page_shows_one_version(refiled: Refiled) -> None:
    html = page_on(refiled, "2025-08-01 12:00:00", as_at=f"position:{refiled.before_refile}")
    versions = table(html, "return-versions")
    assert versions.count("data-version=") == 1
    v1 = row(versions, "version", "1")
    assert "data-current" in v1 and "data-superseded" not in v1
    assert cell(v1, "data-approval") == "Not approved yet"
    q1 = row(table(html, "returns"), "quarter", Q1)
    assert cell(q1, "data-version") == "Version 1 of 1"
    assert all("version=1" in href for href, _ in _links(q1))
    assert "sign-off" in cell(q1, "data-missing").lower()


def _links(fragment: str) -> list[tuple[str, str]]:
    return re.findall(r'<a href="([^"]+)" download data-format="([a-z]+)"', fragment)

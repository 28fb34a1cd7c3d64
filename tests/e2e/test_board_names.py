"""Names everywhere: every board page of the demo reads partners, pools, schemes,
funding streams and metrics by their names, never by the ledger's internal ids where
a name exists (``docs/DECISIONS.md``, Board detail).

The demo is loaded with the clock at 23 November 2026 (as ``make run`` would on that
day); a board member then opens every page: the overview, each pool's years, the
alliance page, returns, event logs, the events behind every figure linked from the
pool pages, and one event of each type. The visible text of each (tags, hidden
helper text, and the raw ``<pre>``/``<code>`` blocks that show an event as stored
removed) is scanned for the demo's ids as whole words, case-sensitively (so the pool
name "(ICES)" is not the id "ices").
"""

from __future__ import annotations

import re
import shutil
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from html import unescape
from pathlib import Path

import pytest
from sqlalchemy import Engine

from api.app import create_app
from api.board.names import Names, checkpoint_reason
from ledger.clock import FixedClock
from ledger.demo import load_demo
from ledger.demo.partnership import DEMO_PARTNERS
from ledger.handlers import Ledger
from ledger.settings import Settings
from ledger.store import tokens
from ledger.store.engine import make_engine
from ledger.store.reads import read_range
from projections.asat import resolve
from projections.base import plan_at
from tests.e2e.test_board_pages import sign_in

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from fastapi.testclient import TestClient

TODAY = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
POOLS = ("ices", "mid-notts-bcf", "mid-notts-alliance")
YEARS = ("2025-26", "2026-27")


@dataclass
class Demo:
    client: TestClient
    engine: Engine
    ids: set[str]


def demo_ids(engine: Engine) -> set[str]:
    """Every id of the demo that has a name: partners, pools, schemes, funding
    streams, metrics, commissioners ("la", "icb") and outcomes."""
    ids = {p.partner_id for p in DEMO_PARTNERS} | set(POOLS) | {"la", "icb", "joint"}
    with engine.connect() as conn:
        head = resolve(conn, None)
        for pool in POOLS:
            for year in YEARS:
                plan = plan_at(conn, pool, year, head)
                if plan is None:
                    continue
                ids |= {s.id for s in plan.schemes}
                ids |= {c.funding_stream for c in plan.contributions}
                ids |= {m.id for m in plan.metrics}
                ids |= {r.id for r in plan.risk_reward_schemes}
    return {i for i in ids if i} - WORDS


# ids that are also ordinary words of the pages' prose ("the planned contribution") or
# of a name ("Care Act duties: carers' assessments"): not scanned
WORDS = {"contribution", "carers", "discharge", "reablement"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[Demo]:
    path = tmp_path_factory.mktemp("names") / "pooled.db"
    shutil.copy(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    clock = FixedClock(TODAY)
    app = create_app(Settings(scheduler=False), engine=engine, clock=clock)
    ledger: Ledger = app.state.ledger
    load_demo(ledger, TODAY.date())
    _, secret = tokens.create_token(engine, role="board", name="Chair", clock=clock)
    client = TestClient(app)
    sign_in(client, secret)
    yield Demo(client, engine, demo_ids(engine))
    engine.dispose()


def visible(html: str) -> str:
    html = re.sub(r"<(pre|code|script|style|title)\b.*?</\1>", " ", html, flags=re.S)
    # a posting's reference is text as its poster typed it ("NCC BCF additional_la 2501")
    html = re.sub(r"<(span|td)\b[^>]*\bdata-reference\b[^>]*>.*?</\1>", " ", html, flags=re.S)
    html = re.sub(r'<span class="visually-hidden">.*?</span>', " ", html, flags=re.S)
    html = re.sub(r"<[^>]+>", " ", html)
    return re.sub(r"\s+", " ", unescape(html)).strip()


def ids_shown(text: str, ids: set[str]) -> list[str]:
    found = []
    for i in sorted(ids):
        for m in re.finditer(rf"(?<![\w-]){re.escape(i)}(?![\w-])", text):
            found.append(f"{i!r} in …{text[max(0, m.start() - 50) : m.end() + 30]}…")
    return found


NESTED = re.compile(r"\([^()]*\([^()]*\)[^()]*\)")  # "(Actual (year closed))"


def board_links(html: str, kinds: tuple[str, ...]) -> set[str]:
    out = set()
    for h in re.findall(r'href="(/board/[^"]+)"', html):
        h = unescape(h)
        if any(k in h for k in kinds) and "download" not in h and "quarter=" not in h:
            out.add(h)
    return out


def pages(demo: Demo) -> list[str]:
    found = ["/board/", "/board/audit"]
    for pool in POOLS:
        found += [f"/board/pools/{pool}/years/{y}" for y in YEARS]
        found += [f"/board/pools/{pool}/returns", f"/board/pools/{pool}/events"]
    found += [f"/board/pools/mid-notts-alliance/alliance?period={y}" for y in YEARS]
    found.append("/board/pools/mid-notts-alliance/alliance?period=2025-26-Q2")
    with demo.engine.connect() as conn:
        first_of_type: dict[str, int] = {}
        for e in read_range(conn):
            first_of_type.setdefault(e.type, e.position)
    found += [f"/board/events/{p}" for p in sorted(first_of_type.values())]
    return found


def test_no_board_page_of_the_demo_shows_an_id_where_a_name_exists(demo: Demo) -> None:
    bad: dict[str, list[str]] = {}
    seen: set[str] = set()
    queue = pages(demo)
    while queue:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        r = demo.client.get(path)
        assert r.status_code == 200, (path, r.text[:500])
        seen_text = visible(r.text)
        shown = ids_shown(seen_text, demo.ids)
        shown += [f"doubled brackets …{m.group(0)}…" for m in NESTED.finditer(seen_text)]
        if shown:
            bad[path] = shown[:5]
        if ("/years/" in path and "/trace" not in path) or "/alliance" in path:
            queue += sorted(board_links(r.text, ("/trace",)) - seen)
    assert len(seen) > 150, len(seen)
    assert bad == {}, "\n".join(f"{p}: {v}" for p, v in bad.items())


def test_an_id_without_a_name_is_shown_marked_as_an_id() -> None:
    names = Names(partners={"ncc": "Nottinghamshire County Council"})
    assert names.partner("ncc") == "Nottinghamshire County Council"
    assert names.partner("gone") == "gone (id)"
    assert names.scheme("tec") == "tec (id)"
    assert names.commissioner("la") == "Local authority"
    assert names.commissioner("ncc") == "Nottinghamshire County Council"
    # a checkpoint's reason names its pool when the ledger has the pool, else is kept
    assert checkpoint_reason("quarter closed ices 2025-26-Q1", names) == (
        "quarter closed ices 2025-26-Q1"
    )
    names.pools["ices"] = "Integrated Community Equipment Service (ICES)"
    assert checkpoint_reason("return as at ices 2025-26-Q1", names) == (
        "Return as at: Integrated Community Equipment Service (ICES), 2025-26-Q1"
    )

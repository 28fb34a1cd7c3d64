"""The board pages in a real browser: headless Chromium (Debian's ``chromium`` and
``chromium-driver``) driven by Selenium against a real uvicorn server on a loopback
port, over a SQLite file holding the demo partnership.

The demo is loaded with the clock set to each fact's own date (17:00 London on its
effective date), so the ledger's recorded times follow the story and "as the board
saw it on 30 September 2025" is a real earlier view, as it would be in production.

A board member signs in, opens a pool, changes the as-at date and sees the figures
change, drills from a figure to its events, downloads a return, and signs out.
Every page is checked with axe-core (installed from the npm registry into
``api/board/vendor``): no serious or critical violation is allowed. Screenshots and
axe reports are kept under ``test-artifacts/board/``.

Needs: ``apt-get install chromium chromium-driver`` and ``npm ci`` in
``api/board/vendor`` (the test runs ``npm ci`` itself when axe-core is missing).
Without Chromium the tests are skipped, saying why.
"""

from __future__ import annotations

import fcntl
import json
import re
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from api.app import create_app
from api.board import fmt
from ledger.clock import LONDON, FixedClock
from ledger.demo import load_demo
from ledger.domain import commands as c
from ledger.domain.periods import parse_period
from ledger.handlers import Ledger, Outcome
from ledger.refdata import default_catalogue
from ledger.settings import Settings
from ledger.store import tokens
from ledger.store.engine import make_engine
from projections.projector import Projector
from projections.queries import Reader

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "board"
VENDOR = ROOT / "api" / "board" / "vendor"
AXE = VENDOR / "node_modules" / "axe-core" / "axe.min.js"
TODAY = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

CHROMIUM = next(
    (p for p in (shutil.which("chromium"), "/usr/bin/chromium") if p and Path(p).exists()), None
)
CHROMEDRIVER = next(
    (p for p in (shutil.which("chromedriver"), "/usr/bin/chromedriver") if p and Path(p).exists()),
    None,
)

pytestmark = [
    pytest.mark.slow,
    # one xdist worker builds the module's server (the demo and its filed returns): split
    # across both workers, it was built twice (9.8 s setup on each in `-n 2`)
    pytest.mark.xdist_group("board_browser"),
    pytest.mark.skipif(
        CHROMIUM is None or CHROMEDRIVER is None,
        reason="headless browser tests need Chromium and its driver: "
        "apt-get install chromium chromium-driver",
    ),
]

webdriver = pytest.importorskip("selenium.webdriver", reason="pip install selenium")
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.remote.webdriver import WebDriver  # noqa: E402
from selenium.webdriver.support import expected_conditions as ec  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

# --- the server ----------------------------------------------------------------------------


class StoryClock(FixedClock):
    """A clock a loader can set to the day each fact happened (never backwards)."""

    def move_to(self, at: datetime) -> None:
        if at > self.now():
            self.advance(seconds=(at - self.now()).total_seconds())


def happened_on(command: c.Command) -> date | None:
    for name in ("effective_date", "as_of_date", "assessed_on"):
        value = getattr(command, name, None)
        if isinstance(value, date):
            return value
    period = getattr(command, "period", None) or getattr(command, "quarter", None)
    if isinstance(period, str):
        p = parse_period(period)
        return p.end
    return None


class StoryLedger(Ledger):
    """Records each command at 17:00 London on the day it happened."""

    clock: StoryClock

    def execute(self, command: c.Command, actor: c.Actor, **kw: Any) -> Outcome:
        day = happened_on(command)
        if day is not None:
            self.clock.move_to(datetime(day.year, day.month, day.day, 17, tzinfo=LONDON))
        return super().execute(command, actor, **kw)


@dataclass
class Server:
    url: str
    engine: Any
    reader: Reader
    board_secret: str
    admin_secret: str
    officer_secret: str
    return_quarter: str | None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[Server]:
    path = tmp_path_factory.mktemp("board-browser") / "pooled.db"
    shutil.copy(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    story = StoryClock(datetime(2025, 3, 1, tzinfo=UTC))
    loader = StoryLedger(engine, story, default_catalogue(), hooks=[Projector()])
    summary = load_demo(loader, TODAY.astimezone(LONDON).date())
    clock = FixedClock(TODAY)
    settings = Settings(scheduler=False, database_url=f"sqlite:///{path}")
    app = create_app(settings, engine=engine, clock=clock)
    made = {
        role: tokens.create_token(
            engine,
            role=role,
            name=name,
            partner_id="ncc" if role == "finance_officer" else None,
            clock=clock,
        )[1]
        for role, name in (
            ("board", "Chair of the board"),
            ("admin", "Partnership administrator"),
            ("finance_officer", "Pooled fund manager"),
        )
    }
    port = free_port()
    srv = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    url = f"http://127.0.0.1:{port}"
    # the admin files the BCF pool's returns through the API, in quarter order, up to
    # the quarter the demo left open (as the scheduler would have on each due date)
    quarter = summary.open_quarter
    assert quarter is not None, "the demo left no quarter open to file"
    q = parse_period("2025-26-Q1")
    while True:
        r = httpx.post(
            f"{url}/v1/pools/mid-notts-bcf/returns/{q.label}",
            headers={"Authorization": f"Bearer {made['admin']}"},
            timeout=120,
        )
        assert r.status_code in (200, 201), r.text
        if q.label == quarter:
            break
        q = q.next()  # type: ignore[union-attr]
    try:
        yield Server(
            url,
            engine,
            Reader(engine),
            made["board"],
            made["admin"],
            made["finance_officer"],
            quarter,
        )
    finally:
        srv.should_exit = True
        thread.join(timeout=10)
        engine.dispose()


# --- the browser ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def downloads(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="module")
def browser(downloads: Path) -> Iterator[WebDriver]:
    options = webdriver.ChromeOptions()
    assert CHROMIUM is not None and CHROMEDRIVER is not None
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1280,1000",
        "--lang=en-GB",
        "--force-prefers-reduced-motion",
    ):
        options.add_argument(arg)
    options.add_experimental_option(
        "prefs",
        {
            "intl.accept_languages": "en-GB",
            "download.default_directory": str(downloads),
            "download.prompt_for_download": False,
        },
    )
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.execute_cdp_cmd(
        "Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )
    driver.set_page_load_timeout(60)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def axe_source() -> str:
    """axe-core's source, installed first if missing. The install is under a file lock:
    test workers run in parallel, and one must not read the file while another's
    ``npm ci`` is rewriting ``node_modules``."""
    with (VENDOR / ".npm-ci.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not AXE.exists():
            npm = shutil.which("npm")
            if npm is None:
                pytest.fail(
                    "axe-core is not installed and npm is missing: run `npm ci` in api/board/vendor"
                )
            subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund"], cwd=VENDOR, check=True, timeout=300
            )
        return AXE.read_text(encoding="utf-8")


def shoot(driver: WebDriver, name: str) -> Path:
    """A full-page screenshot kept as a test artifact."""
    height = int(driver.execute_script("return document.documentElement.scrollHeight"))
    driver.set_window_size(1280, min(max(height, 800), 8000))
    path = ARTIFACTS / f"{name}.png"
    driver.save_screenshot(str(path))
    driver.set_window_size(1280, 1000)
    return path


def axe_check(driver: WebDriver, source: str, name: str) -> None:
    """Run axe-core on the page; no serious or critical violation (WCAG 2.2 AA and
    best practice rules). The report is kept beside the screenshots."""
    driver.execute_script(source)
    result = driver.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        axe.run(document, {resultTypes: ['violations']})
          .then(r => done(JSON.stringify({violations: r.violations, url: r.url})))
          .catch(e => done(JSON.stringify({error: String(e)})));
        """
    )
    report = json.loads(result)
    (ARTIFACTS / f"{name}.axe.json").write_text(json.dumps(report, indent=2))
    assert "error" not in report, report
    bad = [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + ", ".join(" ".join(n["target"]) for n in v["nodes"][:5])
        for v in report["violations"]
        if v.get("impact") in ("serious", "critical")
    ]
    assert bad == [], f"axe found serious or critical violations on {name}: {bad}"


def wait_for(driver: WebDriver, css: str) -> Any:
    return WebDriverWait(driver, 20).until(ec.presence_of_element_located((By.CSS_SELECTOR, css)))


def key_figure(driver: WebDriver, name: str) -> str:
    el = driver.find_element(By.CSS_SELECTOR, f'.figures__value[data-figure="{name}"] a')
    return str(el.text).split()[0]  # the amount, not the link's hidden context


def set_date(driver: WebDriver, element_id: str, day: date) -> None:
    """Type a date the way a person does: day, month, year in an en-GB browser, or
    month, day, year where the browser lays its date field out the US way."""
    for order in ("%d%m%Y", "%m%d%Y"):
        el = driver.find_element(By.ID, element_id)
        el.send_keys(day.strftime(order))
        if el.get_attribute("value") == day.isoformat():
            return
        driver.refresh()
        wait_for(driver, f"#{element_id}")
    raise AssertionError(f"could not type {day} into #{element_id}")


def sign_in(driver: WebDriver, server: Server) -> None:
    driver.delete_all_cookies()
    driver.get(f"{server.url}/board/")
    wait_for(driver, "#token")
    driver.find_element(By.ID, "token").send_keys(server.board_secret)
    driver.find_element(By.ID, "sign-in").click()
    WebDriverWait(driver, 20).until(ec.title_contains("Pools at a glance"))


# --- the journey -----------------------------------------------------------------------------


def test_a_board_member_signs_in_changes_the_date_drills_down_and_downloads(
    server: Server, browser: WebDriver, axe_source: str, downloads: Path
) -> None:
    d = browser
    # signing in: the board pages send a visitor to the sign-in form
    d.delete_all_cookies()
    d.get(f"{server.url}/board/")
    wait_for(d, "#token")
    assert "/board/sign-in" in d.current_url
    shoot(d, "01-sign-in")
    axe_check(d, axe_source, "01-sign-in")
    d.find_element(By.ID, "token").send_keys(server.board_secret)
    d.find_element(By.ID, "sign-in").click()
    WebDriverWait(d, 20).until(ec.title_contains("Pools at a glance"))
    assert "Signed in as Chair of the board (board)" in d.page_source
    shoot(d, "02-overview")
    axe_check(d, axe_source, "02-overview")

    # open a pool, then its 2025-26 year
    d.find_element(By.LINK_TEXT, "Integrated Community Equipment Service (ICES)").click()
    wait_for(d, "h1")
    assert (
        "Integrated Community Equipment Service (ICES), 2026-27"
        in d.find_element(By.TAG_NAME, "h1").text
    )
    d.find_element(By.LINK_TEXT, "2025-26").click()
    WebDriverWait(d, 20).until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "2025-26"))
    latest = server.reader.balances("ices", "2025-26")
    assert key_figure(d, "income") == fmt.pounds(latest.pool.income)
    assert key_figure(d, "spend") == fmt.pounds(latest.pool.spend)
    shoot(d, "03-pool-2025-26-latest")
    axe_check(d, axe_source, "03-pool-year")

    # change the as-at date: as the board saw it on 30 September 2025
    set_date(d, "as-at-date", date(2025, 9, 30))
    d.find_element(By.CSS_SELECTOR, ".as-at button[type=submit]").click()
    WebDriverWait(d, 20).until(
        ec.text_to_be_present_in_element(
            (By.CSS_SELECTOR, ".as-at__now"), "at the end of 30 September 2025"
        )
    )
    then = server.reader.balances("ices", "2025-26", "2025-09-30")
    assert then.pool.income < latest.pool.income
    assert key_figure(d, "income") == fmt.pounds(then.pool.income)
    assert key_figure(d, "spend") == fmt.pounds(then.pool.spend)
    assert key_figure(d, "income") != fmt.pounds(latest.pool.income)
    shoot(d, "04-pool-as-at-30-september-2025")

    # drill from the income figure to the events behind it
    d.find_element(By.CSS_SELECTOR, '.figures__value[data-figure="income"] a').click()
    wait_for(d, "#events")
    assert "Events behind: Pool income" in d.find_element(By.TAG_NAME, "h1").text
    assert "as_at=2025-09-30" in d.current_url
    shown = [
        int(str(r.get_attribute("data-position")))
        for r in d.find_elements(By.CSS_SELECTOR, "#events tbody tr")
    ]
    assert shown == server.reader.trace("ices", "2025-26", "pool:income", "2025-09-30")
    first = d.find_element(By.CSS_SELECTOR, "#events tbody tr")
    cells = first.find_elements(By.TAG_NAME, "td")
    assert re.fullmatch(r"\d+", cells[0].text.split()[0])  # position
    assert re.search(r"\d{1,2} \w+ 2025", cells[2].text)  # effective date
    assert "finance officer" in cells[4].text  # actor and role
    assert re.fullmatch(r"[0-9a-f]{16}…", cells[6].text.strip())  # hash
    shoot(d, "05-trace-income")
    axe_check(d, axe_source, "05-trace")
    # and on to one event, with its full hash
    cells[0].find_element(By.TAG_NAME, "a").click()
    wait_for(d, "pre.payload")
    assert re.search(r"\b[0-9a-f]{64}\b", d.find_element(By.CSS_SELECTOR, ".summary-list").text)
    shoot(d, "06-event")
    axe_check(d, axe_source, "06-event")

    # download a return from the BCF pool's returns page
    d.get(f"{server.url}/board/pools/mid-notts-bcf/returns")
    wait_for(d, "h1")
    shoot(d, "07-returns")
    axe_check(d, axe_source, "07-returns")
    assert server.return_quarter is not None, "the demo left no quarter open to file"
    row = d.find_element(By.CSS_SELECTOR, f'#returns tr[data-quarter="{server.return_quarter}"]')
    assert "Filed" in row.text
    for f in downloads.glob("*"):
        f.unlink()
    row.find_element(By.PARTIAL_LINK_TEXT, "JSON").click()
    got = _downloaded(downloads, ".json")
    content = json.loads(got.read_text(encoding="utf-8"))
    text = json.dumps(content)
    assert server.return_quarter in text and "mid-notts-bcf" in text
    api = httpx.get(
        f"{server.url}/v1/pools/mid-notts-bcf/returns/{server.return_quarter}",
        params={"format": "json"},
        headers={"Authorization": f"Bearer {server.admin_secret}"},
    )
    assert api.status_code == 200
    assert got.read_bytes() == api.content  # the filed return, byte for byte

    # sign out
    d.get(f"{server.url}/board/")
    wait_for(d, ".header form button").click()
    WebDriverWait(d, 20).until(ec.title_contains("Signed out"))
    d.get(f"{server.url}/board/")
    wait_for(d, "#token")


PAGES = [
    ("overview", "/board/"),
    ("pool-bcf", "/board/pools/mid-notts-bcf/years/2025-26"),
    ("pool-alliance", "/board/pools/mid-notts-alliance/years/2025-26"),
    ("alliance-risk-reward", "/board/pools/mid-notts-alliance/alliance?period=2025-26"),
    ("returns", "/board/pools/mid-notts-bcf/returns"),
    ("events", "/board/pools/ices/events"),
    ("trace", "/board/pools/ices/years/2025-26/trace?figure=partner:ncc:received"),
    ("event", "/board/events/1"),
    ("pack", "/board/pools/mid-notts-bcf/pack?year=2025-26"),
    ("not-found", "/board/no-such-page"),
]


@pytest.mark.parametrize(("name", "path"), PAGES)
def test_every_page_passes_axe_with_no_serious_or_critical_violation(
    server: Server, browser: WebDriver, axe_source: str, name: str, path: str
) -> None:
    if not browser.get_cookie("pooled_board_session"):
        sign_in(browser, server)
    browser.get(server.url + path)
    wait_for(browser, "h1")
    shoot(browser, f"page-{name}")
    axe_check(browser, axe_source, f"page-{name}")


def test_the_keyboard_reaches_the_skip_link_first_and_focus_is_visible(
    server: Server, browser: WebDriver
) -> None:
    if not browser.get_cookie("pooled_board_session"):
        sign_in(browser, server)
    browser.get(f"{server.url}/board/pools/ices/years/2025-26")
    wait_for(browser, "h1")
    body = browser.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.TAB)
    active = browser.switch_to.active_element
    assert active.text == "Skip to main content"
    assert active.value_of_css_property("background-color") in (
        "rgba(255, 221, 0, 1)",
        "rgb(255, 221, 0)",
    )
    active.send_keys(Keys.ENTER)
    assert browser.switch_to.active_element.get_attribute("id") == "main-content"
    # tabbing on reaches the as-at form, then the figures, each link with a visible focus
    seen = []
    for _ in range(8):
        browser.switch_to.active_element.send_keys(Keys.TAB)
        el = browser.switch_to.active_element
        seen.append((el.tag_name, el.get_attribute("id") or el.text[:30]))
    assert ("input", "as-at-date") in seen
    shoot(browser, "keyboard-focus")


def test_a_finance_officer_reads_only_its_partners_pool_on_a_phone(
    server: Server, browser: WebDriver, axe_source: str
) -> None:
    """Nottingham City Council belongs to ICES only: its officer signs in, sees that
    pool alone, reads its scoped event log, and the pages pass axe and fit 390 px."""
    _, secret = tokens.create_token(
        server.engine,
        role="finance_officer",
        name="Finance officer, Nottingham City Council",
        partner_id="nottm-city",
        clock=FixedClock(TODAY),
    )
    browser.delete_all_cookies()
    browser.get(f"{server.url}/board/sign-in")
    wait_for(browser, "#token").send_keys(secret)
    browser.find_element(By.ID, "sign-in").click()
    WebDriverWait(browser, 20).until(ec.title_contains("Pools at a glance"))
    pools = [
        el.get_attribute("data-pool")
        for el in browser.find_elements(By.CSS_SELECTOR, "tr[data-pool]")
    ]
    assert pools == ["ices"]
    assert "finance officer, read only" in browser.page_source
    axe_check(browser, axe_source, "officer-overview")
    browser.get(f"{server.url}/board/pools/ices/events")
    wait_for(browser, "h1")
    assert "naming Nottingham City Council" in browser.find_element(By.TAG_NAME, "main").text
    axe_check(browser, axe_source, "officer-events")
    browser.get(f"{server.url}/board/pools/mid-notts-bcf/years/2025-26")
    wait_for(browser, "h1")
    assert "You cannot see this page" in browser.find_element(By.TAG_NAME, "h1").text
    axe_check(browser, axe_source, "officer-refused")
    browser.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": PHONE_WIDTH, "height": 844, "deviceScaleFactor": 1, "mobile": True},
    )
    try:
        for path in ("/board/", "/board/pools/ices/events", "/board/pools/ices/years/2025-26"):
            browser.get(server.url + path)
            wait_for(browser, "h1")
            found = browser.execute_script(OVERFLOW)
            assert found["page"] <= PHONE_WIDTH and found["bad"] == [], (path, found)
        shoot(browser, "officer-phone")
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        browser.delete_all_cookies()


def test_the_demo_was_recorded_day_by_day(server: Server) -> None:
    # the loader's clock followed the story: the ledger knew less on 30 September 2025
    early = server.reader.position("2025-09-30")
    assert 0 < early < server.reader.position()


PHONE_WIDTH = 390
OVERFLOW = """
const vw = document.documentElement.clientWidth;
const scrolls = (el) => {
  for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
    const o = getComputedStyle(p).overflowX;
    if (o === 'auto' || o === 'scroll' || o === 'hidden') return true;
  }
  return false;
};
const bad = [];
for (const el of document.body.querySelectorAll('*')) {
  if (el.closest('.skip-link')) continue;  // off-screen to the left until focused
  const r = el.getBoundingClientRect();
  if (r.width === 0 || r.height === 0) continue;
  if ((r.right > vw + 1 || r.left < -1) && !scrolls(el)) {
    const cls = typeof el.className === 'string' ? el.className.trim() : '';
    const name = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
      (cls ? '.' + cls.split(/\\s+/).join('.') : '');
    bad.push(`${name} ${Math.round(r.left)}..${Math.round(r.right)}`);
  }
}
return {viewport: vw, page: document.documentElement.scrollWidth, bad: bad.slice(0, 15)};
"""


@pytest.mark.parametrize(("name", "path"), PAGES)
def test_every_page_fits_a_phone_390_px_wide_with_tables_scrolling_in_place(
    server: Server, browser: WebDriver, name: str, path: str
) -> None:
    if not browser.get_cookie("pooled_board_session"):
        sign_in(browser, server)
    browser.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": PHONE_WIDTH, "height": 844, "deviceScaleFactor": 1, "mobile": True},
    )
    try:
        browser.get(server.url + path)
        wait_for(browser, "h1")
        found = browser.execute_script(OVERFLOW)
        # nothing sticks out of the viewport (the page itself does not scroll sideways);
        # wide tables scroll inside their container
        assert found["viewport"] == PHONE_WIDTH
        assert found["page"] <= PHONE_WIDTH and found["bad"] == [], (name, found)
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def test_outcome_payments_name_each_services_lot(server: Server, browser: WebDriver) -> None:
    if not browser.get_cookie("pooled_board_session"):
        sign_in(browser, server)
    browser.get(server.url + "/board/pools/mid-notts-alliance/years/2025-26")
    wait_for(browser, "h1")
    row = browser.find_element(By.CSS_SELECTOR, 'tr[data-outcome^="hc-bassetlaw-2025-26-q1:"]')
    cells = row.find_elements(By.TAG_NAME, "td")
    assert cells[0].get_attribute("textContent") == "Bassetlaw"  # the lot
    assert cells[1].get_attribute("textContent") == "2025-26-Q1"


def _downloaded(downloads: Path, suffix: str) -> Path:
    """The one file the browser downloaded, once it is whole: Chromium writes to a
    ``.crdownload`` file and renames it when done, so poll for the final name with no
    partial file beside it and a size that has stopped changing."""
    deadline = time.monotonic() + 30
    last = -1
    while True:
        done = list(downloads.glob(f"*{suffix}"))
        if len(done) == 1 and not list(downloads.glob("*.crdownload")):
            size = done[0].stat().st_size
            if size and size == last:
                return done[0]
            last = size
        assert time.monotonic() < deadline, "the download did not finish"
        time.sleep(0.1)


def test_the_pack_printed_from_the_browser_has_the_as_at_line_on_every_page(
    server: Server, browser: WebDriver
) -> None:
    """Printing the HTML pack (not the server's PDF): Chromium repeats the fixed as-at
    line on every printed page."""
    import base64
    import io

    from pypdf import PdfReader

    if not browser.get_cookie("pooled_board_session"):
        sign_in(browser, server)
    browser.get(server.url + "/board/pools/mid-notts-bcf/pack?year=2025-26")
    line = wait_for(browser, ".pack-asat").text.split(";")[0]  # "As at ledger position N, ..."
    printed = browser.execute_cdp_cmd("Page.printToPDF", {"paperWidth": 8.27, "paperHeight": 11.69})
    raw = base64.b64decode(printed["data"])
    (ARTIFACTS / "pack-printed.pdf").write_bytes(raw)
    pages = PdfReader(io.BytesIO(raw)).pages
    assert len(pages) >= 3
    for n, page in enumerate(pages, 1):
        assert line in " ".join(page.extract_text().split()), n

"""The board pages over HTTP: sign-in, every page rendered, the figures shown to the
penny, as at any date, and each figure traced to its events.

Two partnerships are built through the ledger with a clock that moves, so "as the
board saw it on 30 September 2025" is a real earlier view:

- ``eq``: worked example A's equipment pool (ncc £2m, city £1m, icb-a £0.5m,
  proportional risk share). By 30 September: £750,000.00 received, £400,000.00
  spent, no forecast. Later: icb-a pays £125,000.00, £1,234,567.89 more is spent, a
  duplicated invoice of £999.99 is posted and reversed, and a whole-pool forecast of
  £3,600,000.00 makes an overspend of £100,000.00, shared as example A says.
- ``alliance``: worked examples C (gain share: icb-a pays ncc £400,000.00), D
  (capitation: north £5,258,883.25, south £4,263,959.39, east £2,477,157.36) and E
  (outcome payment: £165,750.00 of £170,000.00), with two metrics (amber, red).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from html import unescape
from pathlib import Path

import pytest
from sqlalchemy import Engine

from api.app import create_app
from filing.documents import get_return
from filing.lifecycle import approve_return, generate_or_get
from filing.records import filed_records
from ledger.clock import FixedClock
from ledger.domain import commands as c
from ledger.domain.events import PartnerAmount
from ledger.domain.plan import (
    Capitation,
    CohortWeight,
    CommissionedService,
    MetricDefinition,
    Plan,
    PlannedContribution,
    RiskRewardScheme,
    Share,
)
from ledger.handlers import Ledger
from ledger.settings import Settings
from ledger.store import tokens
from ledger.store.reads import get_by_positions, hash_at, read_head, read_range
from tests.builders import (
    ADMIN,
    contribution,
    equipment_plan,
    given_bcf_pool,
    officer,
    pounds,
    spend,
)
from tests.e2e.api_support import database
from tests.return_parts_builders import complete_parts

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from fastapi.testclient import TestClient

MINUS = "\u2212"


# --- the world ----------------------------------------------------------------------------


@dataclass
class Board:
    client: TestClient
    engine: Engine
    clock: FixedClock
    secrets: dict[str, str]
    token_ids: dict[str, str]
    positions: dict[str, int]  # named events -> position

    def sign_in(self, who: str = "board") -> None:
        sign_in(self.client, self.secrets[who])

    def page(self, path: str, **params: str) -> str:
        r = self.client.get(path, params=params) if params else self.client.get(path)
        assert r.status_code == 200, r.text[:2000]
        assert r.headers["content-type"].startswith("text/html")
        return r.text


def move_to(clock: FixedClock, when: datetime) -> None:
    delta = when - clock.now()
    assert delta.total_seconds() >= 0, "the clock only moves forward"
    clock.advance(seconds=delta.total_seconds())


def london(y: int, m: int, d: int, hour: int = 10) -> datetime:
    return datetime(y, m, d, hour - 1, 0, tzinfo=UTC)  # BST in summer: 10:00 London


def build_equipment(ledger: Ledger, clock: FixedClock, positions: dict[str, int]) -> None:
    move_to(clock, london(2025, 7, 1))
    given_bcf_pool(ledger)  # registers ncc, city and icb-a too
    ledger.execute(
        c.EstablishPool(
            pool_id="eq",
            name="Community equipment",
            kind="section_75",
            host_partner_id="ncc",
            members=("ncc", "city", "icb-a"),
        ),
        ADMIN,
    )
    ledger.execute(c.AgreePlan(pool_id="eq", year="2025-26", plan=equipment_plan()), ADMIN)
    ledger.execute(
        contribution(
            "bcf", "icb-a", "250000.00", date(2025, 6, 30), stream="minimum_nhs_contribution"
        ),
        officer("icb-a"),
    )
    ledger.execute(spend("bcf", "carers", "101234.56", date(2025, 6, 30)), officer("ncc"))
    ledger.execute(contribution("eq", "ncc", "500000.00", date(2025, 7, 1)), officer("ncc"))
    ledger.execute(contribution("eq", "city", "250000.00", date(2025, 7, 1)), officer("city"))
    out = ledger.execute(spend("eq", "equipment", "400000.00", date(2025, 7, 15)), officer("ncc"))
    positions["first spend"] = out.events[0].position
    # after 30 September 2025
    move_to(clock, london(2025, 10, 15))
    ledger.execute(contribution("eq", "icb-a", "125000.00", date(2025, 10, 1)), officer("icb-a"))
    ledger.execute(spend("eq", "equipment", "1234567.89", date(2025, 10, 10)), officer("ncc"))
    dup = ledger.execute(
        spend("eq", "equipment", "999.99", date(2025, 10, 11), reference="INV-DUP"),
        officer("ncc"),
    )
    positions["duplicate"] = dup.events[0].position
    rev = ledger.execute(
        c.ReverseEvent(event_id=dup.events[0].event_id, reason="invoice paid twice"),
        officer("ncc"),
    )
    positions["reversal"] = rev.events[0].position
    fc = ledger.execute(
        c.RecordForecast(
            pool_id="eq", year="2025-26", amount=pounds("3600000.00"), as_of_date=date(2025, 10, 15)
        ),
        officer("ncc"),
    )
    positions["forecast"] = fc.events[0].position


def build_alliance(ledger: Ledger, clock: FixedClock) -> None:
    move_to(clock, london(2025, 10, 20))
    ledger.execute(
        c.RegisterPartner(
            partner_id="mears", name="Mears Homecare Ltd", kind="independent_provider"
        ),
        ADMIN,
    )
    ledger.execute(
        c.EstablishPool(
            pool_id="alliance",
            name="Better Together Alliance",
            kind="alliance",
            host_partner_id="ncc",
            members=("ncc", "icb-a", "mears"),
        ),
        ADMIN,
    )
    shares = (Share(partner_id="ncc", pct=Decimal(50)), Share(partner_id="icb-a", pct=Decimal(50)))
    plan = Plan(
        contributions=(
            PlannedContribution(
                partner_id="icb-a", funding_stream="contribution", amount=pounds("1000000")
            ),
        ),
        risk_reward_schemes=(
            RiskRewardScheme(
                id="rapid-response",
                name="Rapid response",
                gain_shares=shares,
                loss_shares=(
                    Share(partner_id="ncc", pct=Decimal(70)),
                    Share(partner_id="icb-a", pct=Decimal(30)),
                ),
            ),
        ),
        capitation=Capitation(
            budget=pounds("12000000"),
            excluded_personal_budgets=pounds("1500000"),
            weights=(
                CohortWeight(cohort="0-64", weight=Decimal("1.0")),
                CohortWeight(cohort="65-84", weight=Decimal("2.5")),
                CohortWeight(cohort="85+", weight=Decimal("6.0")),
            ),
        ),
        commissioned_services=(
            CommissionedService(
                id="hc-q1",
                provider_id="mears",
                period="2025-26-Q1",
                hours=Decimal(10000),
                rate=1700,
                base_pct=Decimal(95),
                outcomes=("independence", "satisfaction"),
            ),
        ),
        metrics=(
            MetricDefinition(
                id="ed-attendances", name="ED attendances", unit="attendances", lower_is_better=True
            ),
            MetricDefinition(
                id="admissions",
                name="Emergency admissions",
                unit="admissions",
                lower_is_better=True,
            ),
        ),
    )
    ledger.execute(c.AgreePlan(pool_id="alliance", year="2025-26", plan=plan), ADMIN)
    host = officer("ncc")
    for unit, counts in {
        "north": (80_000, 15_000, 2_000),
        "south": (60_000, 12_000, 2_500),
        "east": (40_000, 6_000, 1_000),
    }.items():
        for cohort, n in zip(("0-64", "65-84", "85+"), counts, strict=True):
            ledger.execute(
                c.RecordPopulation(
                    pool_id="alliance",
                    unit_id=unit,
                    cohort=cohort,
                    count=n,
                    effective_date=date(2025, 4, 1),
                ),
                host,
            )
    ledger.execute(
        c.RecordRiskRewardResult(
            pool_id="alliance",
            scheme_id="rapid-response",
            period="2025-26-Q1",
            costs=(PartnerAmount(partner_id="ncc", amount=pounds("300000")),),
            savings=(PartnerAmount(partner_id="icb-a", amount=pounds("500000")),),
        ),
        host,
    )
    ledger.execute(
        c.AssessOutcome(
            pool_id="alliance",
            service_id="hc-q1",
            outcome_id="independence",
            period="2025-26-Q1",
            met=True,
            assessed_on=date(2025, 7, 20),
        ),
        host,
    )
    for metric, target, actual in (("ed-attendances", "100", "104"), ("admissions", "50", "60")):
        ledger.execute(
            c.RecordMetric(
                pool_id="alliance",
                metric_id=metric,
                period="2025-26-Q1",
                target=Decimal(target),
                actual=Decimal(actual),
            ),
            host,
        )


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    sqlite_template: Path,
) -> Iterator[Board]:
    with database(request.param, tmp_path_factory.mktemp("board"), sqlite_template) as engine:
        clock = FixedClock(london(2025, 6, 1))
        app = create_app(Settings(scheduler=False), engine=engine, clock=clock)
        ledger: Ledger = app.state.ledger
        positions: dict[str, int] = {}
        build_equipment(ledger, clock, positions)
        build_alliance(ledger, clock)
        move_to(clock, london(2025, 11, 3))
        # the admin files the BCF pool's first quarterly return and signs it off
        complete_parts(ledger, "2025-26-Q1")
        generate_or_get(ledger, "bcf", "2025-26-Q1", ADMIN)
        approve_return(ledger, "bcf", "2025-26-Q1", ADMIN, note="board 3 Nov")
        secrets, ids = {}, {}
        for who, role, partner in (
            ("board", "board", None),
            ("auditor", "auditor", None),
            ("admin", "admin", None),
            ("officer", "finance_officer", "ncc"),
        ):
            record, secret = tokens.create_token(
                engine, role=role, name=f"{who.title()} person", partner_id=partner, clock=clock
            )
            secrets[who], ids[who] = secret, record.token_id
        yield Board(TestClient(app), engine, clock, secrets, ids, positions)


@pytest.fixture
def board(world: Board) -> Board:
    """The world with a fresh browser: no cookies, then signed in as a board member."""
    world.client.cookies.clear()
    world.sign_in("board")
    return world


# --- helpers to read pages ----------------------------------------------------------------


def sign_in(client: TestClient, secret: str, next_url: str = "") -> None:
    form = client.get("/board/sign-in")
    r = client.post(
        "/board/sign-in",
        data={"token": secret, "csrf_token": csrf_of(form.text), "next": next_url},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text[:1000]


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "the page has no CSRF token"
    return m.group(1)


def text(fragment: str) -> str:
    """Visible text: tags, visually hidden helper text and extra space removed."""
    fragment = re.sub(r'<span class="visually-hidden">.*?</span>', "", fragment, flags=re.S)
    fragment = re.sub(r"<[^>]+>", " ", fragment)
    return re.sub(r"\s+", " ", unescape(fragment)).strip()


def row(html: str, attr: str, value: str) -> str:
    m = re.search(rf'<tr[^>]*data-{attr}="{re.escape(value)}"[^>]*>(.*?)</tr>', html, flags=re.S)
    assert m, f"no row with data-{attr}={value}"
    return m.group(1)


def cell(fragment: str, figure: str) -> str:
    m = re.search(rf'data-figure="{figure}"[^>]*>(.*?)</(?:td|span)>\s*(?:<|$)', fragment, re.S)
    assert m, f"no figure {figure}"
    return text(m.group(1)).split(" ")[0]


def figures(html: str) -> dict[str, str]:
    """The key figures of a page: data-figure name -> the amount shown."""
    out = {}
    for m in re.finditer(r'class="figures__value" data-figure="([a-z_]+)">(.*?)</li>', html, re.S):
        out[m.group(1)] = text(m.group(2)).split(" ")[0]
    return out


def links_in(fragment: str) -> list[str]:
    return [unescape(h) for h in re.findall(r'href="([^"]+)"', fragment)]


def table(html: str, table_id: str) -> str:
    m = re.search(rf'<table id="{table_id}">(.*?)</table>', html, re.S)
    assert m, f"no table {table_id}"
    return m.group(1)


# --- signing in and out ---------------------------------------------------------------------


def test_a_visitor_without_a_session_is_sent_to_sign_in_and_comes_back(world: Board) -> None:
    world.client.cookies.clear()
    r = world.client.get("/board/pools/eq/years/2025-26?as_at=2025-09-30", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == (
        "/board/sign-in?next=%2Fboard%2Fpools%2Feq%2Fyears%2F2025-26%3Fas_at%3D2025-09-30"
    )
    form = world.client.get(r.headers["location"])
    assert form.status_code == 200
    assert 'type="password"' in form.text and "<h1>Sign in to the board pages</h1>" in form.text
    r = world.client.post(
        "/board/sign-in",
        data={
            "token": world.secrets["board"],
            "csrf_token": csrf_of(form.text),
            "next": "/board/pools/eq/years/2025-26?as_at=2025-09-30",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert r.headers["location"] == "/board/pools/eq/years/2025-26?as_at=2025-09-30"
    cookie = r.headers["set-cookie"]
    assert "pooled_board_session=" in cookie
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/board" in cookie
    assert "Secure" not in cookie  # plain http in the test; https sets Secure
    assert world.secrets["board"] not in cookie  # the token itself is never kept
    assert world.client.get(r.headers["location"]).status_code == 200


def test_sign_in_refuses_a_form_without_its_csrf_token(world: Board) -> None:
    world.client.cookies.clear()
    world.client.get("/board/sign-in")
    r = world.client.post(
        "/board/sign-in", data={"token": world.secrets["board"], "csrf_token": "forged"}
    )
    assert r.status_code == 400
    assert "Your form has expired" in r.text
    assert "pooled_board_session" not in r.headers.get("set-cookie", "")


def test_a_wrong_token_is_refused_with_an_error_summary(world: Board) -> None:
    world.client.cookies.clear()
    form = world.client.get("/board/sign-in")
    r = world.client.post(
        "/board/sign-in",
        data={"token": "pooled_not-a-real-token", "csrf_token": csrf_of(form.text)},
    )
    assert r.status_code == 401
    assert "There is a problem" in r.text and 'href="#token"' in r.text
    assert "<title>Error: Sign in" in r.text
    assert world.client.get("/board/", follow_redirects=False).status_code == 303


@pytest.mark.parametrize(
    ("who", "shown"),
    [
        ("board", "board"),
        ("auditor", "auditor"),
        ("admin", "admin"),
        ("officer", "finance officer, read only"),  # scoped: tests/e2e/test_board_officers.py
    ],
)
def test_board_members_auditors_admins_and_officers_may_sign_in(
    world: Board, who: str, shown: str
) -> None:
    world.client.cookies.clear()
    world.sign_in(who)
    html = world.page("/board/")
    assert f"Signed in as {who.title()} person ({shown})" in html


def test_signing_out_needs_the_csrf_token_and_ends_the_session(board: Board) -> None:
    home = board.page("/board/")
    assert board.client.post("/board/sign-out", data={"csrf_token": "x"}).status_code == 400
    assert board.client.get("/board/", follow_redirects=False).status_code == 200
    r = board.client.post(
        "/board/sign-out", data={"csrf_token": csrf_of(home)}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"] == "/board/signed-out"
    assert 'pooled_board_session=""' in r.headers["set-cookie"]
    assert "You have signed out" in board.client.get("/board/signed-out").text
    assert board.client.get("/board/", follow_redirects=False).status_code == 303


def test_a_forged_or_tampered_session_cookie_is_not_a_session(board: Board) -> None:
    good = board.client.cookies.get("pooled_board_session", path="/board")
    assert good
    body, sig = good.rsplit(".", 1)
    for bad in (f"{body}.{sig[:-2]}AA", f"{body[:-2]}.{sig}", "nonsense"):
        board.client.cookies.clear()
        board.client.cookies.set("pooled_board_session", bad, path="/board")
        assert board.client.get("/board/", follow_redirects=False).status_code == 303


def test_revoking_a_token_ends_its_sessions_at_once(world: Board) -> None:
    record, secret = tokens.create_token(
        world.engine, role="board", name="Leaver", clock=world.clock
    )
    world.client.cookies.clear()
    sign_in(world.client, secret)
    assert world.client.get("/board/", follow_redirects=False).status_code == 200
    tokens.revoke_token(world.engine, record.token_id, world.clock)
    assert world.client.get("/board/", follow_redirects=False).status_code == 303


def test_pages_are_not_cached_and_forbid_framing(board: Board) -> None:
    r = board.client.get("/board/")
    assert r.headers["cache-control"] == "no-store"
    assert r.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    css = board.client.get("/board/static/board.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")


# --- the overview -------------------------------------------------------------------------


def test_the_overview_shows_each_pools_year_to_date_position(board: Board) -> None:
    html = board.page("/board/")
    eq = row(html, "pool", "eq")
    assert cell(eq, "planned") == "£3,500,000.00"
    assert cell(eq, "income") == "£875,000.00"
    assert cell(eq, "spend") == "£1,634,567.89"
    assert cell(eq, "balance") == f"{MINUS}£759,567.89"
    assert cell(eq, "outturn") == "£3,600,000.00"
    assert cell(eq, "variance") == "+£100,000.00"
    assert "Forecast" in text(eq) and "Overspend" in text(eq)
    alliance = row(html, "pool", "alliance")
    assert "Amber" in text(alliance) and "Red" in text(alliance) and "2025-26-Q1" in text(alliance)
    # every amount links to the events behind it, keeping no as-at (the latest)
    assert "/board/pools/eq/years/2025-26/trace?figure=pool%3Aspend" in links_in(eq)


def test_the_overview_as_the_board_saw_it_on_30_september(board: Board) -> None:
    html = board.page("/board/", as_at="2025-09-30")
    assert "as the ledger stood at the end of 30 September 2025" in text(html)
    eq = row(html, "pool", "eq")
    assert cell(eq, "income") == "£750,000.00"
    assert cell(eq, "spend") == "£400,000.00"
    assert cell(eq, "balance") == "£350,000.00"
    assert cell(eq, "outturn") == "£400,000.00"  # no forecast yet: spend to date
    assert "Spend to date (no forecast yet)" in text(eq)
    # no year variance (spend to date is no outturn): the variance to date instead,
    # against the plan for Q1 and Q2 (3,500,000.00 / 4 x 2 = 1,750,000.00)
    assert 'data-figure="variance"' not in eq
    assert cell(eq, "variance_to_date") == f"{MINUS}£1,350,000.00"
    assert "Variance to date: plan to 30 September 2025 £1,750,000.00" in text(eq)
    assert "Underspend" not in text(eq)
    assert 'data-pool="alliance"' not in html  # not yet established then
    # links keep the as-at
    assert all("as_at=2025-09-30" in h for h in links_in(eq))


def test_the_as_at_form_takes_a_date_or_a_ledger_position(board: Board) -> None:
    by_form = board.page("/board/", as_at_date="2025-09-30", as_at_position="")
    assert cell(row(by_form, "pool", "eq"), "income") == "£750,000.00"
    assert 'name="as_at_date" value="2025-09-30"' in by_form
    first_spend = board.positions["first spend"]
    by_position = board.page("/board/", as_at_position=str(first_spend))
    assert f"ledger position {first_spend}" in text(by_position)
    assert cell(row(by_position, "pool", "eq"), "spend") == "£400,000.00"
    assert 'name="as_at_position" class="input--narrow" min="0"' in by_position
    # the position wins when both are given
    both = board.page("/board/", as_at_date="2025-09-30", as_at_position=str(first_spend - 1))
    assert cell(row(both, "pool", "eq"), "spend") == "£0.00"


def test_a_bad_as_at_is_explained_and_the_latest_figures_shown(board: Board) -> None:
    r = board.client.get("/board/", params={"as_at_date": "2025-02-30"})
    assert r.status_code == 400
    assert "is not a real date" in r.text
    assert "Showing the latest figures" in r.text
    r = board.client.get("/board/", params={"as_at_position": "999999"})
    assert r.status_code == 400 and "beyond the ledger head" in r.text


@pytest.mark.parametrize(
    "value", ["9999-12-31", "9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+01:00"]
)
def test_an_as_at_at_the_calendars_limits_is_a_clear_400_on_every_page(
    board: Board, value: str
) -> None:
    for path in (
        "/board/",
        "/board/pools/eq",
        "/board/pools/eq/years/2025-26",
        "/board/pools/eq/events",
        "/board/pools/bcf/returns",
    ):
        r = board.client.get(path, params={"as_at": value})  # a pool redirects to its year
        assert r.status_code == 400, (path, r.status_code, r.text[:300])
        assert "outside the dates an as-at may name" in unescape(r.text), path
    r = board.client.get("/board/", params={"as_at_date": "9999-12-31"})
    assert r.status_code == 400 and "outside the dates" in unescape(r.text)


# --- a pool's year ------------------------------------------------------------------------


def test_the_pool_page_shows_balances_variance_and_the_provisional_risk_share(
    board: Board,
) -> None:
    html = board.page("/board/pools/eq/years/2025-26")
    assert "<h1>Community equipment, 2025-26</h1>" in html
    assert figures(html) == {
        "planned": "£3,500,000.00",
        "income": "£875,000.00",
        "spend": "£1,634,567.89",
        "balance": f"{MINUS}£759,567.89",
        "outturn": "£3,600,000.00",
        "variance": "+£100,000.00",
    }
    balances = table(html, "partner-balances")
    ncc = row(balances, "partner", "ncc")
    assert cell(ncc, "planned") == "£2,000,000.00"
    assert cell(ncc, "received") == "£500,000.00"
    assert cell(ncc, "risk_share") == "+£57,142.86"
    assert cell(ncc, "net_obligation") == "£2,057,142.86"
    assert cell(ncc, "outstanding") == "£1,557,142.86"
    assert "57.14%" in text(ncc)
    assert cell(row(balances, "partner", "city"), "risk_share") == "+£28,571.43"
    icb = row(balances, "partner", "icb-a")
    assert cell(icb, "risk_share") == "+£14,285.71"
    assert cell(icb, "outstanding") == "£389,285.71"
    assert "<caption" in balances
    # the variance section, the chart and its table alternative
    assert (
        "Forecast" in text(html) and "Proportional: in proportion to planned contributions" in html
    )
    assert (
        '<title id="chart-risk-share-title">Provisional risk share by partner, 2025-26</title>'
        in html
    )
    assert '<td class="num">£57,142.86</td>' in html  # in the chart's data table
    assert 'role="img" aria-labelledby="chart-risk-share-title chart-risk-share-desc"' in html


def test_spend_against_plan_by_scheme_type_and_the_quarterly_trend(board: Board) -> None:
    html = board.page("/board/pools/eq/years/2025-26")
    schemes = table(html, "schemes")
    eq = row(schemes, "scheme", "equipment")
    assert cell(eq, "actual") == "£1,634,567.89"
    assert "£400,000.00" in text(eq) and "£1,234,567.89" in text(eq)  # Q2 and Q3
    assert "Spend against plan by scheme type, 2025-26</title>" in html
    assert '<th scope="row">Assistive Technologies and Equipment</th>' in html
    assert "Quarterly trend, 2025-26</title>" in html
    trend = re.search(r'id="chart-trend-heading".*?</figure>', html, re.S)
    assert trend
    rows = re.findall(r"<tr><th scope=\"row\">(Q[1-4])</th>(.*?)</tr>", trend.group(0), re.S)
    # today (3 November 2025) is in Q3: the chart stops at Q2 (tests/e2e/test_board_trend.py)
    assert [(q, text(r)) for q, r in rows] == [
        ("Q1", "£0.00 £0.00 £0.00"),
        ("Q2", "£750,000.00 £400,000.00 £350,000.00"),
    ]


def test_the_pool_page_as_at_30_september_shows_no_risk_share_yet(board: Board) -> None:
    html = board.page("/board/pools/eq/years/2025-26", as_at="2025-09-30")
    key = figures(html)
    assert key["income"] == "£750,000.00"
    # a part year: the plan and variance to date, never an underspend for the year
    assert "variance" not in key and "outturn" not in key
    assert (key["planned_to_date"], key["variance_to_date"]) == (
        "£1,750,000.00",
        f"{MINUS}£1,350,000.00",
    )
    assert "figures--under" not in html
    assert "No risk share is allocated yet: there is no forecast outturn" in html
    ncc = row(table(html, "partner-balances"), "partner", "ncc")
    assert cell(ncc, "risk_share") == "£0.00"
    assert cell(ncc, "outstanding") == "£1,500,000.00"


def test_a_pools_address_opens_the_year_of_the_as_at(board: Board) -> None:
    r = board.client.get("/board/pools/eq", params={"as_at": "2025-09-30"}, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/board/pools/eq/years/2025-26?as_at=2025-09-30"


def test_an_unknown_pool_or_page_is_an_html_404(board: Board) -> None:
    r = board.client.get("/board/pools/nope/years/2025-26")
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert "there is no pool 'nope'" in text(r.text)
    r = board.client.get("/board/no/such/page")
    assert r.status_code == 404 and "Page not found" in r.text
    r = board.client.get("/board/pools/eq/years/2025")
    assert r.status_code == 422 and "There is a problem" in r.text


# --- alliance: capitation, outcome payments, metrics, risk/reward -----------------------------


def test_the_alliance_year_shows_capitation_outcome_payments_and_metrics(board: Board) -> None:
    html = board.page("/board/pools/alliance/years/2025-26")
    cap = table(html, "capitation-table")
    assert cell(row(cap, "unit", "north"), "annual") == "£5,258,883.25"
    assert cell(row(cap, "unit", "south"), "annual") == "£4,263,959.39"
    assert cell(row(cap, "unit", "east"), "annual") == "£2,477,157.36"
    assert text(row(cap, "unit", "north")).startswith(
        "North £1,314,720.82 £1,314,720.81 £1,314,720.81 £1,314,720.81"
    )
    assert "£12,000,000.00" in text(cap)  # the quarters and the year add up to the budget
    assert "net of £1,500,000.00 of personal budgets" in html
    mears = row(table(html, "outcome-payments"), "provider", "mears")
    assert text(mears) == (
        "Mears Homecare Ltd £170,000.00 £161,500.00 £4,250.00 £165,750.00 £4,250.00"
    )
    metrics = table(html, "metrics-table")
    assert "Amber" in text(row(metrics, "metric", "ed-attendances"))
    assert "Red" in text(row(metrics, "metric", "admissions"))


def test_the_alliance_page_shows_net_benefit_and_who_pays_whom(board: Board) -> None:
    html = board.page("/board/pools/alliance/alliance", period="2025-26-Q1")
    assert "<h1>Risk and reward, 2025-26-Q1</h1>" in html
    assert figures(html) == {"net_benefit": "+£200,000.00"}
    settlement = re.search(r'<li data-settlement="1">(.*?)</li>', html, re.S)
    assert settlement
    assert text(settlement.group(1)) == (
        "NHS Nottingham and Nottinghamshire ICB pays Nottinghamshire County Council £400,000.00"
    )
    scheme = re.search(r'<table data-scheme="rapid-response">(.*?)</table>', html, re.S)
    assert scheme
    assert (
        "Nottinghamshire County Council £300,000.00 £0.00 "
        f"{MINUS}£300,000.00 +£100,000.00 +£400,000.00"
    ) in text(scheme.group(1))
    # the whole year holds the same result
    year = board.page("/board/pools/alliance/alliance", period="2025-26")
    assert figures(year) == {"net_benefit": "+£200,000.00"}


# --- drilling down to the events -----------------------------------------------------------------


def test_a_figure_drills_down_to_its_events_with_positions_dates_actors_and_hashes(
    board: Board,
) -> None:
    pool = board.page("/board/pools/eq/years/2025-26")
    href = next(
        h
        for h in links_in(row(table(pool, "partner-balances"), "partner", "ncc"))
        if "figure=partner%3Ancc%3Areceived" in h
    )
    html = board.page(href)
    assert (
        "<h1>Events behind: Nottinghamshire County Council: received (net of refunds)</h1>" in html
    )
    assert 'The figure is <strong data-figure="value">£500,000.00</strong>' in html
    events = table(html, "events")
    positions = [int(p) for p in re.findall(r'data-position="(\d+)"', events)]
    assert len(positions) == 1
    with board.engine.connect() as conn:
        (stored,) = get_by_positions(conn, positions)
    r = row(events, "position", str(stored.position))
    assert "Contribution posted" in text(r)
    assert "1 July 2025" in text(r)  # effective date
    assert "Officer of ncc" in text(r) and "finance officer" in text(r)
    assert "£500,000.00" in text(r)
    assert f'title="{stored.hash}"' in r and stored.hash[:16] in r
    # and on to the event itself, with its hash and the previous one
    event = board.page(f"/board/events/{stored.position}")
    assert stored.hash in event and stored.event_id in event
    with board.engine.connect() as conn:
        assert hash_at(conn, stored.position - 1) in event


def test_a_reversed_posting_and_its_reversal_both_show_behind_the_spend(board: Board) -> None:
    html = board.page("/board/pools/eq/years/2025-26/trace", figure="pool:spend")
    assert 'The figure is <strong data-figure="value">£1,634,567.89</strong>' in html
    events = table(html, "events")
    dup = row(events, "position", str(board.positions["duplicate"]))
    assert "Reversed" in text(dup) and f"at position {board.positions['reversal']}" in text(dup)
    assert "Reference INV-DUP" in text(dup)  # the reference the postings search finds
    rev = row(events, "position", str(board.positions["reversal"]))
    assert "Event reversed" in text(rev) and "invoice paid twice" in text(rev)
    # as at 30 September only the first invoice was known
    early = board.page(
        "/board/pools/eq/years/2025-26/trace", figure="pool:spend", as_at="2025-09-30"
    )
    assert re.findall(r'data-position="(\d+)"', table(early, "events")) == [
        str(board.positions["first spend"])
    ]
    assert "£400,000.00" in text(early)


def test_quarter_cells_drill_down_to_that_quarters_events_only(board: Board) -> None:
    html = board.page(
        "/board/pools/eq/years/2025-26/trace", figure="scheme:equipment:actual", quarter="Q2"
    )
    assert 'The figure is <strong data-figure="value">£400,000.00</strong>' in html
    assert re.findall(r'data-position="(\d+)"', table(html, "events")) == [
        str(board.positions["first spend"])
    ]


def test_the_forecast_behind_the_outturn_and_the_alliance_figures_can_be_traced(
    board: Board,
) -> None:
    html = board.page("/board/pools/eq/years/2025-26/trace", figure="pool:outturn")
    assert re.findall(r'data-position="(\d+)"', table(html, "events")) == [
        str(board.positions["forecast"])
    ]
    rr = board.page(
        "/board/pools/alliance/years/2025-26/trace", figure="rr:rapid-response:2025-26-Q1"
    )
    kinds = re.findall(r"<td>(Plan agreed|Risk reward result recorded)", table(rr, "events"))
    assert kinds == ["Plan agreed", "Risk reward result recorded"]
    cap = board.page("/board/pools/alliance/years/2025-26/trace", figure="capitation:north")
    assert text(table(cap, "events")).count("Population recorded") == 3


def test_an_unknown_figure_is_refused_in_plain_words(board: Board) -> None:
    r = board.client.get("/board/pools/eq/years/2025-26/trace", params={"figure": "pool:nope"})
    assert r.status_code == 422
    assert "names no figure" in text(r.text)


def test_the_event_log_pages_through_a_pools_events_as_at_a_date(board: Board) -> None:
    html = board.page("/board/pools/eq/events")
    events = table(html, "events")
    with board.engine.connect() as conn:
        expected = [e.position for e in read_range(conn, pool_id="eq")]
    assert [int(p) for p in re.findall(r'data-position="(\d+)"', events)] == expected
    early = board.page("/board/pools/eq/events", as_at="2025-09-30")
    shown = [int(p) for p in re.findall(r'data-position="(\d+)"', table(early, "events"))]
    assert shown == [p for p in expected if p <= board.positions["first spend"]]


# --- returns ------------------------------------------------------------------------------------


def test_the_returns_page_lists_filed_returns_with_their_hashes(board: Board) -> None:
    html = board.page("/board/pools/bcf/returns")
    filed = table(html, "returns")
    q1 = row(filed, "quarter", "2025-26-Q1")
    # filed on 3 November, due 30 July: marked late; filed with every part, none missing
    assert "data-late" in q1 and "Filed late" in q1 and "data-missing" not in q1
    with board.engine.connect() as conn:
        rec = filed_records(conn, "bcf", read_head(conn).position)["2025-26-Q1"]
        chain_head = hash_at(conn, rec.as_at_position or 0)
    assert rec.content_hash and f'data-hash="content">{rec.content_hash}</code>' in q1
    assert f'data-hash="chain">{chain_head}</code>' in q1
    assert "Approved by Pat Admin" in text(q1) and "board 3 Nov" in text(q1)
    assert f">{rec.as_at_position}<" in q1
    formats = re.findall(r'data-format="([a-z]+)"', q1)
    assert formats == ["xlsx", "csv", "json"]
    # Q2 has ended and is overdue, with drafts as at the page's position
    due = row(table(html, "due"), "quarter", "2025-26-Q2")
    assert "30 October 2025" in text(due) and "Overdue" in text(due)
    assert all("position=" in h for h in links_in(due))


def test_a_filed_return_downloads_in_every_format_byte_for_byte(board: Board) -> None:
    html = board.page("/board/pools/bcf/returns")
    q1 = row(table(html, "returns"), "quarter", "2025-26-Q1")
    for href, code in zip(links_in(q1)[-3:], ("xlsx", "csv", "json"), strict=True):
        r = board.client.get(href)
        assert r.status_code == 200, r.text[:500]
        assert r.content == get_return(board.engine, "bcf", "2025-26-Q1", code)[0]
        assert "attachment" in r.headers["content-disposition"]
    r = board.client.get(links_in(q1)[-1])
    assert r.headers["content-type"].startswith("application/json")
    assert "2025-26-Q1" in r.text
    assert r.content.startswith(b"{")
    xlsx = board.client.get(links_in(q1)[-3])
    assert xlsx.content[:2] == b"PK"  # a zip container, as every xlsx is


def test_the_returns_page_as_at_a_date_before_filing_shows_only_drafts(board: Board) -> None:
    html = board.page("/board/pools/bcf/returns", as_at="2025-09-30")
    assert "No return has been filed for this pool" in html
    q1 = row(table(html, "due"), "quarter", "2025-26-Q1")
    draft = board.client.get(links_in(q1)[-1])  # JSON, as at the page's position
    assert draft.status_code == 200
    assert "draft" in draft.headers["content-disposition"]


def test_a_section_75_pool_offers_its_annual_memorandum_in_every_format(board: Board) -> None:
    html = board.page("/board/pools/eq/returns")
    assert 'id="returns"' not in html  # quarterly returns are for BCF pools
    memo = row(table(html, "memoranda"), "year", "2025-26")
    hrefs = links_in(memo)
    assert [re.findall(r"format=([a-z]+)", h) for h in hrefs] == [["xlsx"], ["csv"], ["json"]]
    r = board.client.get(hrefs[-1])
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    assert "2025-26" in r.text


# --- every page has the frame ---------------------------------------------------------------------


PAGES = [
    "/board/",
    "/board/pools/eq/years/2025-26",
    "/board/pools/alliance/years/2025-26",
    "/board/pools/alliance/alliance?period=2025-26-Q1",
    "/board/pools/eq/returns",
    "/board/pools/bcf/returns",
    "/board/pools/bcf/years/2025-26",
    "/board/pools/eq/events",
    "/board/pools/eq/years/2025-26/trace?figure=pool:spend",
    "/board/events/1",
]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_has_a_skip_link_landmarks_one_h1_and_the_as_at_form(
    board: Board, path: str
) -> None:
    html = board.page(path)
    assert '<html lang="en-GB">' in html
    assert '<a href="#main-content" class="skip-link">' in html
    assert '<main id="main-content"' in html and '<header class="header"' in html
    assert html.count("<h1") == 1
    assert 'aria-label="Breadcrumb"' in html
    assert 'id="as-at-date" name="as_at_date"' in html and 'id="as-at-position"' in html
    assert all("<caption" in t for t in re.findall(r"<table.*?</table>", html, re.S))


# --- the formatting and chart helpers the pages use -----------------------------------------


def test_pounds_have_thousands_separators_two_decimals_and_a_true_minus_sign() -> None:
    from api.board import fmt

    assert fmt.pounds(536012300) == "£5,360,123.00"
    assert fmt.pounds(-75956789) == f"{MINUS}£759,567.89"
    assert fmt.pounds(5) == "£0.05" and fmt.pounds(0) == "£0.00"
    assert fmt.pounds(10_000_000, signed=True) == "+£100,000.00"
    assert fmt.pounds(0, signed=True) == "£0.00"
    assert (
        fmt.pounds_short(525_888_325) == "£5.3m" and fmt.pounds_short(-3_500_000) == f"{MINUS}£35k"
    )
    from fractions import Fraction

    assert fmt.percent(Fraction(4, 7)) == "57.14%"


def test_a_chart_is_an_svg_image_named_by_its_title_and_desc_with_a_data_table() -> None:
    from api.board import charts

    chart = charts.bar_chart(
        "c1",
        "Risk share <by partner>",
        "ncc £57,142.86",
        ["ncc", "city & co"],
        [charts.Series("Risk share", (5_714_286, -2_857_143), charts.BLUE)],
    )
    svg = str(chart.svg)
    assert svg.startswith("<svg") and 'role="img" aria-labelledby="c1-title c1-desc"' in svg
    assert '<title id="c1-title">Risk share &lt;by partner&gt;</title>' in svg
    assert "city &amp; co" in svg and "<script" not in svg
    assert chart.table.rows == (("ncc", "£57,142.86"), ("city & co", f"{MINUS}£28,571.43"))
    trend = charts.trend_chart(
        "c2",
        "Trend",
        "d",
        ["Q1", "Q2"],
        [charts.Series("Income", (100, 200), charts.BLUE)],
        charts.Series("Balance", (100, -50), charts.INK),
    )
    assert "<polyline" in str(trend.svg)
    assert trend.table.headers == ("", "Income", "Balance")


def test_the_pool_page_shows_who_owes_what_aged_as_at_30_september(board: Board) -> None:
    # equal quarterly instalments due 1 April and 1 July; by 30 September ncc and city
    # paid only April's (on 1 July), icb-a nothing: July's are 91 days late
    html = board.page("/board/pools/eq/years/2025-26", as_at="2025-09-30")
    owed = table(html, "receivables-table")
    ncc = row(owed, "partner", "ncc")
    assert cell(ncc, "due_to_date") == "£1,000,000.00"
    assert cell(ncc, "received_to_date") == "£500,000.00"
    assert cell(ncc, "overdue") == "£500,000.00"
    assert cell(ncc, "days_overdue") == "91"
    assert cell(ncc, "age-over_90") == "£500,000.00"
    icb = row(owed, "partner", "icb-a")
    assert cell(icb, "overdue") == "£250,000.00"
    assert cell(icb, "days_overdue") == "182"
    assert "Nottinghamshire County Council" in text(ncc)
    assert '<a href="#receivables">' in html


def test_capitation_shows_its_weights_weighted_populations_and_rounding(board: Board) -> None:
    html = board.page("/board/pools/alliance/years/2025-26")
    assert "0-64 × 1.0; 65-84 × 2.5; 85+ × 6.0" in text(html)
    weighted = table(html, "weighted-populations")
    # north: 80,000 × 1.0 + 15,000 × 2.5 + 2,000 × 6.0 = 129,500
    assert text(row(weighted, "unit", "north")) == "North 129,500.0 129,500.0 129,500.0 129,500.0"
    # south: 60,000 + 30,000 + 15,000; east: 40,000 + 15,000 + 6,000
    assert text(row(weighted, "unit", "south")).endswith("105,000.0")
    assert text(row(weighted, "unit", "east")).endswith("61,000.0")
    assert 'data-capitation="rounding"' in html and "rounded to the penny once" in html


def test_the_alliance_page_shows_the_agreed_gain_and_loss_shares(board: Board) -> None:
    html = board.page("/board/pools/alliance/alliance", period="2025-26-Q1")
    shares = re.search(r'<table data-shares="rapid-response">(.*?)</table>', html, re.S)
    assert shares
    assert "Nottinghamshire County Council 50% 70%" in text(shares.group(1))
    assert "NHS Nottingham and Nottinghamshire ICB 50% 30%" in text(shares.group(1))


def test_outcome_payments_show_each_outcome_met_or_not_with_released_and_withheld(
    board: Board,
) -> None:
    # Mears: £170,000.00 commissioned, 95% base; the £8,500.00 at risk is £4,250.00 an
    # outcome: independence met (released), satisfaction not met or not assessed (withheld)
    html = board.page("/board/pools/alliance/years/2025-26")
    detail = re.search(r'<table data-outcomes="mears">(.*?)</table>', html, re.S)
    assert detail
    met = row(detail.group(1), "outcome", "hc-q1:independence")
    assert "Met" in text(met) and "2025-26-Q1" in text(met)
    assert '<code class="id">hc-q1</code>' in met  # services have no name: shown as an id
    assert (cell(met, "released"), cell(met, "withheld")) == ("£4,250.00", "£0.00")
    other = row(detail.group(1), "outcome", "hc-q1:satisfaction")
    assert (cell(other, "released"), cell(other, "withheld")) == ("£0.00", "£4,250.00")


def test_the_audit_page_lists_the_latest_checkpoints_and_verifies_on_request(
    board: Board,
) -> None:
    r = board.client.get("/board/audit")
    assert r.status_code == 200
    page = text(r.text)
    # the Q1 filing signed a checkpoint at its as-at position, and one after the filing
    # (whose command closes the quarter too)
    assert "Return as at: Better Care Fund, 2025-26-Q1" in page
    assert "Quarter closed: Better Care Fund, 2025-26-Q1" in page
    assert 'id="verify-result"' not in r.text and "Verify now" in page
    r = board.client.get("/board/audit", params={"verify": 1})
    assert r.status_code == 200
    assert 'id="verify-result" data-ok="true"' in r.text
    assert "filed documents all match" in text(r.text)

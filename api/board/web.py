"""What every board page shares: the Jinja environment, the as-at chosen in the
as-at form, links that keep that choice, and the page's frame (title, breadcrumbs,
the signed-in user and the sign-out form's CSRF token)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy import Connection
from starlette.requests import Request

from api.board import fmt
from api.board.auth import BoardUser, csrf_token
from ledger.clock import LONDON, SystemClock, london_today, parse_instant
from ledger.domain.errors import ValidationFailed
from ledger.domain.periods import FinancialYear
from ledger.store.reads import recorded_at_of
from projections import asat

HERE = Path(__file__).resolve().parent
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


@cache
def templates() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(HERE / "templates")),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        pounds=fmt.pounds,
        long_date=fmt.long_date,
        instant=fmt.instant,
        short_hash=fmt.short_hash,
        percent=fmt.percent,
        basis_label=fmt.basis_label,
        direction_label=fmt.direction_label,
        kind_label=fmt.kind_label,
        event_type_label=fmt.event_type_label,
    )
    return env


@dataclass(frozen=True)
class AsAt:
    """The moment a page answers as at: what was asked and the position it names."""

    raw: str | None  # "2025-09-30", "position:12", an instant; None for the latest
    position: int
    head: int
    recorded_at: str | None  # the recorded time of ``position`` (None at position 0)
    today: date  # the London date of "now" on the app's clock
    error: str | None = None
    through: date | None = None  # only facts effective by this date count (6.1)

    @property
    def is_latest(self) -> bool:
        return self.raw is None

    @property
    def date_value(self) -> str:
        return self.raw if self.raw and _DATE.match(self.raw) else ""

    @property
    def position_value(self) -> str:
        return (
            self.raw.removeprefix("position:")
            if self.raw and self.raw.startswith("position:")
            else ""
        )

    @property
    def through_label(self) -> str:
        """ ", through 30 June 2025" when figures are read through a date."""
        return f", through {fmt.long_date(self.through)}" if self.through else ""

    @property
    def label(self) -> str:
        if self.raw is None:
            return "now"
        if _DATE.match(self.raw):
            return f"at the end of {fmt.long_date(date.fromisoformat(self.raw))}"
        if self.raw.startswith("position:"):
            return f"at ledger position {self.position}"
        return f"at {self.raw}"

    @property
    def on(self) -> date:
        """The London date the figures are to (6.1, plan to date): the through date,
        else the date asked for, else the day of the position's recorded time, else
        today."""
        if self.through is not None:
            return self.through
        if self.raw and _DATE.match(self.raw):
            return date.fromisoformat(self.raw)
        if self.raw and self.recorded_at:
            return parse_instant(self.recorded_at).astimezone(LONDON).date()
        return self.today

    @property
    def year(self) -> FinancialYear:
        return FinancialYear.of(self.on)


def chosen_as_at(
    as_at: str | None, as_at_date: str | None, as_at_position: str | None
) -> str | None:
    """The as-at a request asks for: the form's position, else its date, else the
    ``as_at`` parameter links carry (the API's syntax), else None (the latest)."""
    pos = (as_at_position or "").strip()
    if pos:
        return pos if pos.startswith("position:") else f"position:{pos}"
    day = (as_at_date or "").strip()
    if day:
        return day
    raw = (as_at or "").strip()
    return raw or None


def parse_through(raw: str | None) -> tuple[date | None, str | None]:
    """A ``through`` date from an address: (the date, None), or (None, the error)."""
    text = (raw or "").strip()
    if not text:
        return None, None
    if not _DATE.match(text):
        return None, 'Through: must be a date written YYYY-MM-DD, such as "2025-06-30"'
    try:
        return date.fromisoformat(text), None
    except ValueError:
        return None, f"Through: '{text}' is not a real date"


def resolve_as_at(
    conn: Connection, raw: str | None, today: date, through_raw: str | None = None
) -> AsAt:
    head = asat.head_position(conn)
    through, problem = parse_through(through_raw)
    try:
        pos = asat.resolve(conn, raw)
    except ValidationFailed as e:
        message = e.errors[0].message if e.errors else e.detail
        return AsAt(None, head, head, recorded_at_of(conn, head), today, f"As at: {message}")
    if problem is not None:
        return AsAt(raw, pos, head, recorded_at_of(conn, pos) if pos else None, today, problem)
    return AsAt(raw, pos, head, recorded_at_of(conn, pos) if pos else None, today, None, through)


def app_today(request: Request) -> date:
    clock = getattr(request.app.state, "clock", None)
    return london_today(clock if clock is not None else SystemClock())


class Links:
    """Paths to board pages that keep the as-at the reader chose."""

    def __init__(self, request: Request, as_at: AsAt | None) -> None:
        self.request = request
        self.as_at = as_at

    def path(self, name: str, **params: Any) -> str:
        return str(self.request.url_for(name, **{k: str(v) for k, v in params.items()}).path)

    def to(self, name: str, query: dict[str, Any] | None = None, **params: Any) -> str:
        q = {k: v for k, v in (query or {}).items() if v is not None and v != ""}
        if self.as_at is not None and self.as_at.raw is not None and "as_at" not in q:
            q["as_at"] = self.as_at.raw
        if self.as_at is not None and self.as_at.through is not None and "through" not in q:
            q["through"] = self.as_at.through.isoformat()
        base = self.path(name, **params)
        return f"{base}?{urlencode(q)}" if q else base

    def latest(self, name: str, query: dict[str, Any] | None = None, **params: Any) -> str:
        q = {k: v for k, v in (query or {}).items() if v is not None and v != ""}
        base = self.path(name, **params)
        return f"{base}?{urlencode(q)}" if q else base

    def at_date(
        self, d: date, name: str, query: dict[str, Any] | None = None, **params: Any
    ) -> str:
        q = {**(query or {}), "as_at": d.isoformat()}
        return self.latest(name, q, **params)


@dataclass
class Page:
    """The frame of a page."""

    title: str
    request: Request
    user: BoardUser | None
    links: Links
    as_at: AsAt | None = None
    breadcrumbs: list[tuple[str, str | None]] = field(default_factory=list)
    error: bool = False
    route: str = ""
    route_params: dict[str, Any] = field(default_factory=dict)
    keep_query: list[tuple[str, str]] = field(default_factory=list)  # e.g. the period
    quick_dates: list[tuple[str, str]] = field(default_factory=list)

    @property
    def css_url(self) -> str:
        return self.links.path("board_css")

    @property
    def home_url(self) -> str:
        return self.links.to("board_home")

    @property
    def sign_out_url(self) -> str:
        return self.links.path("board_sign_out")

    @property
    def csrf_token(self) -> str:
        return csrf_token(self.request, self.user.csrf_nonce) if self.user else ""

    @property
    def path(self) -> str:
        return str(self.request.url.path)

    @property
    def latest_url(self) -> str:
        if not self.route:
            return self.path
        return self.links.latest(self.route, dict(self.keep_query), **self.route_params)

    def quarter_ends(self, year: FinancialYear) -> None:
        """Quick links to the quarter views of the year's quarters that have passed:
        the figures through each quarter's last day, as at the as-at chosen."""
        if not self.route or self.as_at is None:
            return
        for q in year.quarters:
            if q.end <= self.as_at.today:
                query = {**dict(self.keep_query), "through": q.end.isoformat()}
                if self.as_at.raw is not None:
                    query["as_at"] = self.as_at.raw
                self.quick_dates.append(
                    (
                        f"{q.label[-2:]} (through {fmt.long_date(q.end)})",
                        self.links.latest(self.route, query, **self.route_params),
                    )
                )
        if self.as_at.through is not None:
            query = dict(self.keep_query)
            if self.as_at.raw is not None:
                query["as_at"] = self.as_at.raw
            self.quick_dates.append(
                ("Whole year to date", self.links.latest(self.route, query, **self.route_params))
            )


def render(page: Page, template: str, status: int = 200, **context: Any) -> tuple[str, int]:
    return templates().get_template(template).render(page=page, **context), status

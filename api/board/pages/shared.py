"""What the board pages share: :class:`Fig`, an amount with the link to the events
behind it; :class:`Tracer`, which makes those links for a pool-year; partners' names,
the quarter names and localities' names; a year checked from an address, and the year
a pool's pages open on."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection

from api.board import fmt
from api.board.web import AsAt, Links
from ledger.domain.periods import parse_year
from projections.parties import partners_at
from projections.views import PoolView


@dataclass(frozen=True)
class Fig:
    """An amount shown on a page, with the link to the events behind it."""

    pence: int
    href: str | None = None
    context: str = ""  # read after the amount by screen readers: "NHS Bassetlaw received"
    signed: bool = False

    @property
    def text(self) -> str:
        return fmt.pounds(self.pence, signed=self.signed)


class Tracer:
    """Builds figure links for one pool-year: ``partner:ID:FIELD``, ``pool:FIELD``,
    ``scheme:ID:FIELD``, as :func:`projections.queries.trace_at` reads them."""

    def __init__(self, links: Links, pool_id: str, year: str) -> None:
        self.links, self.pool_id, self.year = links, pool_id, year

    def href(self, figure: str, quarter: str | None = None) -> str:
        return self.links.to(
            "board_trace",
            {"figure": figure, "quarter": quarter},
            pool_id=self.pool_id,
            year=self.year,
        )

    def fig(
        self,
        pence: int,
        figure: str | None,
        context: str = "",
        signed: bool = False,
        *,
        quarter: str | None = None,
    ) -> Fig:
        return Fig(pence, self.href(figure, quarter) if figure else None, context, signed)


def names_of(conn: Connection, at: int) -> dict[str, str]:
    return {p.partner_id: p.name for p in partners_at(conn, at)}


def choose_year(pool: PoolView, at: AsAt) -> str | None:
    """The year a pool's page opens on: the as-at's financial year when the pool has a
    plan for it, else its latest plan year before that, else its first."""
    if not pool.years:
        return None
    current = at.year.label
    if current in pool.years:
        return current
    earlier = [y for y in pool.years if y <= current]
    return earlier[-1] if earlier else pool.years[0]


def check_year(text: str) -> str:
    return parse_year(text, "year").label


QUARTERS = ("Q1", "Q2", "Q3", "Q4")


def unit_name(unit_id: str) -> str:
    return unit_id.replace("-", " ").replace("_", " ").title()

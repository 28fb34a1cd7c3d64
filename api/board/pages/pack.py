"""The board pack: one printable document of a pool's year as at a moment, for the
board to read before a meeting.

It recomputes nothing: the figures are those of the pool's year page
(:func:`~api.board.pages.pool_year.pool_year`), the returns page
(:func:`~api.board.pages.returns_page.returns_page`) and, for a pool with
risk/reward schemes, the alliance page for the year
(:func:`~api.board.pages.alliance.alliance`), all read in the one read transaction the
route opens. What it adds is the as-at line every printed page carries: the position,
its recorded time and the chain head (the hash of the event at that position), by which
a reader can check the pack against the ledger later.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection

from api.board import fmt
from api.board.pages.alliance import alliance
from api.board.pages.pool_year import PoolYear, pool_year
from api.board.pages.returns_page import ReturnsPage, returns_page
from api.board.web import AsAt, Links
from ledger.store.reads import hash_at

# BCF scheme commissioners are categories, not partners (the template's words).
COMMISSIONERS = {
    "la": "commissioned by the local authority",
    "icb": "commissioned by the ICB",
    "nhs": "commissioned by the NHS",
    "joint": "jointly commissioned",
}


@dataclass(frozen=True)
class AsAtLine:
    """What every page of the pack says about the moment it was read as at."""

    position: int
    head: int
    recorded_at: str | None
    chain_head: str
    label: str  # "now", "at the end of 30 September 2025", ...
    through: str  # ", through 30 June 2025" or ""

    @property
    def text(self) -> str:
        recorded = f", recorded {fmt.instant(self.recorded_at)}" if self.recorded_at else ""
        return (
            f"As at ledger position {self.position}{recorded}{self.through}; "
            f"chain head {self.chain_head}"
        )


@dataclass
class Pack:
    year: PoolYear
    returns: ReturnsPage
    line: AsAtLine
    risk_reward: list[Any] = field(default_factory=list)  # alliance RiskRewardBlocks

    def commissioner(self, code: str) -> str:
        """Who commissions a scheme, in words: a category, else the partner's name."""
        return COMMISSIONERS.get(code) or f"commissioned by {self.year.names.get(code, code)}"


def pack(conn: Connection, at: AsAt, links: Links, pool_id: str, year: str) -> Pack:
    py = pool_year(conn, at, links, pool_id, year)
    rets = returns_page(conn, at, links, pool_id)
    rr = alliance(conn, at, links, pool_id, year)["schemes"] if py.has_risk_reward else []
    line = AsAtLine(
        position=at.position,
        head=at.head,
        recorded_at=at.recorded_at,
        chain_head=hash_at(conn, at.position),
        label=at.label,
        through=at.through_label,
    )
    return Pack(py, rets, line, rr)

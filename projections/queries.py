"""The read side's questions, each answerable as at any position, and ``Reader``.

The ``*_at`` functions take an open connection and a position, so a caller (a
return, a page) can answer several questions as at one position consistently; they
live in small modules (``balances``, ``alliance``, ``metrics``, ``returns_data``,
``trace``, ``parties``, ``base``, ``money_lines``): import each from there.
``Reader(engine)`` opens one read transaction per question and resolves an ``as_at``
(an RFC 3339 instant, a date meaning the end of that day in Europe/London,
``position:N``, an int, or None for the head) first.

Unknown pools raise ``NotFound``; bad years, periods, as-ats and figures raise
``ValidationFailed`` naming the field.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

from sqlalchemy import Connection, Engine, Select, select

from ledger.store import tables as lt
from projections import asat
from projections.alliance import capitation_at, outcome_payments_at, risk_reward_at
from projections.balances import (
    balances_at,
    risk_share_at,
    scheme_spend_at,
)
from projections.metrics import metrics_at
from projections.parties import partners_at, pool_at, pools_at
from projections.returns_data import (
    income_by_stream_at,
    prior_period_adjustments_at,
    quarterly_trend_at,
)
from projections.trace import Traced, trace_at, traced_at
from projections.views import (
    Balances,
    CapitationView,
    IncomeByStreamView,
    MetricsView,
    OutcomePaymentsView,
    PartnerView,
    PoolView,
    PriorPeriodAdjustmentsView,
    QuarterlyTrendView,
    RiskRewardView,
    RiskShareView,
    SchemeSpend,
)

AsAt = str | int | None


@cache
def _head_statement() -> Select[Any]:
    return select(lt.ledger_head.c.position).where(lt.ledger_head.c.id == 1)


def resolve(conn: Connection, as_at: AsAt) -> int:
    """``asat.resolve``, with the head (the usual question) read by a statement built
    once."""
    if as_at is None or as_at == "":
        return int(conn.execute(_head_statement()).scalar_one())
    return asat.resolve(conn, as_at)


class Reader:
    """Read transactions over the read models for the API, board pages and returns."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @contextmanager
    def at(self, as_at: AsAt = None) -> Iterator[tuple[Connection, int]]:
        """One consistent read: the connection and the resolved position."""
        with self.engine.connect() as conn, conn.begin():
            yield conn, resolve(conn, as_at)

    def position(self, as_at: AsAt = None) -> int:
        with self.at(as_at) as (_, pos):
            return pos

    # -- 6.1, 6.2 ----------------------------------------------------------------------

    def balances(self, pool_id: str, year: str, as_at: AsAt = None) -> Balances:
        with self.at(as_at) as (conn, pos):
            return balances_at(conn, pool_id, year, pos)

    def risk_share(self, pool_id: str, year: str, as_at: AsAt = None) -> RiskShareView:
        with self.at(as_at) as (conn, pos):
            return risk_share_at(conn, pool_id, year, pos)

    def scheme_spend(self, pool_id: str, year: str, as_at: AsAt = None) -> list[SchemeSpend]:
        with self.at(as_at) as (conn, pos):
            return scheme_spend_at(conn, pool_id, year, pos)

    def trace(self, pool_id: str, year: str, figure: str, as_at: AsAt = None) -> list[int]:
        with self.at(as_at) as (conn, pos):
            return trace_at(conn, pool_id, year, figure, pos)

    def traced(self, pool_id: str, year: str, figure: str, as_at: AsAt = None) -> Traced:
        with self.at(as_at) as (conn, pos):
            return traced_at(conn, pool_id, year, figure, pos)

    # -- alliances (6.3 - 6.6) ----------------------------------------------------------

    def risk_reward(self, pool_id: str, period: str, as_at: AsAt = None) -> RiskRewardView:
        with self.at(as_at) as (conn, pos):
            return risk_reward_at(conn, pool_id, period, pos)

    def capitation(self, pool_id: str, year: str, as_at: AsAt = None) -> CapitationView:
        with self.at(as_at) as (conn, pos):
            return capitation_at(conn, pool_id, year, pos)

    def outcome_payments(
        self, pool_id: str, period: str, as_at: AsAt = None
    ) -> OutcomePaymentsView:
        with self.at(as_at) as (conn, pos):
            return outcome_payments_at(conn, pool_id, period, pos)

    def metrics(self, pool_id: str, period: str, as_at: AsAt = None) -> MetricsView:
        with self.at(as_at) as (conn, pos):
            return metrics_at(conn, pool_id, period, pos)

    # -- returns and charts -------------------------------------------------------------

    def income_by_stream(self, pool_id: str, year: str, as_at: AsAt = None) -> IncomeByStreamView:
        with self.at(as_at) as (conn, pos):
            return income_by_stream_at(conn, pool_id, year, pos)

    def prior_period_adjustments(
        self, pool_id: str, year: str, as_at: AsAt = None, reported_after: int | None = None
    ) -> PriorPeriodAdjustmentsView:
        with self.at(as_at) as (conn, pos):
            return prior_period_adjustments_at(conn, pool_id, year, pos, reported_after)

    def quarterly_trend(self, pool_id: str, year: str, as_at: AsAt = None) -> QuarterlyTrendView:
        with self.at(as_at) as (conn, pos):
            return quarterly_trend_at(conn, pool_id, year, pos)

    # -- parties ------------------------------------------------------------------------

    def partners(self, as_at: AsAt = None) -> list[PartnerView]:
        with self.at(as_at) as (conn, pos):
            return partners_at(conn, pos)

    def pools(self, as_at: AsAt = None, only: set[str] | None = None) -> list[PoolView]:
        with self.at(as_at) as (conn, pos):
            return pools_at(conn, pos, only)

    def pool(self, pool_id: str, as_at: AsAt = None) -> PoolView | None:
        with self.at(as_at) as (conn, pos):
            return pool_at(conn, pool_id, pos)

"""Trace a figure of a pool-year to the positions of the events behind it.

A figure is named ``subject:field`` or ``subject:id:field``:

==================================  ==================================================
``partner:{id}:planned``            the plan in force
``partner:{id}:share``              the plan in force
``partner:{id}:received``           its contributions and refunds for the year
``partner:{id}:transfers_in``       pool-to-partner and partner-to-partner transfers
                                    it received
``partner:{id}:transfers_out``      partner-to-pool and partner-to-partner transfers
                                    it paid
``partner:{id}:risk_share``         the settlement (once settled), the plan and
                                    everything behind the variance
``partner:{id}:net_obligation``     planned + risk share
``partner:{id}:outstanding``        net obligation + received
``pool:planned``                    the plan in force
``pool:opening_balance``            the opening balance recorded for the year, and the
                                    previous year's settlement when it carried money in
``pool:income``                     every contribution and refund
``pool:spend``                      every expenditure and credit
``pool:transfers_in|transfers_out`` partner-to-pool | pool-to-partner transfers
``pool:balance``                    opening balance, income, transfers and spend
``pool:outturn``                    by its basis: ``actual``: the Q4 close and the
                                    spend; ``forecast``: the whole-pool forecast in
                                    force, or the scheme forecasts in force and the
                                    plan (for schemes without one); ``actual_to_date``:
                                    the spend
``pool:variance``                   the outturn, the plan and the opening balance
``pool:risk_share``                 as ``partner:{id}:risk_share``
``scheme:{id}:planned``             the plan in force
``scheme:{id}:actual``              its expenditure and credits
``scheme:{id}:forecast``            its forecast in force, else the plan
``scheme:{id}:outturn``             Q4 closed: the close and its spend; else as forecast
``stream:{id}:planned``             the plan in force
``stream:{id}:received``            contributions and refunds to the stream
``quarter:{Qn}:income|spend``       the quarter's contributions and refunds | spend
                                    and credits (Qn is Q1 to Q4 of the year)
``quarter:{Qn}:transfers_in|out``   the quarter's pool transfers in | out
==================================  ==================================================

Money figures list every line behind them: a reversed posting and its reversal both
appear (they cancel in the figure; an auditor sees the correction). Positions are
those at or before ``at``, ascending. An unknown figure is refused
(``ValidationFailed`` naming the field ``trace``).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from sqlalchemy import Connection

from ledger.domain.errors import ValidationFailed
from ledger.domain.periods import parse_year
from projections.balances import INCOME_KINDS, SPEND_KINDS, YearPosition, year_position
from projections.money_lines import line_filter, line_positions

_FIGURE = re.compile(
    r"^(?:(?P<subject>partner|scheme|stream|quarter):(?P<id>[A-Za-z0-9_-]{1,60})|pool)"
    r":(?P<field>[a-z_]{1,40})$"
)
FIELDS: dict[str, tuple[str, ...]] = {
    "partner": (
        "planned",
        "share",
        "received",
        "transfers_in",
        "transfers_out",
        "risk_share",
        "net_obligation",
        "outstanding",
    ),
    "pool": (
        "planned",
        "opening_balance",
        "income",
        "spend",
        "transfers_in",
        "transfers_out",
        "balance",
        "outturn",
        "variance",
        "risk_share",
    ),
    "scheme": ("planned", "actual", "forecast", "outturn"),
    "stream": ("planned", "received"),
    "quarter": ("income", "spend", "transfers_in", "transfers_out"),
}
SYNTAX = (
    "partner:{id}:" + "|".join(FIELDS["partner"]),
    "pool:" + "|".join(FIELDS["pool"]),
    "scheme:{id}:" + "|".join(FIELDS["scheme"]),
    "stream:{id}:" + "|".join(FIELDS["stream"]),
    "quarter:{Q1..Q4}:" + "|".join(FIELDS["quarter"]),
)


def _refuse(figure: str, why: str) -> ValidationFailed:
    return ValidationFailed.field(
        "trace", f"'{figure}' {why}; a figure is one of: {'; '.join(SYNTAX)}"
    )


class _Tracer:
    def __init__(self, conn: Connection, pool_id: str, year: str, at: int) -> None:
        self.conn, self.pool_id, self.year, self.at = conn, pool_id, year, at
        self.yp: YearPosition = year_position(conn, pool_id, year, at)

    def lines(
        self,
        kinds: tuple[str, ...],
        *,
        partner: str | None = None,
        counterparty: str | None = None,
        scheme: str | None = None,
        stream: str | None = None,
        quarter: str | None = None,
    ) -> set[int]:
        return line_positions(
            self.conn,
            self.at,
            line_filter(
                self.pool_id,
                self.year,
                kinds,
                partner=partner,
                counterparty=counterparty,
                scheme=scheme,
                stream=stream,
                quarter=quarter,
            ),
        )

    def plan(self) -> set[int]:
        return {self.yp.plan_position} if self.yp.plan_position is not None else set()

    def spend(self) -> set[int]:
        return self.lines(SPEND_KINDS)

    def opening(self) -> set[int]:
        out = self.lines(("opening",))
        if self.yp.carried_from is not None:
            out.add(self.yp.carried_from.position)
        return out

    def outturn(self) -> set[int]:
        yp = self.yp
        if yp.basis == "actual":
            assert yp.q4_close is not None
            return {yp.q4_close.position} | self.spend()
        if yp.basis == "forecast":
            if yp.whole_forecast is not None:
                return {yp.whole_forecast.position}
            out = {f.position for f in yp.scheme_forecast_facts.values()}
            schemes = yp.plan.schemes if yp.plan else ()
            if any(s.id not in yp.scheme_forecast_facts for s in schemes):
                out |= self.plan()
            return out
        return self.spend()

    def variance(self) -> set[int]:
        return self.outturn() | self.plan() | self.opening()

    def risk_share(self) -> set[int]:
        out = self.plan() | self.variance()
        if self.yp.settled is not None:
            out.add(self.yp.settled.position)
        return out

    def partner(self, pid: str, field: str) -> set[int]:
        if field in ("planned", "share"):
            return self.plan()
        if field == "received":
            return self.lines(INCOME_KINDS, partner=pid)
        if field == "transfers_in":
            return self.lines(("transfer_out",), partner=pid) | self.lines(
                ("partner_transfer",), counterparty=pid
            )
        if field == "transfers_out":
            return self.lines(("transfer_in", "partner_transfer"), partner=pid)
        if field == "risk_share":
            return self.risk_share()
        if field == "net_obligation":
            return self.plan() | self.risk_share()
        return self.plan() | self.risk_share() | self.lines(INCOME_KINDS, partner=pid)

    def pool(self, field: str) -> set[int]:
        simple: dict[str, Callable[[], set[int]]] = {
            "planned": self.plan,
            "opening_balance": self.opening,
            "income": lambda: self.lines(INCOME_KINDS),
            "spend": self.spend,
            "transfers_in": lambda: self.lines(("transfer_in",)),
            "transfers_out": lambda: self.lines(("transfer_out",)),
            "outturn": self.outturn,
            "variance": self.variance,
            "risk_share": self.risk_share,
        }
        if field in simple:
            return simple[field]()
        return self.opening() | self.lines(
            (*INCOME_KINDS, *SPEND_KINDS, "transfer_in", "transfer_out")
        )

    def scheme(self, sid: str, field: str) -> set[int]:
        yp = self.yp
        if field == "planned":
            return self.plan()
        if field == "actual" or (field == "outturn" and yp.q4_close is not None):
            out = self.lines(SPEND_KINDS, scheme=sid)
            if field == "outturn" and yp.q4_close is not None:
                out.add(yp.q4_close.position)
            return out
        forecast = yp.scheme_forecast_facts.get(sid)
        return {forecast.position} if forecast is not None else self.plan()


def trace_at(conn: Connection, pool_id: str, year: str, figure: str, at: int) -> list[int]:
    """The positions of the events behind ``figure`` of the pool-year as at ``at``."""
    m = _FIGURE.match(figure.strip())
    if m is None:
        raise _refuse(figure, "is not a figure")
    subject = m.group("subject") or "pool"
    ident, field = m.group("id"), m.group("field")
    if field not in FIELDS[subject]:
        raise _refuse(figure, f"names no figure '{field}' of a {subject}")
    year = parse_year(year).label
    tracer = _Tracer(conn, pool_id, year, at)
    yp = tracer.yp
    if subject == "pool":
        found = tracer.pool(field)
    elif subject == "partner":
        planned = yp.plan.planned_by_partner() if yp.plan else {}
        if ident not in yp.members and ident not in planned:
            raise _refuse(figure, f"names '{ident}', not a partner of pool '{pool_id}'")
        found = tracer.partner(ident, field)
    elif subject == "scheme":
        schemes = {s.id for s in yp.plan.schemes} if yp.plan else set()
        if ident not in schemes and ident not in yp.scheme_actuals:
            raise _refuse(figure, f"names '{ident}', not a scheme of pool '{pool_id}' in {year}")
        found = tracer.scheme(ident, field)
    elif subject == "stream":
        found = tracer.plan() if field == "planned" else tracer.lines(INCOME_KINDS, stream=ident)
    else:
        if ident not in ("Q1", "Q2", "Q3", "Q4"):
            raise _refuse(figure, f"names '{ident}', not a quarter Q1 to Q4")
        kinds = {
            "income": INCOME_KINDS,
            "spend": SPEND_KINDS,
            "transfers_in": ("transfer_in",),
            "transfers_out": ("transfer_out",),
        }[field]
        found = tracer.lines(kinds, quarter=f"{year}-{ident}")
    return sorted(p for p in found if p <= at)

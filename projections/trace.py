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

**Signed amounts** (domain.md 8): each event is listed with the signed amount by which
it counts in the figure, and those amounts sum exactly to the figure. A refund or
credit note counts negative in income or spend, spend negative in the balance, a
reversal with its target's amount negated, the plan with the planned figure it gives
(negative in a variance), a forecast with its amount. An event that informs a figure
without adding to it (the Q4 close behind an actual outturn, the inputs of a risk
share) counts 0. A figure the agreement's rule computes rather than sums (the
provisional risk share, and the net obligation and outstanding that include it)
carries that computed part as ``by_rule``: the amounts and ``by_rule`` sum to the
figure. A partner's ``share`` is a fraction, not money: its events carry no amount.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection, and_, or_, select

from ledger.domain.errors import RuleViolation, ValidationFailed
from ledger.domain.periods import parse_year
from ledger.store import tables as lt
from projections import tables as t
from projections.balances import YearPosition, risk_share_at, year_position
from projections.money_lines import line_filter, through_cut

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
_ID = "[A-Za-z0-9_-]{1,60}"
FIGURE_PATTERN = (
    f"^(partner:{_ID}:({'|'.join(FIELDS['partner'])})"
    f"|pool:({'|'.join(FIELDS['pool'])})"
    f"|scheme:{_ID}:({'|'.join(FIELDS['scheme'])})"
    f"|stream:{_ID}:({'|'.join(FIELDS['stream'])})"
    f"|quarter:Q[1-4]:({'|'.join(FIELDS['quarter'])}))$"
)
"""Every figure a trace may name, as the OpenAPI pattern states it (an id the pool-year
does not know is refused by rule)."""
SYNTAX = (
    "partner:{id}:" + "|".join(FIELDS["partner"]),
    "pool:" + "|".join(FIELDS["pool"]),
    "scheme:{id}:" + "|".join(FIELDS["scheme"]),
    "stream:{id}:" + "|".join(FIELDS["stream"]),
    "quarter:{Q1..Q4}:" + "|".join(FIELDS["quarter"]),
)


def _refuse(figure: str, why: str, *, rule: bool = False) -> ValidationFailed:
    """A figure not of the form (``ValidationFailed``), or naming an id the pool-year
    does not know (``rule``: a ``RuleViolation``)."""
    kind = RuleViolation if rule else ValidationFailed
    return kind.field("trace", f"'{figure}' {why}; a figure is one of: {'; '.join(SYNTAX)}")


Counts = dict[int, int]  # position -> the signed pence it counts in the figure

INCOME: Mapping[str, int] = {"contribution": 1, "refund": -1}
SPEND: Mapping[str, int] = {"expenditure": 1, "credit": -1}
BALANCE: Mapping[str, int] = {
    "contribution": 1,
    "refund": -1,
    "transfer_in": 1,
    "transfer_out": -1,
    "expenditure": -1,
    "credit": 1,
}


@dataclass(frozen=True)
class Traced:
    """A figure's trace: each event's signed amount (None for a share), and the part a
    rule computes from them (``by_rule``: amounts + by_rule = the figure)."""

    amounts: dict[int, int | None]
    by_rule: int | None = None

    @property
    def positions(self) -> list[int]:
        return sorted(self.amounts)


def _plus(*parts: Counts, signs: tuple[int, ...] | None = None) -> Counts:
    out: Counts = {}
    for i, part in enumerate(parts):
        sign = signs[i] if signs else 1
        for p, a in part.items():
            out[p] = out.get(p, 0) + sign * a
    return out


class _Tracer:
    def __init__(
        self, conn: Connection, pool_id: str, year: str, at: int, through: date | None = None
    ) -> None:
        self.conn, self.pool_id, self.year, self.at = conn, pool_id, year, at
        # through a date: the year's facts as of it (plan, forecasts, Q4 close) and only
        # the lines the figures count (``money_lines.through_cut``), so the trace
        # lists no event effective after it and still sums to the figure read through it
        self.yp: YearPosition = year_position(conn, pool_id, year, at, through=through)
        self.cut = through_cut(parse_year(year), through)

    def lines(
        self,
        signs: Mapping[str, int],
        *,
        partner: str | None = None,
        counterparty: str | None = None,
        scheme: str | None = None,
        stream: str | None = None,
        quarter: str | None = None,
    ) -> Counts:
        """The lines of the groups chosen, each with its amount signed as its kind
        counts (a reversal's line is its target's negated, at the reversal)."""
        g, r = t.rm_groups.c, t.rm_lines.c
        conditions = line_filter(
            self.pool_id,
            self.year,
            tuple(signs),
            partner=partner,
            counterparty=counterparty,
            scheme=scheme,
            stream=stream,
            quarter=quarter,
        )
        q = (
            select(r.position, g.kind, r.amount)
            .join_from(t.rm_groups, t.rm_lines, r.group_id == g.group_id)
            .where(*conditions, r.position <= self.at)
        )
        cut = self.cut
        if cut is not None:  # as ``money_lines.line_sums_queries`` cuts the sums
            whole = g.quarter <= cut.whole
            if cut.partial is None:
                q = q.where(whole)
            else:
                e = lt.events.c
                q = q.join(lt.events, e.position == r.position).where(
                    or_(whole, and_(g.quarter == cut.partial, e.effective_date <= cut.through))
                )
        out: Counts = {}
        for row in self.conn.execute(q):
            pos = int(row.position)
            out[pos] = out.get(pos, 0) + signs[row.kind] * int(row.amount)
        return out

    def plan(self, amount: int = 0) -> Counts:
        """The plan in force, counting ``amount`` (the planned figure it gives)."""
        return {self.yp.plan_position: amount} if self.yp.plan_position is not None else {}

    def planned_of(self, pid: str) -> int:
        return self.yp.plan.planned_by_partner().get(pid, 0) if self.yp.plan else 0

    def spend(self) -> Counts:
        return self.lines(SPEND)

    def opening(self) -> Counts:
        out = self.lines({"opening": 1})
        if self.yp.carried_from is not None:
            carried = self.yp.opening - self.yp.opening_recorded
            out = _plus(out, {self.yp.carried_from.position: carried})
        return out

    def outturn(self) -> Counts:
        yp = self.yp
        if yp.basis == "actual":
            assert yp.q4_close is not None
            return _plus({yp.q4_close.position: 0}, self.spend())
        if yp.basis == "forecast":
            if yp.whole_forecast is not None:
                return {yp.whole_forecast.position: int(yp.whole_forecast.data["amount"])}
            out = {f.position: int(f.data["amount"]) for f in yp.scheme_forecast_facts.values()}
            schemes = yp.plan.schemes if yp.plan else ()
            rest = [s for s in schemes if s.id not in yp.scheme_forecast_facts]
            if rest:
                out = _plus(out, self.plan(sum(s.planned for s in rest)))
            return out
        return self.spend()

    def variance(self) -> Counts:
        return _plus(
            self.outturn(), self.plan(self.yp.planned_total), self.opening(), signs=(1, -1, -1)
        )

    def risk_share(self, pid: str | None) -> Traced:
        """``pid``'s risk share (None: the pool's, all partners'): the settlement once
        settled; else computed by the rule from the plan and the variance's events."""
        rs = risk_share_at(self.conn, self.pool_id, self.year, self.at, self.yp)
        shares = dict(rs.allocations)
        value = sum(shares.values()) if pid is None else shares.get(pid, 0)
        inputs: Counts = dict.fromkeys(_plus(self.plan(), self.variance()), 0)
        if self.yp.settled is not None:
            inputs[self.yp.settled.position] = value
            return Traced(dict(inputs))
        return Traced(dict(inputs), by_rule=value)

    def partner(self, pid: str, field: str) -> Traced:
        if field == "share":
            return Traced(dict.fromkeys(self.plan(), None))
        if field == "planned":
            return Traced(dict(self.plan(self.planned_of(pid))))
        if field == "received":
            return Traced(dict(self.lines(INCOME, partner=pid)))
        if field == "transfers_in":
            return Traced(
                dict(
                    _plus(
                        self.lines({"transfer_out": 1}, partner=pid),
                        self.lines({"partner_transfer": 1}, counterparty=pid),
                    )
                )
            )
        if field == "transfers_out":
            return Traced(dict(self.lines({"transfer_in": 1, "partner_transfer": 1}, partner=pid)))
        risk = self.risk_share(pid)
        if field == "risk_share":
            return risk
        own: Counts = self.plan(self.planned_of(pid))
        if field == "outstanding":
            own = _plus(own, self.lines(INCOME, partner=pid), signs=(1, -1))
        base = {p: a or 0 for p, a in risk.amounts.items()}
        return Traced(dict(_plus(base, own)), by_rule=risk.by_rule)

    def pool(self, field: str) -> Traced:
        simple: dict[str, Callable[[], Counts]] = {
            "planned": lambda: self.plan(self.yp.planned_total),
            "opening_balance": self.opening,
            "income": lambda: self.lines(INCOME),
            "spend": self.spend,
            "transfers_in": lambda: self.lines({"transfer_in": 1}),
            "transfers_out": lambda: self.lines({"transfer_out": 1}),
            "outturn": self.outturn,
            "variance": self.variance,
            "balance": lambda: _plus(self.opening(), self.lines(BALANCE)),
        }
        if field in simple:
            return Traced(dict(simple[field]()))
        return self.risk_share(None)

    def scheme(self, sid: str, field: str) -> Counts:
        yp = self.yp
        scheme = yp.plan.scheme(sid) if yp.plan else None
        if field == "planned":
            return self.plan(scheme.planned if scheme else 0)
        if field == "actual" or (field == "outturn" and yp.q4_close is not None):
            out = self.lines(SPEND, scheme=sid)
            if field == "outturn" and yp.q4_close is not None:
                out = _plus({yp.q4_close.position: 0}, out)
            return out
        if scheme is None:  # spend against a scheme the plan no longer has: its actual
            return self.lines(SPEND, scheme=sid)
        forecast = yp.scheme_forecast_facts.get(sid)
        if forecast is not None:
            return {forecast.position: int(forecast.data["amount"])}
        return self.plan(scheme.planned)

    def stream(self, ident: str, field: str) -> Counts:
        if field == "planned":
            plan = self.yp.plan
            planned = (
                sum(c.amount for c in plan.contributions if c.funding_stream == ident)
                if plan
                else 0
            )
            return self.plan(planned)
        return self.lines(INCOME, stream=ident)


def trace_at(
    conn: Connection, pool_id: str, year: str, figure: str, at: int, through: date | None = None
) -> list[int]:
    """The positions of the events behind ``figure`` of the pool-year as at ``at``."""
    return traced_at(conn, pool_id, year, figure, at, through=through).positions


def traced_at(
    conn: Connection,
    pool_id: str,
    year: str,
    figure: str,
    at: int,
    *,
    through: date | None = None,
) -> Traced:
    """The events behind ``figure`` of the pool-year as at ``at`` (and through an
    effective date: as the figure read through it), each with the signed amount by
    which it counts in the figure."""
    m = _FIGURE.match(figure.strip())
    if m is None:
        raise _refuse(figure, "is not a figure")
    subject = m.group("subject") or "pool"
    ident, field = m.group("id"), m.group("field")
    if field not in FIELDS[subject]:
        raise _refuse(figure, f"names no figure '{field}' of a {subject}")
    year = parse_year(year).label
    tracer = _Tracer(conn, pool_id, year, at, through)
    yp = tracer.yp
    if subject == "pool":
        found = tracer.pool(field)
    elif subject == "partner":
        planned = yp.plan.planned_by_partner() if yp.plan else {}
        if ident not in yp.members and ident not in planned:
            raise _refuse(figure, f"names '{ident}', not a partner of pool '{pool_id}'", rule=True)
        found = tracer.partner(ident, field)
    elif subject == "scheme":
        schemes = {s.id for s in yp.plan.schemes} if yp.plan else set()
        if ident not in schemes and ident not in yp.scheme_actuals:
            raise _refuse(
                figure, f"names '{ident}', not a scheme of pool '{pool_id}' in {year}", rule=True
            )
        found = Traced(dict(tracer.scheme(ident, field)))
    elif subject == "stream":
        found = Traced(dict(tracer.stream(ident, field)))
    else:
        if ident not in ("Q1", "Q2", "Q3", "Q4"):
            raise _refuse(figure, f"names '{ident}', not a quarter Q1 to Q4")
        signs = {
            "income": INCOME,
            "spend": SPEND,
            "transfers_in": {"transfer_in": 1},
            "transfers_out": {"transfer_out": 1},
        }[field]
        found = Traced(dict(tracer.lines(signs, quarter=f"{year}-{ident}")))
    kept = {p: a for p, a in found.amounts.items() if p <= at}
    return Traced(dict(sorted(kept.items())), found.by_rule)

"""A pool's year: the key figures, each partner's balances, transfers between
partners, spend by scheme and scheme type, the charts, capitation, outcome payments
and metrics (the trend, income streams, risk-share chart and rules are built in
:mod:`api.board.pages.pool_year_sections`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction
from typing import Any

from sqlalchemy import Connection

from api.board import charts, fmt
from api.board.names import Names, names_at
from api.board.pages.pool_year_sections import (
    risk_chart,
    rule_text,
    stream_row,
    trend_chart,
    trend_row,
)
from api.board.pages.shared import QUARTERS, Fig, Tracer, names_of, unit_name
from api.board.web import AsAt, Links
from ledger.domain.errors import NotFound
from ledger.domain.periods import parse_period, parse_year
from projections.alliance import capitation_at, outcome_payments_at
from projections.asat import as_at_london_date
from projections.balances import balances_at, risk_share_at, scheme_spend_at
from projections.base import plan_at
from projections.metrics import metrics_at
from projections.parties import pool_at
from projections.receivables import receivables_at
from projections.returns_data import income_by_stream_at, quarterly_trend_at
from projections.views import Balances, MetricView, PoolView, RiskShareView, SchemeSpend


@dataclass(frozen=True)
class PartnerRow:
    partner_id: str
    name: str
    planned: Fig
    received: Fig
    transfers_in: Fig
    transfers_out: Fig
    share: Fraction
    risk_share: Fig
    net_obligation: Fig
    outstanding: Fig


@dataclass(frozen=True)
class SchemeRow:
    scheme: SchemeSpend
    planned: Fig
    quarters: tuple[Fig, ...]
    actual: Fig
    forecast: Fig | None  # None: no scheme forecast
    variance: Fig | None  # outturn - planned; None: no scheme forecast


@dataclass(frozen=True)
class TypeRow:
    scheme_type: str
    planned: int
    actual: int
    outturn: int | None  # None when a scheme of the type has no outturn of its own


@dataclass
class PoolYear:
    pool: PoolView
    year: str
    years: tuple[str, ...]
    names: dict[str, str]
    balances: Balances
    risk: RiskShareView
    key: dict[str, Fig]
    partners: list[PartnerRow]
    totals: dict[str, Fig]
    partner_transfers: list[tuple[str, str, Fig]]
    schemes: list[SchemeRow]
    types: list[TypeRow]
    charts: dict[str, charts.Chart] = field(default_factory=dict)
    streams: list[dict[str, Any]] = field(default_factory=list)
    trend: list[dict[str, Any]] = field(default_factory=list)
    capitation: Any = None
    capitation_rows: list[dict[str, Any]] = field(default_factory=list)
    capitation_totals: list[int] = field(default_factory=list)
    outcome_rows: list[dict[str, Any]] = field(default_factory=list)
    outcome_totals: dict[str, int] = field(default_factory=dict)
    metrics: list[MetricView] = field(default_factory=list)
    has_risk_reward: bool = False
    overspend_rule: str = ""
    underspend_rule: str = ""
    closed: tuple[str, ...] = ()
    receivables: Any = None  # projections.receivables.ReceivablesView
    capitation_weights: list[tuple[str, str]] = field(default_factory=list)  # (cohort, weight)
    capitation_weighted: list[tuple[str, str, list[str]]] = field(default_factory=list)
    service_lots: dict[str, str] = field(default_factory=dict)  # service -> its lot (unit)
    trend_pending: list[str] = field(default_factory=list)  # quarters not ended: not charted
    trend_on: str = ""  # the page's date the trend is cut at, in words
    named: Names = field(default_factory=Names)  # every name the page shows
    scope: str | None = None  # an officer's partner: its events only are linked


def pool_year(conn: Connection, at: AsAt, links: Links, pool_id: str, year: str) -> PoolYear:
    pos = at.position
    pool = pool_at(conn, pool_id, pos)
    if pool is None:
        raise NotFound(f"there is no pool '{pool_id}' as at ledger position {pos}")
    names = names_of(conn, pos)
    named = names_at(conn, pos, pool_id, year)
    t = Tracer(links, pool_id, year)
    through = at.through
    b = balances_at(conn, pool_id, year, pos, through=through, on=at.on)
    risk = risk_share_at(conn, pool_id, year, pos, through=through)
    plan = plan_at(conn, pool_id, year, pos)
    p = b.pool
    key = {
        "planned": t.fig(p.planned, "pool:planned", "planned contributions"),
        "opening": t.fig(p.opening_balance, "pool:opening_balance", "the opening balance"),
        "income": t.fig(p.income, "pool:income", "income received"),
        "spend": t.fig(p.spend, "pool:spend", "spend"),
        "transfers_in": t.fig(p.transfers_in, "pool:transfers_in", "transfers in"),
        "transfers_out": t.fig(p.transfers_out, "pool:transfers_out", "transfers out"),
        "balance": t.fig(p.balance, "pool:balance", "the pool balance"),
        "outturn": t.fig(p.outturn, "pool:outturn", "the outturn"),
    }
    if p.variance is not None:
        key["variance"] = t.fig(p.variance, "pool:variance", "the variance", True)
    key["planned_to_date"] = Fig(p.planned_to_date, context="planned spend to date")
    key["actual_to_date"] = t.fig(p.actual_to_date, "pool:spend", "spend to date")
    key["variance_to_date"] = Fig(p.variance_to_date, context="variance to date", signed=True)
    partners = []
    for r in b.partners:
        name = names.get(r.partner_id, r.partner_id)
        f = f"partner:{r.partner_id}:"
        partners.append(
            PartnerRow(
                r.partner_id,
                name,
                t.fig(r.planned, f + "planned", f"{name} planned"),
                t.fig(r.received, f + "received", f"{name} received"),
                t.fig(r.transfers_in, f + "transfers_in", f"{name} transfers in"),
                t.fig(r.transfers_out, f + "transfers_out", f"{name} transfers out"),
                r.share,
                t.fig(r.risk_share, f + "risk_share", f"{name} risk share", True),
                t.fig(r.net_obligation, f + "net_obligation", f"{name} net obligation"),
                t.fig(r.outstanding, f + "outstanding", f"{name} outstanding"),
            )
        )
    totals = {
        "planned": key["planned"],
        "received": key["income"],
        "transfers_in": Fig(sum(r.transfers_in for r in b.partners)),
        "transfers_out": Fig(sum(r.transfers_out for r in b.partners)),
        "risk_share": Fig(sum(r.risk_share for r in b.partners), signed=True),
        "net_obligation": Fig(sum(r.net_obligation for r in b.partners)),
        "outstanding": Fig(sum(r.outstanding for r in b.partners)),
    }
    p2p = [(names.get(a, a), names.get(c, c), Fig(v)) for a, c, v in b.partner_transfers]
    spend = scheme_spend_at(conn, pool_id, year, pos, through=through)
    fy = parse_year(year)
    qlabels = [qq.label for qq in fy.quarters]
    schemes = [
        SchemeRow(
            s,
            t.fig(s.planned, f"scheme:{s.scheme_id}:planned", f"{s.name} planned"),
            tuple(
                t.fig(
                    s.actual_by_quarter.get(ql, 0),
                    f"scheme:{s.scheme_id}:actual",
                    f"{s.name} {ql[-2:]} spend",
                    quarter=ql[-2:],
                )
                for ql in qlabels
            ),
            t.fig(s.actual_year_to_date, f"scheme:{s.scheme_id}:actual", f"{s.name} spend"),
            t.fig(s.outturn, f"scheme:{s.scheme_id}:outturn", f"{s.name} forecast outturn")
            if s.outturn_known
            else None,
            Fig(s.outturn - s.planned, signed=True) if s.outturn_known else None,
        )
        for s in spend
    ]
    by_type: dict[str, list[int]] = {}
    unknown: set[str] = set()
    for s in spend:
        row = by_type.setdefault(s.scheme_type, [0, 0, 0])
        row[0] += s.planned
        row[1] += s.actual_year_to_date
        row[2] += s.outturn
        if not s.outturn_known:
            unknown.add(s.scheme_type)
    types = [
        TypeRow(k, v[0], v[1], None if k in unknown else v[2]) for k, v in sorted(by_type.items())
    ]
    py = PoolYear(
        pool=pool,
        year=year,
        years=pool.years,
        names=names,
        named=named,
        balances=b,
        risk=risk,
        key=key,
        partners=partners,
        totals=totals,
        partner_transfers=p2p,
        schemes=schemes,
        types=types,
        closed=tuple(c for c in pool.closed_quarters if c.startswith(year)),
    )
    rules = plan.risk_share if plan is not None else None
    if rules is not None:
        py.overspend_rule = rule_text(rules.overspend.model_dump(mode="json"), names)
        py.underspend_rule = rule_text(rules.underspend.model_dump(mode="json"), names)
    if any(v for _, v in risk.allocations):
        py.charts["risk"] = risk_chart(risk, names, year)
    if types:
        outturns_known = all(r.outturn is not None for r in types)
        series = [
            charts.Series("Planned", tuple(r.planned for r in types), charts.GREY),
            charts.Series("Actual to date", tuple(r.actual for r in types), charts.BLUE),
        ]
        if outturns_known:
            series.append(
                charts.Series(
                    "Forecast outturn",
                    tuple(r.outturn or 0 for r in types),
                    charts.DARK_BLUE,
                    hatched=True,
                )
            )
        py.charts["types"] = charts.bar_chart(
            "chart-scheme-types",
            f"Spend against plan by scheme type, {year}",
            f"For each scheme type, the planned spend for {year}, the actual spend to date"
            + (" and the forecast outturn. " if outturns_known else " (no scheme forecast). ")
            + "; ".join(
                f"{r.scheme_type}: planned {fmt.pounds(r.planned)}, actual "
                f"{fmt.pounds(r.actual)}"
                + (f", forecast outturn {fmt.pounds(r.outturn)}" if r.outturn is not None else "")
                for r in types
            )
            + ".",
            [r.scheme_type for r in types],
            series,
            caption=f"Spend against plan by scheme type, {year}",
        )
    trend = quarterly_trend_at(conn, pool_id, year, pos, through=through)
    # the chart stops at the last quarter ended by the page's date (no balance for a
    # quarter that has not happened); the quarters left out are named under it
    ended = [r for r in trend.quarters if parse_period(r.quarter).end <= at.on]
    py.trend = [trend_row(r, t) for r in ended]
    py.trend_pending = [r.quarter[-2:] for r in trend.quarters if r not in ended]
    py.trend_on = fmt.long_date(at.on)
    if py.trend:
        py.charts["trend"] = trend_chart(py.trend, year, trend.opening_balance)
    stream_names = py.named.streams
    py.streams = [
        stream_row(st, t, stream_names)
        for st in income_by_stream_at(conn, pool_id, year, pos, through=through).streams
    ]
    if plan is not None and plan.capitation is not None:
        cap = capitation_at(conn, pool_id, year, pos, through=through)
        py.capitation = cap
        py.capitation_weights = [(w.cohort, str(w.weight)) for w in plan.capitation.weights]
        py.capitation_weighted = [
            (
                u.unit_id,
                unit_name(u.unit_id),
                [_weighted(u.weighted_population.get(qn)) for qn in QUARTERS],
            )
            for u in cap.units
        ]
        py.capitation_rows = [
            {
                "unit_id": u.unit_id,
                "name": unit_name(u.unit_id),
                "weighted": [u.weighted_population.get(qn) for qn in QUARTERS],
                "annual": t.fig(
                    u.annual, f"capitation:{u.unit_id}", f"{unit_name(u.unit_id)} allocation"
                ),
                "quarters": [u.quarters.get(qn, 0) for qn in QUARTERS],
            }
            for u in cap.units
        ]
        py.capitation_totals = [
            sum(u.quarters.get(qn, 0) for u in cap.units) for qn in QUARTERS
        ] + [sum(u.annual for u in cap.units)]
    if plan is not None and plan.commissioned_services:
        op = outcome_payments_at(conn, pool_id, year, pos, through=through)
        py.service_lots = {
            s.id: unit_name(s.unit_id) for s in plan.commissioned_services if s.unit_id
        }
        py.outcome_rows = [
            {
                "provider_id": pr.provider_id,
                "name": names.get(pr.provider_id, pr.provider_id),
                "commissioned_value": pr.commissioned_value,
                "base": pr.base,
                "released": pr.released,
                "total": t.fig(
                    pr.total,
                    f"outcomes:{pr.provider_id}",
                    f"{names.get(pr.provider_id, pr.provider_id)} total payable",
                ),
                "withheld": pr.commissioned_value - pr.total,
                "services": pr.services,
            }
            for pr in op.providers
        ]
        py.outcome_totals = {
            "commissioned_value": sum(pr.commissioned_value for pr in op.providers),
            "base": sum(pr.base for pr in op.providers),
            "released": sum(pr.released for pr in op.providers),
            "total": sum(pr.total for pr in op.providers),
            "withheld": sum(pr.commissioned_value - pr.total for pr in op.providers),
        }
    py.metrics = year_metrics(conn, pool_id, year, pos, through)
    py.has_risk_reward = bool(plan and plan.risk_reward_schemes)
    if plan is not None and plan.contributions:
        # owed to the page's "effective through" date, else to the as-at's London date
        to = through or as_at_london_date(at.raw, at.today, at.recorded_at) or at.today
        py.receivables = receivables_at(conn, pool_id, year, pos, to)
    return py


def _weighted(w: Fraction | None) -> str:
    """A weighted population to one decimal place (exact, half up), or a dash."""
    if w is None:
        return "–"
    tenths = (w * 10 + Fraction(1, 2)).__floor__()
    whole, tenth = divmod(tenths, 10)
    return f"{whole:,}.{tenth}"


def year_metrics(
    conn: Connection, pool_id: str, year: str, at: int, through: date | None = None
) -> list[MetricView]:
    out: list[MetricView] = []
    for quarter in parse_year(year).quarters:
        out.extend(metrics_at(conn, pool_id, quarter.label, at, through=through).metrics)
    return out

"""What each board page shows, assembled from the read side as at one position.

Every function takes an open read connection and the resolved :class:`AsAt`, so all
the figures of a page are answered as at the same position. Amounts stay integer
pence until the templates format them; each amount the ledger can trace is a
:class:`Fig` that links to the events behind it.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction
from typing import Any

from sqlalchemy import Connection, select

from api.board import charts, fmt
from api.board.web import AsAt, Links
from ledger.domain.errors import NotFound, ValidationFailed
from ledger.domain.periods import parse_period, parse_quarter, parse_year, year_of
from ledger.refdata import load_reference_data
from ledger.store import eventstore as es
from ledger.store import tables as lt
from projections import queries as q
from projections import tables as pt
from projections.views import (
    Balances,
    IncomeStream,
    MetricView,
    PoolView,
    QuarterTrend,
    RiskShareView,
    SchemeSpend,
)
from scheduler import returns
from scheduler.returns import ReturnRecord

PAGE_SIZE = 50


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
    return {p.partner_id: p.name for p in q.partners_at(conn, at)}


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


# --- the overview ---------------------------------------------------------------------


@dataclass(frozen=True)
class RagCount:
    status: str
    count: int


@dataclass(frozen=True)
class PoolRow:
    pool: PoolView
    host_name: str
    year: str | None
    href: str
    planned: Fig | None = None
    income: Fig | None = None
    spend: Fig | None = None
    balance: Fig | None = None
    outturn: Fig | None = None
    basis: str = ""
    variance: Fig | None = None
    direction: str = "none"
    rag: tuple[RagCount, ...] = ()
    rag_period: str = ""


def overview(conn: Connection, at: AsAt, links: Links) -> dict[str, Any]:
    pos = at.position
    names = names_of(conn, pos)
    rows: list[PoolRow] = []
    for pool in q.pools_at(conn, pos):
        year = choose_year(pool, at)
        if year is None:
            rows.append(
                PoolRow(
                    pool,
                    names.get(pool.host_partner_id, pool.host_partner_id),
                    None,
                    links.to("board_pool", pool_id=pool.pool_id),
                )
            )
            continue
        b = q.balances_at(conn, pool.pool_id, year, pos)
        t = Tracer(links, pool.pool_id, year)
        metrics = latest_metrics(conn, pool.pool_id, year, pos)
        counts: dict[str, int] = defaultdict(int)
        for m in metrics:
            counts[m.status] += 1
        p = b.pool
        rows.append(
            PoolRow(
                pool=pool,
                host_name=names.get(pool.host_partner_id, pool.host_partner_id),
                year=year,
                href=links.to("board_pool_year", pool_id=pool.pool_id, year=year),
                planned=t.fig(p.planned, "pool:planned", f"{pool.name} planned"),
                income=t.fig(p.income, "pool:income", f"{pool.name} income"),
                spend=t.fig(p.spend, "pool:spend", f"{pool.name} spend"),
                balance=t.fig(p.balance, "pool:balance", f"{pool.name} balance"),
                outturn=t.fig(p.outturn, "pool:outturn", f"{pool.name} outturn"),
                basis=p.outturn_basis,
                variance=t.fig(p.variance, "pool:variance", f"{pool.name} variance", True),
                direction=direction_of(p.variance),
                rag=tuple(
                    RagCount(s, counts[s]) for s in ("green", "amber", "red") if counts.get(s)
                ),
                rag_period=metrics[0].period if metrics else "",
            )
        )
    return {"rows": rows}


def direction_of(variance: int) -> str:
    return "overspend" if variance > 0 else "underspend" if variance < 0 else "none"


def latest_metrics(conn: Connection, pool_id: str, year: str, at: int) -> list[MetricView]:
    """The metrics of the latest quarter of ``year`` that has any, as at ``at``."""
    fy = parse_year(year)
    for quarter in reversed(fy.quarters):
        found = q.metrics_at(conn, pool_id, quarter.label, at)
        if found.metrics:
            return list(found.metrics)
    return []


# --- a pool's year ----------------------------------------------------------------------


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
    forecast: Fig
    variance: Fig  # outturn - planned


@dataclass(frozen=True)
class TypeRow:
    scheme_type: str
    planned: int
    actual: int
    outturn: int


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


def pool_year(conn: Connection, at: AsAt, links: Links, pool_id: str, year: str) -> PoolYear:
    pos = at.position
    pool = q.pool_at(conn, pool_id, pos)
    if pool is None:
        raise NotFound(f"there is no pool '{pool_id}' as at ledger position {pos}")
    names = names_of(conn, pos)
    t = Tracer(links, pool_id, year)
    b = q.balances_at(conn, pool_id, year, pos)
    risk = q.risk_share_at(conn, pool_id, year, pos)
    plan = q.plan_at(conn, pool_id, year, pos)
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
        "variance": t.fig(p.variance, "pool:variance", "the variance", True),
    }
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
    spend = q.scheme_spend_at(conn, pool_id, year, pos)
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
            t.fig(s.outturn, f"scheme:{s.scheme_id}:outturn", f"{s.name} forecast outturn"),
            Fig(s.outturn - s.planned, signed=True),
        )
        for s in spend
    ]
    by_type: dict[str, list[int]] = {}
    for s in spend:
        row = by_type.setdefault(s.scheme_type, [0, 0, 0])
        row[0] += s.planned
        row[1] += s.actual_year_to_date
        row[2] += s.outturn
    types = [TypeRow(k, v[0], v[1], v[2]) for k, v in sorted(by_type.items())]
    py = PoolYear(
        pool=pool,
        year=year,
        years=pool.years,
        names=names,
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
        py.charts["types"] = charts.bar_chart(
            "chart-scheme-types",
            f"Spend against plan by scheme type, {year}",
            f"For each scheme type, the planned spend for {year}, the actual spend to date "
            "and the forecast outturn. "
            + "; ".join(
                f"{r.scheme_type}: planned {fmt.pounds(r.planned)}, actual "
                f"{fmt.pounds(r.actual)}, forecast outturn {fmt.pounds(r.outturn)}"
                for r in types
            )
            + ".",
            [r.scheme_type for r in types],
            [
                charts.Series("Planned", tuple(r.planned for r in types), charts.GREY),
                charts.Series("Actual to date", tuple(r.actual for r in types), charts.BLUE),
                charts.Series(
                    "Forecast outturn",
                    tuple(r.outturn for r in types),
                    charts.DARK_BLUE,
                    hatched=True,
                ),
            ],
            caption=f"Spend against plan by scheme type, {year}",
        )
    trend = q.quarterly_trend_at(conn, pool_id, year, pos)
    py.trend = [trend_row(r, t) for r in trend.quarters]
    if py.trend:
        py.charts["trend"] = trend_chart(py.trend, year, trend.opening_balance)
    stream_names = funding_stream_names(year)
    py.streams = [
        stream_row(st, t, stream_names)
        for st in q.income_by_stream_at(conn, pool_id, year, pos).streams
    ]
    if plan is not None and plan.capitation is not None:
        cap = q.capitation_at(conn, pool_id, year, pos)
        py.capitation = cap
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
        op = q.outcome_payments_at(conn, pool_id, year, pos)
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
    py.metrics = year_metrics(conn, pool_id, year, pos)
    py.has_risk_reward = bool(plan and plan.risk_reward_schemes)
    return py


def year_metrics(conn: Connection, pool_id: str, year: str, at: int) -> list[MetricView]:
    out: list[MetricView] = []
    for quarter in parse_year(year).quarters:
        out.extend(q.metrics_at(conn, pool_id, quarter.label, at).metrics)
    return out


QUARTERS = ("Q1", "Q2", "Q3", "Q4")


def trend_row(r: QuarterTrend, t: Tracer) -> dict[str, Any]:
    short = r.quarter[-2:]
    return {
        "quarter": r.quarter,
        "short": short,
        "income": t.fig(r.income, f"quarter:{short}:income", f"{short} income"),
        "spend": t.fig(r.spend, f"quarter:{short}:spend", f"{short} spend"),
        "transfers_in": t.fig(
            r.transfers_in, f"quarter:{short}:transfers_in", f"{short} transfers in"
        ),
        "transfers_out": t.fig(
            r.transfers_out, f"quarter:{short}:transfers_out", f"{short} transfers out"
        ),
        "net": Fig(r.net, signed=True),
        "balance": Fig(r.closing_balance),
    }


def trend_chart(rows: Sequence[dict[str, Any]], year: str, opening: int) -> charts.Chart:
    labels = [r["short"] for r in rows]
    income = tuple(r["income"].pence for r in rows)
    spend = tuple(r["spend"].pence for r in rows)
    balance = tuple(r["balance"].pence for r in rows)
    desc = "; ".join(
        f"{r['short']}: income {r['income'].text}, spend {r['spend'].text}, "
        f"balance at quarter end {r['balance'].text}"
        for r in rows
    )
    return charts.trend_chart(
        "chart-trend",
        f"Quarterly trend, {year}",
        f"Income received and spend in each quarter of {year}, with the pool balance at "
        f"the end of each quarter (opening balance {fmt.pounds(opening)}). {desc}.",
        labels,
        [
            charts.Series("Income received", income, charts.BLUE),
            charts.Series("Spend", spend, charts.GREY),
        ],
        charts.Series("Balance at quarter end", balance, charts.INK),
        caption=f"Quarterly trend, {year}",
    )


def funding_stream_names(year: str) -> dict[str, str]:
    data = load_reference_data(year)
    names = {s.id: s.name for s in data.funding_streams} if data else {}
    names.setdefault("contribution", "Partner contributions")
    return names


def unit_name(unit_id: str) -> str:
    return unit_id.replace("-", " ").replace("_", " ").title()


def stream_row(s: IncomeStream, t: Tracer, names: dict[str, str]) -> dict[str, Any]:
    sid = s.funding_stream
    name = names.get(sid, sid.replace("_", " ").capitalize())
    return {
        "stream": sid,
        "name": name,
        "planned": t.fig(s.planned, f"stream:{sid}:planned", f"{name} planned"),
        "quarters": [
            t.fig(
                s.received_by_quarter.get(f"{t.year}-{qn}", 0),
                f"stream:{sid}:received",
                f"{name} received in {qn}",
                quarter=qn,
            )
            for qn in QUARTERS
        ],
        "received": t.fig(s.received, f"stream:{sid}:received", f"{name} received"),
    }


def risk_chart(risk: RiskShareView, names: dict[str, str], year: str) -> charts.Chart:
    cats = [names.get(pid, pid) for pid, _ in risk.allocations]
    values = tuple(v for _, v in risk.allocations)
    state = "settled" if risk.settled else "provisional"
    if risk.direction == "none":
        summary = "No risk share is allocated: " + (
            "there is no outturn yet (no forecast), so spend to date is not an outturn."
            if risk.basis == "actual_to_date"
            else "the variance is nil."
        )
    else:
        summary = (
            f"The {state} {risk.direction} of {fmt.pounds(abs(risk.variance))} is shared: "
            + "; ".join(f"{c} {fmt.pounds(v)}" for c, v in zip(cats, values, strict=True))
            + "."
        )
    return charts.bar_chart(
        "chart-risk-share",
        f"{'Settled' if risk.settled else 'Provisional'} risk share by partner, {year}",
        summary,
        cats,
        [charts.Series("Risk share", values, charts.BLUE)],
        caption=f"{'Settled' if risk.settled else 'Provisional'} risk share by partner, {year}",
    )


def rule_text(rule: dict[str, Any], names: dict[str, str]) -> str:
    """A risk-share rule (in the plan's JSON form) in words."""
    method = str(rule.get("method", "none"))
    text = {
        "proportional": "in proportion to planned contributions",
        "fixed": "in fixed agreed percentages",
        "tiered": "in bands of the variance, each with its own percentages",
        "by_commissioner": "each scheme's variance falls on its commissioner; the rest on the host",
        "carry_forward": "carried forward as next year's opening balance",
        "none": "no rule applies",
    }.get(method, method)
    parts = [f"{method.replace('_', ' ').capitalize()}: {text}"]
    shares = rule.get("shares")
    if isinstance(shares, list) and shares:
        parts.append(
            ", ".join(f"{names.get(s['partner_id'], s['partner_id'])} {s['pct']}%" for s in shares)
        )
    tiers = rule.get("tiers")
    if isinstance(tiers, list):
        for tier in tiers:
            top = tier.get("up_to")
            band = f"up to {fmt.pounds(int(top))}" if top is not None else "the rest"
            parts.append(
                f"{band}: "
                + ", ".join(
                    f"{names.get(s['partner_id'], s['partner_id'])} {s['pct']}%"
                    for s in tier.get("shares", [])
                )
            )
    caps = rule.get("caps")
    if isinstance(caps, list) and caps:
        parts.append(
            "capped: "
            + ", ".join(
                f"{names.get(c['partner_id'], c['partner_id'])} at {fmt.pounds(int(c['amount']))}"
                for c in caps
            )
        )
    return "; ".join(parts) + "."


# --- the alliance page ----------------------------------------------------------------------


@dataclass(frozen=True)
class RiskRewardRow:
    name: str
    costs: Fig
    savings: Fig
    realised: Fig  # savings - costs
    outcome: Fig  # the agreed outcome n_i
    transfer: Fig  # t_i = n_i - b_i (negative: it pays)


@dataclass(frozen=True)
class RiskRewardBlock:
    id: str
    name: str
    net_benefit: Fig
    rows: list[RiskRewardRow]
    settlements: list[tuple[str, str, Fig]]  # (payer, receiver, amount)
    chart: charts.Chart


def alliance(conn: Connection, at: AsAt, links: Links, pool_id: str, period: str) -> dict[str, Any]:
    pos = at.position
    pool = q.pool_at(conn, pool_id, pos)
    if pool is None:
        raise NotFound(f"there is no pool '{pool_id}' as at ledger position {pos}")
    label = parse_period(period, "period").label
    names = names_of(conn, pos)
    view = q.risk_reward_at(conn, pool_id, label, pos)
    year = year_of(parse_period(label)).label
    t = Tracer(links, pool_id, year)
    schemes = []
    for s in view.schemes:
        rows = []
        for pr in s.partners:
            name = names.get(pr.partner_id, pr.partner_id)
            figure = f"rr:{s.scheme_id}:{label}"
            rows.append(
                RiskRewardRow(
                    name,
                    t.fig(pr.costs, figure, f"{name} costs"),
                    t.fig(pr.savings, figure, f"{name} savings"),
                    Fig(pr.savings - pr.costs, signed=True),
                    Fig(pr.outcome, signed=True),
                    Fig(pr.transfer, signed=True),
                )
            )
        settlements = [(names.get(a, a), names.get(b, b), Fig(v)) for a, b, v in s.settlements]
        chart = charts.bar_chart(
            f"chart-rr-{s.scheme_id}",
            f"{s.name}: realised benefit and agreed outcome by partner, {label}",
            f"Net benefit {fmt.pounds(s.net_benefit)}. "
            + "; ".join(
                f"{r.name}: realised benefit {r.realised.text}, agreed outcome {r.outcome.text}"
                for r in rows
            )
            + ".",
            [r.name for r in rows],
            [
                charts.Series(
                    "Realised benefit", tuple(r.realised.pence for r in rows), charts.GREY
                ),
                charts.Series("Agreed outcome", tuple(r.outcome.pence for r in rows), charts.BLUE),
            ],
            caption=f"{s.name}: realised benefit and agreed outcome by partner, {label}",
        )
        schemes.append(
            RiskRewardBlock(
                s.scheme_id,
                s.name,
                t.fig(s.net_benefit, f"rr:{s.scheme_id}:{label}", f"{s.name} net benefit", True),
                rows,
                settlements,
                chart,
            )
        )
    fy = parse_year(year)
    periods = [fy.label, *(qq.label for qq in fy.quarters)]
    return {
        "pool": pool,
        "period": label,
        "year": year,
        "periods": periods,
        "schemes": schemes,
    }


# --- returns ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Download:
    code: str  # json | csv | xlsx
    label: str
    href: str


@dataclass(frozen=True)
class ReturnRow:
    """A filed quarterly return as the ledger knew it at the page's as-at."""

    record: ReturnRecord
    approved: str | None  # "by NAME, WHEN (note)"
    submitted: str | None
    downloads: tuple[Download, ...]


@dataclass(frozen=True)
class DueRow:
    """An ended quarter with no filed return at the page's as-at: a draft to read."""

    quarter: str
    due: date
    overdue: bool
    downloads: tuple[Download, ...]


@dataclass(frozen=True)
class MemorandumRow:
    year: str
    downloads: tuple[Download, ...]


DOWNLOAD_FORMATS = (("xlsx", "Excel workbook"), ("csv", "CSV files (zip)"), ("json", "JSON"))


def _downloads(
    links: Links, route: str, position: int | None, **params: str
) -> tuple[Download, ...]:
    return tuple(
        Download(
            code,
            label,
            links.latest(route, {"format": code, "position": position}, **params),
        )
        for code, label in DOWNLOAD_FORMATS
    )


@dataclass(frozen=True)
class ReturnsPage:
    pool: PoolView
    filed: list[ReturnRow]
    due: list[DueRow]
    memoranda: list[MemorandumRow]


def returns_page(conn: Connection, at: AsAt, links: Links, pool_id: str) -> ReturnsPage:
    """The pool's filed returns (with hashes, sign-off and the filed bytes to
    download), the ended quarters not filed yet (drafts as at the page's position), and
    each plan year's annual memorandum statement as at that position."""
    pos = at.position
    pool = q.pool_at(conn, pool_id, pos)
    if pool is None:
        raise NotFound(f"there is no pool '{pool_id}' as at ledger position {pos}")

    def said(who: str | None, when: str | None, extra: str | None) -> str:
        return f"by {who}, {fmt.instant(when)}" + (f" ({extra})" if extra else "")

    records = returns.filed_records(conn, pool_id, pos) if pool.kind == "bcf" else {}
    filed = [
        ReturnRow(
            rec,
            said(rec.approved_by, rec.approved_at, rec.approval_note) if rec.approved else None,
            said(rec.submitted_by, rec.submitted_at, rec.submission_reference)
            if rec.submitted
            else None,
            _downloads(links, "board_return_download", None, pool_id=pool_id, quarter=label),
        )
        for label, rec in sorted(records.items(), key=lambda kv: parse_quarter(kv[0]))
    ]
    due: list[DueRow] = []
    first = returns.first_quarter(pool) if pool.kind == "bcf" else None
    quarter = first
    while quarter is not None and quarter.end < at.on:
        if quarter.label not in records:
            when = returns.due_date(quarter)
            due.append(
                DueRow(
                    quarter.label,
                    when,
                    when < at.on,
                    _downloads(
                        links, "board_return_download", pos, pool_id=pool_id, quarter=quarter.label
                    ),
                )
            )
        quarter = quarter.next()
    memoranda = [
        MemorandumRow(
            year, _downloads(links, "board_memorandum_download", pos, pool_id=pool_id, year=year)
        )
        for year in pool.years
    ]
    return ReturnsPage(pool, list(reversed(filed)), due, memoranda)


# --- events: the drill-down ---------------------------------------------------------------


@dataclass(frozen=True)
class EventRow:
    e: es.StoredEvent
    data: dict[str, Any]
    reversed_at: int | None  # the position of its reversal, as at the page's position
    href: str
    names: dict[str, str] = field(default_factory=dict)  # partner id -> name

    @property
    def amount(self) -> int | None:
        v = self.data.get("amount")
        return int(v) if isinstance(v, int) else None

    @property
    def direction(self) -> str:
        """How the event moves the figure: ``+``, ``−`` or blank."""
        t = self.e.type
        if t in ("contribution_refunded", "expenditure_credited"):
            return "out" if t == "contribution_refunded" else "credit"
        return ""

    @property
    def concerns(self) -> str:
        """What the event is about, in words: the partner's name, the scheme, ..."""

        def name(party: dict[str, Any]) -> str:
            pid = party.get("partner_id")
            return self.names.get(pid, pid) if pid else f"pool {party.get('pool_id')}"

        if self.e.type == "transfer_posted":
            frm = self.data.get("from_party") or {}
            to = self.data.get("to_party") or {}
            return f"{name(frm)} → {name(to)} ({self.data.get('purpose', '')})"
        parts = []
        pid = self.data.get("partner_id")
        if pid:
            parts.append(self.names.get(pid, pid))
        for label, k in (
            ("scheme", "scheme_id"),
            ("stream", "funding_stream"),
            ("metric", "metric_id"),
            ("unit", "unit_id"),
            ("service", "service_id"),
            ("period", "period"),
        ):
            v = self.data.get(k)
            if v:
                parts.append(f"{label} {v}")
        return ", ".join(parts)

    @property
    def reference(self) -> str:
        for k in ("reference", "reason", "note", "name"):
            v = self.data.get(k)
            if v:
                return str(v)
        return ""


def event_rows(
    conn: Connection, events: Sequence[es.StoredEvent], at: int, links: Links
) -> list[EventRow]:
    names = names_of(conn, at)
    ids = [e.event_id for e in events]
    reversals: dict[str, int] = {}
    if ids:
        c = lt.events.c
        for row in conn.execute(
            select(c.reverses_event_id, c.position).where(
                c.reverses_event_id.in_(ids), c.position <= at
            )
        ):
            reversals[str(row.reverses_event_id)] = int(row.position)
    return [
        EventRow(
            e,
            json.loads(e.payload),
            reversals.get(e.event_id),
            links.to("board_event", position=e.position),
            names,
        )
        for e in events
    ]


def trace(
    conn: Connection,
    at: AsAt,
    links: Links,
    pool_id: str,
    year: str,
    figure: str,
    quarter: str | None = None,
) -> dict[str, Any]:
    """The events behind a figure of a pool-year: the read side's own trace for
    balances, spend, streams and quarters (``projections.trace``), and the facts behind
    the alliance figures (``rr:``, ``capitation:``, ``outcomes:``, ``metric:``)."""
    pos = at.position
    pool = q.pool_at(conn, pool_id, pos)
    if pool is None:
        raise NotFound(f"there is no pool '{pool_id}' as at ledger position {pos}")
    figure = figure.strip()
    if quarter is not None and quarter not in QUARTERS:
        raise ValidationFailed.field("quarter", "must be Q1, Q2, Q3 or Q4")
    board_side = figure.split(":", 1)[0] in BOARD_FIGURES
    if board_side:
        positions = board_trace(conn, pool_id, year, figure, pos)
    else:
        positions = q.trace_at(conn, pool_id, year, figure, pos)
    if quarter is not None:
        positions = in_quarter(conn, positions, pool_id, f"{year}-{quarter}")
    events = es.get_by_positions(conn, positions) if positions else []
    names = names_of(conn, pos)
    value = None if board_side else figure_value(conn, pool_id, year, figure, pos, quarter)
    label = figure_label(figure, names) + (f", {quarter}" if quarter else "")
    return {
        "pool": pool,
        "year": year,
        "figure": figure,
        "quarter": quarter,
        "label": label,
        "value": value,
        "rows": event_rows(conn, events, pos, links),
    }


BOARD_FIGURES = ("rr", "capitation", "outcomes", "metric")


def in_quarter(conn: Connection, positions: list[int], pool_id: str, quarter: str) -> list[int]:
    """Of ``positions``, those whose money lines count in ``quarter``."""
    if not positions:
        return []
    c, g = pt.rm_lines.c, pt.rm_groups.c
    found = conn.execute(
        select(c.position)
        .distinct()
        .join_from(pt.rm_lines, pt.rm_groups, c.group_id == g.group_id)
        .where(g.pool_id == pool_id, g.quarter == quarter, c.position.in_(positions))
    ).scalars()
    return sorted(int(p) for p in found)


def board_trace(conn: Connection, pool_id: str, year: str, figure: str, at: int) -> list[int]:
    """The facts behind the alliance figures the read side's trace does not name:

    - ``rr:{scheme}:{period}``: the risk/reward results of the scheme in the period;
    - ``capitation:{unit}``: the populations recorded for the unit;
    - ``outcomes:{provider}``: the outcome assessments of the provider's services;
    - ``metric:{metric}:{period}``: the metric's recordings for the period;

    each with the plan in force (the shares, weights, services and definitions)."""
    parts = figure.split(":")
    plan = q.plan_fact(conn, pool_id, year, at)
    out: set[int] = {plan.position} if plan is not None else set()
    if parts[0] == "rr" and len(parts) == 3:
        within = q.periods_within(parse_period(parts[2], "figure"))
        out |= {
            f.position
            for f in q.facts(conn, pool_id, "risk_reward_result_recorded", at, year=year)
            if f.data.get("scheme_id") == parts[1] and f.period in within
        }
    elif parts[0] == "capitation" and len(parts) == 2:
        last_day = parse_year(year).end
        out |= {
            f.position
            for f in q.facts(conn, pool_id, "population_recorded", at)
            if f.data.get("unit_id") == parts[1]
            and f.effective_date is not None
            and f.effective_date <= last_day
        }
    elif parts[0] == "outcomes" and len(parts) == 2:
        p = q.plan_at(conn, pool_id, year, at)
        services = (
            {s.id for s in p.commissioned_services if s.provider_id == parts[1]} if p else set()
        )
        out |= {
            f.position
            for f in q.facts(conn, pool_id, "outcome_assessed", at, year=year)
            if f.data.get("service_id") in services
        }
    elif parts[0] == "metric" and len(parts) == 3:
        within = q.periods_within(parse_period(parts[2], "figure"))
        out |= {
            f.position
            for f in q.facts(conn, pool_id, "metric_recorded", at, year=year)
            if f.data.get("metric_id") == parts[1] and f.period in within
        }
    else:
        raise ValidationFailed.field("figure", f"'{figure}' is not a figure of these pages")
    return sorted(out)


def figure_value(
    conn: Connection, pool_id: str, year: str, figure: str, at: int, quarter: str | None
) -> int | None:
    """The amount a traced figure shows, as at ``at`` (None for a share)."""
    parts = figure.split(":")
    if parts[0] == "pool" and len(parts) == 2 and quarter is None:
        v = getattr(q.balances_at(conn, pool_id, year, at).pool, parts[1], None)
        return v if isinstance(v, int) else None
    if parts[0] == "partner" and len(parts) == 3 and quarter is None:
        for r in q.balances_at(conn, pool_id, year, at).partners:
            if r.partner_id == parts[1]:
                v = getattr(r, parts[2], None)
                return v if isinstance(v, int) else None
        return None
    if parts[0] == "scheme" and len(parts) == 3:
        for sp in q.scheme_spend_at(conn, pool_id, year, at):
            if sp.scheme_id == parts[1]:
                if quarter is not None:
                    if parts[2] != "actual":
                        return None
                    return sp.actual_by_quarter.get(f"{year}-{quarter}", 0)
                return {
                    "planned": sp.planned,
                    "actual": sp.actual_year_to_date,
                    "forecast": sp.forecast_outturn,
                    "outturn": sp.outturn,
                }.get(parts[2])
        return None
    if parts[0] == "stream" and len(parts) == 3:
        for st in q.income_by_stream_at(conn, pool_id, year, at).streams:
            if st.funding_stream == parts[1]:
                if parts[2] == "planned":
                    return st.planned if quarter is None else None
                if quarter is not None:
                    return st.received_by_quarter.get(f"{year}-{quarter}", 0)
                return st.received
        return None
    if parts[0] == "quarter" and len(parts) == 3 and quarter is None:
        for tr in q.quarterly_trend_at(conn, pool_id, year, at).quarters:
            if tr.quarter.endswith(parts[1]):
                v = getattr(tr, parts[2], None)
                return v if isinstance(v, int) else None
    return None


FIELD_LABELS = {
    "planned": "planned",
    "received": "received (net of refunds)",
    "transfers_in": "transfers in",
    "transfers_out": "transfers out",
    "risk_share": "risk share",
    "net_obligation": "net obligation",
    "outstanding": "outstanding",
    "opening_balance": "opening balance",
    "income": "income (contributions received, net)",
    "spend": "spend (net of credits)",
    "balance": "balance",
    "outturn": "outturn",
    "variance": "variance",
    "actual": "actual spend",
    "forecast": "forecast outturn",
}


def figure_label(figure: str, names: dict[str, str]) -> str:
    parts = figure.split(":")
    if not parts:
        return figure
    if parts[0] == "pool" and len(parts) >= 2:
        return (
            "Pool "
            + FIELD_LABELS.get(parts[1], parts[1])
            + (f", {parts[2]}" if len(parts) > 2 else "")
        )
    if parts[0] == "partner" and len(parts) >= 3:
        return f"{names.get(parts[1], parts[1])}: {FIELD_LABELS.get(parts[2], parts[2])}"
    if parts[0] == "scheme" and len(parts) >= 3:
        return f"Scheme {parts[1]}: {FIELD_LABELS.get(parts[2], parts[2])}" + (
            f", {parts[3]}" if len(parts) > 3 else ""
        )
    if parts[0] == "stream" and len(parts) >= 3:
        return f"Funding stream {parts[1]}: {FIELD_LABELS.get(parts[2], parts[2])}"
    if parts[0] == "quarter" and len(parts) == 3:
        return f"{parts[1]} {FIELD_LABELS.get(parts[2], parts[2])}"
    if parts[0] == "rr" and len(parts) == 3:
        return f"Risk/reward scheme {parts[1]}, {parts[2]}"
    if parts[0] == "capitation" and len(parts) == 2:
        return f"Capitated allocation of {unit_name(parts[1])}"
    if parts[0] == "outcomes" and len(parts) == 2:
        return f"Outcome payments to {names.get(parts[1], parts[1])}"
    if parts[0] == "metric" and len(parts) == 3:
        return f"Metric {parts[1]}, {parts[2]}"
    return figure


def event_log(conn: Connection, at: AsAt, links: Links, pool_id: str, after: int) -> dict[str, Any]:
    pos = at.position
    pool = q.pool_at(conn, pool_id, pos)
    if pool is None:
        raise NotFound(f"there is no pool '{pool_id}' as at ledger position {pos}")
    events = es.read_range(conn, after, PAGE_SIZE + 1, pool_id=pool_id, upto=pos)
    more = len(events) > PAGE_SIZE
    events = events[:PAGE_SIZE]
    return {
        "pool": pool,
        "rows": event_rows(conn, events, pos, links),
        "after": after,
        "next_after": events[-1].position if more and events else None,
    }


def event_detail(conn: Connection, at: AsAt, links: Links, position: int) -> dict[str, Any]:
    found = es.get_by_positions(conn, [position])
    if not found or position > at.head:
        raise NotFound(f"there is no event at ledger position {position}")
    e = found[0]
    previous = es.hash_at(conn, position - 1)
    row = event_rows(conn, found, at.head, links)[0]
    reversal = None
    if row.reversed_at is not None:
        reversal = links.to("board_event", position=row.reversed_at)
    target = None
    if e.reverses_event_id:
        t = es.get_event(conn, e.reverses_event_id)
        if t is not None:
            target = (t.position, links.to("board_event", position=t.position))
    return {
        "e": e,
        "row": row,
        "previous_hash": previous,
        "payload": json.dumps(json.loads(e.payload), indent=2, sort_keys=True),
        "meta": json.loads(e.request_meta) if e.request_meta else None,
        "reversal": reversal,
        "target": target,
        "known_then": position <= at.position,
    }

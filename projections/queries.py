"""Query functions over the read models, each answerable as at any position.

``Reader(engine)`` opens one read transaction per question; the ``*_at`` functions
take an open connection and a position, so a caller (a return, a page) can answer
several questions as at one position consistently.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from typing import Any

from sqlalchemy import Connection, Engine, and_, func, or_, select

from ledger.domain.calc.riskshare import SchemeVariance, allocate_risk_share
from ledger.domain.periods import FinancialYear
from ledger.domain.plan import Plan
from projections import asat
from projections import tables as t
from projections.views import (
    Balances,
    Basis,
    PartnerBalance,
    PartnerView,
    PoolPosition,
    PoolView,
    RiskShareView,
    SchemeSpend,
)


@dataclass(frozen=True)
class Fact:
    position: int
    event_id: str
    type: str
    year: str | None
    period: str | None
    key: str | None
    effective_date: date | None
    data: dict[str, Any]
    recorded_at: str
    actor: str


def in_force(col_position: Any, col_reversed: Any, at: int) -> Any:
    return and_(col_position <= at, or_(col_reversed.is_(None), col_reversed > at))


def facts(
    conn: Connection,
    pool_id: str | None,
    type_: str,
    at: int,
    *,
    year: str | None = None,
    period: str | None = None,
) -> list[Fact]:
    """Facts of one type in force as at ``at``, in position order."""
    f = t.rm_facts.c
    q = select(t.rm_facts).where(f.type == type_, in_force(f.position, f.reversed_position, at))
    if pool_id is not None:
        q = q.where(f.pool_id == pool_id)
    if year is not None:
        q = q.where(f.year == year)
    if period is not None:
        q = q.where(f.period == period)
    out = []
    for r in conn.execute(q.order_by(f.position)):
        out.append(
            Fact(
                r.position,
                r.event_id,
                r.type,
                r.year,
                r.period,
                r.key,
                r.effective_date,
                json.loads(r.data),
                r.recorded_at,
                r.actor,
            )
        )
    return out


def plan_fact(conn: Connection, pool_id: str, year: str, at: int) -> Fact | None:
    found = facts(conn, pool_id, "plan_agreed", at, year=year)
    return found[-1] if found else None


def plan_at(conn: Connection, pool_id: str, year: str, at: int) -> Plan | None:
    f = plan_fact(conn, pool_id, year, at)
    return Plan.model_validate(f.data["plan"]) if f else None


def closed_quarters(conn: Connection, pool_id: str, at: int) -> list[str]:
    return [f.period or "" for f in facts(conn, pool_id, "period_closed", at)]


def members_at(conn: Connection, pool_id: str, at: int) -> list[str]:
    m = t.rm_pool_members.c
    q = select(m.partner_id).where(m.pool_id == pool_id, m.position <= at).order_by(m.partner_id)
    return list(conn.execute(q).scalars())


def partner_kinds(conn: Connection, ids: list[str]) -> dict[str, str]:
    p = t.rm_partners.c
    return {
        r.partner_id: r.kind
        for r in conn.execute(select(p.partner_id, p.kind).where(p.partner_id.in_(ids)))
    }


@dataclass(frozen=True)
class LineSum:
    kind: str
    partner_id: str | None
    counterparty_id: str | None
    scheme_id: str | None
    funding_stream: str | None
    quarter: str
    amount: int


def line_sums(conn: Connection, pool_id: str, year: str, at: int) -> list[LineSum]:
    c = t.rm_lines.c
    q = (
        select(
            c.kind,
            c.partner_id,
            c.counterparty_id,
            c.scheme_id,
            c.funding_stream,
            c.quarter,
            func.sum(c.amount).label("amount"),
        )
        .where(c.pool_id == pool_id, c.year == year, c.position <= at)
        .group_by(c.kind, c.partner_id, c.counterparty_id, c.scheme_id, c.funding_stream, c.quarter)
    )
    return [
        LineSum(
            r.kind,
            r.partner_id,
            r.counterparty_id,
            r.scheme_id,
            r.funding_stream,
            r.quarter,
            int(r.amount),
        )
        for r in conn.execute(q)
    ]


def forecasts_in_force(
    conn: Connection, pool_id: str, year: str, at: int
) -> tuple[Fact | None, dict[str, Fact]]:
    """The whole-pool forecast and each scheme's: the one not reversed with the latest
    as-of date (ties: the later position)."""
    whole: Fact | None = None
    schemes: dict[str, Fact] = {}

    def later(a: Fact | None, b: Fact) -> bool:
        return a is None or (b.data["as_of_date"], b.position) >= (a.data["as_of_date"], a.position)

    for f in facts(conn, pool_id, "forecast_recorded", at, year=year):
        sid = f.data.get("scheme_id")
        if sid is None:
            whole = f if later(whole, f) else whole
        elif later(schemes.get(sid), f):
            schemes[sid] = f
    return whole, schemes


def settlement(conn: Connection, pool_id: str, year: str, at: int) -> Fact | None:
    found = facts(conn, pool_id, "risk_share_settled", at, year=year)
    return found[-1] if found else None


def opening_balance(conn: Connection, pool_id: str, year: str, sums: list[LineSum], at: int) -> int:
    own = sum(s.amount for s in sums if s.kind == "opening")
    prev = settlement(conn, pool_id, FinancialYear(int(year[:4])).previous().label, at)
    carried = int(prev.data.get("carried_forward", 0)) if prev else 0
    return own + carried


@dataclass(frozen=True)
class YearPosition:
    """Everything 6.1 and 6.2 derive for a pool-year as at a position."""

    plan: Plan | None
    members: list[str]
    kinds: dict[str, str]
    host: str
    sums: list[LineSum]
    opening: int
    spend: int
    outturn: int
    basis: Basis
    variance: int
    scheme_outturns: dict[str, int]
    scheme_actuals: dict[str, int]
    scheme_forecasts: dict[str, int]
    q4_closed: bool


def year_position(conn: Connection, pool_id: str, year: str, at: int) -> YearPosition:
    pool = conn.execute(
        select(t.rm_pools).where(t.rm_pools.c.pool_id == pool_id, t.rm_pools.c.position <= at)
    ).first()
    host = pool.host_partner_id if pool else ""
    plan = plan_at(conn, pool_id, year, at)
    members = members_at(conn, pool_id, at)
    kinds = partner_kinds(conn, members)
    sums = line_sums(conn, pool_id, year, at)
    opening = opening_balance(conn, pool_id, year, sums, at)
    scheme_actuals: dict[str, int] = defaultdict(int)
    for s in sums:
        if s.kind in ("expenditure", "credit") and s.scheme_id:
            scheme_actuals[s.scheme_id] += s.amount if s.kind == "expenditure" else -s.amount
    spend = sum(scheme_actuals.values())
    q4_closed = f"{year}-Q4" in closed_quarters(conn, pool_id, at)
    whole, by_scheme = forecasts_in_force(conn, pool_id, year, at)
    planned_schemes = {s.id: s.planned for s in plan.schemes} if plan else {}
    scheme_forecasts = {sid: int(f.data["amount"]) for sid, f in by_scheme.items()}
    basis: Basis
    if q4_closed:
        outturn, basis = spend, "actual"
    elif whole is not None:
        outturn, basis = int(whole.data["amount"]), "forecast"
    elif scheme_forecasts:
        ids = set(planned_schemes) | set(scheme_forecasts)
        outturn = sum(scheme_forecasts.get(i, planned_schemes.get(i, 0)) for i in ids)
        basis = "forecast"
    else:
        outturn, basis = spend, "actual_to_date"
    planned_total = plan.planned_total if plan else 0
    scheme_outturns = {
        sid: (scheme_actuals.get(sid, 0) if q4_closed else scheme_forecasts.get(sid, planned))
        for sid, planned in planned_schemes.items()
    }
    return YearPosition(
        plan,
        members,
        kinds,
        host,
        sums,
        opening,
        spend,
        outturn,
        basis,
        outturn - (planned_total + opening),
        scheme_outturns,
        dict(scheme_actuals),
        scheme_forecasts,
        q4_closed,
    )


def risk_share_at(
    conn: Connection, pool_id: str, year: str, at: int, yp: YearPosition | None = None
) -> RiskShareView:
    yp = yp or year_position(conn, pool_id, year, at)
    settled = settlement(conn, pool_id, year, at)
    plan = yp.plan or Plan()
    rule_json: dict[str, object] = {}
    if settled is not None:
        d = settled.data
        direction = d["direction"]
        rule = plan.risk_share.overspend if direction == "overspend" else plan.risk_share.underspend
        return RiskShareView(
            pool_id,
            year,
            at,
            int(d["variance"]),
            direction,
            yp.basis,
            True,
            rule.model_dump(mode="json"),
            d["method"],
            tuple((a["partner_id"], int(a["amount"])) for a in d["allocations"]),
            int(d.get("carried_forward", 0)),
        )
    planned = plan.planned_by_partner()
    everyone = sorted(set(yp.members) | set(planned))
    if yp.basis == "actual_to_date" or yp.variance == 0:
        return RiskShareView(
            pool_id,
            year,
            at,
            yp.variance,
            "none",
            yp.basis,
            False,
            rule_json,
            "none",
            tuple((p, 0) for p in everyone),
        )
    kinds = {m: yp.kinds.get(m, "") for m in everyone}
    variances = [
        SchemeVariance(
            s.id, s.commissioner, s.joint_split, yp.scheme_outturns.get(s.id, s.planned) - s.planned
        )
        for s in plan.schemes
    ]
    result = allocate_risk_share(
        yp.variance,
        plan.risk_share,
        host=yp.host,
        member_kinds=kinds,
        planned=planned,
        scheme_variances=variances,
    )
    rule = plan.risk_share.overspend if yp.variance > 0 else plan.risk_share.underspend
    return RiskShareView(
        pool_id,
        year,
        at,
        yp.variance,
        result.direction,
        yp.basis,
        False,
        rule.model_dump(mode="json"),
        result.method,
        tuple(sorted(result.allocations.items())),
        result.carried_forward,
    )


def balances_at(conn: Connection, pool_id: str, year: str, at: int) -> Balances:
    yp = year_position(conn, pool_id, year, at)
    planned = yp.plan.planned_by_partner() if yp.plan else {}
    planned_total = sum(planned.values())
    received: dict[str, int] = defaultdict(int)
    t_in: dict[str, int] = defaultdict(int)
    t_out: dict[str, int] = defaultdict(int)
    pool_in = pool_out = 0
    p2p: dict[tuple[str, str], int] = defaultdict(int)
    for s in yp.sums:
        pid = s.partner_id or ""
        if s.kind == "contribution":
            received[pid] += s.amount
        elif s.kind == "refund":
            received[pid] -= s.amount
        elif s.kind == "transfer_in":
            t_out[pid] += s.amount
            pool_in += s.amount
        elif s.kind == "transfer_out":
            t_in[pid] += s.amount
            pool_out += s.amount
        elif s.kind == "partner_transfer":
            t_out[pid] += s.amount
            t_in[s.counterparty_id or ""] += s.amount
            p2p[(pid, s.counterparty_id or "")] += s.amount
    rs = risk_share_at(conn, pool_id, year, at, yp)
    shares = dict(rs.allocations)
    rows = []
    for pid in sorted(set(yp.members) | set(planned)):
        plan_i = planned.get(pid, 0)
        risk = shares.get(pid, 0)
        rows.append(
            PartnerBalance(
                partner_id=pid,
                planned=plan_i,
                received=received.get(pid, 0),
                transfers_in=t_in.get(pid, 0),
                transfers_out=t_out.get(pid, 0),
                share=Fraction(plan_i, planned_total) if planned_total else Fraction(0),
                risk_share=risk,
                net_obligation=plan_i + risk,
                outstanding=plan_i + risk - received.get(pid, 0),
            )
        )
    income = sum(received.values())
    balance = yp.opening + income + pool_in - pool_out - yp.spend
    position = PoolPosition(
        yp.opening,
        planned_total,
        income,
        yp.spend,
        pool_in,
        pool_out,
        balance,
        yp.outturn,
        yp.basis,
        yp.variance,
    )
    return Balances(
        pool_id,
        year,
        at,
        tuple(rows),
        position,
        tuple((a, b, v) for (a, b), v in sorted(p2p.items()) if v),
    )


def scheme_spend_at(conn: Connection, pool_id: str, year: str, at: int) -> list[SchemeSpend]:
    yp = year_position(conn, pool_id, year, at)
    by_q: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for s in yp.sums:
        if s.kind in ("expenditure", "credit") and s.scheme_id:
            by_q[s.scheme_id][s.quarter] += s.amount if s.kind == "expenditure" else -s.amount
    whole, _ = forecasts_in_force(conn, pool_id, year, at)
    out = []
    for sc in yp.plan.schemes if yp.plan else ():
        forecast = yp.scheme_forecasts.get(sc.id, sc.planned)
        out.append(
            SchemeSpend(
                sc.id,
                sc.name,
                sc.scheme_type,
                sc.commissioner,
                sc.provider_type,
                sc.funding_stream,
                sc.planned,
                dict(by_q.get(sc.id, {})),
                yp.scheme_actuals.get(sc.id, 0),
                forecast,
                yp.scheme_outturns.get(sc.id, sc.planned),
            )
        )
    del whole
    return out


# --- parties and pools ---------------------------------------------------------------


def partners_at(conn: Connection, at: int) -> list[PartnerView]:
    p = t.rm_partners.c
    q = select(t.rm_partners).where(p.position <= at).order_by(p.partner_id)
    return [
        PartnerView(r.partner_id, r.name, r.kind, r.ods_code, r.ons_code) for r in conn.execute(q)
    ]


def pools_at(conn: Connection, at: int, only: set[str] | None = None) -> list[PoolView]:
    p = t.rm_pools.c
    q = select(t.rm_pools).where(p.position <= at).order_by(p.pool_id)
    out = []
    for r in conn.execute(q):
        if only is not None and r.pool_id not in only:
            continue
        years = sorted({f.year or "" for f in facts(conn, r.pool_id, "plan_agreed", at)})
        settled = sorted({f.year or "" for f in facts(conn, r.pool_id, "risk_share_settled", at)})
        out.append(
            PoolView(
                r.pool_id,
                r.name,
                r.kind,
                r.host_partner_id,
                tuple(members_at(conn, r.pool_id, at)),
                r.hwb_name,
                r.hwb_ons_code,
                tuple(years),
                tuple(closed_quarters(conn, r.pool_id, at)),
                tuple(settled),
            )
        )
    return out


def pool_at(conn: Connection, pool_id: str, at: int) -> PoolView | None:
    found = pools_at(conn, at, {pool_id})
    return found[0] if found else None


def pools_of_partner(conn: Connection, partner_id: str) -> set[str]:
    m = t.rm_pool_members.c
    return set(conn.execute(select(m.pool_id).where(m.partner_id == partner_id)).scalars())


class Reader:
    """Read transactions over the read models for the API, board pages and returns."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @contextmanager
    def at(self, as_at: str | int | None = None) -> Iterator[tuple[Connection, int]]:
        """One consistent read: the connection and the resolved position."""
        with self.engine.connect() as conn, conn.begin():
            yield conn, asat.resolve(conn, as_at)

    def balances(self, pool_id: str, year: str, as_at: str | int | None = None) -> Balances:
        with self.at(as_at) as (conn, pos):
            return balances_at(conn, pool_id, year, pos)

    def risk_share(self, pool_id: str, year: str, as_at: str | int | None = None) -> RiskShareView:
        with self.at(as_at) as (conn, pos):
            return risk_share_at(conn, pool_id, year, pos)

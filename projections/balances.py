"""Partner balances, the outturn and the risk share of a pool-year as at a position
(domain.md 6.1, 6.1.1, 6.2), and spend by scheme.

Rules as implemented (see also docs/DECISIONS.md):

- ``received`` is contributions less refunds (reversals net out), for the year the
  posting names; transfers never count as income. A partner-to-pool transfer is the
  partner's transfer out and the pool's transfer in; pool-to-partner the reverse; a
  partner-to-partner transfer shows only in the two partners' transfers.
- ``balance = opening + income + transfers in - transfers out - spend``, by
  construction from the same sums, at every position.
- The opening balance of a year is the one recorded for it plus what the previous
  year's settlement carried forward (``carry_forward`` underspend).
- The outturn: Q4 closed -> actual spend (``actual``); else a whole-pool forecast in
  force (``forecast``); else, when a scheme of the plan has a forecast in force, the
  sum over the plan's schemes of each one's forecast or, lacking one, its plan
  (``forecast``; a forecast for a scheme the plan in force no longer has is left out,
  as the plan supersedes as a whole); else spend to date (``actual_to_date``), and no
  risk share is allocated.
- Once the year is settled the settled figures are the risk share, whatever is
  posted to the year afterwards (prior-period adjustments still move the balances).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction

from sqlalchemy import Connection

from ledger.clock import LONDON, parse_instant
from ledger.domain.calc.riskshare import SchemeVariance, allocate_risk_share
from ledger.domain.periods import FinancialYear, parse_year
from ledger.domain.plan import Plan, Scheme
from ledger.store.reads import recorded_at_of
from projections.base import Fact, facts, latest_by_key
from projections.money_lines import LineSum
from projections.views import (
    Balances,
    Basis,
    PartnerBalance,
    PoolPosition,
    RiskShareView,
    SchemeSpend,
)
from projections.year_inputs import year_inputs

SPEND_KINDS = ("expenditure", "credit")
INCOME_KINDS = ("contribution", "refund")


def signed(s: LineSum) -> int:
    """A line group's amount with the direction its kind gives (refunds and credits
    reduce income and spend)."""
    return -s.amount if s.kind in ("refund", "credit") else s.amount


def forecasts_in_force(
    conn: Connection, pool_id: str, year: str, at: int
) -> tuple[Fact | None, dict[str, Fact]]:
    """The whole-pool forecast and each scheme's: the one not reversed with the latest
    as-of date (ties: the later position)."""
    whole: Fact | None = None
    schemes: dict[str, Fact] = {}
    for f in latest_by_key(conn, pool_id, "forecast_recorded", at, year=year):
        sid = f.data.get("scheme_id")
        if sid is None:
            whole = f
        else:
            schemes[sid] = f
    return whole, schemes


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
    # the facts behind the figures (for tracing)
    plan_position: int | None = None
    whole_forecast: Fact | None = None
    scheme_forecast_facts: dict[str, Fact] = field(default_factory=dict)
    q4_close: Fact | None = None
    settled: Fact | None = None  # this year's settlement
    carried_from: Fact | None = None  # last year's settlement, when it carried money here
    opening_recorded: int = 0  # the opening balance recorded for this year itself

    @property
    def planned_total(self) -> int:
        return self.plan.planned_total if self.plan else 0

    def scheme_outturn_known(self, scheme_id: str) -> bool:
        """Whether a scheme of the plan has an outturn of its own: its actual once Q4 is
        closed; its forecast, or its plan, when the pool's outturn is the sum of the
        schemes'; only its own forecast when the pool's is a whole-pool forecast;
        never while the outturn is spend to date."""
        if self.q4_closed:
            return True
        if self.basis == "actual_to_date":
            return False
        if self.whole_forecast is not None:
            return scheme_id in self.scheme_forecast_facts
        return True

    @property
    def schemes_note(self) -> str | None:
        """Why the schemes' outturns do not sum to the pool's (None when they do)."""
        if self.q4_closed:
            return None
        if self.basis == "actual_to_date":
            return (
                "No forecast is recorded, so there is no outturn for the year yet: schemes "
                "show their plan and spend to date, and no year variance."
            )
        if self.whole_forecast is not None:
            return (
                "The pool's outturn is a whole-pool forecast; a scheme shows an outturn "
                'only where it has its own forecast ("no scheme forecast" otherwise), '
                "so the schemes' figures do not sum to the pool's outturn."
            )
        return None


def year_position(
    conn: Connection,
    pool_id: str,
    year: str,
    at: int,
    members: list[str] | None = None,
    *,
    through: date | None = None,
) -> YearPosition:
    """``members``: the pool's members as at ``at`` when the caller has read them
    already (in the same transaction). ``through``: only facts effective on or before
    that date count (a forecast: its as-of date; before the year's last day the year's
    Q4 close and settlement do not count yet)."""
    fy = parse_year(year)
    year = fy.label
    got = year_inputs(
        conn, pool_id, year, FinancialYear(fy.start_year - 1).label, at, members, through
    )
    yf, sums = got.facts, got.sums
    pf = yf.plan
    plan = Plan.model_validate(pf.data["plan"]) if pf else None

    recorded = sum(s.amount for s in sums if s.kind == "opening")
    previous = yf.previous_settled
    carried = int(previous.data.get("carried_forward", 0)) if previous else 0
    opening = recorded + carried

    scheme_actuals: dict[str, int] = defaultdict(int)
    for s in sums:
        if s.kind in SPEND_KINDS:
            scheme_actuals[s.scheme_id or ""] += signed(s)
    spend = sum(scheme_actuals.values())

    q4_close = yf.q4_close
    whole: Fact | None = None
    by_scheme: dict[str, Fact] = {}
    for f in yf.forecasts:  # as forecasts_in_force
        sid = f.data.get("scheme_id")
        if sid is None:
            whole = f
        else:
            by_scheme[sid] = f
    planned_schemes = {s.id: s.planned for s in plan.schemes} if plan else {}
    scheme_forecasts = {sid: int(f.data["amount"]) for sid, f in by_scheme.items()}
    basis: Basis
    if q4_close is not None:
        outturn, basis = spend, "actual"
    elif whole is not None:
        outturn, basis = int(whole.data["amount"]), "forecast"
    elif any(sid in planned_schemes for sid in scheme_forecasts):
        outturn = sum(scheme_forecasts.get(i, p) for i, p in planned_schemes.items())
        basis = "forecast"
    else:
        outturn, basis = spend, "actual_to_date"
    scheme_outturns = {
        sid: (scheme_actuals.get(sid, 0) if q4_close else scheme_forecasts.get(sid, p))
        for sid, p in planned_schemes.items()
    }
    planned_total = plan.planned_total if plan else 0
    return YearPosition(
        plan=plan,
        members=got.members,
        kinds=got.kinds,
        host=got.pool.host_partner_id,
        sums=sums,
        opening=opening,
        spend=spend,
        outturn=outturn,
        basis=basis,
        variance=outturn - (planned_total + opening),
        scheme_outturns=scheme_outturns,
        scheme_actuals={k: v for k, v in scheme_actuals.items() if k},
        scheme_forecasts=scheme_forecasts,
        q4_closed=q4_close is not None,
        plan_position=pf.position if pf else None,
        whole_forecast=whole if basis == "forecast" else None,
        scheme_forecast_facts={k: f for k, f in by_scheme.items() if k in planned_schemes},
        q4_close=q4_close,
        settled=yf.settled,
        carried_from=previous if carried else None,
        opening_recorded=recorded,
    )


def risk_share_at(
    conn: Connection,
    pool_id: str,
    year: str,
    at: int,
    yp: YearPosition | None = None,
    *,
    through: date | None = None,
) -> RiskShareView:
    """6.2: the settled risk share once the year is settled, else the provisional one
    from the outturn in force (none while the outturn is only spend to date)."""
    yp = yp or year_position(conn, pool_id, year, at, through=through)
    year = parse_year(year).label
    plan = yp.plan or Plan()
    if yp.settled is not None:
        d = yp.settled.data
        direction = d["direction"]
        rule = (
            {}
            if direction == "none"
            else (
                plan.risk_share.overspend
                if direction == "overspend"
                else plan.risk_share.underspend
            ).model_dump(mode="json")
        )
        return RiskShareView(
            pool_id,
            year,
            at,
            int(d["variance"]),
            direction,
            yp.basis,
            True,
            rule,
            d["method"],
            tuple(sorted((a["partner_id"], int(a["amount"])) for a in d["allocations"])),
            int(d.get("carried_forward", 0)),
        )
    planned = plan.planned_by_partner()
    everyone = sorted(set(yp.members) | set(planned) | {yp.host})
    if yp.basis == "actual_to_date" or yp.variance == 0:
        return RiskShareView(
            pool_id,
            year,
            at,
            yp.variance,
            "none",
            yp.basis,
            False,
            {},
            "none",
            tuple((p, 0) for p in everyone),
        )
    result = allocate_risk_share(
        yp.variance,
        plan.risk_share,
        host=yp.host,
        member_kinds={m: yp.kinds.get(m, "") for m in everyone},
        planned=planned,
        scheme_variances=[
            SchemeVariance(
                s.id,
                s.commissioner,
                s.joint_split,
                yp.scheme_outturns.get(s.id, s.planned) - s.planned,
            )
            for s in plan.schemes
        ],
    )
    applied = plan.risk_share.overspend if yp.variance > 0 else plan.risk_share.underspend
    return RiskShareView(
        pool_id,
        year,
        at,
        yp.variance,
        result.direction,
        yp.basis,
        False,
        applied.model_dump(mode="json"),
        result.method,
        tuple(sorted(result.allocations.items())),
        result.carried_forward,
    )


def figures_date(conn: Connection, at: int, through: date | None, on: date | None) -> date:
    """The date a pool-year's figures are to (6.1, plan to date): ``through`` when
    given, else ``on`` (the as-at's date, as the caller knows it), else the London
    date of the as-at position's recorded time."""
    if through is not None:
        return through
    if on is not None:
        return on
    recorded = recorded_at_of(conn, at) if at else None
    return parse_instant(recorded).astimezone(LONDON).date() if recorded else date.min


def quarters_ended(fy: FinancialYear, day: date) -> int:
    """How many of the year's quarters have ended by ``day`` (0 to 4)."""
    return sum(1 for q in fy.quarters if q.end <= day)


def balances_at(
    conn: Connection,
    pool_id: str,
    year: str,
    at: int,
    members: list[str] | None = None,
    *,
    through: date | None = None,
    on: date | None = None,
) -> Balances:
    """6.1: each partner's planned, received, transfers, share, risk share, net
    obligation and outstanding; the pool's opening balance, income, spend, transfers,
    balance, outturn (with its basis), variance (none with basis ``actual_to_date``)
    and the plan to date. ``members``: as ``year_position``; ``through``: only facts
    effective by then; ``on``: see ``figures_date``."""
    yp = year_position(conn, pool_id, year, at, members, through=through)
    fy = parse_year(year)
    year = fy.label
    ended = quarters_ended(fy, figures_date(conn, at, through, on))
    partners_to_date, spend_to_date = yp.plan.planned_to_date(ended) if yp.plan else ({}, 0)
    planned = yp.plan.planned_by_partner() if yp.plan else {}
    planned_total = sum(planned.values())
    received: dict[str, int] = defaultdict(int)
    t_in: dict[str, int] = defaultdict(int)
    t_out: dict[str, int] = defaultdict(int)
    pool_in = pool_out = 0
    p2p: dict[tuple[str, str], int] = defaultdict(int)
    for s in yp.sums:
        pid = s.partner_id or ""
        if s.kind in INCOME_KINDS:
            received[pid] += signed(s)
        elif s.kind == "transfer_in":  # the partner pays the pool
            t_out[pid] += s.amount
            pool_in += s.amount
        elif s.kind == "transfer_out":  # the pool pays the partner
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
                planned_to_date=partners_to_date.get(pid, 0),
            )
        )
    income = sum(received.values())
    position = PoolPosition(
        yp.opening,
        planned_total,
        income,
        yp.spend,
        pool_in,
        pool_out,
        yp.opening + income + pool_in - pool_out - yp.spend,
        yp.outturn,
        yp.basis,
        None if yp.basis == "actual_to_date" else yp.variance,
        planned_to_date=spend_to_date,
        actual_to_date=yp.spend,
        variance_to_date=yp.spend - spend_to_date,
        income_planned_to_date=sum(partners_to_date.values()),
        to_date_quarters=ended,
        to_date_end=fy.quarters[ended - 1].end if ended else None,
    )
    return Balances(
        pool_id,
        year,
        at,
        tuple(rows),
        position,
        tuple((a, b, v) for (a, b), v in sorted(p2p.items()) if v),
        yp.schemes_note,
    )


def _scheme_definitions(conn: Connection, pool_id: str, year: str, at: int) -> dict[str, Scheme]:
    """Every scheme any plan of the year has named (newest definition first), for
    spend against a scheme the plan in force no longer has."""
    out: dict[str, Scheme] = {}
    for f in reversed(facts(conn, pool_id, "plan_agreed", at, year=year, include_reversed=True)):
        for s in Plan.model_validate(f.data["plan"]).schemes:
            out.setdefault(s.id, s)
    return out


def scheme_spend_at(
    conn: Connection, pool_id: str, year: str, at: int, *, through: date | None = None
) -> list[SchemeSpend]:
    """Spend by scheme: the plan's schemes in its order, then any scheme with spend that
    the plan in force no longer has (planned 0), so the schemes add up to the pool's
    spend. Quarters: all four of the year, zero included."""
    yp = year_position(conn, pool_id, year, at, through=through)
    quarters = [q.label for q in parse_year(year).quarters]
    by_q: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(quarters, 0))
    for s in yp.sums:
        if s.kind in SPEND_KINDS and s.scheme_id:
            by_q[s.scheme_id][s.quarter] = by_q[s.scheme_id].get(s.quarter, 0) + signed(s)
    schemes = list(yp.plan.schemes) if yp.plan else []
    in_plan = {s.id for s in schemes}
    extra = sorted(sid for sid in yp.scheme_actuals if sid not in in_plan)
    if extra:
        known = _scheme_definitions(conn, pool_id, year, at)
        for sid in extra:
            old = known.get(sid)
            schemes.append(
                old.model_copy(update={"planned": 0})
                if old
                else Scheme(
                    id=sid,
                    name=sid,
                    scheme_type="",
                    commissioner="",
                    provider_type="",
                    funding_stream="",
                    planned=0,
                )
            )
    out = []
    for sc in schemes:
        has_outturn = (
            yp.scheme_outturn_known(sc.id) if sc.id in in_plan else yp.basis != "actual_to_date"
        )
        actual = yp.scheme_actuals.get(sc.id, 0)
        forecast = yp.scheme_forecasts.get(sc.id, sc.planned) if sc.id in in_plan else actual
        out.append(
            SchemeSpend(
                sc.id,
                sc.name,
                sc.scheme_type,
                sc.commissioner,
                sc.provider_type,
                sc.funding_stream,
                sc.planned,
                dict(by_q.get(sc.id) or dict.fromkeys(quarters, 0)),
                actual,
                forecast,
                yp.scheme_outturns.get(sc.id, actual),
                has_outturn,
            )
        )
    return out

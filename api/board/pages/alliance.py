"""The alliance page: each risk/reward scheme's results for a period, by partner,
with the settlements between partners and a chart."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from api.board import charts, fmt
from api.board.pages.shared import Fig, Tracer, names_of
from api.board.web import AsAt, Links
from ledger.domain.errors import NotFound
from ledger.domain.periods import parse_period, parse_year, year_of
from ledger.domain.plan import Plan
from projections.alliance import risk_reward_at
from projections.base import plan_at
from projections.parties import pool_at


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
    # the agreed shares: (partner name, gain %, loss %), from the plan in force
    shares: tuple[tuple[str, str, str], ...] = ()


def agreed_shares(
    plan: Plan | None, scheme_id: str, names: dict[str, str]
) -> tuple[tuple[str, str, str], ...]:
    """The scheme's gain and loss shares in the plan in force, by partner."""
    scheme = (
        next((r for r in plan.risk_reward_schemes if r.id == scheme_id), None) if plan else None
    )
    if scheme is None:
        return ()
    gain = {x.partner_id: x.pct for x in scheme.gain_shares}
    loss = {x.partner_id: x.pct for x in scheme.loss_shares}
    return tuple(
        (names.get(pid, pid), f"{gain.get(pid, 0)}%", f"{loss.get(pid, 0)}%")
        for pid in sorted(gain.keys() | loss.keys(), key=lambda p: names.get(p, p))
    )


def alliance(conn: Connection, at: AsAt, links: Links, pool_id: str, period: str) -> dict[str, Any]:
    pos = at.position
    pool = pool_at(conn, pool_id, pos)
    if pool is None:
        raise NotFound(f"there is no pool '{pool_id}' as at ledger position {pos}")
    label = parse_period(period, "period").label
    names = names_of(conn, pos)
    view = risk_reward_at(conn, pool_id, label, pos)
    year = year_of(parse_period(label)).label
    t = Tracer(links, pool_id, year)
    plan = plan_at(conn, pool_id, year, pos)
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
                agreed_shares(plan, s.scheme_id, names),
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

"""The events behind a figure of a pool-year: which events (the read side's trace,
or the facts behind the alliance figures), the figure's value and its label."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from api.board.names import Names, names_at
from api.board.pages.events import event_rows
from api.board.pages.shared import QUARTERS, unit_name
from api.board.web import AsAt, Links
from ledger.domain.errors import NotFound, ValidationFailed
from ledger.domain.periods import parse_period, parse_year
from ledger.store.reads import get_by_positions
from projections import tables as pt
from projections.balances import balances_at, scheme_spend_at
from projections.base import facts, periods_within, plan_at, plan_fact
from projections.parties import pool_at
from projections.returns_data import income_by_stream_at, quarterly_trend_at
from projections.trace import traced_at


def trace(
    conn: Connection,
    at: AsAt,
    links: Links,
    pool_id: str,
    year: str,
    figure: str,
    quarter: str | None = None,
    partner: str | None = None,
) -> dict[str, Any]:
    """The events behind a figure of a pool-year: the read side's own trace for
    balances, spend, streams and quarters (``projections.trace``), and the facts behind
    the alliance figures (``rr:``, ``capitation:``, ``outcomes:``, ``metric:``)."""
    pos = at.position
    pool = pool_at(conn, pool_id, pos)
    if pool is None:
        raise NotFound(f"there is no pool '{pool_id}' as at ledger position {pos}")
    figure = figure.strip()
    if quarter is not None and quarter not in QUARTERS:
        raise ValidationFailed.field("quarter", "must be Q1, Q2, Q3 or Q4")
    board_side = figure.split(":", 1)[0] in BOARD_FIGURES
    counts: dict[int, int | None] | None = None
    by_rule = None
    if board_side:
        positions = board_trace(conn, pool_id, year, figure, pos)
    else:
        traced = traced_at(conn, pool_id, year, figure, pos)
        positions, counts, by_rule = traced.positions, traced.amounts, traced.by_rule
    if quarter is not None:
        positions = in_quarter(conn, positions, pool_id, f"{year}-{quarter}")
        by_rule = None
    events = get_by_positions(conn, positions) if positions else []
    names = names_at(conn, pos, pool_id, year)
    value = None if board_side else figure_value(conn, pool_id, year, figure, pos, quarter)
    label = figure_label(figure, names) + (f", {quarter}" if quarter else "")
    return {
        "pool": pool,
        "year": year,
        "figure": figure,
        "quarter": quarter,
        "label": label,
        "value": value,
        "rows": event_rows(conn, events, pos, links, partner),
        # each event's signed amount in the figure (they sum to it, with by_rule)
        "counts": {p: counts[p] for p in positions} if counts is not None else None,
        "by_rule": by_rule,
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
    plan = plan_fact(conn, pool_id, year, at)
    out: set[int] = {plan.position} if plan is not None else set()
    if parts[0] == "rr" and len(parts) == 3:
        within = periods_within(parse_period(parts[2], "figure"))
        out |= {
            f.position
            for f in facts(conn, pool_id, "risk_reward_result_recorded", at, year=year)
            if f.data.get("scheme_id") == parts[1] and f.period in within
        }
    elif parts[0] == "capitation" and len(parts) == 2:
        last_day = parse_year(year).end
        out |= {
            f.position
            for f in facts(conn, pool_id, "population_recorded", at)
            if f.data.get("unit_id") == parts[1]
            and f.effective_date is not None
            and f.effective_date <= last_day
        }
    elif parts[0] == "outcomes" and len(parts) == 2:
        p = plan_at(conn, pool_id, year, at)
        services = (
            {s.id for s in p.commissioned_services if s.provider_id == parts[1]} if p else set()
        )
        out |= {
            f.position
            for f in facts(conn, pool_id, "outcome_assessed", at, year=year)
            if f.data.get("service_id") in services
        }
    elif parts[0] == "metric" and len(parts) == 3:
        within = periods_within(parse_period(parts[2], "figure"))
        out |= {
            f.position
            for f in facts(conn, pool_id, "metric_recorded", at, year=year)
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
        v = getattr(balances_at(conn, pool_id, year, at).pool, parts[1], None)
        return v if isinstance(v, int) else None
    if parts[0] == "partner" and len(parts) == 3 and quarter is None:
        for r in balances_at(conn, pool_id, year, at).partners:
            if r.partner_id == parts[1]:
                v = getattr(r, parts[2], None)
                return v if isinstance(v, int) else None
        return None
    if parts[0] == "scheme" and len(parts) == 3:
        for sp in scheme_spend_at(conn, pool_id, year, at):
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
        for st in income_by_stream_at(conn, pool_id, year, at).streams:
            if st.funding_stream == parts[1]:
                if parts[2] == "planned":
                    return st.planned if quarter is None else None
                if quarter is not None:
                    return st.received_by_quarter.get(f"{year}-{quarter}", 0)
                return st.received
        return None
    if parts[0] == "quarter" and len(parts) == 3 and quarter is None:
        for tr in quarterly_trend_at(conn, pool_id, year, at).quarters:
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


def figure_label(figure: str, names: Names) -> str:
    parts = figure.split(":")
    if not parts:
        return figure
    field = FIELD_LABELS.get(parts[2], parts[2]) if len(parts) > 2 else ""
    if parts[0] == "pool" and len(parts) >= 2:
        return (
            "Pool "
            + FIELD_LABELS.get(parts[1], parts[1])
            + (f", {parts[2]}" if len(parts) > 2 else "")
        )
    if parts[0] == "partner" and len(parts) >= 3:
        return f"{names.partner(parts[1])}: {field}"
    if parts[0] == "scheme" and len(parts) >= 3:
        return f"Scheme {names.scheme(parts[1])}: {field}" + (
            f", {parts[3]}" if len(parts) > 3 else ""
        )
    if parts[0] == "stream" and len(parts) >= 3:
        return f"Funding stream {names.stream(parts[1])}: {field}"
    if parts[0] == "quarter" and len(parts) == 3:
        return f"{parts[1]} {field}"
    if parts[0] == "rr" and len(parts) == 3:
        return f"Risk/reward scheme {names.rr_scheme(parts[1])}, {parts[2]}"
    if parts[0] == "capitation" and len(parts) == 2:
        return f"Capitated allocation of {unit_name(parts[1])}"
    if parts[0] == "outcomes" and len(parts) == 2:
        return f"Outcome payments to {names.partner(parts[1])}"
    if parts[0] == "metric" and len(parts) == 3:
        return f"Metric {names.metric(parts[1])}, {parts[2]}"
    return figure

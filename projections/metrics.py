"""Metrics with status as at a position (domain.md 6.6).

The metrics recorded for the period or any period inside it; for one (metric,
period) the latest in force (by position) counts. A metric's definition (name, unit,
direction) comes from the plan of the year in force, else from the reference data the
ledger recorded for the year (the version the plan was checked against first, then
any other recorded version, newest first), else from an earlier plan of the year, so
a later change to the shipped reference files never changes a past answer.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

from sqlalchemy import Connection

from ledger.domain.calc.metrics import metric_status
from ledger.domain.periods import parse_period, year_of
from ledger.domain.plan import MetricDefinition, Plan
from projections.base import effective_by, facts, periods_within, plan_fact, pool_row
from projections.views import MetricsView, MetricView


def definitions_at(
    conn: Connection, pool_id: str, year: str, at: int
) -> dict[str, MetricDefinition]:
    """Every metric definition known for the pool-year as at ``at``, the first source
    in the order of the module's docstring winning."""
    out: dict[str, MetricDefinition] = {}
    plans = facts(conn, pool_id, "plan_agreed", at, year=year, include_reversed=True)
    current = plan_fact(conn, pool_id, year, at)
    if current is not None:
        for m in Plan.model_validate(current.data["plan"]).metrics:
            out.setdefault(m.id, m)
    wanted = current.data.get("reference_hash") if current is not None else None
    recorded = facts(conn, None, "reference_data_recorded", at, year=year)
    recorded.sort(key=lambda f: (f.data.get("content_hash") != wanted, -f.position))
    for f in recorded:
        for m in json.loads(f.data["content"]).get("metrics", ()):
            out.setdefault(m["id"], MetricDefinition.model_validate(m))
    for f in reversed(plans):
        for m in Plan.model_validate(f.data["plan"]).metrics:
            out.setdefault(m.id, m)
    return out


def metrics_at(
    conn: Connection, pool_id: str, period: str, at: int, *, through: date | None = None
) -> MetricsView:
    p = parse_period(period)
    year = year_of(p).label
    pool_row(conn, pool_id, at)
    within = periods_within(p)
    latest: dict[tuple[str, str], dict[str, object]] = {}
    for f in effective_by(facts(conn, pool_id, "metric_recorded", at, year=year), through):
        if f.data["period"] in within:
            latest[(f.data["metric_id"], f.data["period"])] = f.data
    defs = definitions_at(conn, pool_id, year, at) if latest else {}
    out = []
    for (metric_id, label), d in sorted(latest.items()):
        definition = defs.get(metric_id) or MetricDefinition(
            id=metric_id, name=metric_id, unit="", lower_is_better=False
        )
        target, actual = str(d["target"]), str(d["actual"])
        out.append(
            MetricView(
                metric_id,
                definition.name,
                definition.unit,
                definition.lower_is_better,
                label,
                target,
                actual,
                metric_status(Decimal(target), Decimal(actual), definition.lower_is_better),
            )
        )
    return MetricsView(pool_id, p.label, at, tuple(out))

"""The plan in force, written back in the shape ``PUT .../plan`` takes (amounts as
decimal strings of pounds, shares and weights as maps), so a client can read, change
and send it back whole."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from sqlalchemy import Connection

from api.schemas.fields import response_config
from api.schemas.plan import PLAN_EXAMPLE
from ledger.domain import plan as p
from ledger.domain.money import format_pence
from projections.base import plan_fact


class PlanPublic(BaseModel):
    model_config = response_config(
        {
            "pool_id": "eq",
            "year": "2025-26",
            "as_at_position": 1200,
            "plan_position": 12,
            "plan_event_id": "0b7a1f66-3c55-4a37-9a4e-2f1d6f0f8a11",
            "agreed_at": "2025-03-20T10:00:00.000000Z",
            "plan": PLAN_EXAMPLE,
        }
    )
    pool_id: str
    year: str
    as_at_position: int
    plan_position: int | None  # None: no plan agreed for the year as at the position
    plan_event_id: str | None
    agreed_at: str | None
    plan: dict[str, Any] | None


def _shares(shares: tuple[p.Share, ...]) -> dict[str, str]:
    return {s.partner_id: str(s.pct) for s in shares}


def _rule(r: p.RiskRule) -> dict[str, Any]:
    out: dict[str, Any] = {"method": r.method}
    if r.shares:
        out["shares"] = _shares(r.shares)
    if r.tiers:
        out["tiers"] = [
            {
                "up_to": None if t.up_to is None else format_pence(t.up_to),
                "shares": _shares(t.shares),
            }
            for t in r.tiers
        ]
    if r.caps:
        out["caps"] = {c.partner_id: format_pence(c.amount) for c in r.caps}
    return out


def plan_body(plan: p.Plan) -> dict[str, Any]:
    """``plan`` as a ``PUT .../plan`` body."""
    body: dict[str, Any] = {
        "contributions": [
            {
                "partner_id": c.partner_id,
                "funding_stream": c.funding_stream,
                "amount": format_pence(c.amount),
            }
            for c in plan.contributions
        ],
        "schemes": [
            {
                "id": s.id,
                "name": s.name,
                "scheme_type": s.scheme_type,
                "commissioner": s.commissioner,
                **(
                    {"joint_split": {"la": str(s.joint_split.la), "icb": str(s.joint_split.icb)}}
                    if s.joint_split
                    else {}
                ),
                "provider_type": s.provider_type,
                "funding_stream": s.funding_stream,
                "planned": format_pence(s.planned),
            }
            for s in plan.schemes
        ],
        "risk_share": {
            "overspend": _rule(plan.risk_share.overspend),
            "underspend": _rule(plan.risk_share.underspend),
        },
        "risk_reward_schemes": [
            {
                "id": r.id,
                "name": r.name,
                "gain_shares": _shares(r.gain_shares),
                "loss_shares": _shares(r.loss_shares),
            }
            for r in plan.risk_reward_schemes
        ],
        "capitation": None
        if plan.capitation is None
        else {
            "budget": format_pence(plan.capitation.budget),
            "excluded_personal_budgets": format_pence(plan.capitation.excluded_personal_budgets),
            "weights": {w.cohort: str(w.weight) for w in plan.capitation.weights},
        },
        "commissioned_services": [
            {
                "id": s.id,
                "provider_id": s.provider_id,
                "period": s.period,
                "hours": str(s.hours),
                "rate": format_pence(s.rate),
                "base_pct": str(s.base_pct),
                "outcomes": list(s.outcomes),
                **({"unit_id": s.unit_id} if s.unit_id is not None else {}),
            }
            for s in plan.commissioned_services
        ],
        "metrics": [
            {"id": m.id, "name": m.name, "unit": m.unit, "lower_is_better": m.lower_is_better}
            for m in plan.metrics
        ],
    }
    if plan.contribution_schedules:
        body["contribution_schedules"] = [
            {"partner_id": x.partner_id, "frequency": x.frequency, "day_of_month": x.day_of_month}
            for x in plan.contribution_schedules
        ]
    return body


def plan_public(conn: Connection, pool: str, year: str, at: int) -> PlanPublic:
    fact = plan_fact(conn, pool, year, at)
    if fact is None:
        return PlanPublic(
            pool_id=pool,
            year=year,
            as_at_position=at,
            plan_position=None,
            plan_event_id=None,
            agreed_at=None,
            plan=None,
        )
    plan = p.Plan.model_validate(fact.data["plan"])
    return PlanPublic(
        pool_id=pool,
        year=year,
        as_at_position=at,
        plan_position=fact.position,
        plan_event_id=fact.event_id,
        agreed_at=fact.recorded_at,
        plan=plan_body(plan),
    )

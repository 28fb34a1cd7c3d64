"""The names the board shows for the ledger's ids: partners, pools, schemes, funding
streams, metrics, risk/reward schemes and commissioners, as the ledger records them
as at the page's position.

Where the ledger has no name for an id, the id is shown marked as one ("north (id)"),
never passed off as a name. Scheme, risk/reward and metric names come from the
pool's plans (the year's plan first, then its other years', the latest first), metric
names also from the reference data recorded in the ledger; funding stream names from
the reference data the ledger recorded for the year (the shipped lists only when none
was recorded); a pool's own "contribution" stream is "Partner contributions".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import Connection

from ledger.domain.errors import RuleViolation
from ledger.domain.plan import Plan
from ledger.refdata import default_catalogue
from projections.base import plan_at
from projections.metrics import definitions_at
from projections.parties import partners_at, pool_at, pools_at
from projections.returns.reference import reference_at

COMMISSIONERS = {"la": "Local authority", "icb": "ICB", "joint": "Joint (local authority and ICB)"}
CONTRIBUTION = "Partner contributions"


def as_id(ident: str) -> str:
    """An id with no name in the ledger, marked as an id."""
    return f"{ident} (id)"


@dataclass
class Names:
    partners: dict[str, str] = field(default_factory=dict)
    pools: dict[str, str] = field(default_factory=dict)
    schemes: dict[str, str] = field(default_factory=dict)
    streams: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, str] = field(default_factory=dict)
    rr_schemes: dict[str, str] = field(default_factory=dict)

    def partner(self, ident: str) -> str:
        return self.partners.get(ident) or as_id(ident)

    def pool(self, ident: str) -> str:
        return self.pools.get(ident) or as_id(ident)

    def scheme(self, ident: str) -> str:
        return self.schemes.get(ident) or as_id(ident)

    def stream(self, ident: str) -> str:
        return self.streams.get(ident) or as_id(ident)

    def metric(self, ident: str) -> str:
        return self.metrics.get(ident) or as_id(ident)

    def rr_scheme(self, ident: str) -> str:
        return self.rr_schemes.get(ident) or as_id(ident)

    def commissioner(self, ident: str) -> str:
        """ "la", "icb", "joint", or a member partner's id."""
        return COMMISSIONERS.get(ident) or self.partner(ident)


def names_at(
    conn: Connection, at: int, pool_id: str | None = None, year: str | None = None
) -> Names:
    """Partners' and pools' names as at ``at``; with ``pool_id``, its plans' and its
    years' names too (``year``'s first)."""
    names = Names(
        partners={p.partner_id: p.name for p in partners_at(conn, at)},
        pools={p.pool_id: p.name for p in pools_at(conn, at)},
    )
    if pool_id is None:
        return names
    pool = pool_at(conn, pool_id, at)
    if pool is None:
        return names
    years = [y for y in pool.years if y == year]
    years += sorted((y for y in pool.years if y != year), reverse=True)
    for y in years:
        plan = plan_at(conn, pool_id, y, at)
        if plan is not None:
            _add_plan(names, plan)
        for mid, m in definitions_at(conn, pool_id, y, at).items():
            names.metrics.setdefault(mid, m.name)
        try:
            ref = reference_at(conn, pool_id, y, at, default_catalogue())
        except RuleViolation:  # no lists known for the year: the ids are shown as ids
            continue
        for s in ref.funding_streams:
            names.streams.setdefault(s.id, s.name)
    names.streams.setdefault("contribution", CONTRIBUTION)
    return names


def _add_plan(names: Names, plan: Plan) -> None:
    for s in plan.schemes:
        names.schemes.setdefault(s.id, s.name)
    for r in plan.risk_reward_schemes:
        names.rr_schemes.setdefault(r.id, r.name)
    for m in plan.metrics:
        names.metrics.setdefault(m.id, m.name)


_REASON = re.compile(r"^([a-z ]+) (\S+) ([0-9]{4}-[0-9]{2}(?:-Q[1-4])?)$")


def checkpoint_reason(reason: str, names: Names) -> str:
    """A checkpoint's recorded reason ("quarter closed ices 2025-26-Q1", "return as at
    bcf 2025-26-Q1") with the pool's name for its id: "Quarter closed: Integrated ...
    (ICES), 2025-26-Q1"."""
    m = _REASON.match(reason)
    if m is None or m.group(2) not in names.pools:
        return reason
    return f"{m.group(1).capitalize()}: {names.pool(m.group(2))}, {m.group(3)}"

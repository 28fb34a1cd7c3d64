"""Partners and pools as at a position."""

from __future__ import annotations

from sqlalchemy import Connection, select

from projections import tables as t
from projections.base import closed_quarters, facts, members_at
from projections.views import PartnerView, PoolView


def partners_at(conn: Connection, at: int) -> list[PartnerView]:
    p = t.rm_partners.c
    q = select(t.rm_partners).where(p.position <= at).order_by(p.partner_id)
    return [
        PartnerView(r.partner_id, r.name, r.kind, r.ods_code, r.ons_code) for r in conn.execute(q)
    ]


def pools_at(conn: Connection, at: int, only: set[str] | None = None) -> list[PoolView]:
    """The pools established by ``at`` (``only``: just these ids), with their members,
    the years with a plan in force, closed quarters and settled years."""
    p = t.rm_pools.c
    q = select(t.rm_pools).where(p.position <= at).order_by(p.pool_id)
    if only is not None:
        q = q.where(p.pool_id.in_(sorted(only)))
    out = []
    for r in conn.execute(q).all():
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


def pools_of_partner(conn: Connection, partner_id: str, at: int | None = None) -> set[str]:
    """The pools ``partner_id`` belongs to (as at ``at``, or now)."""
    m = t.rm_pool_members.c
    q = select(m.pool_id).where(m.partner_id == partner_id)
    if at is not None:
        q = q.where(m.position <= at)
    return set(conn.execute(q).scalars())

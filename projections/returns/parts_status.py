"""A pool-quarter's return parts as at a position and which required parts are still
missing (``ledger.domain.return_parts``), against the plan and reference lists the
ledger held then."""

from __future__ import annotations

from sqlalchemy import Connection

from ledger.domain.errors import RuleViolation
from ledger.domain.periods import parse_quarter
from ledger.domain.return_parts import missing_parts
from projections.base import plan_at
from projections.return_parts import PartsView, parts_at
from projections.returns.reference import ReferenceSource, reference_at


def parts_status(
    conn: Connection,
    pool_id: str,
    quarter: str,
    at: int,
    reference: ReferenceSource | None = None,
) -> tuple[PartsView, tuple[str, ...]]:
    """The parts recorded by ``at`` and the keys of those still missing, in order."""
    q = parse_quarter(quarter)
    view = parts_at(conn, pool_id, q.label, at)
    plan = plan_at(conn, pool_id, q.year.label, at)
    try:
        ref = reference_at(conn, pool_id, q.year.label, at, reference)
    except RuleViolation:
        ref = None
    return view, missing_parts(q.label, plan, ref, view.recorded_keys())

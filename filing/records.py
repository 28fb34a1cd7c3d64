"""A pool's quarterly return records: when each is due and the first quarter a pool
reports, the filed records as at a position, and the listing; with the read
transaction and the pool checks the returns service shares."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any, Literal

from sqlalchemy import Connection, Engine

from ledger.domain.errors import NotFound, RuleViolation
from ledger.domain.periods import Quarter, parse_quarter, parse_year
from ledger.refdata import default_catalogue
from projections import asat
from projections.base import Fact, facts
from projections.parties import pool_at
from projections.returns.lateness import is_late
from projections.returns.parts_status import parts_status
from projections.returns.reference import ReferenceSource
from projections.views import PoolView

QUARTERLY = "bcf_quarterly"
DEFAULT_DUE_DAYS = 30


@dataclass(frozen=True)
class ReturnRecord:
    """A pool-quarter's return: filed (with its event, hashes and sign-off) or, when
    not filed yet, a draft placeholder (``filed`` false) saying when it is due."""

    pool_id: str
    quarter: str
    filed: bool
    due_date: str | None = None
    position: int | None = None  # of the return_generated (or newest return_refiled) event
    event_id: str | None = None
    as_at_position: int | None = None
    data_as_at: str | None = None
    chain_head: str | None = None
    content_hash: str | None = None
    documents: dict[str, str] = field(default_factory=dict)  # format -> sha256
    generated_at: str | None = None
    generated_by: str | None = None
    quarter_closed: bool = False
    approved: bool = False
    approved_by: str | None = None
    approved_at: str | None = None
    approval_note: str | None = None
    submitted: bool = False
    submitted_by: str | None = None
    submitted_at: str | None = None
    submission_reference: str | None = None
    late: bool = False  # filed after its due date (or, not filed, past it)
    missing_parts: tuple[str, ...] = ()  # required parts its content lacks
    # re-filed (``return_refiled``): the newest version's event, as-at position, hashes
    # and documents above; ``generated_at``/``by`` stay the first filing's (lateness)
    version: int = 1
    supersedes_event_id: str | None = None
    refiled_at: str | None = None
    refiled_by: str | None = None
    refile_reason: str | None = None
    versions: tuple[tuple[int, int, str], ...] = ()  # (version, position, event id), oldest first

    @property
    def status(self) -> Literal["draft", "filed", "approved", "submitted"]:
        if not self.filed:
            return "draft"
        return "submitted" if self.submitted else "approved" if self.approved else "filed"


@contextmanager
def read_at(engine: Engine, position: int | None = None) -> Iterator[tuple[Connection, int]]:
    """One read transaction and the position it answers as at (the head by default)."""
    with engine.connect() as conn, conn.begin():
        yield conn, asat.resolve(conn, position, "position")


def require_pool(conn: Connection, pool_id: str, at: int) -> PoolView:
    pool = pool_at(conn, pool_id, at)
    if pool is None:
        raise NotFound(f"pool '{pool_id}' does not exist")
    return pool


def require_bcf_pool(conn: Connection, pool_id: str, at: int) -> PoolView:
    pool = require_pool(conn, pool_id, at)
    if pool.kind != "bcf":
        raise RuleViolation(
            f"pool '{pool_id}' is a {pool.kind} pool; quarterly returns are for BCF pools "
            "(see its annual memorandum statement instead)"
        )
    return pool


def due_date(
    quarter: Quarter, reference: ReferenceSource | None = None, due_days: int | None = None
) -> date:
    """When ``quarter``'s return is due: ``due_days`` after the quarter ends when given
    (settings), else the year's reporting calendar, else 30 days after."""
    if due_days is not None:
        return quarter.end + timedelta(days=due_days)
    ref = (reference or default_catalogue()).for_year(quarter.year.label)
    if ref is None:
        return quarter.end + timedelta(days=DEFAULT_DUE_DAYS)
    return ref.due_date(quarter)


def first_quarter(pool: PoolView) -> Quarter | None:
    """The first quarter a pool reports: Q1 of its first plan year."""
    if not pool.years:
        return None
    return parse_year(min(pool.years)).quarters[0]


def _filing_of(f: Fact) -> dict[str, Any]:
    """What a filing or a re-filing sets on the record: its event, as-at and hashes."""
    d = f.data
    return {
        "position": f.position,
        "event_id": f.event_id,
        "as_at_position": int(d["as_at_position"]),
        "data_as_at": d["data_as_at"],
        "chain_head": d["chain_head"],
        "content_hash": d["content_hash"],
        "documents": dict(d["documents"]),
    }


def filed_records(conn: Connection, pool_id: str, at: int) -> dict[str, ReturnRecord]:
    """The pool's filed quarterly returns as at ``at``, by quarter."""
    out: dict[str, ReturnRecord] = {}
    closed = {f.period for f in facts(conn, pool_id, "period_closed", at)}
    for f in facts(conn, pool_id, "return_generated", at):
        d = f.data
        if d.get("kind", QUARTERLY) != QUARTERLY or d["quarter"] in out:
            continue
        out[d["quarter"]] = ReturnRecord(
            pool_id=pool_id,
            quarter=d["quarter"],
            filed=True,
            **_filing_of(f),
            generated_at=f.recorded_at,
            generated_by=f.actor,
            quarter_closed=d["quarter"] in closed,
            versions=((1, f.position, f.event_id),),
        )
    for f in facts(conn, pool_id, "return_refiled", at):
        d = f.data
        rec = out.get(d["quarter"])
        if rec is None:
            continue
        out[rec.quarter] = _replace(
            rec,
            **_filing_of(f),
            version=int(d["version"]),
            supersedes_event_id=d["supersedes_event_id"],
            refiled_at=f.recorded_at,
            refiled_by=f.actor,
            refile_reason=d["reason"],
            versions=(*rec.versions, (int(d["version"]), f.position, f.event_id)),
        )
    for f in facts(conn, pool_id, ("return_approved", "return_submitted"), at):
        rec = out.get(f.data["quarter"])
        if rec is None:
            continue
        if f.type == "return_approved":
            out[rec.quarter] = _replace(
                rec,
                approved=True,
                approved_by=f.data["approved_by"],
                approved_at=f.recorded_at,
                approval_note=f.data.get("note") or None,
            )
        else:
            out[rec.quarter] = _replace(
                rec,
                submitted=True,
                submitted_by=f.data["submitted_by"],
                submitted_at=f.recorded_at,
                submission_reference=f.data.get("reference") or None,
            )
    return out


def _replace(rec: ReturnRecord, **changes: object) -> ReturnRecord:
    return replace(rec, **changes)  # type: ignore[arg-type]


def filed_record(engine: Engine, pool_id: str, quarter: str) -> ReturnRecord | None:
    """The filed return of ``quarter``, if there is one."""
    q = parse_quarter(quarter)
    with read_at(engine) as (conn, head):
        return filed_records(conn, pool_id, head).get(q.label)


def list_returns(
    engine: Engine,
    pool_id: str,
    *,
    today: date | None = None,
    reference: ReferenceSource | None = None,
    due_days: int | None = None,
) -> list[ReturnRecord]:
    """The pool's filed returns in quarter order; with ``today``, also each ended
    quarter from the first plan year that is not filed yet (``filed`` false)."""
    with read_at(engine) as (conn, head):
        pool = require_pool(conn, pool_id, head)
        records = filed_records(conn, pool_id, head)
    if pool.kind == "bcf" and today is not None:
        q = first_quarter(pool)
        while q is not None and q.end < today:
            records.setdefault(q.label, ReturnRecord(pool_id=pool_id, quarter=q.label, filed=False))
            q = q.next()
    out = []
    with read_at(engine, head) as (conn, _):
        for label in sorted(records, key=lambda x: parse_quarter(x)):
            rec = records[label]
            due = due_date(parse_quarter(label), reference, due_days)
            out.append(_with_status(conn, rec, due, head, today, reference))
    return out


def with_status(
    engine: Engine,
    rec: ReturnRecord,
    *,
    today: date | None = None,
    reference: ReferenceSource | None = None,
    due_days: int | None = None,
) -> ReturnRecord:
    """``rec`` as the listing shows it: with its due date, late or not, and the parts
    its content lacks (what a filing or re-filing answers)."""
    due = due_date(parse_quarter(rec.quarter), reference, due_days)
    with read_at(engine) as (conn, head):
        return _with_status(conn, rec, due, head, today, reference)


def _with_status(
    conn: Connection,
    rec: ReturnRecord,
    due: date,
    head: int,
    today: date | None,
    reference: ReferenceSource | None,
) -> ReturnRecord:
    """``rec`` with its due date, marked late or not, and the required parts its content
    lacks (a filed return's as at its as-at position; one still to file, as at ``head``)."""
    at = rec.as_at_position if rec.as_at_position is not None else head
    _, missing = parts_status(conn, rec.pool_id, rec.quarter, at, reference)
    late = is_late(rec.generated_at, due, today)
    return _replace(rec, due_date=due.isoformat(), late=late, missing_parts=missing)

"""Quarterly BCF returns and the annual memorandum: generate (file), read, list,
approve, submit, settle a year, and check filed returns against the chain.

The first return generated for a pool-quarter is the filed one (domain.md 6.7): its
content is computed as at the ledger head of the moment, rendered in the three
formats, and recorded by ``GenerateReturn`` with the bytes in the same transaction
(``filed_documents``). The ``return_generated`` event is unique per pool and quarter
in the database, so of two racing generations one is refused and both callers get
the filed record. Filing closes the quarter when it is the next to close.

Rules chosen here (also in docs/DECISIONS.md):

- Only an admin generates, approves, submits and settles (checked before any work).
- A quarter's return is filed only once the quarter has ended (London date), and in
  quarter order from the pool's first plan year: the previous quarter's return must
  be filed first, so each return's prior-period adjustments have their baseline.
- The as-at position, its chain head and its recorded time are those the content was
  computed from (one read transaction); anything recorded between that position and
  the filing is reported by the next return (see ``scheduler.content.adjustments``).
- Reading a return without ``position`` gives the filed bytes, unchanged for ever;
  with ``position`` (or when none is filed yet) a draft rendered as at that position.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Literal

from sqlalchemy import Connection, Engine, select

from ledger.clock import london_today
from ledger.domain import commands as c
from ledger.domain.errors import (
    AlreadyExists,
    Forbidden,
    NotFound,
    RuleViolation,
    ValidationFailed,
)
from ledger.domain.events import PartnerAmount
from ledger.domain.periods import FinancialYear, Quarter, parse_quarter, parse_year
from ledger.handlers import Ledger, Outcome
from ledger.refdata import default_catalogue
from ledger.store import eventstore as es
from ledger.store import tables as lt
from projections import asat
from projections.base import facts
from projections.queries import pool_at, risk_share_at
from projections.views import PoolView
from scheduler.content.build_memorandum import build_memorandum_content
from scheduler.content.build_return import build_return_content
from scheduler.content.reference import ReferenceSource
from scheduler.render.formats import EXTENSIONS, FORMATS, MEDIA_TYPES, render, render_all

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
    position: int | None = None  # of the return_generated event
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

    @property
    def status(self) -> Literal["draft", "filed", "approved", "submitted"]:
        if not self.filed:
            return "draft"
        return "submitted" if self.submitted else "approved" if self.approved else "filed"


@dataclass(frozen=True)
class Document:
    """A rendered return or memorandum and what it is."""

    content: bytes
    media_type: str
    filename: str
    filed: bool
    as_at_position: int
    content_hash: str | None


# --- helpers -----------------------------------------------------------------------------


def _require_admin(actor: c.Actor, what: str) -> None:
    if actor.role != "admin":
        raise Forbidden(f"only an admin may {what}; the {actor.role} role may not")


def _format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise ValidationFailed.field("format", f"'{fmt}' is not one of: {', '.join(FORMATS)}")
    return fmt


@contextmanager
def read_at(engine: Engine, position: int | None = None) -> Iterator[tuple[Connection, int]]:
    """One read transaction and the position it answers as at (the head by default)."""
    with engine.connect() as conn, conn.begin():
        yield conn, asat.resolve(conn, position, "position")


def _pool(conn: Connection, pool_id: str, at: int) -> PoolView:
    pool = pool_at(conn, pool_id, at)
    if pool is None:
        raise NotFound(f"pool '{pool_id}' does not exist")
    return pool


def _bcf(conn: Connection, pool_id: str, at: int) -> PoolView:
    pool = _pool(conn, pool_id, at)
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
            position=f.position,
            event_id=f.event_id,
            as_at_position=int(d["as_at_position"]),
            data_as_at=d["data_as_at"],
            chain_head=d["chain_head"],
            content_hash=d["content_hash"],
            documents={fmt: sha for fmt, sha in d["documents"]},
            generated_at=f.recorded_at,
            generated_by=f.actor,
            quarter_closed=d["quarter"] in closed,
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


# --- generating (filing) ----------------------------------------------------------------


def generate_return(
    ledger: Ledger, pool_id: str, quarter: str, actor: c.Actor, *, today: date | None = None
) -> ReturnRecord:
    """File the return of ``quarter`` (idempotent: if it is filed, the filed record)."""
    record, _ = generate_or_get(ledger, pool_id, quarter, actor, today=today)
    return record


def generate_or_get(
    ledger: Ledger, pool_id: str, quarter: str, actor: c.Actor, *, today: date | None = None
) -> tuple[ReturnRecord, bool]:
    """The filed record of ``quarter``, and whether this call filed it."""
    _require_admin(actor, "generate returns")
    q = parse_quarter(quarter)
    today = today or london_today(ledger.clock)
    with read_at(ledger.engine) as (conn, at):
        pool = _bcf(conn, pool_id, at)
        filed = filed_records(conn, pool_id, at)
        if q.label in filed:
            return filed[q.label], False
        _check_fileable(pool, q, today, filed)
        content = build_return_content(conn, pool_id, q.label, at, reference=ledger.reference)
    documents = render_all(content)
    command = c.GenerateReturn(
        pool_id=pool_id,
        quarter=q.label,
        as_at_position=content.as_at_position,
        data_as_at=content.data_as_at,
        chain_head=content.chain_head,
        content_hash=content.content_hash,
        documents=tuple((fmt, hashlib.sha256(documents[fmt]).hexdigest()) for fmt in FORMATS),
    )
    try:
        ledger.execute(command, actor, documents=documents)
    except AlreadyExists:
        raced = filed_record(ledger.engine, pool_id, q.label)
        if raced is None:
            raise
        return raced, False
    record = filed_record(ledger.engine, pool_id, q.label)
    assert record is not None  # it was just committed
    return record, True


def _check_fileable(
    pool: PoolView, q: Quarter, today: date, filed: dict[str, ReturnRecord]
) -> None:
    if q.end >= today:
        raise RuleViolation(
            f"{q.label} has not ended (it ends {q.end.isoformat()}); its return can be "
            f"filed from {(q.end + timedelta(days=1)).isoformat()} (a draft can be read "
            "at any time)"
        )
    first = first_quarter(pool)
    if first is None:
        raise RuleViolation(
            f"pool '{pool.pool_id}' has no plan yet; agree a plan before filing returns"
        )
    if q < first:
        raise RuleViolation(
            f"{q.label} is before pool '{pool.pool_id}''s first plan year "
            f"({first.year.label}); it has no return"
        )
    prev = q.previous()
    if q > first and prev.label not in filed:
        raise RuleViolation(
            f"returns are filed in quarter order: file {prev.label} for pool "
            f"'{pool.pool_id}' before {q.label}"
        )


# --- reading -----------------------------------------------------------------------------


def fetch_return(
    engine: Engine,
    pool_id: str,
    quarter: str,
    fmt: str,
    position: int | None = None,
    *,
    reference: ReferenceSource | None = None,
) -> Document:
    """The filed return's bytes (``position`` None), or a draft as at ``position``
    (the head when none is filed yet)."""
    fmt = _format(fmt)
    q = parse_quarter(quarter)
    with read_at(engine, position) as (conn, at):
        _bcf(conn, pool_id, at)
        filename = f"{pool_id}-{q.label}.{EXTENSIONS[fmt]}"
        if position is None:
            rec = filed_records(conn, pool_id, at).get(q.label)
            row = conn.execute(
                select(lt.filed_documents.c.content).where(
                    lt.filed_documents.c.pool_id == pool_id,
                    lt.filed_documents.c.period == q.label,
                    lt.filed_documents.c.format == fmt,
                )
            ).first()
            if rec is not None and row is not None:
                assert rec.as_at_position is not None
                return Document(
                    bytes(row.content),
                    MEDIA_TYPES[fmt],
                    filename,
                    True,
                    rec.as_at_position,
                    rec.content_hash,
                )
        content = build_return_content(conn, pool_id, q.label, at, reference=reference)
    return Document(
        render(content, fmt),
        MEDIA_TYPES[fmt],
        f"{pool_id}-{q.label}-draft-at-{at}.{EXTENSIONS[fmt]}",
        False,
        at,
        content.content_hash,
    )


def get_return(
    engine: Engine, pool_id: str, quarter: str, fmt: str, position: int | None = None
) -> tuple[bytes, str]:
    """``(bytes, media type)`` of the filed return, or of a draft as at ``position``."""
    doc = fetch_return(engine, pool_id, quarter, fmt, position)
    return doc.content, doc.media_type


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
        pool = _pool(conn, pool_id, head)
        records = filed_records(conn, pool_id, head)
    if pool.kind == "bcf" and today is not None:
        q = first_quarter(pool)
        while q is not None and q.end < today:
            records.setdefault(q.label, ReturnRecord(pool_id=pool_id, quarter=q.label, filed=False))
            q = q.next()
    out = []
    for label in sorted(records, key=lambda x: parse_quarter(x)):
        rec = records[label]
        due = due_date(parse_quarter(label), reference, due_days).isoformat()
        out.append(_replace(rec, due_date=due))
    return out


# --- sign-off ------------------------------------------------------------------------------


def approve_return(
    ledger: Ledger, pool_id: str, quarter: str, actor: c.Actor, note: str = ""
) -> ReturnRecord:
    q = parse_quarter(quarter)
    ledger.execute(c.ApproveReturn(pool_id=pool_id, quarter=q.label, note=note), actor)
    rec = filed_record(ledger.engine, pool_id, q.label)
    assert rec is not None
    return rec


def submit_return(
    ledger: Ledger, pool_id: str, quarter: str, actor: c.Actor, reference: str = ""
) -> ReturnRecord:
    q = parse_quarter(quarter)
    ledger.execute(c.SubmitReturn(pool_id=pool_id, quarter=q.label, reference=reference), actor)
    rec = filed_record(ledger.engine, pool_id, q.label)
    assert rec is not None
    return rec


# --- the annual memorandum and the year's settlement ----------------------------------------


def fetch_memorandum(
    engine: Engine, pool_id: str, year: str, fmt: str, position: int | None = None
) -> Document:
    fmt = _format(fmt)
    fy = parse_year(year)
    with read_at(engine, position) as (conn, at):
        _pool(conn, pool_id, at)
        content = build_memorandum_content(conn, pool_id, fy.label, at)
    return Document(
        render(content, fmt),
        MEDIA_TYPES[fmt],
        f"{pool_id}-memorandum-{fy.label}-at-{at}.{EXTENSIONS[fmt]}",
        False,
        at,
        content.content_hash,
    )


def annual_memorandum(
    engine: Engine, pool_id: str, year: str, fmt: str, position: int | None = None
) -> tuple[bytes, str]:
    """The annual memorandum statement of a pool-year as at ``position`` (the head by
    default): ``(bytes, media type)``."""
    doc = fetch_memorandum(engine, pool_id, year, fmt, position)
    return doc.content, doc.media_type


def settle_year(ledger: Ledger, pool_id: str, year: str, actor: c.Actor) -> Outcome:
    """Fix each partner's risk share for ``year`` once its Q4 is closed: the risk share
    as at the head (outturn basis ``actual``) recorded by ``SettleRiskShare``."""
    _require_admin(actor, "settle a year's risk share")
    fy: FinancialYear = parse_year(year)
    with read_at(ledger.engine) as (conn, at):
        _pool(conn, pool_id, at)
        rs = risk_share_at(conn, pool_id, fy.label, at)
    if rs.settled:
        raise AlreadyExists(f"{fy.label} is already settled for pool '{pool_id}'")
    if rs.basis != "actual":
        q4 = fy.quarters[3].label
        raise RuleViolation(f"{fy.label} can be settled only after {q4} is closed")
    return ledger.execute(
        c.SettleRiskShare(
            pool_id=pool_id,
            year=fy.label,
            variance=rs.variance,
            direction=rs.direction,
            method=rs.method,
            allocations=tuple(PartnerAmount(partner_id=p, amount=a) for p, a in rs.allocations),
            carried_forward=rs.carried_forward,
        ),
        actor,
    )


# --- checking filed returns against the chain ----------------------------------------------


@dataclass(frozen=True)
class ReturnsCheck:
    ok: bool
    documents_checked: int
    problems: tuple[str, ...]


def verify_filed_returns(engine: Engine) -> ReturnsCheck:
    """Check every filed document against the ledger: its bytes still hash to what
    its ``return_generated`` event recorded, that event is still in the chain, and the
    chain still has the head the return recorded at its as-at position. Events removed
    from the end (even with the head row rewritten) leave filed documents that name
    positions and hashes the chain no longer has."""
    problems: list[str] = []
    checked = 0
    d = lt.filed_documents.c
    with engine.connect() as conn:
        head = es.read_head(conn)
        rows = conn.execute(
            select(d.pool_id, d.period, d.format, d.position, d.sha256, d.content).order_by(
                d.position, d.format
            )
        ).all()
        events = {
            e.position: e for e in es.get_by_positions(conn, sorted({r.position for r in rows}))
        }
        for r in rows:
            checked += 1
            where = f"the {r.format} of the {r.period} return of pool '{r.pool_id}'"
            data = bytes(r.content)
            if hashlib.sha256(data).hexdigest() != r.sha256:
                problems.append(f"{where} no longer matches its recorded SHA-256")
            if r.format == "json":
                cover = json.loads(data)["cover"]
                at, chain_head = int(cover["as_at_position"]), str(cover["chain_head"])
                if es.hash_at(conn, at) != chain_head:
                    problems.append(
                        f"{where} recorded chain head {chain_head[:12]}… at position {at}, "
                        "which the chain no longer has"
                    )
            if r.position > head.position:
                problems.append(
                    f"{where} was filed at position {r.position}, beyond the ledger head "
                    f"({head.position}): events were removed from the end"
                )
                continue
            e = events.get(r.position)
            if e is None or e.type != "return_generated":
                problems.append(f"{where} names position {r.position}, which is not its event")
                continue
            recorded = dict(json.loads(e.payload)["documents"])
            if recorded.get(r.format) != r.sha256:
                problems.append(f"{where} is not the document its event recorded")
    return ReturnsCheck(not problems, checked, tuple(problems))

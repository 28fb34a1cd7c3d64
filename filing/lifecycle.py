"""Quarterly BCF returns: generate (file), approve and submit. The records, due dates
and listing are in ``filing.records``; reading returns and the annual memorandum, and
checking filed returns against the chain, in ``filing.documents``; settling a year's
risk share in ``filing.settlement``.

The first return generated for a pool-quarter is the filed one (domain.md 6.7): its
content is computed as at the ledger head of the moment, rendered in the three
formats, and recorded by ``GenerateReturn`` with the bytes in the same transaction
(``filed_documents``). The ``return_generated`` event is unique per pool and quarter
in the database, so of two racing generations one is refused and both callers get
the filed record. Filing closes the quarter when it is the next to close.

Rules chosen here (also in docs/DECISIONS.md):

- Only an admin generates, approves and submits (checked before any work).
- A quarter's return is filed only once the quarter has ended (London date), and in
  quarter order from the pool's first plan year: the previous quarter's return must
  be filed first, so each return's prior-period adjustments have their baseline.
- The as-at position, its chain head and its recorded time are those the content was
  computed from (one read transaction); anything recorded between that position and
  the filing is reported by the next return (see ``projections.returns.adjustments``).
- Reading a return without ``position`` gives the filed bytes, unchanged for ever;
  with ``position`` (or when none is filed yet) a draft rendered as at that position.
"""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import date, timedelta
from typing import Any

from filing.checkpointing import sign_for_filing
from filing.records import (
    ReturnRecord,
    filed_record,
    filed_records,
    first_quarter,
    read_at,
    require_bcf_pool,
)
from filing.render.formats import FORMATS, render_all
from ledger.clock import london_today
from ledger.domain import commands as c
from ledger.domain.errors import AlreadyExists, Forbidden, NotFound, RuleViolation
from ledger.domain.periods import Quarter, parse_quarter
from ledger.handlers import Ledger
from projections.returns.build_return import build_return_content
from projections.returns.canonical import sealed
from projections.returns.return_document import ReturnContent
from projections.views import PoolView

# Who files a return the scheduler files (and the demo loader, filing as it would).
SCHEDULER_ACTOR = c.Actor(name="scheduler", role="admin")


def _require_admin(actor: c.Actor, what: str) -> None:
    if actor.role != "admin":
        raise Forbidden(f"only an admin may {what}; the {actor.role} role may not")


# --- generating (filing) ----------------------------------------------------------------


def generate_return(
    ledger: Ledger, pool_id: str, quarter: str, actor: c.Actor, *, today: date | None = None
) -> ReturnRecord:
    """File the return of ``quarter`` (idempotent: if it is filed, the filed record)."""
    record, _ = generate_or_get(ledger, pool_id, quarter, actor, today=today)
    return record


def _sealed_as(content: ReturnContent, documents: dict[str, bytes]) -> dict[str, Any]:
    """What a filing or re-filing records of its content: the as-at position and time,
    the chain head, the content hash and each format's SHA-256."""
    return {
        "as_at_position": content.as_at_position,
        "data_as_at": content.data_as_at,
        "chain_head": content.chain_head,
        "content_hash": content.content_hash,
        "documents": tuple((f, hashlib.sha256(documents[f]).hexdigest()) for f in FORMATS),
    }


def generate_or_get(
    ledger: Ledger, pool_id: str, quarter: str, actor: c.Actor, *, today: date | None = None
) -> tuple[ReturnRecord, bool]:
    """The filed record of ``quarter``, and whether this call filed it."""
    _require_admin(actor, "generate returns")
    q = parse_quarter(quarter)
    today = today or london_today(ledger.clock)
    with read_at(ledger.engine) as (conn, at):
        pool = require_bcf_pool(conn, pool_id, at)
        filed = filed_records(conn, pool_id, at)
        if q.label in filed:
            return filed[q.label], False
        _check_fileable(pool, q, today, filed)
        content = build_return_content(conn, pool_id, q.label, at, reference=ledger.reference)
    content = sign_for_filing(ledger, content)
    documents = render_all(content)
    command = c.GenerateReturn(
        pool_id=pool_id,
        quarter=q.label,
        **_sealed_as(content, documents),
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


# --- re-filing ----------------------------------------------------------------------------


def refile_return(
    ledger: Ledger, pool_id: str, quarter: str, actor: c.Actor, reason: str
) -> ReturnRecord:
    """File a new version of the filed return of ``quarter`` as at the ledger head (its
    missing parts recorded, or a correction made, since): the versions before stay as
    they were filed. Refused (``RefileReturn``'s rules) once it is approved, once the
    next quarter is filed, or while a required part is still missing."""
    _require_admin(actor, "re-file returns")
    q = parse_quarter(quarter)
    with read_at(ledger.engine) as (conn, at):
        require_bcf_pool(conn, pool_id, at)
        current = filed_records(conn, pool_id, at).get(q.label)
        if current is None:
            raise NotFound(f"no filed return for {q.label} in pool '{pool_id}'; file it first")
        content = build_return_content(conn, pool_id, q.label, at, reference=ledger.reference)
    assert current.event_id is not None
    cover = dataclasses.replace(
        content.cover, version=current.version + 1, supersedes_event_id=current.event_id
    )
    content = sign_for_filing(ledger, sealed(dataclasses.replace(content, cover=cover)))
    documents = render_all(content)
    ledger.execute(
        c.RefileReturn(
            pool_id=pool_id,
            quarter=q.label,
            reason=reason,
            supersedes_version=current.version,
            supersedes_event_id=current.event_id,
            **_sealed_as(content, documents),
        ),
        actor,
        documents=documents,
    )
    record = filed_record(ledger.engine, pool_id, q.label)
    assert record is not None
    return record


# --- sign-off ------------------------------------------------------------------------------


def approve_return(
    ledger: Ledger, pool_id: str, quarter: str, actor: c.Actor, note: str = ""
) -> ReturnRecord:
    q = parse_quarter(quarter)
    return _signed_off(ledger, c.ApproveReturn(pool_id=pool_id, quarter=q.label, note=note), actor)


def submit_return(
    ledger: Ledger, pool_id: str, quarter: str, actor: c.Actor, reference: str = ""
) -> ReturnRecord:
    q = parse_quarter(quarter)
    cmd = c.SubmitReturn(pool_id=pool_id, quarter=q.label, reference=reference)
    return _signed_off(ledger, cmd, actor)


def _signed_off(
    ledger: Ledger, cmd: c.ApproveReturn | c.SubmitReturn, actor: c.Actor
) -> ReturnRecord:
    """Record an approval or a submission and read the return's record after it."""
    ledger.execute(cmd, actor)
    rec = filed_record(ledger.engine, cmd.pool_id, cmd.quarter)
    assert rec is not None
    return rec


def file_for_the_demo(ledger: Ledger, pool_id: str, quarter: str, day: date) -> ReturnRecord:
    """File one return as the scheduler files it on ``day`` (the demo loader's
    ``filer``: ``ledger.demo`` cannot import filing)."""
    return generate_or_get(ledger, pool_id, quarter, SCHEDULER_ACTOR, today=day)[0]

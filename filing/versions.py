"""Every filed version of a pool-quarter's return as at a position: who filed each
(name and role, from its event), when, why it was re-filed, what it is as at, and
the approval and submission that fell to it.

An approval or submission names the quarter, not a version; it belongs to the
version that was the newest when it was recorded (the newest version filed before
its position). Re-filing is refused once a return is approved, so a superseded
version is never the approved one, but the rule reads the log as it is.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy import Connection

from filing.records import QUARTERLY
from ledger.store.reads import StoredEvent, get_by_positions
from projections.base import Fact, facts


@dataclass(frozen=True)
class Signed:
    """An approval or submission: by whom (name, role), when, and its note."""

    by: str
    role: str
    at: str
    note: str | None
    position: int


@dataclass(frozen=True)
class ReturnVersion:
    version: int
    position: int  # its event: return_generated (1) or return_refiled (2 and on)
    event_id: str
    filed_at: str
    filed_by: str
    filed_by_role: str
    as_at_position: int
    content_hash: str
    documents: dict[str, str]  # format -> SHA-256 of the filed bytes
    reason: str | None = None  # why it was re-filed (None for the first filing)
    supersedes_event_id: str | None = None
    superseded_at: str | None = None  # when the next version was filed
    current: bool = True
    approval: Signed | None = None
    submission: Signed | None = None


def all_return_versions(
    conn: Connection, pool_id: str, at: int
) -> dict[str, tuple[ReturnVersion, ...]]:
    """The versions of each quarter's filed return as at ``at``, oldest first (the last
    is the current one), read in one pass: the facts, then their events (for the
    actors' roles)."""
    found = facts(
        conn,
        pool_id,
        ("return_generated", "return_refiled", "return_approved", "return_submitted"),
        at,
    )
    events = {e.position: e for e in get_by_positions(conn, [f.position for f in found])}
    by_quarter: dict[str, list[Fact]] = {}
    for f in found:
        q = f.data.get("quarter")
        if not isinstance(q, str):
            continue
        if f.type == "return_generated":
            if f.data.get("kind", QUARTERLY) != QUARTERLY or q in by_quarter:
                continue
            by_quarter[q] = [f]
        elif q in by_quarter:
            by_quarter[q].append(f)
    return {q: _versions(fs, events) for q, fs in by_quarter.items()}


def _versions(found: list[Fact], events: dict[int, StoredEvent]) -> tuple[ReturnVersion, ...]:
    """One quarter's filing, re-filings, approvals and submissions (position order)."""
    filings = [f for f in found if f.type in ("return_generated", "return_refiled")]
    signs = [f for f in found if f.type in ("return_approved", "return_submitted")]
    out: list[ReturnVersion] = []
    for n, f in enumerate(filings, start=1):
        e = events[f.position]
        d = f.data
        out.append(
            ReturnVersion(
                version=int(d.get("version", n)),
                position=f.position,
                event_id=f.event_id,
                filed_at=f.recorded_at,
                filed_by=e.actor,
                filed_by_role=e.actor_role,
                as_at_position=int(d["as_at_position"]),
                content_hash=str(d["content_hash"]),
                documents=dict(d["documents"]),
                reason=d.get("reason") or None,
                supersedes_event_id=d.get("supersedes_event_id"),
            )
        )
    for i in range(len(out) - 1):
        out[i] = replace(out[i], current=False, superseded_at=out[i + 1].filed_at)
    for s in signs:
        i = max(k for k, v in enumerate(out) if v.position < s.position)
        e = events[s.position]
        approval = s.type == "return_approved"
        by, detail = ("approved_by", "note") if approval else ("submitted_by", "reference")
        who = Signed(
            str(s.data.get(by) or e.actor),
            e.actor_role,
            s.recorded_at,
            s.data.get(detail) or None,
            s.position,
        )
        out[i] = replace(out[i], approval=who) if approval else replace(out[i], submission=who)
    return tuple(out)

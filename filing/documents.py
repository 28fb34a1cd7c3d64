"""Return and memorandum documents: a filed return's bytes or a draft as at a position,
the annual memorandum, and the check of filed documents against the chain."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from sqlalchemy import Engine, select

from filing.checkpointing import with_filing_checkpoint
from filing.records import filed_records, read_at, require_bcf_pool, require_pool
from filing.render.formats import EXTENSIONS, FORMATS, MEDIA_TYPES, render
from ledger.domain.errors import NotFound, ValidationFailed
from ledger.domain.periods import parse_quarter, parse_year
from ledger.store import tables as lt
from ledger.store.reads import get_by_positions, hash_at, read_head
from projections.returns.build_memorandum import build_memorandum_content
from projections.returns.build_return import build_return_content
from projections.returns.reference import ReferenceSource


@dataclass(frozen=True)
class Document:
    """A rendered return or memorandum and what it is."""

    content: bytes
    media_type: str
    filename: str
    filed: bool
    as_at_position: int
    content_hash: str | None


def _format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise ValidationFailed.field("format", f"'{fmt}' is not one of: {', '.join(FORMATS)}")
    return fmt


def fetch_return(
    engine: Engine,
    pool_id: str,
    quarter: str,
    fmt: str,
    position: int | None = None,
    *,
    reference: ReferenceSource | None = None,
    version: int | None = None,
) -> Document:
    """The filed return's bytes (``position`` None): its newest version, or with
    ``version`` that one (kept for ever once re-filed); or a draft as at ``position``
    (the head when none is filed yet)."""
    fmt = _format(fmt)
    q = parse_quarter(quarter)
    with read_at(engine, position) as (conn, at):
        require_bcf_pool(conn, pool_id, at)
        filename = f"{pool_id}-{q.label}.{EXTENSIONS[fmt]}"
        if position is None:
            rec = filed_records(conn, pool_id, at).get(q.label)
            wanted = version or (rec.version if rec is not None else 1)
            if rec is not None and not 1 <= wanted <= rec.version:
                raise NotFound(f"the {q.label} return has no version {wanted}")
            row = conn.execute(
                select(lt.filed_documents.c.content, lt.filed_documents.c.position).where(
                    lt.filed_documents.c.pool_id == pool_id,
                    lt.filed_documents.c.period == q.label,
                    lt.filed_documents.c.format == lt.stored_format(fmt, wanted),
                )
            ).first()
            if rec is not None and row is not None:
                assert rec.as_at_position is not None
                as_at, content_hash = rec.as_at_position, rec.content_hash
                if wanted != rec.version:  # an earlier version: its own event says
                    data = get_by_positions(conn, [row.position])[0].payload
                    earlier = json.loads(data)
                    as_at, content_hash = earlier["as_at_position"], earlier["content_hash"]
                if wanted > 1:
                    filename = f"{pool_id}-{q.label}-v{wanted}.{EXTENSIONS[fmt]}"
                return Document(
                    bytes(row.content), MEDIA_TYPES[fmt], filename, True, as_at, content_hash
                )
            if version is not None:
                raise NotFound(f"no filed return for {q.label} in pool '{pool_id}'")
        content = build_return_content(conn, pool_id, q.label, at, reference=reference)
        content = with_filing_checkpoint(conn, content)
    return Document(
        render(content, fmt, draft_at=at),
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


# --- the annual memorandum ----------------------------------------------------------------


def fetch_memorandum(
    engine: Engine, pool_id: str, year: str, fmt: str, position: int | None = None
) -> Document:
    fmt = _format(fmt)
    fy = parse_year(year)
    with read_at(engine, position) as (conn, at):
        require_pool(conn, pool_id, at)
        content = build_memorandum_content(conn, pool_id, fy.label, at)
    return Document(
        render(content, fmt),
        MEDIA_TYPES[fmt],
        f"{pool_id}-memorandum-{fy.label}-at-{at}.{EXTENSIONS[fmt]}",
        False,
        at,
        content.content_hash,
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
        head = read_head(conn)
        rows = conn.execute(
            select(d.pool_id, d.period, d.format, d.position, d.sha256, d.content).order_by(
                d.position, d.format
            )
        ).all()
        events = {e.position: e for e in get_by_positions(conn, sorted({r.position for r in rows}))}
        for r in rows:
            checked += 1
            fmt, version = lt.split_stored_format(r.format)
            where = f"the {fmt} of the {r.period} return of pool '{r.pool_id}'"
            if version > 1:
                where += f" (version {version})"
            data = bytes(r.content)
            if hashlib.sha256(data).hexdigest() != r.sha256:
                problems.append(f"{where} no longer matches its recorded SHA-256")
            if fmt == "json":
                cover = json.loads(data)["cover"]
                at, chain_head = int(cover["as_at_position"]), str(cover["chain_head"])
                if hash_at(conn, at) != chain_head:
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
            if e is None or e.type != ("return_generated" if version == 1 else "return_refiled"):
                problems.append(f"{where} names position {r.position}, which is not its event")
                continue
            recorded = dict(json.loads(e.payload)["documents"])
            if recorded.get(fmt) != r.sha256:
                problems.append(f"{where} is not the document its event recorded")
    return ReturnsCheck(not problems, checked, tuple(problems))

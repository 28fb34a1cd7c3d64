"""Quarterly BCF returns and the Section 75 annual memorandum statement (domain.md 6.7).

Thin routes over ``filing``: generate (file; idempotent), list, read the
filed bytes or a draft as at a position, approve, submit, and the memorandum. Access:
any role reads (officers: their partner's pools), an admin writes; errors are the
ledger's, mapped to problem+json in ``api.errors``.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from api.deps import CurrentActor, LedgerDep, ReadablePool, SettingsDep, WriterDep
from api.routes import new_router
from api.schemas.events import WriteResult
from api.schemas.fields import QuarterLabel, Year, parse_quarter_label
from filing.documents import Document, fetch_memorandum, fetch_return
from filing.lifecycle import generate_or_get, refile_return
from filing.records import ReturnRecord, list_returns, with_status
from ledger.clock import Clock, london_today
from ledger.domain import commands as c
from ledger.domain.errors import RuleViolation
from ledger.handlers import Ledger
from ledger.settings import Settings

router = new_router(tags=["returns"], write=True)

QuarterPath = Annotated[QuarterLabel, Path(description="a quarter", examples=["2025-26-Q1"])]
FormatQuery = Annotated[
    Literal["json", "xlsx", "csv"],
    Query(description="json, xlsx, or csv (a zip of one CSV per sheet)", examples=["xlsx"]),
]
PositionQuery = Annotated[
    int | None,
    Query(
        ge=0,
        description="a draft as at this ledger position; without it, the filed return "
        "(or a draft as at now, until one is filed)",
        examples=[1200],
    ),
]


class ReturnPublic(BaseModel):
    """A pool-quarter's return: filed (with its hashes and sign-off) or a draft (not
    filed yet; ``filed`` false)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "pool_id": "bcf",
                    "quarter": "2025-26-Q1",
                    "status": "approved",
                    "filed": True,
                    "due_date": "2025-07-30",
                    "position": 1201,
                    "as_at_position": 1200,
                    "data_as_at": "2025-07-30T05:00:00.123456Z",
                    "chain_head": "9f2c…",
                    "content_hash": "4b1e…",
                    "documents": {"json": "…", "csv": "…", "xlsx": "…"},
                    "generated_at": "2025-07-30T05:00:00.223456Z",
                    "generated_by": "scheduler",
                    "quarter_closed": True,
                    "approved": True,
                    "approved_by": "Pat Admin",
                    "approved_at": "2025-08-01T10:12:00.000000Z",
                    "version": 1,
                    "versions": [{"version": 1, "position": 1201, "event_id": "…"}],
                    "current_version": 1,
                    "version_count": 1,
                }
            ]
        }
    )

    pool_id: str
    quarter: str
    status: Literal["draft", "filed", "approved", "submitted"]
    filed: bool
    due_date: date | None = None
    position: int | None = Field(None, description="of the return_generated event")
    event_id: str | None = None
    as_at_position: int | None = Field(None, description="the position its content is as at")
    data_as_at: str | None = Field(None, description="the recorded time of as_at_position")
    chain_head: str | None = Field(None, description="the chain hash at as_at_position")
    content_hash: str | None = None
    documents: dict[str, str] = Field(
        default_factory=dict, description="SHA-256 of each filed format's bytes"
    )
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
    links: dict[str, str] = Field(default_factory=dict)
    late: bool = Field(False, description="filed after its due date (or, unfiled, past it)")
    missing_parts: list[str] = Field(
        default_factory=list,
        description="required parts its content lacks (e.g. sign_off); approval is refused "
        "while any is missing",
    )
    version: int = Field(1, description="2 and on: re-filed; the fields above are the newest's")
    supersedes_event_id: str | None = Field(None, description="the version it replaced")
    refiled_at: str | None = None
    refiled_by: str | None = None
    refile_reason: str | None = None
    versions: list[dict[str, int | str]] = Field(
        default_factory=list,
        description="every filed version, oldest first: version, position, event_id "
        "(read one's bytes with ?version=N)",
    )
    current_version: int | None = Field(
        None, description="the version in force (the newest filed); null until one is filed"
    )
    version_count: int = Field(
        0, description="how many versions are filed (1, or more once re-filed; 0 unfiled)"
    )


class ReturnsPublic(BaseModel):
    pool_id: str
    returns: list[ReturnPublic]


class ApproveBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str = Field("", max_length=500)


class RefileBody(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"reason": "Filed before the HWB's sign-off was recorded; now signed off."}
            ]
        },
    )
    reason: str = Field(min_length=1, max_length=500, description="why it is filed again")


class SubmitBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reference: str = Field("", max_length=200, description="e.g. the submission portal's id")


def _public(r: ReturnRecord) -> ReturnPublic:
    base = f"/v1/pools/{r.pool_id}/returns/{r.quarter}"
    return ReturnPublic(
        pool_id=r.pool_id,
        quarter=r.quarter,
        status=r.status,
        filed=r.filed,
        due_date=date.fromisoformat(r.due_date) if r.due_date else None,
        position=r.position,
        event_id=r.event_id,
        as_at_position=r.as_at_position,
        data_as_at=r.data_as_at,
        chain_head=r.chain_head,
        content_hash=r.content_hash,
        documents=dict(r.documents),
        generated_at=r.generated_at,
        generated_by=r.generated_by,
        quarter_closed=r.quarter_closed,
        approved=r.approved,
        approved_by=r.approved_by,
        approved_at=r.approved_at,
        approval_note=r.approval_note,
        submitted=r.submitted,
        submitted_by=r.submitted_by,
        submitted_at=r.submitted_at,
        submission_reference=r.submission_reference,
        links={fmt: f"{base}?format={fmt}" for fmt in ("json", "xlsx", "csv")},
        late=r.late,
        missing_parts=list(r.missing_parts),
        version=r.version,
        supersedes_event_id=r.supersedes_event_id,
        refiled_at=r.refiled_at,
        refiled_by=r.refiled_by,
        refile_reason=r.refile_reason,
        versions=[{"version": v, "position": p, "event_id": e} for v, p, e in r.versions],
        current_version=r.version if r.filed else None,
        version_count=len(r.versions),
    )


def _today(request: Request) -> date:
    clock: Clock = request.app.state.clock
    return london_today(clock)


def _download(doc: Document) -> Response:
    headers = {
        "X-Return-Status": "filed" if doc.filed else "draft",
        "X-As-At-Position": str(doc.as_at_position),
    }
    if doc.content_hash:
        headers["X-Content-Hash"] = doc.content_hash
    if not doc.media_type.endswith("json"):
        headers["Content-Disposition"] = f'attachment; filename="{doc.filename}"'
    return Response(doc.content, media_type=doc.media_type, headers=headers)


_FILES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "the document: the filed bytes, or a draft (header X-Return-Status)",
        "content": {
            "application/json": {},
            "application/zip": {},
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {},
        },
    }
}


@router.post(
    "/v1/pools/{pool}/returns/{quarter}",
    status_code=201,
    summary="Generate (file) a quarter's BCF return (admin; idempotent: the first is filed)",
)
def generate(
    pool: ReadablePool,
    quarter: QuarterPath,
    ledger: LedgerDep,
    actor: CurrentActor,
    settings: SettingsDep,
    request: Request,
) -> ReturnPublic:
    record, _ = generate_or_get(ledger, pool, parse_quarter_label(quarter), actor)
    return _public(_status(record, ledger, settings, request))


def _status(
    record: ReturnRecord, ledger: Ledger, settings: Settings, request: Request
) -> ReturnRecord:
    """The record with its due date, lateness and missing parts, as the listing has it."""
    return with_status(
        ledger.engine,
        record,
        today=_today(request),
        reference=ledger.reference,
        due_days=settings.return_due_days,
    )


@router.get(
    "/v1/pools/{pool}/returns",
    summary="The pool's returns: filed, approved, submitted, and those still to file",
)
def list_(
    pool: ReadablePool, ledger: LedgerDep, settings: SettingsDep, request: Request
) -> ReturnsPublic:
    records = list_returns(
        ledger.engine,
        pool,
        today=_today(request),
        reference=ledger.reference,
        due_days=settings.return_due_days,
    )
    return ReturnsPublic(pool_id=pool, returns=[_public(r) for r in records])


@router.get(
    "/v1/pools/{pool}/returns/{quarter}",
    response_class=Response,
    responses=_FILES,
    summary="A return as JSON, xlsx or a zip of CSVs: the filed one, or a draft as at a position",
)
def get(
    pool: ReadablePool,
    quarter: QuarterPath,
    ledger: LedgerDep,
    format: FormatQuery = "json",
    position: PositionQuery = None,
    version: Annotated[
        int | None,
        Query(
            ge=1,
            le=99,
            description="a filed version's bytes (re-filed returns keep each); "
            "not with position (refused as rule-violation)",
        ),
    ] = None,
) -> Response:
    if version is not None and position is not None:
        # a rule, not shape: OpenAPI cannot say two query parameters exclude each other
        raise RuleViolation.field("version", "give a version or a position, not both")
    doc = fetch_return(
        ledger.engine,
        pool,
        parse_quarter_label(quarter),
        format,
        position,
        reference=ledger.reference,
        version=version,
    )
    return _download(doc)


@router.post(
    "/v1/pools/{pool}/returns/{quarter}/refile",
    status_code=201,
    summary="File a new version of a filed return not yet approved, once its missing parts "
    "are recorded (admin); earlier versions are kept",
)
def refile(
    pool: ReadablePool,
    quarter: QuarterPath,
    ledger: LedgerDep,
    actor: CurrentActor,
    body: RefileBody,
    settings: SettingsDep,
    request: Request,
) -> ReturnPublic:
    record = refile_return(ledger, pool, parse_quarter_label(quarter), actor, body.reason)
    return _public(_status(record, ledger, settings, request))


@router.post(
    "/v1/pools/{pool}/returns/{quarter}/approve",
    status_code=201,
    summary="Approve (sign off) a filed return (admin)",
)
def approve(
    pool: ReadablePool, quarter: QuarterPath, write: WriterDep, body: ApproveBody | None = None
) -> WriteResult:
    note = body.note if body is not None else ""
    return write.one(c.ApproveReturn(pool_id=pool, quarter=parse_quarter_label(quarter), note=note))


@router.post(
    "/v1/pools/{pool}/returns/{quarter}/submit",
    status_code=201,
    summary="Record that an approved return was submitted (admin)",
)
def submit(
    pool: ReadablePool, quarter: QuarterPath, write: WriterDep, body: SubmitBody | None = None
) -> WriteResult:
    reference = body.reference if body is not None else ""
    return write.one(
        c.SubmitReturn(pool_id=pool, quarter=parse_quarter_label(quarter), reference=reference)
    )


@router.get(
    "/v1/pools/{pool}/memorandum",
    response_class=Response,
    responses=_FILES,
    summary="The Section 75 annual memorandum statement of a pool-year (any role)",
)
def memorandum(
    pool: ReadablePool,
    ledger: LedgerDep,
    year: Annotated[Year, Query(description="a financial year", examples=["2025-26"])],
    format: FormatQuery = "json",
    position: PositionQuery = None,
) -> Response:
    return _download(fetch_memorandum(ledger.engine, pool, year, format, position))

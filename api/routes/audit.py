"""The event log and chain verification (auditors; the board reads the log too), and
liveness."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from api.deps import AuditorActor, LedgerDep, LogReaderActor
from api.routes import new_router
from api.schemas.events import EventsPage, Health, VerifyPublic, log_event
from api.schemas.fields import Slug
from api.verification import verify_all
from ledger.store.reads import read_head, read_range

log = logging.getLogger("pooled.api")
router = new_router(tags=["audit"])
health = APIRouter(tags=["operations"])


@router.get(
    "/v1/events",
    summary="The event log in position order, each event with its chain hash (auditor, board)",
)
def list_events(
    ledger: LedgerDep,
    actor: LogReaderActor,
    after: Annotated[
        int,
        Query(
            ge=0,
            le=10**18,
            description="the last position already read (0: from the start)",
            examples=[0, 1200],
        ),
    ] = 0,
    limit: Annotated[
        int, Query(ge=1, le=1000, description="at most 1000 per page", examples=[100, 1000])
    ] = 100,
    pool: Annotated[
        Slug | None, Query(description="only this pool's events", examples=["eq"])
    ] = None,
) -> EventsPage:
    del actor
    with ledger.engine.connect() as conn:
        rows = read_range(conn, after, limit + 1, pool_id=pool)
        head = read_head(conn).position
    page = rows[:limit]
    return EventsPage(
        events=[log_event(e) for e in page],
        after=after,
        limit=limit,
        next_after=page[-1].position if len(rows) > limit else None,
        head_position=head,
    )


@router.get(
    "/v1/verify",
    summary="Recompute the SHA-256 chain from position 1 and name the first bad event (auditor)",
)
def verify(ledger: LedgerDep, actor: AuditorActor) -> VerifyPublic:
    del actor
    full = verify_all(ledger)
    r = full.chain
    return VerifyPublic(
        ok=full.ok,
        documents_checked=full.documents_checked,
        problems=list(full.problems),
        events_checked=r.events_checked,
        head_hash=r.head_hash,
        head_position=r.head_position,
        first_bad_position=r.first_bad_position,
        problem=r.problem,
    )


@health.get(
    "/healthz",
    response_model=Health,
    summary="Liveness and database reachability (no token needed)",
    responses={503: {"model": Health, "description": "the database cannot be reached"}},
)
def healthz(request: Request) -> Health | JSONResponse:
    try:
        with request.app.state.engine.connect() as conn:
            head = read_head(conn).position
    except Exception as e:  # the answer is the point: report, never raise
        log.warning("health check: database unreachable: %s", e.__class__.__name__)
        body = Health(status="unavailable", database=f"unreachable ({e.__class__.__name__})")
        return JSONResponse(body.model_dump(), status_code=503)
    return Health(status="ok", database="ok", head_position=head)

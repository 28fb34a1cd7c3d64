"""``GET /metrics`` for admin tokens: the page of the app's registry
(``filing.metrics``, which the scheduler's process serves too)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from api.deps import require_roles
from filing.metrics import Metrics

router = APIRouter(tags=["operations"])


@router.get(
    "/metrics",
    summary="Prometheus metrics (admin; or without a token on POOLED_METRICS_PORT)",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}},
    dependencies=[Depends(require_roles("admin"))],
)
def metrics_page(request: Request) -> Response:
    metrics: Metrics = request.app.state.metrics
    return Response(metrics.page(), media_type=CONTENT_TYPE_LATEST)

"""The board pack's routes: ``/board/pools/{pool}/pack`` (HTML to read or print) and
``/board/pools/{pool}/pack.pdf`` (the same document made into a PDF by WeasyPrint),
each as at the ``as_at`` every board page takes, for the year in ``year`` (else the
year the pool's page opens on). Signed-in board members, auditors and admins only, as
every board page.

A pack names a moment: an as-at the ledger cannot answer is a 400, not the latest
figures under a heading that says otherwise; nor is a pack made of a year the pool has
no agreed plan for (a 404). When WeasyPrint cannot be loaded the PDF route answers a
problem+json 503 naming what is missing (:mod:`api.board.pdf`).
"""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.responses import FileResponse, Response

from api.board import pdf
from api.board.auth import BoardUser
from api.board.pages.pack import Pack, pack
from api.board.pages.shared import check_year, choose_year
from api.board.routing import AsAtChoice, BoardRoute, Problem, Read, User, html_response
from api.board.web import Links, templates
from api.problems import problem_response
from projections.parties import pool_at

router = APIRouter(route_class=BoardRoute, include_in_schema=False)

YearQuery = Annotated[str | None, Query(max_length=12)]


@router.get("/static/pack.css", name="board_pack_css")
def pack_css() -> Response:
    return FileResponse(
        pdf.STYLESHEET, media_type="text/css", headers={"Cache-Control": "public, max-age=300"}
    )


def _read(request: Request, pool_id: str, year: str | None, raw: str | None) -> tuple[Pack, Links]:
    with Read(request, raw) as (conn, at):
        if at.error:
            raise Problem(400, "Not a moment the ledger can answer at", at.error)
        pool = pool_at(conn, pool_id, at.position)
        if pool is None:
            raise Problem(404, "Page not found", f"There is no pool '{pool_id}' {at.label}.")
        chosen = check_year(year) if year else choose_year(pool, at)
        if chosen is None or chosen not in pool.years:
            plan = f"plan for {chosen}" if chosen else "plan"
            raise Problem(404, "No plan", f"{pool.name} has no agreed {plan} {at.label}.")
        links = Links(request, at)
        return pack(conn, at, links, pool_id, chosen), links


def _html(p: Pack, links: Links, user: BoardUser, *, for_pdf: bool) -> str:
    pool_id, year = p.year.pool.pool_id, p.year.year
    context: dict[str, Any] = {
        "p": p,
        "pdf": for_pdf,
        "user": user,
        "css_url": links.path("board_pack_css"),
        "pool_url": links.to("board_pool_year", pool_id=pool_id, year=year),
        "pdf_url": links.to("board_pack_pdf", {"year": year}, pool_id=pool_id),
    }
    return templates().get_template("pack.html").render(**context)


@router.get("/pools/{pool_id}/pack", name="board_pack")
def board_pack(
    request: Request, user: User, pool_id: str, as_at: AsAtChoice, year: YearQuery = None
) -> Response:
    p, links = _read(request, pool_id, year, as_at)
    return html_response(_html(p, links, user, for_pdf=False), 200)


@router.get("/pools/{pool_id}/pack.pdf", name="board_pack_pdf")
def board_pack_pdf(
    request: Request, user: User, pool_id: str, as_at: AsAtChoice, year: YearQuery = None
) -> Response:
    try:
        pdf.load()  # before reading: a server without WeasyPrint says so at once
    except pdf.PdfUnavailable as e:
        return problem_response(
            request, status=503, title="PDF unavailable", code="pdf-unavailable", detail=e.detail
        )
    p, links = _read(request, pool_id, year, as_at)
    started = time.perf_counter()
    body = pdf.render(_html(p, links, user, for_pdf=True))
    name = f"board-pack-{pool_id}-{p.year.year}-position-{p.line.position}.pdf"
    return Response(
        body,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "X-As-At-Position": str(p.line.position),
            "X-Chain-Head": p.line.chain_head,
            "Server-Timing": f"render;dur={(time.perf_counter() - started) * 1000:.0f}",
        },
    )

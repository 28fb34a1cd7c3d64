"""Building the annual memorandum statement of a pool-year as at a position: income,
expenditure, transfers, the pool's figures and each partner's risk share, sealed with
its content hash."""

from __future__ import annotations

from collections import defaultdict
from typing import Literal

from sqlalchemy import Connection

from ledger.domain.periods import parse_year
from ledger.store.reads import EPOCH, hash_at, recorded_at_of
from projections.balances import balances_at, risk_share_at, scheme_spend_at, year_position
from projections.parties import partners_at
from projections.returns.canonical import sealed
from projections.returns.memorandum_document import (
    MemorandumContent,
    MemorandumCover,
    PartnerIncomeLine,
    PartnerRiskLine,
    SchemeOutturnLine,
    TransferLine,
)
from projections.returns.pool import partner_figures, pool_as_at, pool_figures, risk_share_summary
from projections.returns_data import income_by_stream_at


def build_memorandum_content(
    conn: Connection,
    pool_id: str,
    year: str,
    at: int,
) -> MemorandumContent:
    """The annual memorandum statement of a pool-year as at ``at``: income by partner
    and stream, expenditure by scheme, transfers, the outturn and variance, and each
    partner's risk share (settled, or provisional until the year is settled)."""
    fy = parse_year(year)
    pool = pool_as_at(conn, pool_id, at)
    names = {p.partner_id: p.name for p in partners_at(conn, at)}
    end = fy.end  # every figure is through the year's last day (domain.md 6.7)
    income_view = income_by_stream_at(conn, pool_id, fy.label, at, through=end)
    income = tuple(
        PartnerIncomeLine(
            partner_id=p.partner_id,
            name=names.get(p.partner_id, p.partner_id),
            funding_stream=s.funding_stream,
            planned=p.planned,
            received=p.received,
            variance=p.received - p.planned,
        )
        for s in income_view.streams
        for p in s.partners
    )
    income = tuple(sorted(income, key=lambda x: (x.partner_id, x.funding_stream)))
    spend = scheme_spend_at(conn, pool_id, fy.label, at, through=end)
    expenditure = tuple(
        SchemeOutturnLine(
            scheme_id=s.scheme_id,
            name=s.name,
            scheme_type=s.scheme_type,
            commissioner=s.commissioner,
            funding_stream=s.funding_stream,
            planned=s.planned,
            actual=s.actual_year_to_date,
            outturn=s.outturn if s.outturn_known else None,
            variance=s.outturn - s.planned if s.outturn_known else None,
        )
        for s in spend
    )
    yp = year_position(conn, pool_id, fy.label, at, through=end)
    moves: dict[tuple[str, str, str], int] = defaultdict(int)
    for s in yp.sums:
        pid = s.partner_id or ""
        if s.kind == "transfer_in":
            moves[("partner_to_pool", pid, pool_id)] += s.amount
        elif s.kind == "transfer_out":
            moves[("pool_to_partner", pool_id, pid)] += s.amount
        elif s.kind == "partner_transfer":
            moves[("partner_to_partner", pid, s.counterparty_id or "")] += s.amount
    transfers = tuple(
        TransferLine(kind, a, b, amount)  # type: ignore[arg-type]
        for (kind, a, b), amount in sorted(moves.items())
        if amount
    )
    bal = balances_at(conn, pool_id, fy.label, at, through=end)
    rs = risk_share_at(conn, pool_id, fy.label, at, yp)
    status: Literal["settled", "provisional"] = "settled" if rs.settled else "provisional"
    cover = MemorandumCover(
        pool_id=pool.pool_id,
        pool_name=pool.name,
        pool_kind=pool.kind,
        host_partner_id=pool.host_partner_id,
        host_partner_name=names.get(pool.host_partner_id, pool.host_partner_id),
        year=fy.label,
        period_start=fy.start.isoformat(),
        period_end=fy.end.isoformat(),
        as_at_position=at,
        data_as_at=recorded_at_of(conn, at) or EPOCH,
        chain_head=hash_at(conn, at),
        q4_closed=yp.q4_closed,
        settled=rs.settled,
    )
    content = MemorandumContent(
        cover=cover,
        income=income,
        expenditure=expenditure,
        transfers=transfers,
        pool=pool_figures(bal.pool),
        risk_share=risk_share_summary(rs),
        partners=tuple(
            PartnerRiskLine(**partner_figures(p, names), status=status) for p in bal.partners
        ),
        expenditure_note=yp.schemes_note,
    )
    return sealed(content)

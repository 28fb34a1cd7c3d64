"""Building the quarterly BCF return of a pool as at a position: its cover and every
section, sealed with its content hash."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import Connection

from ledger.domain.errors import RuleViolation
from ledger.domain.periods import parse_quarter
from ledger.store.reads import EPOCH, hash_at, recorded_at_of
from projections.balances import balances_at, risk_share_at, scheme_spend_at, year_position
from projections.base import plan_fact
from projections.metrics import metrics_at
from projections.parties import partners_at
from projections.returns.adjustments import baseline_of, prior_period_adjustments
from projections.returns.canonical import sealed
from projections.returns.lines import income_lines, joint_splits, scheme_line
from projections.returns.parts import build_parts
from projections.returns.pool import partner_figures, pool_as_at, pool_figures, risk_share_summary
from projections.returns.reference import ReferenceSource, reference_at, return_layout
from projections.returns.return_document import Cover, MetricLine, PartnerLine, ReturnContent
from projections.returns.totals import by_commissioner, by_scheme_type, totals
from projections.returns_data import income_by_stream_at


def build_return_content(
    conn: Connection,
    pool_id: str,
    quarter: str,
    at: int,
    *,
    reference: ReferenceSource | None = None,
) -> ReturnContent:
    """The quarterly BCF return of ``pool_id`` for ``quarter`` as the ledger knew it at
    position ``at`` (the cover carries ``at``, its recorded time and chain hash)."""
    q = parse_quarter(quarter)
    fy = q.year
    pool = pool_as_at(conn, pool_id, at)
    if pool.kind != "bcf":
        raise RuleViolation(
            f"pool '{pool_id}' is a {pool.kind} pool; quarterly returns are for BCF pools "
            "(a Section 75 pool has its annual memorandum statement)"
        )
    ref = reference_at(conn, pool_id, fy.label, at, reference)
    partners = partners_at(conn, at)
    names = {p.partner_id: p.name for p in partners}
    kinds = {p.partner_id: p.kind for p in partners}
    quarters = [x.label for x in fy.quarters]
    upto = quarters[: q.number]
    end = q.end  # every figure is through the quarter's last day (domain.md 6.7)

    baseline, baseline_quarter = baseline_of(conn, pool_id, q, at)
    same_year_baseline = baseline if q.number > 1 else None

    # income by funding stream
    income_now = income_by_stream_at(conn, pool_id, fy.label, at, through=end)
    income_then = (
        income_by_stream_at(conn, pool_id, fy.label, same_year_baseline, through=end)
        if same_year_baseline is not None
        else None
    )
    income = income_lines(income_now, income_then, ref, q, upto)

    # expenditure by scheme
    spend_now = scheme_spend_at(conn, pool_id, fy.label, at, through=end)
    spend_then = (
        {
            s.scheme_id: s
            for s in scheme_spend_at(conn, pool_id, fy.label, same_year_baseline, through=end)
        }
        if same_year_baseline is not None
        else None
    )
    plan_fact_now = plan_fact(conn, pool_id, fy.label, at)
    joint = joint_splits(plan_fact_now.data["plan"] if plan_fact_now else None)
    schemes = tuple(
        scheme_line(s, spend_then, ref, q, upto, kinds, joint.get(s.scheme_id)) for s in spend_now
    )

    # balances and the provisional risk share
    yp = year_position(conn, pool_id, fy.label, at, through=end)
    bal = balances_at(conn, pool_id, fy.label, at, through=end)
    rs = risk_share_at(conn, pool_id, fy.label, at, yp)

    metrics = metrics_at(conn, pool_id, q.label, at, through=end)
    adjustments = prior_period_adjustments(conn, pool, q, at, baseline)

    layout = return_layout(ref)
    cover = Cover(
        pool_id=pool.pool_id,
        pool_name=pool.name,
        hwb_area_name=pool.hwb_name or "",
        hwb_area_ons_code=pool.hwb_ons_code or "",
        host_partner_id=pool.host_partner_id,
        host_partner_name=names.get(pool.host_partner_id, pool.host_partner_id),
        year=fy.label,
        quarter=q.label,
        period_start=q.start.isoformat(),
        period_end=q.end.isoformat(),
        due_date=ref.due_date(q).isoformat(),
        as_at_position=at,
        data_as_at=recorded_at_of(conn, at) or EPOCH,
        chain_head=hash_at(conn, at),
        previous_return_quarter=baseline_quarter,
        previous_return_position=baseline,
        reference_data_hash=ref.content_hash(),
        template_name=ref.return_layout.template_name,
    )
    content = ReturnContent(
        cover=cover,
        layout=layout,
        income=income,
        expenditure=schemes,
        totals=totals(income, schemes),
        by_scheme_type=by_scheme_type(schemes, ref),
        by_commissioner=by_commissioner(schemes, joint, kinds, ref),
        partners=tuple(PartnerLine(**partner_figures(p, names)) for p in bal.partners),
        pool=pool_figures(bal.pool),
        risk_share=risk_share_summary(rs),
        metrics=tuple(
            MetricLine(
                m.metric_id,
                m.name,
                m.unit,
                m.lower_is_better,
                m.period,
                m.target,
                m.actual,
                m.status,
            )
            for m in metrics.metrics
        ),
        prior_period_adjustments=adjustments,
        expenditure_note=yp.schemes_note,
    )
    parts = build_parts(
        conn, pool_id, cover.hwb_area_ons_code, q, at, ref, schemes=content.expenditure,
        metrics=content.metrics, joint=joint, data_as_at=cover.data_as_at, income=income_now,
    )  # fmt: skip
    return sealed(replace(content, parts=parts))

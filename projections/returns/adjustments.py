"""The baseline of a return's prior-period adjustments (the previous quarter's filed
return) and the entries it lists.

- **Prior-period adjustments.** The baseline is the previous quarter's filed return
  (for Q1: the previous year's Q4 return), at the position it was computed as at.
  For each funding stream and scheme, ``previous_year_to_date`` is the year to date
  that return reported (recomputed as at its position), and
  ``adjustments = year_to_date - in_quarter - previous_year_to_date``, so the identity
  of domain.md 5 holds exactly. The entries listed are every money line of an earlier
  quarter of the year (or of an earlier year) recorded after the baseline: in
  practice those marked as prior-period adjustments, since filing closes the
  quarter; an entry that raced the filing of the previous return is listed too (with
  ``marked`` false), so nothing is ever missing from the reconciliation. Facts marked
  as adjustments (metrics, populations, ...) are listed without an amount.
  Adjustments to an earlier year are listed but are not part of this year's
  reconciliation. Without a baseline (the pool's first return, or a draft of a
  quarter whose predecessor is not filed as at the position) nothing is listed and
  the adjustments are zero.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection

from ledger.domain.periods import FinancialYear, Quarter, parse_year
from ledger.store.reads import get_by_positions
from projections.base import facts
from projections.money_lines import Line, lines
from projections.returns.return_document import Adjustment
from projections.returns_data import prior_period_adjustments_at
from projections.views import PoolView


def _filed_as_at(conn: Connection, pool_id: str, quarter: str, at: int) -> int | None:
    """The as-at position of the filed quarterly return of ``quarter``, as at ``at``
    (of its newest version, when it was re-filed)."""
    found = None
    for f in facts(conn, pool_id, ("return_generated", "return_refiled"), at, period=quarter):
        if f.data.get("kind", "bcf_quarterly") == "bcf_quarterly":
            found = int(f.data["as_at_position"])  # position order: the newest last
    return found


def baseline_of(
    conn: Connection, pool_id: str, q: Quarter, at: int
) -> tuple[int | None, str | None]:
    """The baseline: the as-at position and quarter of the previous quarter's filed
    return, as at ``at`` (``(None, None)`` when it is not filed)."""
    prev = q.previous()
    pos = _filed_as_at(conn, pool_id, prev.label, at)
    return (pos, prev.label) if pos is not None else (None, None)


_EFFECT_SIGN = {"refund": -1, "credit": -1}


def prior_period_adjustments(
    conn: Connection, pool: PoolView, q: Quarter, at: int, baseline: int | None
) -> tuple[Adjustment, ...]:
    """Entries of earlier quarters (or years) recorded after the baseline, by ``at``."""
    if baseline is None:
        return ()
    fy = q.year
    first = min([*pool.years, fy.previous().label])
    years = [FinancialYear(y) for y in range(parse_year(first).start_year, fy.start_year + 1)]
    found: list[Line] = []
    fact_items = []
    earlier = tuple(x.label for x in fy.quarters if x < q)
    for y in years:
        if y == fy:  # only the earlier quarters: this quarter's lines are its own figures
            found += lines(conn, pool.pool_id, y.label, at, after=baseline, quarters=earlier)
        else:
            found += lines(conn, pool.pool_id, y.label, at, after=baseline)
        view = prior_period_adjustments_at(conn, pool.pool_id, y.label, at, baseline)
        for a in view.adjustments:
            if a.amount is None and (y < fy or (a.quarter and a.quarter < q.label)):
                fact_items.append(a)
    positions = sorted({x.position for x in found} | {a.position for a in fact_items})
    stored = {e.position: e for e in get_by_positions(conn, positions)} if positions else {}
    out: list[Adjustment] = []
    for ln in found:
        e = stored.get(ln.position)
        payload = json.loads(e.payload) if e else {}
        out.append(
            Adjustment(
                position=ln.position,
                event_id=ln.event_id,
                event_type=e.type if e else "",
                kind=ln.kind,
                reversal=ln.reversal,
                marked=ln.prior_period_adjustment,
                year=ln.year,
                quarter=ln.quarter,
                effective_date=ln.effective_date.isoformat() if ln.effective_date else "",
                partner_id=ln.partner_id,
                counterparty_id=ln.counterparty_id,
                scheme_id=ln.scheme_id,
                funding_stream=ln.funding_stream,
                reference=_reference_text(payload),
                recorded_at=ln.recorded_at,
                amount=_EFFECT_SIGN.get(ln.kind, 1) * ln.amount,
            )
        )
    for a in fact_items:
        e = stored.get(a.position)
        out.append(
            Adjustment(
                position=a.position,
                event_id=a.event_id,
                event_type=e.type if e else a.kind,
                kind=a.kind,
                reversal=a.reversal,
                marked=True,
                year=a.year,
                quarter=a.quarter,
                effective_date=a.effective_date.isoformat() if a.effective_date else "",
                partner_id=None,
                counterparty_id=None,
                scheme_id=None,
                funding_stream=None,
                reference=a.detail or "",
                recorded_at=a.recorded_at,
                amount=None,
            )
        )
    out.sort(key=lambda a: (a.position, a.kind, a.amount or 0))
    return tuple(out)


def _reference_text(payload: dict[str, Any]) -> str:
    if "reversed_position" in payload:
        return (
            f"reversal of the {payload.get('reversed_type', 'event')} at position "
            f"{payload['reversed_position']}: {payload.get('reason', '')}"
        )
    return str(payload.get("reference") or payload.get("note") or "")

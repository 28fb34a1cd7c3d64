"""The projector: applies stored events in position order to the read models and
moves the checkpoint in the same transaction.

Live, it runs as an append hook inside the ledger's write transaction, so a read after
an acknowledged write always sees it. For a rebuild it runs over a stream of events
with bigger buffers (``rebuild.py``). Any failure raises: nothing is skipped silently.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Connection, select, update

from ledger.domain import events as ev
from ledger.domain.periods import FinancialYear, Quarter
from ledger.store.eventstore import StoredEvent
from projections import tables as t

CHECKPOINT = "main"

LINE_KINDS = {
    ev.ContributionPosted.type: "contribution",
    ev.ContributionRefunded.type: "refund",
    ev.ExpenditureRecorded.type: "expenditure",
    ev.ExpenditureCredited.type: "credit",
}
FACT_KEYS: dict[str, tuple[str, ...]] = {
    ev.PlanAgreed.type: (),
    ev.ReferenceDataRecorded.type: (),
    ev.ForecastRecorded.type: ("scheme_id",),
    ev.RiskRewardResultRecorded.type: ("scheme_id",),
    ev.PopulationRecorded.type: ("unit_id", "cohort"),
    ev.OutcomeAssessed.type: ("service_id", "outcome_id"),
    ev.MetricRecorded.type: ("metric_id",),
    ev.EventReversed.type: ("reversed_event_id",),
    ev.PeriodClosed.type: (),
    ev.RiskShareSettled.type: (),
    ev.ReturnGenerated.type: ("kind",),
    ev.ReturnApproved.type: (),
    ev.ReturnSubmitted.type: (),
}


class ProjectionError(RuntimeError):
    """A read model could not take an event: the write is refused, loudly."""


@dataclass
class _Buffer:
    lines: list[dict[str, Any]] = field(default_factory=list)
    facts: list[dict[str, Any]] = field(default_factory=list)
    partners: list[dict[str, Any]] = field(default_factory=list)
    pools: list[dict[str, Any]] = field(default_factory=list)
    members: list[dict[str, Any]] = field(default_factory=list)
    reversed_facts: list[dict[str, Any]] = field(default_factory=list)
    lines_by_event: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    last_position: int = 0

    def __len__(self) -> int:
        return len(self.lines) + len(self.facts)


class Projector:
    """Keeps the read models. ``apply`` is the ledger's append hook."""

    def apply(self, conn: Connection, events: Sequence[StoredEvent]) -> None:
        buf = _Buffer()
        self.project(conn, events, buf)
        self.flush(conn, buf)

    def project(self, conn: Connection, events: Iterable[StoredEvent], buf: _Buffer) -> None:
        for e in events:
            try:
                self._one(conn, e, buf)
            except Exception as exc:
                raise ProjectionError(
                    f"projection failed at position {e.position} ({e.type}): {exc}"
                ) from exc
            buf.last_position = e.position

    def flush(self, conn: Connection, buf: _Buffer) -> None:
        if buf.partners:
            conn.execute(t.rm_partners.insert(), buf.partners)
        if buf.pools:
            conn.execute(t.rm_pools.insert(), buf.pools)
        if buf.members:
            conn.execute(t.rm_pool_members.insert(), buf.members)
        if buf.lines:
            conn.execute(t.rm_lines.insert(), buf.lines)
        if buf.facts:
            conn.execute(t.rm_facts.insert(), buf.facts)
        for r in buf.reversed_facts:
            conn.execute(
                update(t.rm_facts)
                .where(t.rm_facts.c.event_id == r["event_id"])
                .values(reversed_position=r["position"])
            )
        if buf.last_position:
            done = conn.execute(
                update(t.rm_checkpoint)
                .where(t.rm_checkpoint.c.name == CHECKPOINT)
                .values(position=buf.last_position)
            )
            if done.rowcount == 0:
                conn.execute(
                    t.rm_checkpoint.insert().values(name=CHECKPOINT, position=buf.last_position)
                )
        buf.partners.clear()
        buf.pools.clear()
        buf.members.clear()
        buf.lines.clear()
        buf.facts.clear()
        buf.reversed_facts.clear()
        buf.lines_by_event.clear()

    # -- one event ---------------------------------------------------------------------

    def _one(self, conn: Connection, e: StoredEvent, buf: _Buffer) -> None:
        typ = e.type
        if typ in LINE_KINDS or typ in (ev.TransferPosted.type, ev.OpeningBalanceRecorded.type):
            self._lines(e, buf)
        elif typ == ev.PartnerRegistered.type:
            p = json.loads(e.payload)
            buf.partners.append(
                dict(
                    partner_id=p["partner_id"],
                    name=p["name"],
                    kind=p["kind"],
                    ods_code=p.get("ods_code"),
                    ons_code=p.get("ons_code"),
                    position=e.position,
                )
            )
        elif typ == ev.PoolEstablished.type:
            p = json.loads(e.payload)
            hwb = p.get("hwb_area") or {}
            buf.pools.append(
                dict(
                    pool_id=p["pool_id"],
                    name=p["name"],
                    kind=p["kind"],
                    host_partner_id=p["host_partner_id"],
                    hwb_name=hwb.get("name"),
                    hwb_ons_code=hwb.get("ons_code"),
                    position=e.position,
                )
            )
            for m in p["members"]:
                buf.members.append(dict(pool_id=p["pool_id"], partner_id=m, position=e.position))
        elif typ == ev.PartnerJoined.type:
            p = json.loads(e.payload)
            buf.members.append(
                dict(pool_id=p["pool_id"], partner_id=p["partner_id"], position=e.position)
            )
        if typ in FACT_KEYS:
            self._fact(e, buf)
        if typ == ev.EventReversed.type:
            self._reverse(conn, e, buf)

    def _fact(self, e: StoredEvent, buf: _Buffer) -> None:
        data = json.loads(e.payload)
        key = "/".join(str(data.get(k) or "") for k in FACT_KEYS[e.type]) or None
        buf.facts.append(
            dict(
                position=e.position,
                event_id=e.event_id,
                type=e.type,
                pool_id=e.pool_id,
                year=e.year,
                period=e.period,
                key=key,
                effective_date=e.effective_date,
                data=e.payload,
                recorded_at=e.recorded_at,
                actor=e.actor,
                reversed_position=None,
            )
        )

    def _lines(self, e: StoredEvent, buf: _Buffer) -> None:
        p = json.loads(e.payload)
        when = date.fromisoformat(p["effective_date"])
        base = dict(
            position=e.position,
            event_id=e.event_id,
            pool_id=p["pool_id"],
            year=p["year"],
            quarter=_quarter_in_year(when, p["year"]),
            effective_date=when,
            partner_id=None,
            counterparty_id=None,
            scheme_id=None,
            funding_stream=None,
            amount=int(p["amount"]),
            prior_period_adjustment=bool(p.get("prior_period_adjustment")),
            reversal=False,
        )
        if e.type == ev.OpeningBalanceRecorded.type:
            rows = [dict(base, kind="opening")]
        elif e.type == ev.TransferPosted.type:
            src, dst = p["from_party"], p["to_party"]
            if src.get("partner_id") and dst.get("partner_id"):
                rows = [
                    dict(
                        base,
                        kind="partner_transfer",
                        partner_id=src["partner_id"],
                        counterparty_id=dst["partner_id"],
                    )
                ]
            elif src.get("partner_id"):
                rows = [dict(base, kind="transfer_in", partner_id=src["partner_id"])]
            else:
                rows = [dict(base, kind="transfer_out", partner_id=dst["partner_id"])]
        else:
            rows = [
                dict(
                    base,
                    kind=LINE_KINDS[e.type],
                    partner_id=p.get("partner_id"),
                    scheme_id=p.get("scheme_id"),
                    funding_stream=p.get("funding_stream"),
                )
            ]
        buf.lines.extend(rows)
        buf.lines_by_event[e.event_id] = rows

    def _reverse(self, conn: Connection, e: StoredEvent, buf: _Buffer) -> None:
        p = json.loads(e.payload)
        target = p["reversed_event_id"]
        buf.reversed_facts.append(dict(event_id=target, position=e.position))
        for f in buf.facts:  # a target still in this buffer
            if f["event_id"] == target:
                f["reversed_position"] = e.position
        originals = buf.lines_by_event.get(target)
        if originals is None:
            cols = [c for c in t.rm_lines.columns if c.name != "id"]
            rows = conn.execute(
                select(*cols).where(
                    t.rm_lines.c.event_id == target, t.rm_lines.c.reversal.is_(False)
                )
            )
            originals = [dict(r._mapping) for r in rows]
        ppa = bool(p.get("prior_period_adjustment"))
        for line in originals:
            buf.lines.append(
                dict(
                    line,
                    position=e.position,
                    event_id=e.event_id,
                    amount=-int(line["amount"]),
                    reversal=True,
                    prior_period_adjustment=ppa,
                )
            )


def _quarter_in_year(when: date, year: str) -> str:
    """The quarter a line counts in: that of its date, or for a posting whose year is
    not its date's (a late contribution for last year), the nearest quarter of its year."""
    fy = FinancialYear(int(year[:4]))
    if fy.contains(when):
        return Quarter.of(when).label
    return fy.quarters[3].label if when > fy.end else fy.quarters[0].label

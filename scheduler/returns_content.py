"""The canonical content of a quarterly BCF return and of a Section 75 annual
memorandum statement, as at one position of the ledger (domain.md 6.7).

Content is built from the read side as at a position ``at`` and nothing else, so the
same pool, period and position give the same content (and so the same JSON and CSV
bytes) whatever the ledger records afterwards. Money is integer pence here; the
renderers (``scheduler.render``) write it as decimal strings of pounds (JSON, CSV) or
as numbers with a pounds format (the workbook).

Rules chosen where the spec is silent (also in docs/DECISIONS.md):

- **Hash.** ``content_hash`` is the SHA-256 of the canonical JSON document (UTF-8,
  keys sorted, no spaces, money as decimal strings) with ``cover.content_hash``
  removed: anyone holding the JSON can recompute it.
- **Filed or draft is not content.** A draft generated as at a filed return's
  position is byte-identical (JSON, CSV) to the filed one.
- **Layout and lists** (sheet titles and columns, stream names, scheme-type order,
  the due date) come from the reference data the ledger recorded for the year (the
  version the plan in force was checked against), not from today's shipped files.
- **Year to date** is the quarters of the year up to and including the return's.
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
- **Totals by commissioner** split a joint scheme between ``la`` and ``icb`` by its
  agreed percentages (largest remainder, per figure), as the national template's
  summary does; a scheme commissioned by one partner is totalled under that partner.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal, Protocol, TypeVar

from sqlalchemy import Connection

from ledger.domain.errors import NotFound, RuleViolation
from ledger.domain.money import allocate, format_fraction, format_pence
from ledger.domain.periods import FinancialYear, Quarter, parse_quarter, parse_year
from ledger.domain.reference import ReferenceData
from ledger.refdata import default_catalogue
from ledger.store import eventstore as es
from projections.balances import year_position
from projections.base import Line, facts, lines, plan_fact
from projections.queries import (
    balances_at,
    income_by_stream_at,
    metrics_at,
    partners_at,
    pool_at,
    prior_period_adjustments_at,
    risk_share_at,
    scheme_spend_at,
)
from projections.views import IncomeByStreamView, PoolView, SchemeSpend

RETURN_SCHEMA = "pooled.bcf-quarterly-return.v1"
MEMORANDUM_SCHEMA = "pooled.s75-annual-memorandum.v1"


class ReferenceSource(Protocol):
    def for_year(self, year: str) -> ReferenceData | None: ...


def money(*, default: Any = dataclasses.MISSING) -> Any:
    """A money field (integer pence): written as a decimal string of pounds."""
    if default is dataclasses.MISSING:
        return field(metadata={"money": True})
    return field(default=default, metadata={"money": True})


# --- the quarterly return ------------------------------------------------------------


@dataclass(frozen=True)
class Cover:
    pool_id: str
    pool_name: str
    hwb_area_name: str
    hwb_area_ons_code: str
    host_partner_id: str
    host_partner_name: str
    year: str
    quarter: str
    period_start: str
    period_end: str
    due_date: str
    as_at_position: int
    data_as_at: str  # the recorded time of ``as_at_position``
    chain_head: str  # the hash of the event at ``as_at_position``
    previous_return_quarter: str | None  # the baseline of the prior-period adjustments
    previous_return_position: int | None
    reference_data_hash: str | None
    template_name: str
    content_hash: str = ""  # SHA-256 of the canonical JSON without this field


@dataclass(frozen=True)
class SheetLayout:
    key: str
    title: str
    columns: tuple[str, ...]


@dataclass(frozen=True)
class Layout:
    template_name: str
    sheets: tuple[SheetLayout, ...]

    def sheet(self, key: str) -> SheetLayout:
        found = next((s for s in self.sheets if s.key == key), None)
        if found is None:  # pragma: no cover - the layout is validated on load
            raise KeyError(key)
        return found


@dataclass(frozen=True)
class IncomeLine:
    funding_stream: str
    name: str
    planned: int = money()
    received_in_quarter: int = money()
    received_year_to_date: int = money()
    previous_year_to_date: int = money()
    adjustments: int = money()


@dataclass(frozen=True)
class SchemeLine:
    scheme_id: str
    name: str
    scheme_type: str
    commissioner: str
    commissioner_label: str
    provider_type: str
    funding_stream: str
    funding_stream_name: str
    planned: int = money()
    actual_in_quarter: int = money()
    actual_year_to_date: int = money()
    forecast_outturn: int = money()
    previous_year_to_date: int = money()
    adjustments: int = money()


@dataclass(frozen=True)
class TotalLine:
    key: str
    label: str
    planned: int = money()
    actual_in_quarter: int = money()
    actual_year_to_date: int = money()
    forecast_outturn: int = money()


@dataclass(frozen=True)
class PartnerLine:
    partner_id: str
    name: str
    share: str  # of the planned contributions, 10 decimals
    planned: int = money()
    received: int = money()
    transfers_in: int = money()
    transfers_out: int = money()
    risk_share: int = money()
    net_obligation: int = money()
    outstanding: int = money()


@dataclass(frozen=True)
class PoolFigures:
    outturn_basis: str
    opening_balance: int = money()
    planned: int = money()
    income: int = money()
    spend: int = money()
    transfers_in: int = money()
    transfers_out: int = money()
    balance: int = money()
    outturn: int = money()
    variance: int = money()


@dataclass(frozen=True)
class RiskShareSummary:
    direction: str
    method: str
    basis: str
    settled: bool
    variance: int = money()
    carried_forward: int = money()


@dataclass(frozen=True)
class MetricLine:
    metric_id: str
    name: str
    unit: str
    lower_is_better: bool
    period: str
    target: str
    actual: str
    status: Literal["green", "amber", "red"]


@dataclass(frozen=True)
class Adjustment:
    position: int
    event_id: str
    event_type: str
    kind: str  # contribution, refund, expenditure, credit, transfer_*, opening, or a fact
    reversal: bool
    marked: bool  # posted with prior_period_adjustment: true
    year: str
    quarter: str  # the period it adjusts
    effective_date: str
    partner_id: str | None
    counterparty_id: str | None
    scheme_id: str | None
    funding_stream: str | None
    reference: str
    recorded_at: str
    amount: int | None = money(default=None)  # its effect on its figure; None for facts


@dataclass(frozen=True)
class Totals:
    income: IncomeLine
    expenditure: SchemeLine


class _CoverFacts:
    """What every generated document states on its cover, read through the content."""

    cover: Cover | MemorandumCover  # a plain class: not a dataclass field

    @property
    def content_hash(self) -> str:
        return self.cover.content_hash

    @property
    def data_as_at(self) -> str:
        return self.cover.data_as_at

    @property
    def as_at_position(self) -> int:
        return self.cover.as_at_position

    @property
    def chain_head(self) -> str:
        return self.cover.chain_head


@dataclass(frozen=True)
class ReturnContent(_CoverFacts):
    cover: Cover
    layout: Layout
    income: tuple[IncomeLine, ...]
    expenditure: tuple[SchemeLine, ...]
    totals: Totals
    by_scheme_type: tuple[TotalLine, ...]
    by_commissioner: tuple[TotalLine, ...]
    partners: tuple[PartnerLine, ...]
    pool: PoolFigures
    risk_share: RiskShareSummary
    metrics: tuple[MetricLine, ...]
    prior_period_adjustments: tuple[Adjustment, ...]
    schema: str = RETURN_SCHEMA


# --- the annual memorandum statement -------------------------------------------------


@dataclass(frozen=True)
class MemorandumCover:
    pool_id: str
    pool_name: str
    pool_kind: str
    host_partner_id: str
    host_partner_name: str
    year: str
    period_start: str
    period_end: str
    as_at_position: int
    data_as_at: str
    chain_head: str
    q4_closed: bool
    settled: bool
    content_hash: str = ""


@dataclass(frozen=True)
class PartnerIncomeLine:
    partner_id: str
    name: str
    funding_stream: str
    planned: int = money()
    received: int = money()
    variance: int = money()  # received - planned


@dataclass(frozen=True)
class SchemeOutturnLine:
    scheme_id: str
    name: str
    scheme_type: str
    commissioner: str
    funding_stream: str
    planned: int = money()
    actual: int = money()
    outturn: int = money()
    variance: int = money()  # outturn - planned


@dataclass(frozen=True)
class TransferLine:
    kind: Literal["partner_to_pool", "pool_to_partner", "partner_to_partner"]
    from_party: str
    to_party: str
    amount: int = money()


@dataclass(frozen=True)
class PartnerRiskLine:
    partner_id: str
    name: str
    share: str
    status: Literal["settled", "provisional"]
    planned: int = money()
    received: int = money()
    transfers_in: int = money()
    transfers_out: int = money()
    risk_share: int = money()
    net_obligation: int = money()
    outstanding: int = money()


@dataclass(frozen=True)
class MemorandumContent(_CoverFacts):
    cover: MemorandumCover
    income: tuple[PartnerIncomeLine, ...]
    expenditure: tuple[SchemeOutturnLine, ...]
    transfers: tuple[TransferLine, ...]
    pool: PoolFigures
    risk_share: RiskShareSummary
    partners: tuple[PartnerRiskLine, ...]
    schema: str = MEMORANDUM_SCHEMA


Content = ReturnContent | MemorandumContent


# --- canonical JSON and the content hash ---------------------------------------------


def to_json_obj(value: Any) -> Any:
    """The JSON form of content: dataclasses as objects, tuples as arrays, money as
    decimal strings of pounds (``"-123.45"``)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out: dict[str, Any] = {}
        for f in dataclasses.fields(value):
            v = getattr(value, f.name)
            if f.metadata.get("money") and v is not None:
                out[f.name] = format_pence(int(v))
            else:
                out[f.name] = to_json_obj(v)
        return out
    if isinstance(value, tuple | list):
        return [to_json_obj(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_json_obj(v) for k, v in value.items()}
    return value


def canonical_json(obj: Any) -> bytes:
    """UTF-8 JSON with keys sorted and no spaces: the bytes served and hashed."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def content_hash_of(document: dict[str, Any]) -> str:
    """SHA-256 of a JSON document (as parsed) without its ``cover.content_hash``."""
    doc = dict(document)
    doc["cover"] = {k: v for k, v in doc["cover"].items() if k != "content_hash"}
    return hashlib.sha256(canonical_json(doc)).hexdigest()


_C = TypeVar("_C", ReturnContent, MemorandumContent)


def _sealed(content: _C) -> _C:
    """The content with its cover's ``content_hash`` filled in."""
    digest = content_hash_of(to_json_obj(content))
    cover = dataclasses.replace(content.cover, content_hash=digest)
    return dataclasses.replace(content, cover=cover)


# --- building the quarterly return ---------------------------------------------------


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
    pool = _pool(conn, pool_id, at)
    if pool.kind != "bcf":
        raise RuleViolation(
            f"pool '{pool_id}' is a {pool.kind} pool; quarterly returns are for BCF pools "
            "(a Section 75 pool has its annual memorandum statement)"
        )
    ref = reference_at(conn, pool_id, fy.label, at, reference)
    names = {p.partner_id: p.name for p in partners_at(conn, at)}
    quarters = [x.label for x in fy.quarters]
    upto = quarters[: q.number]

    baseline, baseline_quarter = _baseline(conn, pool_id, q, at)
    same_year_baseline = baseline if q.number > 1 else None

    # income by funding stream
    income_now = income_by_stream_at(conn, pool_id, fy.label, at)
    income_then = (
        income_by_stream_at(conn, pool_id, fy.label, same_year_baseline)
        if same_year_baseline is not None
        else None
    )
    income = _income_lines(income_now, income_then, ref, q, upto)

    # expenditure by scheme
    spend_now = scheme_spend_at(conn, pool_id, fy.label, at)
    spend_then = (
        {s.scheme_id: s for s in scheme_spend_at(conn, pool_id, fy.label, same_year_baseline)}
        if same_year_baseline is not None
        else None
    )
    plan_fact_now = plan_fact(conn, pool_id, fy.label, at)
    joint = _joint_splits(plan_fact_now.data["plan"] if plan_fact_now else None)
    schemes = tuple(
        _scheme_line(s, spend_then, ref, q, upto, names, joint.get(s.scheme_id)) for s in spend_now
    )

    # balances and the provisional risk share
    bal = balances_at(conn, pool_id, fy.label, at)
    rs = risk_share_at(conn, pool_id, fy.label, at)

    metrics = metrics_at(conn, pool_id, q.label, at)
    adjustments = _adjustments(conn, pool, q, at, baseline)

    layout = _layout(ref)
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
        data_as_at=es.recorded_at_of(conn, at) or es.EPOCH,
        chain_head=es.hash_at(conn, at),
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
        totals=_totals(income, schemes),
        by_scheme_type=_by_scheme_type(schemes, ref),
        by_commissioner=_by_commissioner(schemes, joint, names),
        partners=tuple(
            PartnerLine(
                partner_id=p.partner_id,
                name=names.get(p.partner_id, p.partner_id),
                share=format_fraction(p.share, 10),
                planned=p.planned,
                received=p.received,
                transfers_in=p.transfers_in,
                transfers_out=p.transfers_out,
                risk_share=p.risk_share,
                net_obligation=p.net_obligation,
                outstanding=p.outstanding,
            )
            for p in bal.partners
        ),
        pool=_pool_figures(bal.pool),
        risk_share=RiskShareSummary(
            direction=rs.direction,
            method=rs.method,
            basis=rs.basis,
            settled=rs.settled,
            variance=rs.variance,
            carried_forward=rs.carried_forward,
        ),
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
    )
    return _sealed(content)


_INCOME_MONEY = (
    "planned",
    "received_in_quarter",
    "received_year_to_date",
    "previous_year_to_date",
    "adjustments",
)
_SCHEME_MONEY = (
    "planned",
    "actual_in_quarter",
    "actual_year_to_date",
    "forecast_outturn",
    "previous_year_to_date",
    "adjustments",
)
_TOTAL_MONEY = ("planned", "actual_in_quarter", "actual_year_to_date", "forecast_outturn")


def _totals(income: Sequence[IncomeLine], schemes: Sequence[SchemeLine]) -> Totals:
    def total(items: Sequence[Any], name: str) -> int:
        return sum(getattr(x, name) for x in items)

    return Totals(
        income=IncomeLine(
            funding_stream="total",
            name="Total",
            **{f: total(income, f) for f in _INCOME_MONEY},
        ),
        expenditure=SchemeLine(
            scheme_id="total",
            name="Total",
            scheme_type="",
            commissioner="",
            commissioner_label="",
            provider_type="",
            funding_stream="",
            funding_stream_name="",
            **{f: total(schemes, f) for f in _SCHEME_MONEY},
        ),
    )


def _pool(conn: Connection, pool_id: str, at: int) -> PoolView:
    pool = pool_at(conn, pool_id, at)
    if pool is None:
        raise NotFound(f"pool '{pool_id}' does not exist (as at position {at})")
    return pool


def reference_at(
    conn: Connection, pool_id: str, year: str, at: int, fallback: ReferenceSource | None = None
) -> ReferenceData:
    """The year's reference lists as the ledger recorded them by ``at``: the version
    the plan in force was checked against, else the newest recorded for the year;
    only when none was recorded, the shipped files (``fallback``)."""
    current = plan_fact(conn, pool_id, year, at)
    wanted = current.data.get("reference_hash") if current is not None else None
    recorded = facts(conn, None, "reference_data_recorded", at, year=year)
    recorded.sort(key=lambda f: (f.data.get("content_hash") != wanted, -f.position))
    if recorded:
        return ReferenceData.model_validate_json(recorded[0].data["content"])
    found = (fallback or default_catalogue()).for_year(year)
    if found is None:
        raise RuleViolation(
            f"no reference data (streams, layout, calendar) is known for {year}; "
            "ship the year's lists before generating its returns"
        )
    return found


def _layout(ref: ReferenceData) -> Layout:
    return Layout(
        template_name=ref.return_layout.template_name,
        sheets=tuple(
            SheetLayout(s.key, s.title, tuple(s.columns)) for s in ref.return_layout.sheets
        ),
    )


def _filed_as_at(conn: Connection, pool_id: str, quarter: str, at: int) -> int | None:
    """The as-at position of the filed quarterly return of ``quarter``, as at ``at``."""
    for f in facts(conn, pool_id, "return_generated", at, period=quarter):
        if f.data.get("kind", "bcf_quarterly") == "bcf_quarterly":
            return int(f.data["as_at_position"])
    return None


def _baseline(conn: Connection, pool_id: str, q: Quarter, at: int) -> tuple[int | None, str | None]:
    prev = q.previous()
    pos = _filed_as_at(conn, pool_id, prev.label, at)
    return (pos, prev.label) if pos is not None else (None, None)


def _ytd(by_quarter: dict[str, int], quarters: Sequence[str]) -> int:
    return sum(by_quarter.get(x, 0) for x in quarters)


def _income_lines(
    now: IncomeByStreamView,
    then: IncomeByStreamView | None,
    ref: ReferenceData,
    q: Quarter,
    upto: list[str],
) -> tuple[IncomeLine, ...]:
    by_id = {s.funding_stream: s for s in now.streams}
    before = {s.funding_stream: s for s in then.streams} if then is not None else {}
    order = [s.id for s in ref.funding_streams]
    order += sorted(set(by_id) - set(order))
    out = []
    for sid in order:
        s = by_id.get(sid)
        by_q = s.received_by_quarter if s else {}
        in_q = by_q.get(q.label, 0)
        ytd = _ytd(by_q, upto)
        if then is not None:
            old = before.get(sid)
            prev = _ytd(old.received_by_quarter, upto[:-1]) if old else 0
        else:
            prev = ytd - in_q
        stream = ref.stream(sid)
        out.append(
            IncomeLine(
                funding_stream=sid,
                name=stream.name if stream else sid,
                planned=s.planned if s else 0,
                received_in_quarter=in_q,
                received_year_to_date=ytd,
                previous_year_to_date=prev,
                adjustments=ytd - in_q - prev,
            )
        )
    return tuple(out)


def _joint_splits(plan: dict[str, Any] | None) -> dict[str, tuple[Decimal, Decimal]]:
    out: dict[str, tuple[Decimal, Decimal]] = {}
    for s in (plan or {}).get("schemes", ()):
        split = s.get("joint_split")
        if s.get("commissioner") == "joint" and split:
            out[s["id"]] = (Decimal(str(split["la"])), Decimal(str(split["icb"])))
    return out


def _pct(d: Decimal) -> str:
    return format(d.normalize(), "f")


def commissioner_label(
    commissioner: str, split: tuple[Decimal, Decimal] | None, names: dict[str, str]
) -> str:
    if commissioner == "la":
        return "Local Authority"
    if commissioner == "icb":
        return "ICB"
    if commissioner == "joint":
        if split is None:
            return "Joint"
        return f"Joint (LA {_pct(split[0])}% / ICB {_pct(split[1])}%)"
    return names.get(commissioner, commissioner)


def _scheme_line(
    s: SchemeSpend,
    then: dict[str, SchemeSpend] | None,
    ref: ReferenceData,
    q: Quarter,
    upto: list[str],
    names: dict[str, str],
    split: tuple[Decimal, Decimal] | None,
) -> SchemeLine:
    in_q = s.actual_by_quarter.get(q.label, 0)
    ytd = _ytd(s.actual_by_quarter, upto)
    if then is not None:
        old = then.get(s.scheme_id)
        prev = _ytd(old.actual_by_quarter, upto[:-1]) if old else 0
    else:
        prev = ytd - in_q
    stream = ref.stream(s.funding_stream)
    return SchemeLine(
        scheme_id=s.scheme_id,
        name=s.name,
        scheme_type=s.scheme_type,
        commissioner=s.commissioner,
        commissioner_label=commissioner_label(s.commissioner, split, names),
        provider_type=s.provider_type,
        funding_stream=s.funding_stream,
        funding_stream_name=stream.name if stream else s.funding_stream,
        planned=s.planned,
        actual_in_quarter=in_q,
        actual_year_to_date=ytd,
        forecast_outturn=s.outturn,
        previous_year_to_date=prev,
        adjustments=ytd - in_q - prev,
    )


def _sum_lines(key: str, label: str, items: Iterable[SchemeLine | TotalLine]) -> TotalLine:
    items = list(items)
    return TotalLine(key, label, *(sum(getattr(x, f) for x in items) for f in _TOTAL_MONEY))


def _by_scheme_type(schemes: Sequence[SchemeLine], ref: ReferenceData) -> tuple[TotalLine, ...]:
    groups: dict[str, list[SchemeLine]] = defaultdict(list)
    for s in schemes:
        groups[s.scheme_type].append(s)
    order = [t for t in ref.scheme_types if t in groups]
    order += sorted(set(groups) - set(order))
    rows = [_sum_lines(t, t or "(no scheme type)", groups[t]) for t in order]
    return (*rows, _sum_lines("total", "Total", rows))


def _by_commissioner(
    schemes: Sequence[SchemeLine],
    joint: dict[str, tuple[Decimal, Decimal]],
    names: dict[str, str],
) -> tuple[TotalLine, ...]:
    sums: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(_TOTAL_MONEY, 0))
    for s in schemes:
        split = joint.get(s.scheme_id) if s.commissioner == "joint" else None
        for f in _TOTAL_MONEY:
            amount = getattr(s, f)
            if split is not None and (split[0] or split[1]):
                parts = allocate(amount, {"la": split[0], "icb": split[1]}, ["la", "icb"])
                sums["la"][f] += parts["la"]
                sums["icb"][f] += parts["icb"]
            else:
                sums[s.commissioner][f] += amount
    first = [k for k in ("la", "icb") if k in sums]
    last = [k for k in ("joint", "") if k in sums]
    order = first + sorted(set(sums) - set(first) - set(last)) + last
    rows = [
        TotalLine(
            k,
            commissioner_label(k, None, names) if k else "(no commissioner)",
            *(sums[k][f] for f in _TOTAL_MONEY),
        )
        for k in order
    ]
    return (*rows, _sum_lines("total", "Total", rows))


def _pool_figures(p: Any) -> PoolFigures:
    return PoolFigures(
        outturn_basis=p.outturn_basis,
        opening_balance=p.opening_balance,
        planned=p.planned,
        income=p.income,
        spend=p.spend,
        transfers_in=p.transfers_in,
        transfers_out=p.transfers_out,
        balance=p.balance,
        outturn=p.outturn,
        variance=p.variance,
    )


_EFFECT_SIGN = {"refund": -1, "credit": -1}


def _adjustments(
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
    stored = {e.position: e for e in es.get_by_positions(conn, positions)} if positions else {}
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


# --- building the annual memorandum --------------------------------------------------


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
    pool = _pool(conn, pool_id, at)
    names = {p.partner_id: p.name for p in partners_at(conn, at)}
    income_view = income_by_stream_at(conn, pool_id, fy.label, at)
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
    spend = scheme_spend_at(conn, pool_id, fy.label, at)
    expenditure = tuple(
        SchemeOutturnLine(
            scheme_id=s.scheme_id,
            name=s.name,
            scheme_type=s.scheme_type,
            commissioner=s.commissioner,
            funding_stream=s.funding_stream,
            planned=s.planned,
            actual=s.actual_year_to_date,
            outturn=s.outturn,
            variance=s.outturn - s.planned,
        )
        for s in spend
    )
    yp = year_position(conn, pool_id, fy.label, at)
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
    bal = balances_at(conn, pool_id, fy.label, at)
    rs = risk_share_at(conn, pool_id, fy.label, at)
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
        data_as_at=es.recorded_at_of(conn, at) or es.EPOCH,
        chain_head=es.hash_at(conn, at),
        q4_closed=yp.q4_closed,
        settled=rs.settled,
    )
    content = MemorandumContent(
        cover=cover,
        income=income,
        expenditure=expenditure,
        transfers=transfers,
        pool=_pool_figures(bal.pool),
        risk_share=RiskShareSummary(
            direction=rs.direction,
            method=rs.method,
            basis=rs.basis,
            settled=rs.settled,
            variance=rs.variance,
            carried_forward=rs.carried_forward,
        ),
        partners=tuple(
            PartnerRiskLine(
                partner_id=p.partner_id,
                name=names.get(p.partner_id, p.partner_id),
                share=format_fraction(p.share, 10),
                status=status,
                planned=p.planned,
                received=p.received,
                transfers_in=p.transfers_in,
                transfers_out=p.transfers_out,
                risk_share=p.risk_share,
                net_obligation=p.net_obligation,
                outstanding=p.outstanding,
            )
            for p in bal.partners
        ),
    )
    return _sealed(content)


__all__ = [
    "Adjustment",
    "Content",
    "Cover",
    "IncomeLine",
    "Layout",
    "MemorandumContent",
    "MetricLine",
    "PartnerLine",
    "ReturnContent",
    "SchemeLine",
    "SheetLayout",
    "TotalLine",
    "build_memorandum_content",
    "build_return_content",
    "canonical_json",
    "content_hash_of",
    "reference_at",
    "to_json_obj",
]

"""The quarterly BCF return's dataclasses: its cover, layout, income and expenditure
lines, totals, partner balances, metrics and prior-period adjustments."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from projections.returns.shared import CoverFacts, PoolFigures, RiskShareSummary, money

if TYPE_CHECKING:
    from projections.returns.parts import ReturnParts

RETURN_SCHEMA = "pooled.bcf-quarterly-return.v1"


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
    # a filed return's signed checkpoint at ``as_at_position`` (drafts have none and
    # their JSON no such key): ledger.domain.checkpoint.SignedCheckpoint.as_json()
    checkpoint: dict[str, str | int] | None = field(default=None, metadata={"omit_none": True})
    # a re-filed version (2 and on) and the filing it supersedes; absent from a first
    # filing and from drafts
    version: int | None = field(default=None, metadata={"omit_none": True})
    supersedes_event_id: str | None = field(default=None, metadata={"omit_none": True})


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
    commissioner: str  # as the plan names it (la, icb, joint or a member partner)
    commissioner_label: str  # the template's term: Local Authority, NHS or Joint
    provider_type: str
    funding_stream: str
    funding_stream_name: str
    planned: int = money()
    actual_in_quarter: int = money()
    actual_year_to_date: int = money()
    forecast_outturn: int | None = money()  # None: no scheme forecast (see the note)
    previous_year_to_date: int = money()
    adjustments: int = money()
    nhs_pct: str = ""  # of a joint scheme (the template's "% NHS"); "" otherwise
    la_pct: str = ""


@dataclass(frozen=True)
class TotalLine:
    key: str
    label: str
    planned: int = money()
    actual_in_quarter: int = money()
    actual_year_to_date: int = money()
    forecast_outturn: int | None = money()  # None when a scheme in it has none


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


@dataclass(frozen=True)
class ReturnContent(CoverFacts):
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
    # why the schemes' forecast outturns do not sum to the pool's outturn (None: they do)
    expenditure_note: str | None = None
    schema: str = RETURN_SCHEMA
    # the national template's further parts (projections.returns.parts); None when the
    # year's recorded reference lists predate them
    parts: ReturnParts | None = None

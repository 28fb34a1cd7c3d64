"""The Section 75 annual memorandum statement's dataclasses: its cover, income by
partner and stream, outturn by scheme, transfers and each partner's risk share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from projections.returns.shared import CoverFacts, PoolFigures, RiskShareSummary, money

MEMORANDUM_SCHEMA = "pooled.s75-annual-memorandum.v1"


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
    outturn: int | None = money()  # None: no scheme forecast (see the note)
    variance: int | None = money()  # outturn - planned


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
class MemorandumContent(CoverFacts):
    cover: MemorandumCover
    income: tuple[PartnerIncomeLine, ...]
    expenditure: tuple[SchemeOutturnLine, ...]
    transfers: tuple[TransferLine, ...]
    pool: PoolFigures
    risk_share: RiskShareSummary
    partners: tuple[PartnerRiskLine, ...]
    # why the schemes' outturns do not sum to the pool's outturn (None: they do)
    expenditure_note: str | None = None
    schema: str = MEMORANDUM_SCHEMA

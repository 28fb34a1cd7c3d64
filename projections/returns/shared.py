"""What both documents share: the money field, the facts every cover states (and the
content reads through), the pool's figures and the risk-share summary."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Protocol


def money(*, default: Any = dataclasses.MISSING) -> Any:
    """A money field (integer pence): written as a decimal string of pounds."""
    if default is dataclasses.MISSING:
        return field(metadata={"money": True})
    return field(default=default, metadata={"money": True})


class CoverStamp(Protocol):
    """What every cover states about the ledger position its document was built as at."""

    @property
    def content_hash(self) -> str: ...

    @property
    def data_as_at(self) -> str: ...

    @property
    def as_at_position(self) -> int: ...

    @property
    def chain_head(self) -> str: ...


class CoverFacts:
    """What every generated document states on its cover, read through the content."""

    cover: CoverStamp  # a plain class: not a dataclass field

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
    variance: int | None = money()  # None with basis actual_to_date: no year variance
    # the plan to date (domain.md 6.1): over the quarters ended by the figures' date
    planned_to_date: int = money(default=0)  # planned spend
    actual_to_date: int = money(default=0)  # spend
    variance_to_date: int = money(default=0)  # actual_to_date - planned_to_date


@dataclass(frozen=True)
class RiskShareSummary:
    direction: str
    method: str
    basis: str
    settled: bool
    variance: int | None = money()  # None with basis actual_to_date
    carried_forward: int = money()

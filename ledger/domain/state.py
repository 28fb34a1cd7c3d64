"""Write-side state: what a decision needs, kept up to date by ``evolve``.

``evolve`` applies facts and never raises, so old events replay after rules change.
The store keeps one ``PoolState`` snapshot per pool, updated in the append
transaction, so deciding never replays a stream.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field

from ledger.domain import events as ev
from ledger.domain.model import Frozen
from ledger.domain.plan import Plan
from ledger.domain.return_parts import PART_EVENTS, part_keys_of


class PartnerInfo(Frozen):
    partner_id: str
    name: str
    kind: ev.PartnerKind


class PlanEntry(Frozen):
    event_id: str
    plan: Plan


class ReturnState(Frozen):
    quarter: str
    kind: Literal["bcf_quarterly", "s75_memorandum"] = "bcf_quarterly"
    approved: bool = False
    submitted: bool = False
    parts: tuple[str, ...] = ()  # the return parts recorded when it was filed
    version: int = 1  # 2 and on: re-filed (``ReturnRefiled``)


class PoolState(Frozen):
    pool_id: str
    name: str
    kind: ev.PoolKind
    host_partner_id: str
    members: tuple[str, ...]
    hwb_area: ev.HwbArea | None = None
    version: int = 0  # events in the pool's stream
    # year -> stack of plans not reversed
    plans: dict[str, tuple[PlanEntry, ...]] = Field(default_factory=dict)
    opening_balance: tuple[str, str] | None = None  # (year, event_id) not reversed
    closed_quarters: tuple[str, ...] = ()  # in closing order
    settled_years: tuple[str, ...] = ()
    returns: tuple[ReturnState, ...] = ()
    # quarter -> parts recorded (return_parts)
    return_parts: dict[str, tuple[str, ...]] = Field(default_factory=dict)

    def plan(self, year: str) -> Plan | None:
        stack = self.plans.get(year, ())
        return stack[-1].plan if stack else None

    def first_plan_year(self) -> str | None:
        return min(self.plans, default=None)

    def is_closed(self, quarter: str) -> bool:
        return quarter in self.closed_quarters

    def filed(self, quarter: str) -> ReturnState | None:
        return next((r for r in self.returns if r.quarter == quarter), None)


class TargetEvent(Frozen):
    """What a reversal needs to know of the event it names."""

    event_id: str
    type: str
    position: int
    pool_id: str | None
    poster_partner_id: str | None
    effective_date: date | None
    reversed: bool


# every class ``evolve`` matches, and the return parts: a fact of none of them (every
# posting) moves the version alone, known from its type without the class patterns
_SHAPING: tuple[type, ...] = (
    ev.PartnerJoined,
    ev.PlanAgreed,
    ev.OpeningBalanceRecorded,
    ev.PeriodClosed,
    ev.RiskShareSettled,
    ev.ReturnGenerated,
    ev.ReturnRefiled,
    ev.ReturnApproved,
    ev.ReturnSubmitted,
    ev.EventReversed,
    *PART_EVENTS,
)
_VERSION_ONLY: set[type] = set()


def evolve(state: PoolState | None, event: ev.Event, *, event_id: str = "") -> PoolState | None:
    """Apply one fact to a pool's state. Never raises; unknown facts change nothing."""
    if isinstance(event, ev.PoolEstablished):
        return PoolState(
            pool_id=event.pool_id,
            name=event.name,
            kind=event.kind,
            host_partner_id=event.host_partner_id,
            members=event.members,
            hwb_area=event.hwb_area,
            version=1,
        )
    if state is None:
        return None
    s = _next_version(state)
    event_type = type(event)
    if event_type in _VERSION_ONLY:
        return s
    if not issubclass(event_type, _SHAPING):
        _VERSION_ONLY.add(event_type)
        return s
    match event:
        case ev.PartnerJoined(partner_id=pid) if pid not in s.members:
            return s.model_copy(update={"members": (*s.members, pid)})
        case ev.PlanAgreed(year=year, plan=plan):
            plans = dict(s.plans)
            plans[year] = (*plans.get(year, ()), PlanEntry(event_id=event_id, plan=plan))
            return s.model_copy(update={"plans": plans})
        case ev.OpeningBalanceRecorded(year=year):
            return s.model_copy(update={"opening_balance": (year, event_id)})
        case ev.PeriodClosed(quarter=q) if q not in s.closed_quarters:
            return s.model_copy(update={"closed_quarters": (*s.closed_quarters, q)})
        case ev.RiskShareSettled(year=y) if y not in s.settled_years:
            return s.model_copy(update={"settled_years": (*s.settled_years, y)})
        case ev.ReturnGenerated(quarter=q, kind=kind) if s.filed(q) is None:
            filed = ReturnState(quarter=q, kind=kind, parts=s.return_parts.get(q, ()))
            return s.model_copy(update={"returns": (*s.returns, filed)})
        case ev.ReturnRefiled(quarter=q, version=v):
            now = s.return_parts.get(q, ())
            refiled = tuple(
                r.model_copy(update={"version": v, "parts": now}) if r.quarter == q else r
                for r in s.returns
            )
            return s.model_copy(update={"returns": refiled})
        case ev.ReturnApproved(quarter=q):
            return s.model_copy(update={"returns": _mark(s.returns, q, approved=True)})
        case ev.ReturnSubmitted(quarter=q):
            return s.model_copy(update={"returns": _mark(s.returns, q, submitted=True)})
        case ev.EventReversed(reversed_event_id=target, reversed_type=t):
            if t == ev.PlanAgreed.type:
                plans = {
                    y: tuple(p for p in st if p.event_id != target) for y, st in s.plans.items()
                }
                return s.model_copy(update={"plans": {y: st for y, st in plans.items() if st}})
            if (
                t == ev.OpeningBalanceRecorded.type
                and s.opening_balance
                and s.opening_balance[1] == target
            ):
                return s.model_copy(update={"opening_balance": None})
    if (found := part_keys_of(event)) is not None:
        q, key = found
        if key not in s.return_parts.get(q, ()):
            parts = {**s.return_parts, q: (*s.return_parts.get(q, ()), key)}
            return s.model_copy(update={"return_parts": parts})
    return s


def _next_version(state: PoolState) -> PoolState:
    """``state`` one version on: what most facts (every posting) change."""
    return at_version(state, state.version + 1)


def at_version(state: PoolState, version: int) -> PoolState:
    """``state`` at another stream version, nothing else changed. Built as pydantic's
    own ``model_copy`` builds a copy, minus its generic machinery, because it runs once
    per event on the append path."""
    new = object.__new__(PoolState)
    object.__setattr__(new, "__dict__", {**state.__dict__, "version": version})
    object.__setattr__(new, "__pydantic_fields_set__", state.model_fields_set | {"version"})
    object.__setattr__(new, "__pydantic_extra__", None)
    object.__setattr__(new, "__pydantic_private__", None)
    return new


def same_but_version(a: PoolState, b: PoolState) -> bool:
    """Whether two states differ in their version alone (then no state row is written)."""
    return {**a.__dict__, "version": 0} == {**b.__dict__, "version": 0}


def _mark(returns: tuple[ReturnState, ...], quarter: str, **flags: bool) -> tuple[ReturnState, ...]:
    return tuple(r.model_copy(update=flags) if r.quarter == quarter else r for r in returns)

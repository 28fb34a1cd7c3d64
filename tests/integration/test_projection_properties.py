"""Properties of the read side for any sequence of accepted commands (domain.md 8), on
SQLite and PostgreSQL:

(a) rebuilding every read model from the events gives the incrementally kept rows,
    row for row;
(b) an answer as at position P (balances, risk share) is the same before and after
    any later events;
(c) the pool balance identity of 6.1 holds at every position, with each of its terms
    equal to an independent model of the accepted commands.

Each example runs in a pool of its own in the test's database (examples accumulate,
so the rebuild also covers everything before), with the "ci" Hypothesis profile.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from hypothesis import event, given
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from ledger.domain import commands as c
from ledger.domain.errors import LedgerError
from ledger.domain.events import PartnerAmount, Party
from ledger.domain.periods import Quarter
from ledger.domain.plan import Plan, RiskRule, Scheme
from ledger.handlers import Ledger
from projections import tables as t
from projections.balances import balances_at, risk_share_at
from projections.queries import Reader
from projections.rebuild import rebuild
from tests.builders import (
    ADMIN,
    equipment_plan,
    officer,
    pounds,
    register_partners,
    tiered_with_cap,
)

YEAR = "2025-26"
START = date(2025, 4, 1)
PARTNERS = ("ncc", "city", "icb-a")
SCHEMES = ("equipment", "reablement")
HOST = officer("ncc")

amounts = st.integers(min_value=1, max_value=200_000_000)
days = st.integers(min_value=0, max_value=364)
step = st.one_of(
    st.tuples(st.just("contribution"), st.sampled_from(PARTNERS), amounts, days),
    st.tuples(st.just("refund"), st.sampled_from(PARTNERS), amounts, days),
    st.tuples(st.just("spend"), st.sampled_from(SCHEMES), amounts, days),
    st.tuples(st.just("credit"), st.sampled_from(SCHEMES), amounts, days),
    st.tuples(
        st.just("transfer"),
        st.sampled_from((("icb-a", "ncc"), ("city", None), (None, "city"), ("ncc", None))),
        amounts,
        days,
    ),
    st.tuples(
        st.just("forecast"),
        st.sampled_from((None, *SCHEMES)),
        st.integers(min_value=0, max_value=900_000_000),
        days,
    ),
    st.tuples(st.just("reverse"), st.integers(min_value=0, max_value=10_000)),
    *[st.tuples(st.just("close"))] * 3,  # often enough to close a year and settle it
    *[st.tuples(st.just("settle"))] * 2,
)
rules = st.tuples(
    st.sampled_from(("proportional", "tiered", "by_commissioner")),
    st.sampled_from(("proportional", "carry_forward")),
)


@dataclass
class Model:
    """What each accepted command should do to the year's figures."""

    opening: int = 0
    income: int = 0
    spend: int = 0
    pool_in: int = 0
    pool_out: int = 0
    received: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    effects: dict[str, dict[str, Any]] = field(default_factory=dict)  # event id -> effect
    reversible: list[tuple[str, date | None]] = field(default_factory=list)
    closed: list[str] = field(default_factory=list)

    def apply(self, effect: dict[str, Any], sign: int = 1) -> None:
        for k in ("opening", "income", "spend", "pool_in", "pool_out"):
            setattr(self, k, getattr(self, k) + sign * effect.get(k, 0))
        for p, v in effect.get("received", {}).items():
            self.received[p] += sign * v

    def snapshot(self) -> tuple[int, int, int, int, int, dict[str, int]]:
        return (
            self.opening,
            self.income,
            self.spend,
            self.pool_in,
            self.pool_out,
            {p: v for p, v in self.received.items() if v},
        )


def _plan(over: str, under: str) -> Plan:
    overspend = tiered_with_cap() if over == "tiered" else RiskRule(method=over)  # type: ignore[arg-type]
    return equipment_plan(
        overspend=overspend,
        underspend=RiskRule(method=under),  # type: ignore[arg-type]
        schemes=(
            Scheme(
                id="equipment",
                name="Equipment",
                scheme_type="Other",
                commissioner="ncc",
                provider_type="Other",
                funding_stream="contribution",
                planned=pounds("2500000"),
            ),
            Scheme(
                id="reablement",
                name="Reablement",
                scheme_type="Other",
                commissioner="icb",
                provider_type="Other",
                funding_stream="contribution",
                planned=pounds("1000000"),
            ),
        ),
    )


class Run:
    def __init__(self, ledger: Ledger, pool: str, model: Model) -> None:
        self.ledger, self.pool, self.m = ledger, pool, model

    def _ppa(self, when: date) -> bool:
        return Quarter.of(when).label in self.m.closed

    def _do(self, command: c.Command, actor: c.Actor, effect: dict[str, Any] | None) -> None:
        try:
            out = self.ledger.execute(command, actor)
        except LedgerError as e:
            event(f"refused {type(command).__name__}: {type(e).__name__}")
            return  # refused: nothing written, nothing to model
        event(f"accepted {type(command).__name__}")
        if effect is not None:
            stored = out.events[0]
            self.m.effects[stored.event_id] = effect
            self.m.apply(effect)
            self.m.reversible.append((stored.event_id, stored.effective_date))

    def step(self, s: tuple[Any, ...]) -> None:
        kind, pool = s[0], self.pool
        if kind in ("contribution", "refund"):
            _, partner, amount, day = s
            when = START + timedelta(days=day)
            common = {
                "pool_id": pool,
                "partner_id": partner,
                "funding_stream": "contribution",
                "amount": amount,
                "effective_date": when,
                "reference": "r",
                "prior_period_adjustment": self._ppa(when),
            }
            sign = 1 if kind == "contribution" else -1
            command: c.Command = (
                c.PostContribution(**common) if sign > 0 else c.RefundContribution(**common)
            )
            self._do(command, HOST, {"income": sign * amount, "received": {partner: sign * amount}})
        elif kind in ("spend", "credit"):
            _, scheme, amount, day = s
            when = START + timedelta(days=day)
            common = {
                "pool_id": pool,
                "scheme_id": scheme,
                "amount": amount,
                "effective_date": when,
                "reference": "i",
                "prior_period_adjustment": self._ppa(when),
            }
            sign = 1 if kind == "spend" else -1
            command = c.RecordExpenditure(**common) if sign > 0 else c.CreditExpenditure(**common)
            self._do(command, HOST, {"spend": sign * amount})
        elif kind == "transfer":
            _, (src, dst), amount, day = s
            when = START + timedelta(days=day)
            effect = {"pool_in": amount} if dst is None else {}
            if src is None:
                effect = {"pool_out": amount}
            self._do(
                c.PostTransfer(
                    pool_id=pool,
                    from_party=Party(partner_id=src) if src else Party(pool_id=pool),
                    to_party=Party(partner_id=dst) if dst else Party(pool_id=pool),
                    amount=amount,
                    purpose="s256" if src == "icb-a" else "other",
                    effective_date=when,
                    reference="t",
                    prior_period_adjustment=self._ppa(when),
                ),
                officer(src or "ncc"),
                effect,
            )
        elif kind == "forecast":
            _, scheme, amount, day = s
            self._do(
                c.RecordForecast(
                    pool_id=pool,
                    year=YEAR,
                    amount=amount,
                    scheme_id=scheme,
                    as_of_date=START + timedelta(days=day),
                ),
                HOST,
                {},
            )
        elif kind == "reverse":
            if not self.m.reversible:
                return
            event_id, when = self.m.reversible.pop(s[1] % len(self.m.reversible))
            try:
                self.ledger.execute(
                    c.ReverseEvent(
                        event_id=event_id,
                        reason="property",
                        prior_period_adjustment=when is not None and self._ppa(when),
                    ),
                    ADMIN,
                )
            except LedgerError as e:
                event(f"refused ReverseEvent: {type(e).__name__}")
                return
            event("accepted ReverseEvent")
            self.m.apply(self.m.effects[event_id], -1)
        elif kind == "close":
            quarter = f"{YEAR}-Q{len(self.m.closed) + 1}"
            if len(self.m.closed) < 4:
                self.ledger.execute(c.ClosePeriod(pool_id=pool, quarter=quarter), ADMIN)
                self.m.closed.append(quarter)
                event(f"closed {quarter[-2:]}")
        elif kind == "settle":
            rs = Reader(self.ledger.engine).risk_share(pool, YEAR)
            if len(self.m.closed) == 4 and not rs.settled:
                event(f"settled {rs.direction} {rs.method}")
                self.ledger.execute(
                    c.SettleRiskShare(
                        pool_id=pool,
                        year=YEAR,
                        variance=rs.variance,
                        direction=rs.direction,
                        method=rs.method,
                        allocations=tuple(
                            PartnerAmount(partner_id=p, amount=a) for p, a in rs.allocations
                        ),
                        carried_forward=rs.carried_forward,
                    ),
                    ADMIN,
                )


def dump(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    with engine.connect() as conn:
        return {
            table.name: [
                tuple(r) for r in conn.execute(select(table).order_by(*table.primary_key.columns))
            ]
            for table in (*t.READ_MODEL_TABLES, t.rm_checkpoint)
        }


@given(
    rule=rules,
    opening=st.integers(-10_000_000, 10_000_000),
    steps=st.lists(step, min_size=10, max_size=30),
)
def test_any_accepted_sequence_keeps_rebuild_as_at_and_identity_properties(
    ledger: Ledger,
    engine: Engine,
    rule: tuple[str, str],
    opening: int,
    steps: list[tuple[Any, ...]],
) -> None:
    reader = Reader(engine)
    if not reader.partners():
        register_partners(ledger)
    pool = f"p{reader.position()}"
    ledger.execute(
        c.EstablishPool(
            pool_id=pool,
            name="Property pool",
            kind="section_75",
            host_partner_id="ncc",
            members=PARTNERS,
        ),
        ADMIN,
    )
    start = reader.position()
    ledger.execute(c.AgreePlan(pool_id=pool, year=YEAR, plan=_plan(*rule)), ADMIN)
    model = Model()
    if opening:
        ledger.execute(
            c.RecordOpeningBalance(pool_id=pool, year=YEAR, amount=opening, note="b/f"), ADMIN
        )
        model.apply({"opening": opening})
    run = Run(ledger, pool, model)
    snapshots: dict[int, tuple[Any, ...]] = {reader.position(): model.snapshot()}
    answers: dict[int, tuple[Any, Any]] = {}
    for s in steps:
        run.step(s)
        pos = reader.position()
        snapshots[pos] = model.snapshot()
        with engine.connect() as conn:
            answers[pos] = (
                balances_at(conn, pool, YEAR, pos),
                risk_share_at(conn, pool, YEAR, pos),
            )
    end = reader.position()
    assert set(answers) <= set(range(start, end + 1))
    with engine.connect() as conn:
        expected = None
        for pos in range(start, end + 1):
            balances = balances_at(conn, pool, YEAR, pos)
            rs = risk_share_at(conn, pool, YEAR, pos)
            # (b) an answer taken along the way is the same now, after later events
            if pos in answers:
                assert (balances, rs) == answers[pos], pos
            # (c) the identity at every position of the pool's life, each term as modelled
            b = balances.pool
            assert b.balance == (
                b.opening_balance + b.income + b.transfers_in - b.transfers_out - b.spend
            )
            expected = snapshots.get(pos, expected)
            if expected is not None:
                got = (
                    b.opening_balance,
                    b.income,
                    b.spend,
                    b.transfers_in,
                    b.transfers_out,
                    {p.partner_id: p.received for p in balances.partners if p.received},
                )
                assert got == expected, pos
                shared = sum(p.risk_share for p in balances.partners)
                assert shared == sum(a for _, a in rs.allocations)
                assert shared in (0, rs.variance)  # 0: none, or carried forward
                # a part year (spend to date) has no year variance and shares nothing
                assert (b.variance is None) == (b.outturn_basis == "actual_to_date")
                if b.variance is None:
                    assert rs.direction == "none" and shared == 0
                else:
                    assert rs.settled or rs.variance == b.variance
    # (a) a rebuild gives exactly the rows kept incrementally
    kept = dump(engine)
    rebuild(engine, batch=7)
    assert dump(engine) == kept

"""The demo loader's state and plumbing: each command run with its own request id and
its events counted, the events later corrections name, the months and quarters up to
``today``, and a contribution or expenditure posted unless dated after ``today``."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date

from ledger.demo.partnership import HOST, YEARS, officer
from ledger.domain import commands as c
from ledger.domain.periods import Month, Quarter
from ledger.handlers import Ledger, Outcome

# files a pool-quarter's return on a day: (ledger, pool id, quarter, day); the demo
# loader is in ``ledger`` and the returns in ``scheduler``, so the caller passes it in
Filer = Callable[[Ledger, str, str, date], object]


@dataclass
class _Poster:
    """The loader's running state, and the plumbing each command goes through: a
    request id each, the events counted by pool, nothing dated after ``today``."""

    ledger: Ledger
    today: date
    rng: random.Random = field(default_factory=lambda: random.Random(20250401))
    seq: int = 0
    written: int = 0
    by_pool: dict[str, int] = field(default_factory=dict)
    first_position: int = 0
    last_position: int = 0
    closed: dict[str, list[str]] = field(default_factory=dict)
    spend: dict[tuple[str, int, str], list[int]] = field(default_factory=dict)
    rapid_spend: dict[str, int] = field(default_factory=dict)  # quarter -> spend so far
    marks: dict[str, str] = field(default_factory=dict)  # named events -> event id
    signed: set[str] = field(default_factory=set)  # quarters whose return the HWB signed off
    filer: Filer | None = None
    filed: list[str] = field(default_factory=list)  # BCF quarters whose return it filed

    def run(self, command: c.Command, actor: c.Actor) -> Outcome:
        self.seq += 1
        out = self.ledger.execute(command, actor, request_id=f"demo-{self.seq:05d}")
        for e in out.events:
            self.written += 1
            self.first_position = self.first_position or e.position
            self.last_position = e.position
            if e.stream_id.startswith("pool:"):
                pid = e.stream_id[len("pool:") :]
                self.by_pool[pid] = self.by_pool.get(pid, 0) + 1
        return out

    def _mark(self, name: str, out: Outcome | None) -> str | None:
        """Remember the event a later correction names."""
        if out is not None:
            self.marks[name] = out.events[-1].event_id
        return self.marks.get(name)

    def _months(self) -> Iterator[Month]:
        for fy in YEARS:
            for m in fy.months:
                if m.start <= self.today:
                    yield m

    def _ended(self) -> list[Quarter]:
        return [q for fy in YEARS for q in fy.quarters if q.end < self.today]

    def _closable(self, q: Quarter) -> bool:
        ended = self._ended()
        if q not in ended:
            return False
        return q.year == YEARS[0] or q != ended[-1]

    def _open_quarter(self) -> str | None:
        ended = self._ended()
        if ended and ended[-1].year != YEARS[0] and ended[-1].label not in self.filed:
            return ended[-1].label
        return None

    def _contribution(
        self, pool: str, partner: str, stream: str, amount: int, when: date, reference: str
    ) -> Outcome | None:
        if when > self.today:  # nothing is dated after today
            return None
        return self.run(
            c.PostContribution(
                pool_id=pool,
                partner_id=partner,
                funding_stream=stream,
                amount=amount,
                effective_date=when,
                reference=reference,
            ),
            officer(partner),
        )

    def _spend(
        self, pool: str, scheme: str, amount: int, when: date, reference: str
    ) -> Outcome | None:
        if when > self.today:  # nothing is dated after today
            return None
        return self.run(
            c.RecordExpenditure(
                pool_id=pool, scheme_id=scheme, amount=amount, effective_date=when,
                reference=reference,
            ),
            officer(HOST),
        )  # fmt: skip

"""Loading the demo into an empty ledger: ``load_demo`` and the summary it returns,
and the loader's story: the spend drawn up front, the partners and pools set up, each
year's plans and populations, then month by month and quarter by quarter to
``today``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ledger.demo.alliance import (
    ALLIANCE_MEMBERS,
    COHORT_WEIGHTS,
    RAPID_RESPONSE_PLANNED,
    alliance_plan,
    populations,
)
from ledger.demo.amounts import _even, _f, _monthly, _scaled
from ledger.demo.bcf import BCF_HWB, BCF_MEMBERS, BCF_SCHEMES, bcf_plan, bcf_planned
from ledger.demo.ices import ICES_MEMBERS, ICES_OPENING_BALANCE, ICES_SPEND_FACTOR, ices_plan
from ledger.demo.monthly import _MonthlyPostings
from ledger.demo.partnership import (
    ADMIN,
    ALLIANCE,
    BCF,
    DEMO_PARTNERS,
    HOST,
    ICES,
    YEARS,
    officer,
)
from ledger.demo.posting import Filer
from ledger.demo.quarterly import _QuarterEnds
from ledger.domain import commands as c
from ledger.domain.errors import RuleViolation
from ledger.domain.periods import FinancialYear
from ledger.handlers import Ledger
from ledger.store.reads import read_head


@dataclass(frozen=True)
class DemoSummary:
    events_written: int
    events_by_pool: dict[str, int]  # pool id -> events in its stream
    partners: tuple[str, ...]
    first_position: int
    last_position: int
    closed_quarters: dict[str, tuple[str, ...]]  # pool id -> quarters closed
    open_quarter: str | None  # the latest ended quarter, left open for the scheduler

    @property
    def pools(self) -> tuple[str, ...]:
        return tuple(self.events_by_pool)


def ledger_is_empty(ledger: Ledger) -> bool:
    with ledger.engine.connect() as conn:
        return read_head(conn).position == 0


def load_demo(ledger: Ledger, today: date, *, filer: Filer | None = None) -> DemoSummary:
    """Load the demo partnership into an empty ledger, with data up to ``today``.

    ``today`` should be the ledger clock's London date: quarters are closed only
    once they have ended. With ``filer``, the BCF pool's returns are filed as the
    finance lead files them (``ledger.demo.return_parts.FILED_AFTER``). Raises
    ``RuleViolation`` if the ledger is not empty."""
    if not ledger_is_empty(ledger):
        raise RuleViolation("the ledger is not empty: the demo loads only into an empty ledger")
    return _Loader(ledger, today, filer=filer).load()


class _Loader(_MonthlyPostings, _QuarterEnds):
    """The demo's story, told through the ledger's own commands."""

    def load(self) -> DemoSummary:
        self._precompute()
        self._setup()
        for month in self._months():
            fy = month.year
            if month.number == 1:
                if fy != YEARS[0]:
                    self._agree_plans(fy)
                self._populations(fy)
            self._contributions(month)
            self._spending(month)
            self._specials(month)
            if month.number % 3 == 0 and month.quarter.end < self.today:
                self._quarter_end(month.quarter)
            if month.number % 3 == 1:
                self._sign_off(month.quarter.previous())
                self._close(month.quarter.previous())
                self._file(month.quarter.previous())
        for q in self._ended():  # anything not closed in the loop (e.g. the last quarter)
            self._sign_off(q)
            self._close(q)
            self._file(q)
        self._prior_period_adjustment()
        return DemoSummary(
            events_written=self.written,
            events_by_pool=dict(self.by_pool),
            partners=tuple(p.partner_id for p in DEMO_PARTNERS),
            first_position=self.first_position,
            last_position=self.last_position,
            closed_quarters={k: tuple(v) for k, v in self.closed.items()},
            open_quarter=self._open_quarter(),
        )

    def _precompute(self) -> None:
        """Each scheme's monthly spend for each year, drawn once in a fixed order."""
        for fy in YEARS:
            y = fy.start_year
            planned = {s.id: s.planned for s in ices_plan(fy).schemes}
            for sid, factor in ICES_SPEND_FACTOR[y].items():
                self.spend[(ICES, y, sid)] = _monthly(_scaled(planned[sid], factor), self.rng, 70)
            bcf = bcf_planned(fy)
            for s in BCF_SCHEMES:
                factor = s.factor_2025 if y == 2025 else s.factor_2026
                self.spend[(BCF, y, s.id)] = _monthly(
                    _scaled(bcf[s.id], factor), self.rng, s.spread
                )
            plan = alliance_plan(fy)
            community = next(s for s in plan.schemes if s.id == "community-health")
            self.spend[(ALLIANCE, y, "community-health")] = _even(community.planned, 12)
            rapid = _scaled(RAPID_RESPONSE_PLANNED[y], _f("1.03") if y == 2025 else _f("0.99"))
            self.spend[(ALLIANCE, y, "rapid-response")] = _monthly(rapid, self.rng, 80)

    def _setup(self) -> None:
        for p in DEMO_PARTNERS:
            self.run(
                c.RegisterPartner(
                    partner_id=p.partner_id,
                    name=p.name,
                    kind=p.kind,
                    ods_code=p.ods_code,
                    ons_code=p.ons_code,
                ),
                ADMIN,
            )
        self.run(
            c.EstablishPool(
                pool_id=ICES,
                name="Integrated Community Equipment Service (ICES)",
                kind="section_75",
                host_partner_id=HOST,
                members=ICES_MEMBERS,
            ),
            ADMIN,
        )
        self.run(
            c.EstablishPool(
                pool_id=BCF,
                name="Mid-Nottinghamshire Better Care Fund",
                kind="bcf",
                host_partner_id=HOST,
                members=BCF_MEMBERS[:2],
                hwb_area=BCF_HWB,
            ),
            ADMIN,
        )
        # the district council joined once the DFG was pooled with the county's money
        self.run(c.JoinPool(pool_id=BCF, partner_id="mansfield-dc"), ADMIN)
        self.run(
            c.EstablishPool(
                pool_id=ALLIANCE,
                name="Mid-Nottinghamshire Better Together Alliance",
                kind="alliance",
                host_partner_id=HOST,
                members=ALLIANCE_MEMBERS,
            ),
            ADMIN,
        )
        self._agree_plans(YEARS[0])
        self.run(
            c.RecordOpeningBalance(
                pool_id=ICES,
                year=YEARS[0].label,
                amount=ICES_OPENING_BALANCE,
                note="Balance brought forward from the 2024-25 ICES pooled fund memorandum "
                "account (spreadsheet, agreed at the partnership board)",
            ),
            ADMIN,
        )

    def _agree_plans(self, fy: FinancialYear) -> None:
        self.run(c.AgreePlan(pool_id=ICES, year=fy.label, plan=ices_plan(fy)), ADMIN)
        self.run(c.AgreePlan(pool_id=BCF, year=fy.label, plan=bcf_plan(fy)), ADMIN)
        self.run(c.AgreePlan(pool_id=ALLIANCE, year=fy.label, plan=alliance_plan(fy)), ADMIN)

    def _populations(self, fy: FinancialYear) -> None:
        if fy.start > self.today:
            return
        cohorts = [k for k, _ in COHORT_WEIGHTS]
        for loc, counts in populations(fy).items():
            for cohort, count in zip(cohorts, counts, strict=True):
                self.run(
                    c.RecordPopulation(
                        pool_id=ALLIANCE,
                        unit_id=loc,
                        cohort=cohort,
                        count=count,
                        effective_date=fy.start,
                    ),
                    officer(HOST),
                )

"""What the demo loader posts at each quarter's end: the metrics, the rapid-response
risk/reward result, the home-care outcomes and the payment they release, the close
of the quarter, and one late invoice posted as a prior-period adjustment."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from ledger.demo.alliance import (
    ALLIANCE_METRICS,
    BED_DAY_COST,
    BED_DAYS_SAVED,
    HOME_CARE_RATE,
    LOCALITIES,
    OUTCOMES,
    home_care_hours,
    service_id,
)
from ledger.demo.amounts import _p
from ledger.demo.bcf import BCF_METRICS
from ledger.demo.partnership import ADMIN, ALLIANCE, BCF, HOST, ICES, YEARS, officer
from ledger.demo.return_parts import _ReturnParts
from ledger.domain import commands as c
from ledger.domain.calc.outcomes import outcome_payment
from ledger.domain.events import PartnerAmount
from ledger.domain.periods import Quarter


class _QuarterEnds(_ReturnParts):
    """Each quarter's close-out, for all three pools."""

    def _quarter_index(self, q: Quarter) -> int:
        return (q.year.start_year - YEARS[0].start_year) * 4 + q.number - 1

    def _quarter_end(self, q: Quarter) -> None:
        i = self._quarter_index(q)
        for metric, values in BCF_METRICS.items():
            target, actual = values[i % len(values)]
            self.run(
                c.RecordMetric(
                    pool_id=BCF, metric_id=metric, period=q.label,
                    target=Decimal(target), actual=Decimal(actual),
                ),
                officer(HOST),
            )  # fmt: skip
        for metric, values in ALLIANCE_METRICS.items():
            target, actual = values[i % len(values)]
            self.run(
                c.RecordMetric(
                    pool_id=ALLIANCE, metric_id=metric, period=q.label,
                    target=Decimal(target), actual=Decimal(actual),
                ),
                officer(HOST),
            )  # fmt: skip
        self._return_parts(q, i)
        # rapid response: the council's costs against the ICB's bed days saved
        saved = BED_DAYS_SAVED[i % len(BED_DAYS_SAVED)] * BED_DAY_COST
        self.run(
            c.RecordRiskRewardResult(
                pool_id=ALLIANCE,
                scheme_id="rapid-response",
                period=q.label,
                costs=(PartnerAmount(partner_id="ncc", amount=self.rapid_spend.get(q.label, 0)),),
                savings=(PartnerAmount(partner_id="nn-icb", amount=saved),),
            ),
            officer(HOST),
        )
        # home care outcomes, assessed a fortnight after the quarter; the met outcomes'
        # 5% is then paid
        assessed = q.end + timedelta(days=14)
        if assessed > self.today:
            return
        hours = home_care_hours(q.year)
        released = 0
        for loc in LOCALITIES:
            met = [o for o in OUTCOMES if self.rng.random() < 0.75]
            for outcome in OUTCOMES:
                self.run(
                    c.AssessOutcome(
                        pool_id=ALLIANCE,
                        service_id=service_id(loc, q),
                        outcome_id=outcome,
                        period=q.label,
                        met=outcome in met,
                        assessed_on=assessed,
                    ),
                    officer(HOST),
                )
            released += outcome_payment(
                hours[loc], HOME_CARE_RATE, Decimal(95), OUTCOMES, met
            ).released
        if released:  # accrued to the quarter it pays for, which is still open
            self._spend(
                ALLIANCE, "home-care", released, q.end,
                f"MEARS-HC-OUTCOMES-{q.label} (released on assessment {assessed.isoformat()})",
            )  # fmt: skip

    def _close(self, q: Quarter) -> None:
        if not self._closable(q):
            return
        for pool in (ICES, BCF, ALLIANCE):
            done = self.closed.setdefault(pool, [])
            if q.label in done:
                continue
            self.run(c.ClosePeriod(pool_id=pool, quarter=q.label), ADMIN)
            done.append(q.label)

    def _prior_period_adjustment(self) -> None:
        """A provider's invoice for a closed quarter arrived late: posted as a
        prior-period adjustment, so the next BCF return lists it."""
        closed = self.closed.get(BCF, [])
        if not closed:
            return
        quarter = closed[-1]
        target = next(x for fy in YEARS for x in fy.quarters if x.label == quarter)
        self.run(
            c.RecordExpenditure(
                pool_id=BCF,
                scheme_id="discharge",
                amount=_p("23418.60"),
                effective_date=target.end - timedelta(days=4),
                reference=f"INV-BCF-DISCHARGE-LATE-{quarter} (received after the quarter closed)",
                prior_period_adjustment=True,
            ),
            officer(HOST),
        )

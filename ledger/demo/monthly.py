"""What the demo loader posts each month: the partners' contributions, the schemes'
spending, and the month's one-off events (a s.256 transfer, a credit note, a refund,
forecasts)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

from ledger.demo.alliance import ALLIANCE_CONTRIBUTIONS, HOME_CARE_RATE, OUTCOMES, home_care_hours
from ledger.demo.amounts import _even, _f, _monthly_share, _p, _scaled_pounds
from ledger.demo.bcf import BCF_SCHEMES, bcf_contributions, bcf_planned
from ledger.demo.ices import ICES_SCHEMES, ices_contributions
from ledger.demo.partnership import ALLIANCE, BCF, HOST, ICES, YEARS, officer
from ledger.demo.posting import _Poster
from ledger.domain import commands as c
from ledger.domain.calc.outcomes import outcome_payment
from ledger.domain.events import Party
from ledger.domain.periods import FinancialYear, Month


def _on(month: Month, day: int) -> date:
    return min(month.start + timedelta(days=day - 1), month.end)


class _MonthlyPostings(_Poster):
    """Each month's postings, for all three pools."""

    def _contributions(self, month: Month) -> None:
        fy, n = month.year, month.number
        tag = f"{fy.start_year % 100:02d}{n:02d}"
        when = _on(month, 8)
        for pid, annual in ices_contributions(fy).items():
            amount = _monthly_share(annual, n)
            self._contribution(ICES, pid, "contribution", amount, when, f"BACS ICES-{pid}-{tag}")
            if (fy, n, pid) == (YEARS[0], 10, "nottm-city"):
                # the city's January instalment was paid twice; the pool pays it back
                dup = self._contribution(
                    ICES, pid, "contribution", amount, _on(month, 9),
                    f"BACS ICES-{pid}-{tag} (second payment)",
                )  # fmt: skip
                self._mark("ices-duplicate-payment", dup)
        for (pid, stream), annual in bcf_contributions(fy).items():
            if stream == "dfg":  # the DFG is passed on in two instalments
                if n in (2, 7):
                    self._contribution(
                        BCF, pid, stream, _even(annual, 2)[0 if n == 2 else 1],
                        _on(month, 12), f"DFG capital grant {fy.label} instalment {n // 5 + 1}",
                    )  # fmt: skip
            elif stream in ("additional_icb",) or pid == "mansfield-dc":  # quarterly
                if n % 3 == 1:
                    self._contribution(
                        BCF, pid, stream, _even(annual, 4)[n // 3], _on(month, 15),
                        f"{pid.upper()} BCF {stream} {fy.label} Q{n // 3 + 1}",
                    )  # fmt: skip
            else:
                self._contribution(
                    BCF, pid, stream, _monthly_share(annual, n), when,
                    f"{pid.upper()} BCF {stream} {tag}",
                )  # fmt: skip
        for pid, annual in ALLIANCE_CONTRIBUTIONS[fy.start_year].items():
            self._contribution(
                ALLIANCE, pid, "contribution", _monthly_share(annual, n), _on(month, 10),
                f"BACS ALLIANCE-{pid}-{tag}",
            )  # fmt: skip

    def _spending(self, month: Month) -> None:
        fy, n, y = month.year, month.number, month.year.start_year
        tag = f"{y % 100:02d}{n:02d}"
        when = _on(month, 26)
        for sid, _, _ in ICES_SCHEMES:
            amount = self.spend[(ICES, y, sid)][n - 1]
            ref = f"INV-ICES-{sid[:5].upper()}-{tag}"
            out = self._spend(ICES, sid, amount, when, ref)
            if sid == "equipment-purchase":
                self._mark(f"ices-equipment-{fy.label}-{n}", out)
            if (fy, n, sid) == (YEARS[0], 5, "equipment-purchase"):
                # the accounts payable interface sent August's invoice twice
                duplicate = self._mark(
                    "ices-duplicate-invoice", self._spend(ICES, sid, amount, when, ref)
                )
                if duplicate is not None:
                    self.run(
                        c.ReverseEvent(
                            event_id=duplicate,
                            reason=f"Duplicate of invoice {ref}: posted twice by the AP interface",
                        ),
                        officer(HOST),
                    )
        for s in BCF_SCHEMES:
            amount = self.spend[(BCF, y, s.id)][n - 1]
            self._spend(BCF, s.id, amount, when, f"BCF-{s.id.upper()}-{tag}")
        hours = home_care_hours(fy)
        base = sum(
            outcome_payment(h, HOME_CARE_RATE, Decimal(95), OUTCOMES, ()).base
            for h in hours.values()
        )
        self._spend(
            ALLIANCE, "home-care", _even(base, 3)[(n - 1) % 3], _on(month, 28),
            f"MEARS-HC-{tag} (95% of commissioned hours)",
        )  # fmt: skip
        for sid in ("community-health", "rapid-response"):
            amount = self.spend[(ALLIANCE, y, sid)][n - 1]
            self._spend(ALLIANCE, sid, amount, when, f"ALLIANCE-{sid.upper()}-{tag}")
            if sid == "rapid-response" and when <= self.today:
                q = month.quarter.label
                self.rapid_spend[q] = self.rapid_spend.get(q, 0) + amount

    def _specials(self, month: Month) -> None:
        fy, n = month.year, month.number
        first = fy == YEARS[0]
        if first and n == 7:  # s.256: the ICB funds the council's discharge pathways
            self._when(
                _on(month, 1),
                lambda d: self.run(
                    c.PostTransfer(
                        pool_id=BCF,
                        from_party=Party(partner_id="nn-icb"),
                        to_party=Party(partner_id="ncc"),
                        amount=_p(900_000),
                        purpose="s256",
                        effective_date=d,
                        reference="s.256 agreement 2025/26: reablement and pathways out of "
                        "hospital (STARR)",
                    ),
                    officer("nn-icb"),
                ),
            )
        if first and n == 9:  # a specialist bed returned unused: the supplier credits it
            target = self.marks.get(f"ices-equipment-{fy.label}-8")
            self._when(
                _on(month, 3),
                lambda d: self.run(
                    c.CreditExpenditure(
                        pool_id=ICES,
                        scheme_id="equipment-purchase",
                        amount=_p("18640.00"),
                        effective_date=d,
                        reference="CN-ICES-1187: bariatric bed returned unused",
                        credits_event_id=target,
                    ),
                    officer(HOST),
                ),
            )
        if first and n == 10:  # forecast at the end of Q3
            self._forecast(ICES, fy, _p(5_571_000), None, date(2025, 12, 31))
        if first and n == 11 and "ices-duplicate-payment" in self.marks:
            amount = _monthly_share(ices_contributions(fy)["nottm-city"], 10)
            self._when(
                _on(month, 10),
                lambda d: self.run(
                    c.RefundContribution(
                        pool_id=ICES,
                        partner_id="nottm-city",
                        funding_stream="contribution",
                        amount=amount,
                        effective_date=d,
                        reference="Refund of January instalment paid twice",
                        refunds_event_id=self.marks["ices-duplicate-payment"],
                    ),
                    officer(HOST),
                ),
            )
        if not first and n == 7:  # Q2 forecasts: the whole pool, and the pressured schemes
            as_of = date(fy.start_year, 9, 30)
            self._forecast(ICES, fy, _p(5_748_000), None, as_of)
            planned = bcf_planned(fy)
            for sid, factor in (("home-care", "1.055"), ("reablement", "1.04"), ("ucr", "0.98")):
                amount = _scaled_pounds(planned[sid], _f(factor))
                self._forecast(BCF, fy, amount, sid, as_of)

    def _when(self, d: date, action: Callable[[date], object]) -> None:
        if d <= self.today:
            action(d)

    def _forecast(
        self, pool: str, fy: FinancialYear, amount: int, scheme: str | None, as_of: date
    ) -> None:
        if as_of > self.today:
            return
        self.run(
            c.RecordForecast(
                pool_id=pool, year=fy.label, amount=amount, scheme_id=scheme, as_of_date=as_of
            ),
            officer(HOST),
        )

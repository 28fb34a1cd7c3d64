"""What the BCF pool's finance lead records for each quarter's return beyond the money:
the national-condition assurances, an assessment of each metric with its narrative,
each scheme's outputs, the contacts, the Health and Wellbeing Board's sign-off and, at
year end, the adult social care fee rates, the income commentary and the year-end
feedback. Wording follows the Nottinghamshire Health
and Wellbeing Board's BCF reports (/work/shared/seeds)."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from ledger.clock import LONDON, london_today
from ledger.demo.bcf import BCF_METRICS
from ledger.demo.partnership import ADMIN, BCF, HOST, officer
from ledger.demo.posting import _Poster
from ledger.domain import commands as c
from ledger.domain.calc.metrics import metric_status
from ledger.domain.periods import Quarter
from ledger.store.reads import read_head

# scheme -> (area of spend, unit, annual planned output, delivered per mille of plan,
#            sub-type, new scheme)
ACTIVITY: dict[str, tuple[str, str, int, int, str, bool]] = {
    "carers": ("Social Care", "Number of carers", 2400, 1012, "Respite services", False),
    "reablement": (
        "Social Care",
        "Hours of care",
        182000,
        968,
        "Reablement at home (to support discharge)",
        False,
    ),
    "ucr": ("Community Health", "Referrals", 9600, 1041, "Urgent community response", False),
    "licts": (
        "Community Health",
        "Number of beneficiaries",
        5200,
        987,
        "Care navigation and planning",
        False,
    ),
    "assessment-beds": (
        "Social Care",
        "Beds",
        44,
        1000,
        "Step down (discharge to assess pathway 2)",
        False,
    ),
    "community-health": (
        "Community Health",
        "Contacts",
        310000,
        994,
        "Community nursing and therapy",
        False,
    ),
    "home-care": ("Social Care", "Hours of care", 540000, 1023, "Domiciliary care packages", False),
    "discharge": ("Social Care", "Packages", 3100, 1056, "Discharge to assess (pathway 1)", False),
    "care-act": (
        "Social Care",
        "Assessments completed",
        4200,
        951,
        "Carers' assessments and advocacy",
        False,
    ),
    "dfg-adaptations": (
        "Social Care",
        "Adaptations delivered",
        380,
        902,
        "Adaptations, including statutory DFG grants",
        False,
    ),
    "assistive-tech": ("Social Care", "Number of beneficiaries", 6100, 1008, "Telecare", False),
    "ed-avoidance": ("Acute", "Contacts", 7300, 962, "Emergency department in-reach", True),
}

NARRATIVE: dict[str, tuple[str, str, str]] = {  # metric -> challenges, achievements, support
    "emergency-admissions-65-plus": (
        "Admissions rose with respiratory illness in care homes; the frailty same-day "
        "emergency care unit at King's Mill could not open at weekends.",
        "Urgent community response now takes 999 referrals from ambulance crews, and "
        "two-hour response times are met for over 80% of referrals.",
        "None at present; the ICB is reviewing weekend frailty cover.",
    ),
    "average-discharge-delay": (
        "Delays for people needing a care home placement with nursing remain the longest, "
        "particularly for people with dementia.",
        "The integrated discharge hub works seven days a week and the transfer of care "
        "forms are now completed electronically.",
        "Support from the regional discharge team on the use of the Discharge Fund.",
    ),
    "discharged-on-discharge-ready-date": (
        "Home care capacity in Mansfield and Ashfield was short in the summer, holding "
        "some pathway 1 discharges.",
        "The Short Term Independence Service took more people direct from the wards "
        "and the trusted assessor model covers every ward at Sherwood Forest Hospitals.",
        "None.",
    ),
    "residential-admissions": (
        "Some people were admitted to long-term care from assessment beds when their "
        "home could not be adapted in time.",
        "Assistive technology and reablement kept more older people at home; "
        "admissions are within the ambition for the year to date.",
        "None.",
    ),
}


# the end-of-year return's commentary on income against plan (the demo's income is
# received as planned) and its answers to the year-end feedback statements
INCOME_COMMENTARY = (
    "All income was received as planned: the NHS minimum contribution from the ICB in "
    "monthly instalments, the Disabled Facilities Grant passed on in two instalments "
    "(May and October), and Mansfield District Council's and the ICB's additional "
    "contributions quarterly. There is no variance to explain."
)
YEAR_END_FEEDBACK: dict[str, tuple[str, str]] = {
    "1": (
        "Agree",
        "The integrated discharge hub is staffed by the county council, Sherwood Forest "
        "Hospitals and the ICB together, and the Better Together Alliance board now "
        "oversees the community schemes jointly.",
    ),
    "2": (
        "Neither Agree nor Disagree",
        "Eleven of the twelve schemes ran as planned; the emergency department avoidance "
        "scheme, new this year, started in June rather than April while its staff were "
        "recruited.",
    ),
    "3": (
        "Agree",
        "More people went home on their discharge-ready date and admissions to "
        "residential care stayed within the ambition; partners now plan home care and "
        "reablement capacity together.",
    ),
}

# Days after a quarter's end its return is filed: the 28th day, two days before the
# usual due date (30 days after), once the HWB's chair has signed it off on the 25th;
# except 2025-26 Q3, filed five days late (the server was down over the due date for
# the January upgrade, and the scheduler's catch-up filed it on its return).
FILED_AFTER_DAYS = 28
FILED_LATE: dict[str, int] = {"2025-26-Q3": 34}


class _ReturnParts(_Poster):
    """Each quarter's return parts for the BCF pool, recorded after the quarter ends."""

    def _return_parts(self, q: Quarter, index: int) -> None:
        host = officer(HOST)
        self.marks[f"return-parts:{q.label}"] = q.label  # its sign-off may follow
        for cid in self._conditions(q):
            self.run(
                c.AssureNationalCondition(
                    pool_id=BCF, quarter=q.label, condition_id=cid, answer=True
                ),
                host,
            )
        for metric, values in BCF_METRICS.items():
            target, actual = (Decimal(v) for v in values[index % len(values)])
            higher_is_better = metric == "discharged-on-discharge-ready-date"
            on_track = metric_status(target, actual, not higher_is_better) != "red"
            challenges, achievements, support = NARRATIVE[metric]
            self.run(
                c.AssessMetric(
                    pool_id=BCF,
                    quarter=q.label,
                    metric_id=metric,
                    assessment="On track to meet goal" if on_track else "Not on track to meet goal",
                    challenges=challenges,
                    achievements=achievements,
                    support_needs=support,
                ),
                host,
            )
        for scheme, (area, unit, annual, per_mille, sub_type, new) in ACTIVITY.items():
            planned = Decimal(annual * q.number) / 4
            delivered = (planned * per_mille / 1000).quantize(Decimal(1))
            self.run(
                c.RecordSchemeActivity(
                    pool_id=BCF,
                    quarter=q.label,
                    scheme_id=scheme,
                    planned_output=planned.quantize(Decimal(1)),
                    output_delivered=delivered,
                    unit=unit,
                    scheme_sub_type=sub_type,
                    area_of_spend=area,
                    new_scheme=new,
                ),
                host,
            )
        self.run(
            c.RecordReturnContacts(
                pool_id=BCF,
                quarter=q.label,
                completed_by="Sarah Whitworth",
                role="Better Care Fund Programme Manager, Nottinghamshire County Council",
                email="bcf.programme@nottscc.gov.uk",
                telephone="0115 977 3577",
            ),
            host,
        )
        if q.number == 4:
            self.run(
                c.RecordFeeRates(
                    pool_id=BCF,
                    year=q.year.label,
                    home_care_per_hour_before=2312,
                    home_care_per_hour_after=2418,
                    residential_per_week_before=78400,
                    residential_per_week_after=81900,
                    nursing_per_week_before=98700,
                    nursing_per_week_after=103200,
                ),
                host,
            )
            self.run(
                c.ExplainIncomeVariance(
                    pool_id=BCF, year=q.year.label, commentary=INCOME_COMMENTARY
                ),
                host,
            )
            for sid, (answer, comment) in YEAR_END_FEEDBACK.items():
                self.run(
                    c.GiveYearEndFeedback(
                        pool_id=BCF,
                        year=q.year.label,
                        statement_id=sid,
                        answer=answer,
                        comment=comment,
                    ),
                    host,
                )

    def _sign_off(self, q: Quarter) -> None:
        """The Board's chair signs the return off in the month after the quarter (25
        days after it ends, or the latest the loader has reached); once per quarter."""
        parts = f"return-parts:{q.label}" in self.marks
        if not parts or q.end >= self.today or q.label in self.signed:
            return
        signed = min(q.end + timedelta(days=25), self.today, london_today(self.ledger.clock))
        if signed <= q.end:
            return
        self.signed.add(q.label)
        self.run(
            c.SignOffReturn(
                pool_id=BCF,
                quarter=q.label,
                signed_off_by="Councillor Scott Carlton",
                role="Chair, Nottinghamshire Health and Wellbeing Board",
                signed_off_on=signed,
            ),
            ADMIN,
        )

    def _conditions(self, q: Quarter) -> tuple[str, ...]:
        ref = self.ledger.reference.for_year(q.year.label)
        lists = ref.bcf_return if ref is not None else None
        return tuple(x.id for x in lists.national_conditions) if lists else ()

    def _file(self, q: Quarter) -> None:
        """File the BCF return of ``q`` on its filing day (recorded then), once its
        quarter has been signed off; nothing filed after ``today``."""
        if self.filer is None or q.label in self.filed or q.label not in self.signed:
            return
        day = q.end + timedelta(days=FILED_LATE.get(q.label, FILED_AFTER_DAYS))
        if day > self.today:
            return
        story = getattr(self.ledger, "story", None)  # the as-it-happened clock, if any
        if story is not None:
            story.move_to(datetime(day.year, day.month, day.day, 10, tzinfo=LONDON))
        before = self._head()
        self.filer(self.ledger, BCF, q.label, day)
        self.filed.append(q.label)
        after = self._head()  # the filing (and the quarter's close): counted as the loader's
        self.written += after - before
        self.by_pool[BCF] = self.by_pool.get(BCF, 0) + after - before
        self.last_position = after

    def _head(self) -> int:
        with self.ledger.engine.connect() as conn:
            return read_head(conn).position

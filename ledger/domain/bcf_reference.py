"""The national template's own lists, by year: what a Health and Wellbeing Board
answers beyond the money (national conditions, metric assessments, spend and activity,
commissioners, ring-fence floors) and the sheets those parts go on.

Held in the year's reference data (``ReferenceData.bcf_return``) so the version used is
recorded in the ledger with the rest of the year's lists. Entries our public sources do
not confirm carry ``verified: false`` (see docs/DECISIONS.md, "BCF return parts").

Pure: no file I/O.
"""

from __future__ import annotations

import re

from pydantic import model_validator

from ledger.domain.model import Frozen

CONDITION_ID = re.compile(r"^[0-9]{1,2}$")

# The template parts this ledger fills beyond the money sheets, one sheet each.
PART_SHEET_KEYS: tuple[str, ...] = (
    "checklist",
    "national_conditions",
    "metric_assessments",
    "spend_and_activity",
    "ring_fence",
    "fee_rates",
)
# Part sheets added with the end-of-year parts: optional, so lists recorded before them
# still load (their end-of-year return then lays these sheets out with our defaults).
OPTIONAL_PART_SHEET_KEYS: tuple[str, ...] = ("income_actual", "year_end_feedback")
# Parts that the end-of-year (Q4) return alone carries.
YEAR_END_PARTS: frozenset[str] = frozenset({"fee_rates", *OPTIONAL_PART_SHEET_KEYS})


class NationalCondition(Frozen):
    """One national condition, asked as an assurance statement (Yes/No; an
    explanation where the answer is No)."""

    id: str
    title: str
    statement: str
    verified: bool = True

    @model_validator(mode="after")
    def _check(self) -> NationalCondition:
        if not CONDITION_ID.match(self.id):
            raise ValueError(f"national condition id '{self.id}' must be a number such as 1")
        if not self.title.strip() or not self.statement.strip():
            raise ValueError(f"national condition {self.id} needs a title and a statement")
        return self


class YearEndStatement(Frozen):
    """One of the end-of-year feedback statements the HWB answers on the agreement
    scale (``BcfReturnReference.feedback_answers``) with a comment."""

    id: str
    statement: str
    verified: bool = True

    @model_validator(mode="after")
    def _check(self) -> YearEndStatement:
        if not CONDITION_ID.match(self.id):
            raise ValueError(f"year-end statement id '{self.id}' must be a number such as 1")
        if not self.statement.strip():
            raise ValueError(f"year-end statement {self.id} needs its wording")
        return self


class CommissionerTerm(Frozen):
    """How a plan's commissioner (``la``, ``icb``, ``joint``) is named in the template."""

    commissioner: str
    term: str


class RingFenceFloor(Frozen):
    """The least a HWB area's NHS minimum contribution must spend on adult social care
    and on NHS-commissioned out-of-hospital services in the year (pence)."""

    hwb_ons_code: str
    hwb_name: str
    adult_social_care: int
    out_of_hospital: int
    verified: bool = False
    source: str = ""

    @model_validator(mode="after")
    def _check(self) -> RingFenceFloor:
        if self.adult_social_care < 0 or self.out_of_hospital < 0:
            raise ValueError(f"ring-fence floors of {self.hwb_ons_code} must not be negative")
        return self


class PartSheet(Frozen):
    """A part's sheet: its key, tab title (31 characters at most) and column titles."""

    key: str
    title: str
    columns: tuple[str, ...]

    @model_validator(mode="after")
    def _check(self) -> PartSheet:
        if not self.title.strip() or len(self.title) > 31:
            raise ValueError(f"sheet '{self.key}' needs a title of 1 to 31 characters")
        if len(set(self.columns)) != len(self.columns):
            raise ValueError(f"duplicate columns in sheet '{self.key}'")
        return self


class BcfReturnReference(Frozen):
    national_conditions: tuple[NationalCondition, ...]
    metric_assessments: tuple[str, ...]
    output_units: tuple[str, ...]
    areas_of_spend: tuple[str, ...]
    commissioners: tuple[CommissionerTerm, ...]
    ring_fence_floors: tuple[RingFenceFloor, ...] = ()
    part_sheets: tuple[PartSheet, ...]
    sheet_order: tuple[str, ...]  # every sheet key of the workbook, in template order
    notes: str = ""
    # the end-of-year feedback statements and the answers allowed (absent from lists
    # recorded before them, which then ask none)
    year_end_statements: tuple[YearEndStatement, ...] = ()
    feedback_answers: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _check(self) -> BcfReturnReference:
        for what, items in (
            ("national condition ids", [c.id for c in self.national_conditions]),
            ("metric assessments", list(self.metric_assessments)),
            ("output units", list(self.output_units)),
            ("areas of spend", list(self.areas_of_spend)),
            ("commissioners", [c.commissioner for c in self.commissioners]),
            ("ring-fence areas", [f.hwb_ons_code for f in self.ring_fence_floors]),
            ("part sheets", [s.key for s in self.part_sheets]),
            ("sheet order", list(self.sheet_order)),
            ("year-end statement ids", [x.id for x in self.year_end_statements]),
            ("feedback answers", list(self.feedback_answers)),
        ):
            if len(set(items)) != len(items):
                raise ValueError(f"duplicate {what}")
        keys = {s.key for s in self.part_sheets}
        if missing := [k for k in PART_SHEET_KEYS if k not in keys]:
            raise ValueError(f"bcf_return lacks part sheets: {', '.join(missing)}")
        if self.year_end_statements and not self.feedback_answers:
            raise ValueError("year-end statements need the feedback answers allowed")
        if unknown := sorted(keys - {*PART_SHEET_KEYS, *OPTIONAL_PART_SHEET_KEYS}):
            raise ValueError(f"bcf_return has unknown part sheets: {', '.join(unknown)}")
        if self.sheet_order[:1] != ("checklist",):
            raise ValueError("the checklist sheet comes first")
        return self

    def condition(self, condition_id: str) -> NationalCondition | None:
        return next((c for c in self.national_conditions if c.id == condition_id), None)

    def statement(self, statement_id: str) -> YearEndStatement | None:
        return next((x for x in self.year_end_statements if x.id == statement_id), None)

    def commissioner_term(self, commissioner: str) -> str:
        found = next((c.term for c in self.commissioners if c.commissioner == commissioner), None)
        return found if found is not None else commissioner

    def floor(self, ons_code: str) -> RingFenceFloor | None:
        return next((f for f in self.ring_fence_floors if f.hwb_ons_code == ons_code), None)

    def part_sheet(self, key: str) -> PartSheet | None:
        return next((s for s in self.part_sheets if s.key == key), None)

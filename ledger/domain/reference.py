"""Reference data keyed by financial year: funding streams, scheme types, provider
types, metric definitions, the reporting calendar and the layout of the quarterly BCF
return workbook.

These lists change almost every year (the iBCF became the Local Authority Better Care
Grant in 2025-26), so they are data, not enums. A list is identified by its
``content_hash`` (SHA-256 of its canonical JSON); the ledger records that hash (and
the canonical JSON) the first time it uses a list, so a later change to the shipped
files never changes a past answer or a filed return.

Pure: no file I/O here. Loading the shipped files lives in ``ledger.refdata``.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date, timedelta

from pydantic import model_validator

from ledger.domain.bcf_reference import PART_SHEET_KEYS, BcfReturnReference
from ledger.domain.model import Frozen
from ledger.domain.periods import Quarter, parse_quarter
from ledger.domain.plan import MetricDefinition

STREAM_ID = re.compile(r"^[a-z0-9]+(?:_[a-z0-9]+)*$")
METRIC_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SHEET_KEY = re.compile(r"^[a-z0-9]+(?:_[a-z0-9]+)*$")
_YEAR = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-(\d{2})-Q([1-4])$")

# The parts of the quarterly BCF return, one sheet each (domain spec 6.7). A layout
# must name each of them exactly once: the generator fills these and no others.
RETURN_SHEET_KEYS: tuple[str, ...] = (
    "cover",
    "income",
    "expenditure",
    "expenditure_by_scheme_type",
    "expenditure_by_commissioner",
    "metrics",
    "balances",
    "prior_period_adjustments",
)


def _duplicates(items: list[str]) -> list[str]:
    seen: set[str] = set()
    dups: list[str] = []
    for item in items:
        if item in seen and item not in dups:
            dups.append(item)
        seen.add(item)
    return dups


def _check_unique(items: list[str], what: str) -> None:
    if dups := _duplicates(items):
        raise ValueError(f"duplicate {what}: {', '.join(dups)}")


def _check_quarter_label(label: str) -> None:
    m = _QUARTER.match(label)
    if not m or int(m.group(1)) < 1900 or (int(m.group(1)) + 1) % 100 != int(m.group(2)):
        raise ValueError(f"'{label}' is not a quarter such as 2025-26-Q1")


class FundingStream(Frozen):
    id: str
    name: str

    @model_validator(mode="after")
    def _check(self) -> FundingStream:
        if not STREAM_ID.match(self.id):
            raise ValueError(f"funding stream id '{self.id}' must be lower case words joined by _")
        if not self.name.strip():
            raise ValueError(f"funding stream '{self.id}' needs a name")
        return self


class QuarterDue(Frozen):
    """An explicit due date for one quarter's return (a Europe/London date)."""

    quarter: str  # a quarter label, e.g. "2025-26-Q1"
    due: date

    @model_validator(mode="after")
    def _check(self) -> QuarterDue:
        _check_quarter_label(self.quarter)
        end = parse_quarter(self.quarter).end
        if self.due <= end:
            raise ValueError(
                f"{self.quarter} is due {self.due.isoformat()}, "
                f"which is not after the quarter ends ({end.isoformat()})"
            )
        return self


class ReportingCalendar(Frozen):
    """When each quarter's BCF return is due: an explicit date where one is listed,
    else the quarter's last day plus ``due_days_after_quarter_end``."""

    due_days_after_quarter_end: int = 30
    due_dates: tuple[QuarterDue, ...] = ()

    @model_validator(mode="after")
    def _check(self) -> ReportingCalendar:
        if self.due_days_after_quarter_end < 1:
            raise ValueError("due_days_after_quarter_end must be at least 1")
        _check_unique([d.quarter for d in self.due_dates], "due date quarters")
        return self

    def due_date(self, quarter: str | Quarter) -> date:
        """The due date of ``quarter`` (a label such as "2025-26-Q1", or a Quarter).

        An unparseable label raises ``ValidationFailed``."""
        q = quarter if isinstance(quarter, Quarter) else parse_quarter(quarter)
        for entry in self.due_dates:
            if entry.quarter == q.label:
                return entry.due
        return q.end + timedelta(days=self.due_days_after_quarter_end)


class ReturnSheet(Frozen):
    """One sheet of the return workbook: its key (the part it holds), its tab title
    and its column titles in the words of the national template."""

    key: str
    title: str
    columns: tuple[str, ...]

    @model_validator(mode="after")
    def _check(self) -> ReturnSheet:
        if not SHEET_KEY.match(self.key):
            raise ValueError(f"sheet key '{self.key}' must be lower case words joined by _")
        if not self.title.strip():
            raise ValueError(f"sheet '{self.key}' needs a title")
        if len(self.title) > 31:  # Excel's limit on a tab name
            raise ValueError(f"sheet title '{self.title}' is longer than 31 characters")
        if not self.columns:
            raise ValueError(f"sheet '{self.key}' needs at least one column")
        _check_unique(list(self.columns), f"columns in sheet '{self.key}'")
        return self


class ReturnLayout(Frozen):
    template_name: str
    sheets: tuple[ReturnSheet, ...]

    @model_validator(mode="after")
    def _check(self) -> ReturnLayout:
        keys = [s.key for s in self.sheets]
        _check_unique(keys, "sheet keys")
        _check_unique([s.title for s in self.sheets], "sheet titles")
        missing = [k for k in RETURN_SHEET_KEYS if k not in keys]
        unknown = [k for k in keys if k not in RETURN_SHEET_KEYS]
        if missing:
            raise ValueError(f"return layout lacks sheets: {', '.join(missing)}")
        if unknown:
            raise ValueError(f"return layout has unknown sheets: {', '.join(unknown)}")
        return self

    def sheet(self, key: str) -> ReturnSheet | None:
        return next((s for s in self.sheets if s.key == key), None)


class ReferenceData(Frozen):
    """The reference lists of one financial year."""

    year: str  # a financial year label, e.g. "2025-26"
    source: str = ""  # where the lists come from (policy framework, template)
    notes: str = ""  # anything assumed, e.g. a year shipped before its guidance
    funding_streams: tuple[FundingStream, ...]
    scheme_types: tuple[str, ...]
    provider_types: tuple[str, ...]
    metrics: tuple[MetricDefinition, ...]
    reporting: ReportingCalendar
    return_layout: ReturnLayout
    # The national template's further parts (conditions, assessments, activity, floors);
    # absent from lists recorded before they were shipped.
    bcf_return: BcfReturnReference | None = None

    @model_validator(mode="after")
    def _check(self) -> ReferenceData:
        m = _YEAR.match(self.year)
        if not m or int(m.group(1)) < 1900 or (int(m.group(1)) + 1) % 100 != int(m.group(2)):
            raise ValueError(f"'{self.year}' is not a financial year such as 2025-26")
        _check_unique([s.id for s in self.funding_streams], "funding stream ids")
        _check_unique([s.name for s in self.funding_streams], "funding stream names")
        _check_unique(list(self.scheme_types), "scheme types")
        _check_unique(list(self.provider_types), "provider types")
        if any(not t.strip() for t in (*self.scheme_types, *self.provider_types)):
            raise ValueError("scheme and provider types must not be blank")
        for metric in self.metrics:
            if not METRIC_ID.match(metric.id):
                raise ValueError(f"metric id '{metric.id}' must be a slug such as ed-attendances")
        _check_unique([x.id for x in self.metrics], "metric ids")
        if self.bcf_return is not None:
            known = {*RETURN_SHEET_KEYS, *PART_SHEET_KEYS}
            known |= {s.key for s in self.bcf_return.part_sheets}
            if set(self.bcf_return.sheet_order) != known:
                raise ValueError(f"bcf_return.sheet_order must name each of: {', '.join(known)}")
        for entry in self.reporting.due_dates:
            if not entry.quarter.startswith(f"{self.year}-Q"):
                raise ValueError(f"due date for {entry.quarter} is not a quarter of {self.year}")
        return self

    def canonical_json(self) -> str:
        """The canonical JSON the content hash is computed over (and the ledger keeps)."""
        data = self.model_dump(mode="json")
        if data.get("bcf_return") is None:  # lists recorded before it keep their hash
            data.pop("bcf_return", None)
        else:  # and those recorded before the end-of-year parts keep theirs
            for key in ("year_end_statements", "feedback_answers"):
                if not data["bcf_return"].get(key):
                    data["bcf_return"].pop(key, None)
        return json.dumps(
            data,
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
        )

    def content_hash(self) -> str:
        """Hex SHA-256 of the canonical JSON, UTF-8 encoded."""
        return hashlib.sha256(self.canonical_json().encode("utf-8")).hexdigest()

    def stream_ids(self) -> frozenset[str]:
        return frozenset(s.id for s in self.funding_streams)

    def stream(self, stream_id: str) -> FundingStream | None:
        return next((s for s in self.funding_streams if s.id == stream_id), None)

    def metric(self, metric_id: str) -> MetricDefinition | None:
        return next((x for x in self.metrics if x.id == metric_id), None)

    def due_date(self, quarter: str | Quarter) -> date:
        return self.reporting.due_date(quarter)

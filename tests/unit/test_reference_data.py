"""The shipped reference data (ledger/refdata/data/<year>.json) and its model."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from ledger.domain.errors import ValidationFailed
from ledger.domain.periods import parse_quarter
from ledger.domain.plan import MetricDefinition
from ledger.domain.reference import (
    RETURN_SHEET_KEYS,
    FundingStream,
    QuarterDue,
    ReferenceData,
    ReportingCalendar,
)
from ledger.refdata import (
    ReferenceCatalogue,
    available_years,
    catalogue_from_directory,
    default_catalogue,
    load_reference_data,
)

YEARS = ("2024-25", "2025-26", "2026-27")

STREAMS = {
    "2024-25": {"minimum_nhs_contribution", "ibcf", "dfg", "additional_la", "additional_icb"},
    "2025-26": {
        "minimum_nhs_contribution",
        "la_better_care_grant",
        "dfg",
        "additional_la",
        "additional_icb",
    },
    "2026-27": {
        "minimum_nhs_contribution",
        "la_better_care_grant",
        "dfg",
        "additional_la",
        "additional_icb",
    },
}

SCHEME_TYPES = (
    "Assistive Technologies and Equipment",
    "Care Act Implementation Related Duties",
    "Carers Services",
    "Community Based Schemes",
    "DFG Related Schemes",
    "Enablers for Integration",
    "High Impact Change Model for Managing Transfer of Care",
    "Home Care or Domiciliary Care",
    "Housing Related Schemes",
    "Integrated Care Planning and Navigation",
    "Bed based intermediate Care Services",
    "Home-based intermediate care services",
    "Urgent Community Response",
    "Personalised Budgeting and Commissioning",
    "Personalised Care at Home",
    "Prevention / Early Intervention",
    "Residential Placements",
    "Workforce recruitment and retention",
    "Other",
)

PROVIDER_TYPES = (
    "Local Authority",
    "NHS Community Provider",
    "NHS Acute Provider",
    "NHS Mental Health Provider",
    "Private Sector",
    "Charity / Voluntary Sector",
    "Social Enterprise",
    "Other",
)

ALLIANCE_METRICS = {
    "residential-and-nursing-admissions",
    "ed-attendances",
    "emergency-admissions",
    "emergency-bed-days",
}

SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


def _data(year: str) -> ReferenceData:
    data = load_reference_data(year)
    assert data is not None, f"no reference data shipped for {year}"
    return data


def test_available_years_are_the_shipped_ones() -> None:
    assert available_years() == YEARS


@pytest.mark.parametrize("year", YEARS)
def test_each_year_loads_and_is_for_that_year(year: str) -> None:
    data = _data(year)
    assert data.year == year
    assert default_catalogue().for_year(year) == data


def test_unknown_year_is_none() -> None:
    assert load_reference_data("2019-20") is None
    assert load_reference_data("not a year") is None
    assert default_catalogue().for_year("2019-20") is None


@pytest.mark.parametrize("year", YEARS)
def test_stream_ids_exactly(year: str) -> None:
    assert _data(year).stream_ids() == frozenset(STREAMS[year])


def test_stream_names() -> None:
    ibcf = _data("2024-25").stream("ibcf")
    assert ibcf is not None
    assert ibcf.name == "Improved Better Care Fund (iBCF)"
    grant = _data("2025-26").stream("la_better_care_grant")
    assert grant is not None
    assert grant.name == "Local Authority Better Care Grant"
    assert _data("2025-26").stream("ibcf") is None


@pytest.mark.parametrize("year", YEARS)
def test_scheme_and_provider_types_exactly(year: str) -> None:
    data = _data(year)
    assert data.scheme_types == SCHEME_TYPES
    assert len(data.scheme_types) == 19
    assert data.provider_types == PROVIDER_TYPES
    assert len(data.provider_types) == 8


@pytest.mark.parametrize("year", YEARS)
def test_metric_ids_are_unique_slugs_and_include_the_alliance_targets(year: str) -> None:
    ids = [m.id for m in _data(year).metrics]
    assert len(ids) == len(set(ids))
    assert all(SLUG.match(i) for i in ids), ids
    assert set(ids) >= ALLIANCE_METRICS
    for metric_id in ALLIANCE_METRICS:
        metric = _data(year).metric(metric_id)
        assert metric is not None
        assert metric.lower_is_better


def test_bcf_metrics_of_each_year() -> None:
    old = _data("2024-25")
    for metric_id in ("avoidable-admissions", "falls", "residential-admissions"):
        metric = old.metric(metric_id)
        assert metric is not None
        assert metric.lower_is_better
    discharge = old.metric("discharge-to-usual-place-of-residence")
    assert discharge is not None
    assert not discharge.lower_is_better
    assert discharge.unit == "%"

    new = _data("2025-26")
    assert new.metric("falls") is None
    for metric_id in ("emergency-admissions-65-plus", "average-discharge-delay"):
        metric = new.metric(metric_id)
        assert metric is not None
        assert metric.lower_is_better
    assert new.metric("no-such-metric") is None


def test_2026_27_is_2025_26_with_the_year_changed_and_says_so() -> None:
    current, assumed = _data("2025-26"), _data("2026-27")
    assert "assumed" in assumed.notes.lower()
    assert assumed.funding_streams == current.funding_streams
    assert assumed.scheme_types == current.scheme_types
    assert assumed.provider_types == current.provider_types
    assert assumed.metrics == current.metrics
    assert [s.key for s in assumed.return_layout.sheets] == [
        s.key for s in current.return_layout.sheets
    ]


def test_content_hash_is_stable() -> None:
    year = "2025-26"
    first = _data(year)
    load_reference_data.cache_clear()
    second = _data(year)
    assert first is not second
    assert first == second
    assert first.content_hash() == second.content_hash()
    assert re.fullmatch(r"[0-9a-f]{64}", first.content_hash())
    # and it round-trips through the canonical JSON the ledger records
    again = ReferenceData.model_validate_json(first.canonical_json())
    assert again.content_hash() == first.content_hash()


def test_content_hash_differs_between_years() -> None:
    hashes = {_data(year).content_hash() for year in YEARS}
    assert len(hashes) == len(YEARS)


def test_content_hash_changes_when_an_item_changes() -> None:
    data = _data("2025-26")
    renamed = data.model_copy(
        update={
            "funding_streams": (
                *data.funding_streams[:-1],
                FundingStream(id="additional_icb", name="Additional ICB contribution"),
            )
        }
    )
    assert renamed.content_hash() != data.content_hash()
    fewer = data.model_copy(update={"provider_types": data.provider_types[:-1]})
    assert fewer.content_hash() != data.content_hash()
    flipped = data.model_copy(
        update={
            "metrics": (
                MetricDefinition(
                    id=data.metrics[0].id,
                    name=data.metrics[0].name,
                    unit=data.metrics[0].unit,
                    lower_is_better=not data.metrics[0].lower_is_better,
                ),
                *data.metrics[1:],
            )
        }
    )
    assert flipped.content_hash() != data.content_hash()


def test_content_hash_is_sha256_of_canonical_json() -> None:
    import hashlib

    data = _data("2024-25")
    canonical = json.dumps(
        data.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    assert data.canonical_json() == canonical
    assert data.content_hash() == hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    assert "£" in canonical  # kept as UTF-8, not escaped


@pytest.mark.parametrize(
    ("quarter", "due"),
    [
        ("2025-26-Q1", date(2025, 7, 30)),
        ("2025-26-Q2", date(2025, 10, 30)),
        ("2025-26-Q3", date(2026, 1, 30)),
        ("2025-26-Q4", date(2026, 5, 22)),
    ],
)
def test_due_dates_2025_26_as_shipped(quarter: str, due: date) -> None:
    data = _data("2025-26")
    assert data.reporting.due_days_after_quarter_end == 30
    assert data.reporting.due_date(quarter) == due
    assert data.due_date(parse_quarter(quarter)) == due


def test_due_dates_2024_25_as_shipped() -> None:
    data = _data("2024-25")
    assert data.reporting.due_date("2024-25-Q1") == date(2024, 7, 30)
    assert data.reporting.due_date("2024-25-Q4") == date(2025, 5, 23)


@pytest.mark.parametrize("year", YEARS)
def test_every_due_date_falls_after_its_quarter_and_on_a_weekday_if_listed(year: str) -> None:
    data = _data(year)
    for q in parse_quarter(f"{year}-Q1").year.quarters:
        assert data.due_date(q) > q.end
    for entry in data.reporting.due_dates:
        assert entry.due.weekday() < 5


def test_calendar_rule_without_explicit_dates() -> None:
    calendar = ReportingCalendar(due_days_after_quarter_end=45)
    assert calendar.due_date("2025-26-Q3") == date(2026, 2, 14)
    with pytest.raises(ValidationFailed):
        calendar.due_date("2025-26-Q5")


@pytest.mark.parametrize("year", YEARS)
def test_return_layout_has_one_sheet_per_part(year: str) -> None:
    layout = _data(year).return_layout
    assert tuple(s.key for s in layout.sheets) == RETURN_SHEET_KEYS
    expenditure = layout.sheet("expenditure")
    assert expenditure is not None
    for column in (
        "Scheme ID",
        "Scheme Name",
        "Scheme Type",
        "Commissioner",
        "Provider Type",
        "Source of Funding",
        "Planned Expenditure (£)",
        "Actual Expenditure in Quarter (£)",
        "Actual Expenditure Year to Date (£)",
        "Forecast Outturn (£)",
    ):
        assert column in expenditure.columns
    assert all(len(s.title) <= 31 for s in layout.sheets)


def _raw(year: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(_data(year).canonical_json())
    return loaded


def test_invalid_lists_are_refused() -> None:
    raw = _raw("2025-26")
    bad_metric = {**raw, "metrics": [{**m, "id": "Bad_ID"} for m in raw["metrics"]]}
    with pytest.raises(ValidationError, match="slug"):
        ReferenceData.model_validate(bad_metric)
    dup_scheme = {**raw, "scheme_types": [*raw["scheme_types"], "Other"]}
    with pytest.raises(ValidationError, match="duplicate scheme types"):
        ReferenceData.model_validate(dup_scheme)
    with pytest.raises(ValidationError, match="not a quarter of"):
        ReferenceData.model_validate(
            {**raw, "reporting": {"due_dates": [{"quarter": "2024-25-Q1", "due": "2024-08-01"}]}}
        )
    with pytest.raises(ValidationError):
        ReferenceData.model_validate({**raw, "unexpected": 1})
    with pytest.raises(ValidationError, match="not after the quarter ends"):
        QuarterDue(quarter="2025-26-Q1", due=date(2025, 6, 30))


def test_catalogue_is_injectable_and_extendable(tmp_path: Path) -> None:
    shipped = _data("2025-26")
    custom = ReferenceCatalogue([shipped])
    assert custom.years() == ("2025-26",)
    assert custom.for_year("2024-25") is None
    assert custom.by_hash(shipped.content_hash()) == shipped

    raw = _raw("2025-26")
    raw["year"] = "2027-28"
    raw["reporting"] = {"due_days_after_quarter_end": 30, "due_dates": []}
    (tmp_path / "2027-28.json").write_text(json.dumps(raw), encoding="utf-8")
    (tmp_path / "README.txt").write_text("ignored", encoding="utf-8")
    extended = catalogue_from_directory(tmp_path)
    assert extended.years() == (*YEARS, "2027-28")
    later = extended.for_year("2027-28")
    assert later is not None
    assert later.due_date("2027-28-Q1") == date(2027, 7, 30)
    # the shipped catalogue is untouched
    assert "2027-28" not in default_catalogue()


def test_a_file_for_the_wrong_year_is_refused(tmp_path: Path) -> None:
    (tmp_path / "2027-28.json").write_text(_data("2025-26").canonical_json(), encoding="utf-8")
    with pytest.raises(ValueError, match="not 2027-28"):
        catalogue_from_directory(tmp_path)


def test_lists_recorded_before_the_end_of_year_parts_keep_their_hash_and_ask_none() -> None:
    # given the 2025-26 lists as first recorded (no year-end statements, answers or
    # end-of-year sheets): their canonical JSON then had no such keys
    shipped = _data("2025-26")
    assert shipped.bcf_return is not None
    old = json.loads(shipped.canonical_json())
    for key in ("year_end_statements", "feedback_answers"):
        del old["bcf_return"][key]
    eoy = {"income_actual", "year_end_feedback"}
    old["bcf_return"]["part_sheets"] = [
        s for s in old["bcf_return"]["part_sheets"] if s["key"] not in eoy
    ]
    old["bcf_return"]["sheet_order"] = [k for k in old["bcf_return"]["sheet_order"] if k not in eoy]
    text = json.dumps(old, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    # when they are read back, they hash as they did and ask no year-end parts
    loaded = ReferenceData.model_validate_json(text)
    assert loaded.canonical_json() == text
    assert loaded.bcf_return is not None and loaded.bcf_return.year_end_statements == ()


@pytest.mark.parametrize("year", YEARS)
def test_the_year_end_statements_and_every_ring_fence_floor_are_marked_unverified(
    year: str,
) -> None:
    # our sources (/work/shared/seeds) quote neither: see docs/DECISIONS.md
    lists = _data(year).bcf_return
    assert lists is not None
    assert [x.id for x in lists.year_end_statements] == ["1", "2", "3"]
    assert all(not x.verified for x in lists.year_end_statements)
    assert lists.feedback_answers == (
        "Strongly Agree",
        "Agree",
        "Neither Agree nor Disagree",
        "Disagree",
        "Strongly Disagree",
    )
    assert lists.ring_fence_floors and all(not f.verified for f in lists.ring_fence_floors)
    assert all("state no floor" in f.source for f in lists.ring_fence_floors)

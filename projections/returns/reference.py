"""The year's reference lists (funding streams, scheme types, layout, calendar) as the
ledger recorded them, and the return's layout taken from them.

- **Layout and lists** (sheet titles and columns, stream names, scheme-type order,
  the due date) come from the reference data the ledger recorded for the year (the
  version the plan in force was checked against), not from today's shipped files.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import Connection

from ledger.domain.errors import RuleViolation
from ledger.domain.reference import ReferenceData
from ledger.refdata import default_catalogue
from projections.base import facts, plan_fact
from projections.returns.return_document import Layout, SheetLayout


class ReferenceSource(Protocol):
    def for_year(self, year: str) -> ReferenceData | None: ...


def reference_at(
    conn: Connection, pool_id: str, year: str, at: int, fallback: ReferenceSource | None = None
) -> ReferenceData:
    """The year's reference lists as the ledger recorded them by ``at``: the version
    the plan in force was checked against, else the newest recorded for the year;
    only when none was recorded, the shipped files (``fallback``)."""
    current = plan_fact(conn, pool_id, year, at)
    wanted = current.data.get("reference_hash") if current is not None else None
    recorded = facts(conn, None, "reference_data_recorded", at, year=year)
    recorded.sort(key=lambda f: (f.data.get("content_hash") != wanted, -f.position))
    if recorded:
        return ReferenceData.model_validate_json(recorded[0].data["content"])
    found = (fallback or default_catalogue()).for_year(year)
    if found is None:
        raise RuleViolation(
            f"no reference data (streams, layout, calendar) is known for {year}; "
            "ship the year's lists before generating its returns"
        )
    return found


def return_layout(ref: ReferenceData) -> Layout:
    return Layout(
        template_name=ref.return_layout.template_name,
        sheets=tuple(
            SheetLayout(s.key, s.title, tuple(s.columns)) for s in ref.return_layout.sheets
        ),
    )

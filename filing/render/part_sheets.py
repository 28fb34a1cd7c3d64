"""The national template's further sheets (Checklist first, then in the template's
order with the money sheets): the cover's contacts, sign-off and filing status, the
national conditions, metric assessments, spend and activity, ring-fence checks and, at
year end, the adult social care fee rates, income against plan by source with the
variance commentary, and the year-end feedback."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from filing.render.table import Cell, Number, Sheet, money, table
from projections.returns.parts import IncomeActual, ReturnParts
from projections.returns.return_document import ReturnContent


def _yes_no(value: bool | None) -> Cell:
    return None if value is None else ("Yes" if value else "No")


def cover_extra_rows(p: ReturnParts) -> list[tuple[Cell, ...]]:
    c, s = p.contacts, p.sign_off
    return [
        ("Completed By", c.completed_by if c else ""),
        ("Completed By: Role", c.role if c else ""),
        ("Contact Email", c.email if c else ""),
        ("Contact Telephone", c.telephone if c else ""),
        ("HWB Sign-off By", s.signed_off_by if s else ""),
        ("HWB Sign-off: Role", s.role if s else ""),
        ("HWB Sign-off Date", s.signed_off_on if s else ""),
        ("Filed Late", "Yes" if p.filing.late else "No"),
        ("All Parts Complete", "Yes" if p.filing.complete else "No"),
    ]


def part_sheets(p: ReturnParts) -> dict[str, Sheet]:
    """The part sheets by key (fee rates only in the end-of-year return)."""
    layout = {s.key: s for s in p.sheets}

    def sheet(key: str, defaults: Sequence[str], rows: list[list[Cell]]) -> Sheet:
        s = layout[key]
        return table(key, s.title, s.columns, defaults, (), rows)

    def year_end_sheet(
        key: str, title: str, defaults: Sequence[str], rows: list[list[Cell]]
    ) -> Sheet:
        s = layout.get(key)
        return table(key, s.title if s else title, s.columns if s else defaults, defaults, (), rows)

    out = {
        "checklist": sheet(
            "checklist",
            ("Part", "Sheet", "Complete", "What Is Missing"),
            [
                [x.part, x.sheet, "Yes" if x.complete else "No", "; ".join(x.missing)]
                for x in p.checklist
            ],
        ),
        "national_conditions": sheet(
            "national_conditions",
            layout["national_conditions"].columns,
            [
                [x.condition_id, x.title, x.statement, _yes_no(x.answer), x.explanation, x.position]
                for x in p.national_conditions
            ],
        ),
        "metric_assessments": sheet(
            "metric_assessments",
            layout["metric_assessments"].columns,
            [
                [
                    x.metric_id, x.name, x.assessment, x.challenges, x.achievements,
                    x.support_needs, x.position,
                ]
                for x in p.metric_assessments
            ],
        ),
        "spend_and_activity": sheet(
            "spend_and_activity",
            layout["spend_and_activity"].columns,
            [
                [
                    x.scheme_id, x.name, x.scheme_type, x.scheme_sub_type, x.area_of_spend,
                    None if x.new_scheme is None else ("New" if x.new_scheme else "Existing"),
                    x.commissioner, x.nhs_pct, x.la_pct, x.funding_stream_name,
                    money(x.planned), money(x.actual_year_to_date),
                    Number(x.planned_output) if x.planned_output else None,
                    Number(x.output_delivered) if x.output_delivered else None,
                    x.unit,
                ]
                for x in p.spend_and_activity
            ],
        ),
        "ring_fence": sheet(
            "ring_fence",
            layout["ring_fence"].columns,
            [
                [
                    x.label,
                    money(x.floor) if x.floor is not None else None,
                    money(x.planned),
                    money(x.actual_year_to_date),
                    _yes_no(x.meets_floor),
                    "Yes" if x.floor_verified else "No (unverified reference data)",
                ]
                for x in p.ring_fence
            ],
        ),
    }  # fmt: skip
    if p.year_end:
        out["fee_rates"] = sheet(
            "fee_rates",
            layout["fee_rates"].columns,
            [
                [x.service, x.unit, money(x.before), money(x.after), money(x.uplift)]
                for x in p.fee_rates
            ],
        )
    if p.income_actual is not None:
        out["income_actual"] = _income_actual_sheet(p.income_actual, year_end_sheet)
    if p.year_end_feedback:
        out["year_end_feedback"] = year_end_sheet(
            "year_end_feedback",
            "Year-End Feedback",
            FEEDBACK_COLUMNS,
            [
                [
                    x.statement_id,
                    x.statement if x.verified else f"{x.statement} (unverified wording)",
                    x.answer or None,
                    x.comment,
                    x.position,
                ]
                for x in p.year_end_feedback
            ],
        )
    return out


INCOME_ACTUAL_COLUMNS = (
    "Source of Funding",
    "Funding Stream ID",
    "Partner ID",
    "Partner",
    "Planned Income (£)",
    "Actual Income (£)",
    "Variance (£)",
)
FEEDBACK_COLUMNS = (
    "Statement",
    "Statement Wording",
    "Response",
    "Comment",
    "Recorded At Position",
)


def _income_actual_sheet(
    a: IncomeActual, make: Callable[[str, str, Sequence[str], list[list[Cell]]], Sheet]
) -> Sheet:
    """Each source's planned and actual income and the variance, the total, then the
    host's commentary on the variance (and the position it was recorded at)."""
    rows: list[list[Cell]] = [
        [
            x.stream_name, x.funding_stream, x.partner_id, x.partner_name,
            money(x.planned), money(x.actual), money(x.variance),
        ]
        for x in (*a.lines, a.total)
    ]  # fmt: skip
    rows.append(["Variance Commentary", a.commentary or None, "Recorded At Position", a.position])
    made = make("income_actual", "Income Actual", INCOME_ACTUAL_COLUMNS, rows)
    total = len(made.rows) - 2
    return Sheet(made.key, made.title, made.columns, made.rows, frozenset({total}))


def with_parts(c: ReturnContent, core: list[Sheet]) -> list[Sheet]:
    """The money sheets and the part sheets in the template's order, the cover with
    the contacts, sign-off and filing status added."""
    p = c.parts
    if p is None:
        return core
    sheets = {s.key: s for s in core} | part_sheets(p)
    cover = sheets.get("cover")
    if cover is not None:
        extra = tuple(tuple(r) + (None,) * (len(cover.columns) - 2) for r in cover_extra_rows(p))
        sheets["cover"] = Sheet(cover.key, cover.title, cover.columns, cover.rows + extra)
    ordered = [sheets[k] for k in p.sheet_order if k in sheets]
    return ordered + [s for s in core if s.key not in p.sheet_order]

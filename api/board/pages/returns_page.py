"""A pool's returns page: the filed quarterly returns, the ended quarters not filed
yet, and each plan year's memorandum statement, each with its downloads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection

from api.board import fmt
from api.board.web import AsAt, Links
from filing.records import ReturnRecord, due_date, filed_records, first_quarter
from filing.versions import ReturnVersion, Signed, all_return_versions
from ledger.domain.errors import NotFound
from ledger.domain.periods import parse_quarter, parse_year
from ledger.domain.return_parts import describe
from projections.base import facts
from projections.parties import pool_at
from projections.returns.lateness import is_late
from projections.returns.parts_status import parts_status
from projections.views import PoolView


@dataclass(frozen=True)
class Download:
    code: str  # json | csv | xlsx
    label: str
    href: str


@dataclass(frozen=True)
class VersionRow:
    """One filed version of a quarter's return, with the filed bytes to download."""

    v: ReturnVersion
    filed_by: str  # "NAME (role)"
    approved: str | None
    submitted: str | None
    downloads: tuple[Download, ...]


@dataclass(frozen=True)
class ReturnRow:
    """A filed quarterly return as the ledger knew it at the page's as-at."""

    record: ReturnRecord
    approved: str | None  # "by NAME, WHEN (note)"
    submitted: str | None
    downloads: tuple[Download, ...]
    late: bool = False  # filed after its due date
    missing: tuple[str, ...] = ()  # required parts the filed content lacks, in words
    due: date | None = None  # the reporting calendar's due date
    versions: tuple[VersionRow, ...] = ()  # oldest first; the last is the current one


@dataclass(frozen=True)
class DueRow:
    """An ended quarter with no filed return at the page's as-at: a draft to read."""

    quarter: str
    due: date
    overdue: bool
    downloads: tuple[Download, ...]
    missing: tuple[str, ...] = ()  # required parts not recorded yet, in words


@dataclass(frozen=True)
class MemorandumRow:
    year: str
    downloads: tuple[Download, ...]
    settlement: Settlement | None = None


@dataclass(frozen=True)
class Settlement:
    """Where a year stands in its settlement, as at the page's as-at.

    ``status``: ``settled`` (the risk share was fixed), ``ready`` (Q4 closed, not
    settled yet), ``awaiting_close`` (the year has ended, Q4 not closed) or
    ``in_progress`` (the year has not ended)."""

    status: str
    label: str
    detail: str
    position: int | None = None  # the settlement's event


def settlement(conn: Connection, pool: PoolView, year: str, at: AsAt) -> Settlement:
    fy = parse_year(year)
    found = facts(conn, pool.pool_id, "risk_share_settled", at.position, year=year)
    if found:
        f = found[-1]
        variance = int(f.data.get("variance", 0))
        direction = str(f.data.get("direction", "none"))
        moved = {"overspend": "an overspend", "underspend": "an underspend"}.get(direction)
        return Settlement(
            "settled",
            "Settled",
            f"on {fmt.instant(f.recorded_at)}: "
            + (f"{moved} of {fmt.pounds(abs(variance))} shared" if moved else "no variance"),
            f.position,
        )
    q4 = fy.quarters[-1]
    if q4.label in pool.closed_quarters:
        return Settlement("ready", "Not settled yet", "Q4 is closed: the year can be settled")
    if fy.end < at.on:
        return Settlement(
            "awaiting_close",
            "Not settled yet",
            f"the year ended on {fmt.long_date(fy.end)}; it settles once Q4 is closed",
        )
    return Settlement(
        "in_progress",
        "Year in progress",
        f"it ends on {fmt.long_date(fy.end)} and settles once Q4 is closed",
    )


DOWNLOAD_FORMATS = (("xlsx", "Excel workbook"), ("csv", "CSV files (zip)"), ("json", "JSON"))


def _downloads(
    links: Links, route: str, position: int | None, version: int | None = None, **params: str
) -> tuple[Download, ...]:
    return tuple(
        Download(
            code,
            label,
            links.latest(
                route, {"format": code, "position": position, "version": version}, **params
            ),
        )
        for code, label in DOWNLOAD_FORMATS
    )


@dataclass(frozen=True)
class ReturnsPage:
    pool: PoolView
    filed: list[ReturnRow]
    due: list[DueRow]
    memoranda: list[MemorandumRow]


def _role(role: str) -> str:
    return {"admin": "administrator"}.get(role, role.replace("_", " "))


def _signed(s: Signed | None) -> str | None:
    if s is None:
        return None
    return f"by {s.by} ({_role(s.role)}), {fmt.instant(s.at)}" + (f" ({s.note})" if s.note else "")


def _versions(
    links: Links, pool_id: str, quarter: str, found: tuple[ReturnVersion, ...]
) -> tuple[VersionRow, ...]:
    return tuple(
        VersionRow(
            v,
            f"{v.filed_by} ({_role(v.filed_by_role)})",
            _signed(v.approval),
            _signed(v.submission),
            _downloads(
                links,
                "board_return_download",
                None,
                pool_id=pool_id,
                quarter=quarter,
                version=v.version,
            ),
        )
        for v in found
    )


def _missing(conn: Connection, pool_id: str, quarter: str, at: int) -> tuple[str, ...]:
    return tuple(describe(k) for k in parts_status(conn, pool_id, quarter, at)[1])


def returns_page(conn: Connection, at: AsAt, links: Links, pool_id: str) -> ReturnsPage:
    """The pool's filed returns (with hashes, sign-off and the filed bytes to
    download), the ended quarters not filed yet (drafts as at the page's position), and
    each plan year's annual memorandum statement as at that position."""
    pos = at.position
    pool = pool_at(conn, pool_id, pos)
    if pool is None:
        raise NotFound(f"there is no pool '{pool_id}' as at ledger position {pos}")

    def said(who: str | None, when: str | None, extra: str | None) -> str:
        return f"by {who}, {fmt.instant(when)}" + (f" ({extra})" if extra else "")

    records = filed_records(conn, pool_id, pos) if pool.kind == "bcf" else {}
    versions = all_return_versions(conn, pool_id, pos) if records else {}
    filed = [
        ReturnRow(
            rec,
            said(rec.approved_by, rec.approved_at, rec.approval_note) if rec.approved else None,
            said(rec.submitted_by, rec.submitted_at, rec.submission_reference)
            if rec.submitted
            else None,
            # the version current as at the page, named: the newest may be a later one
            _downloads(
                links,
                "board_return_download",
                None,
                pool_id=pool_id,
                quarter=label,
                version=rec.version,
            ),
            is_late(rec.generated_at, due_date(parse_quarter(label)), None),
            _missing(conn, pool_id, label, rec.as_at_position or pos),
            due_date(parse_quarter(label)),
            _versions(links, pool_id, label, versions.get(label, ())),
        )
        for label, rec in sorted(records.items(), key=lambda kv: parse_quarter(kv[0]))
    ]
    due: list[DueRow] = []
    first = first_quarter(pool) if pool.kind == "bcf" else None
    quarter = first
    while quarter is not None and quarter.end < at.on:
        if quarter.label not in records:
            when = due_date(quarter)
            due.append(
                DueRow(
                    quarter.label,
                    when,
                    when < at.on,
                    _downloads(
                        links, "board_return_download", pos, pool_id=pool_id, quarter=quarter.label
                    ),
                    _missing(conn, pool_id, quarter.label, pos),
                )
            )
        quarter = quarter.next()
    memoranda = [
        MemorandumRow(
            year,
            _downloads(links, "board_memorandum_download", pos, pool_id=pool_id, year=year),
            settlement(conn, pool, year, at),
        )
        for year in pool.years
    ]
    return ReturnsPage(pool, list(reversed(filed)), due, memoranda)

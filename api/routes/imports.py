"""CSV import of contributions and spend: all or nothing, every bad line reported.

The file is ``text/csv`` (UTF-8, a header row first). Columns, in any order:

| column | for | meaning |
|---|---|---|
| ``kind`` | all | ``contribution`` or ``expenditure`` |
| ``partner_id`` | contribution | the paying partner |
| ``funding_stream`` | contribution | its stream (blank: ``contribution``) |
| ``scheme_id`` | expenditure | the scheme spent on |
| ``amount`` | all | pounds, e.g. ``1234.50`` |
| ``effective_date`` | all | ``YYYY-MM-DD`` |
| ``reference`` | all | the payment or invoice reference |
| ``year`` | contribution | optional: the year it is for (default: the date's) |
| ``prior_period_adjustment`` | all | optional: ``true``/``false`` (blank: false) |

Line numbers count the header as line 1.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import Path, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ValidationError

from api.deps import WriterDep
from api.field_errors import field_errors
from api.problems import MalformedBody, UnsupportedMediaType
from api.routes import new_router
from api.schemas.events import ImportResult, event_public
from api.schemas.fields import Slug
from api.schemas.postings import ContributionCreate, ExpenditureCreate
from ledger.domain import commands as c
from ledger.domain.errors import FieldError, RuleViolation, ValidationFailed

router = new_router(tags=["postings"], write=True)


class ImportRefused(RuleViolation):
    """Lines of a file refused, by their syntax or by the rules. The OpenAPI document
    cannot state a CSV file's columns and values (its body is a string), so a refused
    file is its own documented problem, never ``validation``."""

    title = "Import refused"
    code = "import-refused"


_REFUSED_DOC = {
    "description": "Lines refused (each named with its `line` in `errors`), by their CSV "
    "syntax, their values or the rules: type `urn:pooled:problem:import-refused`; nothing "
    "was written",
    "content": {
        "application/problem+json": {
            "schema": {"$ref": "#/components/schemas/Problem"},
            "example": {
                "type": "urn:pooled:problem:import-refused",
                "title": "Import refused",
                "status": 422,
                "detail": "2 of 3 lines were refused; nothing was written",
                "errors": [
                    {"field": "amount", "message": "must be more than zero", "line": 2},
                    {
                        "field": "funding_stream",
                        "message": "'x' is not a funding stream of pool 'eq' in 2025-26",
                        "line": 4,
                    },
                ],
            },
        }
    },
}

COLUMNS = (
    "kind",
    "partner_id",
    "funding_stream",
    "scheme_id",
    "amount",
    "effective_date",
    "reference",
    "year",
    "prior_period_adjustment",
)
REQUIRED = ("kind", "amount", "effective_date", "reference")
ONLY_FOR = {
    "contribution": ("partner_id", "funding_stream", "year"),
    "expenditure": ("scheme_id",),
}
MAX_LINES = 10_000
_TRUE = {"true", "yes", "1", "y"}
_FALSE = {"false", "no", "0", "n", ""}
CSV_TYPES = ("text/csv", "application/csv")

_EXAMPLE = (
    "kind,partner_id,funding_stream,scheme_id,amount,effective_date,reference\r\n"
    "contribution,city,contribution,,250000.00,2025-07-01,BACS 4471\r\n"
    "expenditure,,,equipment,48250.00,2025-07-15,INV-20931\r\n"
)


@router.post(
    "/v1/pools/{pool}/imports",
    status_code=201,
    summary="Import contributions and spend from CSV: all or nothing, bad lines named",
    description=__doc__,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "text/csv": {
                    # UTF-8 text without NUL (else 400); its lines: 422 import-refused
                    "schema": {"type": "string", "pattern": "^[^\\x00]*$"},
                    "example": _EXAMPLE,
                }
            },
        }
    },
    responses={422: _REFUSED_DOC},
)
async def import_csv(
    pool: Annotated[Slug, Path(description="the pool's id", examples=["eq"])],
    request: Request,
    write: WriterDep,
) -> ImportResult:
    media = (request.headers.get("content-type") or "").split(";", 1)[0].strip().lower()
    if media not in CSV_TYPES:
        raise UnsupportedMediaType(
            f"send the file as text/csv (got {media or 'no Content-Type'})",
            errors=(FieldError("Content-Type", "must be text/csv"),),
        )
    try:
        commands, lines, refused = parse_lines(pool, await request.body())
        # every refused line in one answer: the lines that parsed are still checked
        # against the rules (and nothing is written), so syntax and rule errors come
        # together
        outcome = await run_in_threadpool(write.many, commands, lines, refused)
    except ValidationFailed as e:  # 403, 404 and 409 stay as they are
        raise ImportRefused(e.detail, errors=e.errors) from None
    events = [event_public(e) for e in outcome.events]
    return ImportResult(
        imported=len(lines),
        first_position=events[0].position if events else 0,
        last_position=events[-1].position if events else 0,
        events=events,
    )


def parse_lines(pool: str, raw: bytes) -> tuple[list[c.Command], list[int], list[FieldError]]:
    """The commands of the lines that parse, their line numbers, and every problem of
    the lines that do not (an unusable file or header is refused at once)."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise MalformedBody(
            f"the file is not UTF-8 text (byte {e.start})",
            errors=(FieldError("body", "must be UTF-8 text"),),
        ) from None
    if "\x00" in text:
        raise MalformedBody(
            "the file contains NUL bytes", errors=(FieldError("body", "is not CSV"),)
        )
    reader = csv.reader(text.splitlines(keepends=True), strict=True)
    problems: list[FieldError] = []
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise ValidationFailed.field(
            "body", "the file is empty: send a header row and lines"
        ) from None
    except csv.Error as e:
        raise ValidationFailed(
            f"line 1: {e}", errors=(FieldError("header", f"is not valid CSV: {e}", 1),)
        ) from None
    for name in header:
        if name not in COLUMNS:
            problems.append(
                FieldError(name or "header", f"is not a column (use: {', '.join(COLUMNS)})", 1)
            )
    if len(set(header)) != len(header):
        problems.append(FieldError("header", "names a column twice", 1))
    for name in REQUIRED:
        if name not in header:
            problems.append(FieldError(name, "is a required column", 1))
    if problems:
        raise ValidationFailed(
            "the header row is not usable; nothing was written", errors=tuple(problems)
        )
    commands: list[c.Command] = []
    lines: list[int] = []
    while True:
        line = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as e:
            problems.append(FieldError("row", f"is not valid CSV: {e}", line))
            break
        if not any(cell.strip() for cell in row):
            continue
        if len(lines) + 1 > MAX_LINES:
            problems.append(FieldError("row", f"an import holds at most {MAX_LINES} lines", line))
            break
        if len(row) != len(header):
            problems.append(
                FieldError("row", f"has {len(row)} values; the header has {len(header)}", line)
            )
            continue
        cmd = _line(pool, dict(zip(header, row, strict=True)), line, problems)
        if cmd is not None:
            commands.append(cmd)
            lines.append(line)
    if not commands and not problems:
        raise ValidationFailed.field("body", "the file has a header but no lines to import")
    return commands, lines, problems


def _line(
    pool: str, cells: Mapping[str, str], line: int, problems: list[FieldError]
) -> c.Command | None:
    kind = cells.get("kind", "").strip()
    if kind not in ONLY_FOR:
        problems.append(FieldError("kind", "must be contribution or expenditure", line))
        return None
    before = len(problems)
    other = "expenditure" if kind == "contribution" else "contribution"
    for name in ONLY_FOR[other]:
        if cells.get(name, "").strip():
            problems.append(
                FieldError(name, f"is not used on {_a(kind)} line; leave it blank", line)
            )
    data: dict[str, Any] = {
        k: cells[k].strip()
        for k in ("amount", "effective_date", "reference", *ONLY_FOR[kind])
        if k in cells and cells[k].strip() != ""
    }
    if kind == "contribution":
        data.setdefault("funding_stream", "contribution")
    ppa = cells.get("prior_period_adjustment", "").strip().lower()
    if ppa in _TRUE:
        data["prior_period_adjustment"] = True
    elif ppa not in _FALSE:
        problems.append(FieldError("prior_period_adjustment", "must be true or false", line))
    model: type[BaseModel] = ContributionCreate if kind == "contribution" else ExpenditureCreate
    try:
        parsed = model.model_validate(data)
    except ValidationError as e:
        problems += [FieldError(f.field, f.message, line) for f in field_errors(e.errors())]
        return None
    if len(problems) > before:
        return None
    assert isinstance(parsed, ContributionCreate | ExpenditureCreate)
    return parsed.command(pool)


def _a(kind: str) -> str:
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"

"""Field types checked at the edge (ids, text, dates, periods, amounts) and model configs."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from pydantic import ConfigDict, PlainValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

from ledger.domain.errors import ValidationFailed
from ledger.domain.money import parse_amount, parse_decimal
from ledger.domain.periods import FinancialYear, parse_period, parse_quarter, parse_year

SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]{1,39}$"
_SLUG = re.compile(SLUG_PATTERN)
_IDENT = re.compile(r"^[a-z0-9][a-z0-9_-]{0,59}$")
_CODE = re.compile(r"^[A-Za-z0-9]{1,20}$")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
# Free text: what is refused anywhere in it, and what counts as blank. Each is one
# character class, used by the server's check and stated as the OpenAPI pattern.
_CONTROLS = r"\x00-\x1f\x7f-\x9f"  # C0 (tab and new lines too), DEL, C1
_BIDI_CONTROLS = r"\u202a-\u202e\u2066-\u2069"  # embeddings, overrides, isolates
_REFUSED = _CONTROLS + _BIDI_CONTROLS
_BLANK = (  # spaces, and characters that show nothing (zero-width, joiners, fillers, BOM)
    r"\x20\xa0\xad\u034f\u061c\u115f\u1160\u1680\u17b4\u17b5\u180b-\u180f"
    r"\u2000-\u200f\u2028\u2029\u202f\u205f-\u2064\u206a-\u206f\u2800\u3000\u3164"
    r"\ufe00-\ufe0f\ufeff\uffa0"
)
_CONTROL = re.compile(f"[{_CONTROLS}]")
_BIDI = re.compile(f"[{_BIDI_CONTROLS}]")
_ONLY_BLANK = re.compile(f"[{_BLANK}]*")
TEXT_PATTERN = f"^[^{_REFUSED}]*[^{_REFUSED}{_BLANK}][^{_REFUSED}]*$"
# Amounts as the server reads them (``ledger.domain.money.parse_amount``): at most two
# decimals, no leading zeros, at most £10,000,000,000.00 (``MAX_POSTING_PENCE``).
_POSITIVE = r"0\.(0[1-9]|[1-9][0-9]?)|[1-9][0-9]{0,9}(\.[0-9]{1,2})?|10000000000(\.0{1,2})?"
_ZERO = r"0(\.0{1,2})?"
POSITIVE_AMOUNT_PATTERN = f"^({_POSITIVE})$"
AMOUNT_OR_ZERO_PATTERN = f"^(-?{_ZERO}|{_POSITIVE})$"  # "-0.00" is zero, so accepted
AMOUNT_PATTERN = f"^-?({_ZERO}|{_POSITIVE})$"
FIRST_DAY, LAST_DAY = date(1999, 4, 1), date(2099, 3, 31)


def _month_days(months: range) -> str:
    """``MM-DD`` for every real day of ``months`` (29 February aside)."""
    lengths = {
        "(0[1-9]|[12][0-9]|3[01])": (1, 3, 5, 7, 8, 10, 12),
        "(0[1-9]|[12][0-9]|30)": (4, 6, 9, 11),
        "(0[1-9]|1[0-9]|2[0-8])": (2,),
    }
    parts = []
    for days, of in lengths.items():
        chosen = [f"{m:02d}" for m in of if m in months]
        if chosen:
            parts.append(f"({'|'.join(chosen)})-{days}")
    return "(" + "|".join(parts) + ")"


_ALL_MONTHS = _month_days(range(1, 13))
# Every real day from FIRST_DAY (1 April 1999) to LAST_DAY (31 March 2099): the range
# of a pattern, since JSON Schema has no bounds for a date. 29 February: 2000 to 2096.
DAY_PATTERN = (
    f"^(1999-{_month_days(range(4, 13))}|20([0-8][0-9]|9[0-8])-{_ALL_MONTHS}"
    f"|2099-{_month_days(range(1, 4))}|20(0[048]|[2468][048]|[13579][26])-02-29)$"
)
# The financial years the ledger keeps (1999-00 to 2098-99), each written out: a year's
# second part is the first's plus one, a rule a pattern can state only by listing them.
_YEARS = "|".join(f"{y}-{(y + 1) % 100:02d}" for y in range(FIRST_DAY.year, LAST_DAY.year))
YEAR_PATTERN = f"^({_YEARS})$"
QUARTER_PATTERN = f"^({_YEARS})-Q[1-4]$"
PERIOD_PATTERN = f"^({_YEARS})(-Q[1-4]|-M(0[1-9]|1[0-2]))?$"


def invalid(message: str) -> PydanticCustomError:
    # the message is the template: braces would be read as placeholders
    return PydanticCustomError("pooled_invalid", message.replace("{", "(").replace("}", ")"))


def _ledger_rule(fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A parser of ``ledger.domain`` (which raises ValidationFailed) as a pydantic one."""

    def check(value: Any) -> Any:
        try:
            return fn(value)
        except ValidationFailed as e:
            raise invalid(e.errors[0].message if e.errors else e.detail) from None

    return check


def _amount(*, allow_negative: bool = False, allow_zero: bool = False) -> Callable[[Any], int]:
    return _ledger_rule(
        lambda x: parse_amount(x, allow_negative=allow_negative, allow_zero=allow_zero)
    )


def _schema(**extra: Any) -> WithJsonSchema:
    return WithJsonSchema({"type": "string", **extra})


_AMOUNT_DOC = "pounds as a decimal string, at most two decimals, no symbols or separators"
Amount = Annotated[
    int,
    PlainValidator(_amount()),
    _schema(
        pattern=POSITIVE_AMOUNT_PATTERN, examples=["1234.50"], description=_AMOUNT_DOC + "; > 0"
    ),
]
"""A posting: positive, at most £10bn; pence once parsed."""
AmountOrZero = Annotated[
    int,
    PlainValidator(_amount(allow_zero=True)),
    _schema(pattern=AMOUNT_OR_ZERO_PATTERN, examples=["0.00"], description=_AMOUNT_DOC + "; >= 0"),
]
NonZeroAmount = Annotated[
    int,
    PlainValidator(_amount(allow_negative=True)),
    _schema(
        pattern=f"^-?({_POSITIVE})$",
        examples=["-12500.00"],
        description=_AMOUNT_DOC + "; any sign, not zero",
    ),
]
SignedAmount = Annotated[
    int,
    PlainValidator(_amount(allow_negative=True, allow_zero=True)),
    _schema(pattern=AMOUNT_PATTERN, examples=["-1500.00"], description=_AMOUNT_DOC + "; any sign"),
]


def _slug(value: Any) -> str:
    if not isinstance(value, str):
        raise invalid("must be an id (a string of lower-case letters, digits and hyphens)")
    if not _SLUG.match(value):
        raise invalid(
            f"'{shown(value)}' is not an id: use 2-40 lower-case letters, digits and hyphens"
        )
    return value


def shown(value: str, limit: int = 60) -> str:
    """Part of a client's text, safe to quote back (printable, valid UTF-8, short)."""
    text = value[:limit].encode("utf-8", "replace").decode("utf-8")
    return "".join(ch if ch.isprintable() else "?" for ch in text)


Slug = Annotated[str, PlainValidator(_slug), _schema(pattern=SLUG_PATTERN, examples=["ncc"])]


def _ident(value: Any) -> str:
    if not isinstance(value, str) or not _IDENT.match(value):
        raise invalid(
            "must be an id of at most 60 lower-case letters, digits, hyphens and underscores"
        )
    return value


Ident = Annotated[
    str,
    PlainValidator(_ident),
    _schema(pattern=r"^[a-z0-9][a-z0-9_-]{0,59}$", examples=["minimum_nhs_contribution"]),
]


def _code(value: Any) -> str:
    if not isinstance(value, str) or not _CODE.match(value):
        raise invalid("must be an official code of 1-20 letters and digits, such as E10000024")
    return value


Code = Annotated[str, PlainValidator(_code), _schema(pattern=r"^[A-Za-z0-9]{1,20}$")]


def _is_utf8(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _blank(value: str) -> bool:
    return _ONLY_BLANK.fullmatch(value) is not None


def _text(max_len: int) -> Callable[[Any], str]:
    """The one check of every free text a client sends (names, references, notes):
    a string, not blank (after removing invisible characters), at most ``max_len``
    characters, no control characters (C0 including tab and new lines, DEL, C1), no
    bidirectional embeddings, overrides or isolates (they make ``INV-1\u202e7``
    read as another reference), valid Unicode."""

    def check(value: Any) -> str:
        if not isinstance(value, str):
            raise invalid("must be a string")
        if len(value) > max_len:
            raise invalid(f"must be at most {max_len} characters")
        if _CONTROL.search(value):
            raise invalid("must not contain control characters (such as tabs, new lines or NUL)")
        if _BIDI.search(value):
            raise invalid(
                "must not contain bidirectional overrides or isolates (U+202A-U+202E, "
                "U+2066-U+2069)"
            )
        if _blank(value):
            raise invalid("must not be empty (or only spaces and invisible characters)")
        if not _is_utf8(value):
            raise invalid("must be valid Unicode text (it holds a lone surrogate)")
        return value

    return check


def _text_schema(max_len: int, example: str) -> WithJsonSchema:
    return _schema(minLength=1, maxLength=max_len, pattern=TEXT_PATTERN, examples=[example])


Name = Annotated[
    str, PlainValidator(_text(200)), _text_schema(200, "Nottinghamshire County Council")
]
Reference = Annotated[str, PlainValidator(_text(200)), _text_schema(200, "BACS 4471")]
Note = Annotated[
    str,
    PlainValidator(_text(500)),
    _text_schema(500, "Brought forward from the 2024-25 accounts"),
]
Cohort = Annotated[str, PlainValidator(_text(40)), _text_schema(40, "65-84")]
Unit = Annotated[str, PlainValidator(_text(60)), _text_schema(60, "attendances")]


def _day(value: Any) -> date:
    if not isinstance(value, str) or not _DATE.match(value):
        raise invalid('must be a date written YYYY-MM-DD, such as "2025-10-01"')
    try:
        d = date.fromisoformat(value)
    except ValueError:
        raise invalid(f"'{value}' is not a real date") from None
    if not FIRST_DAY <= d <= LAST_DAY:
        raise invalid(f"must fall between {FIRST_DAY} and {LAST_DAY}")
    return d


Day = Annotated[
    date,
    PlainValidator(_day),
    _schema(
        format="date",
        pattern=DAY_PATTERN,
        examples=["2025-10-01"],
        description=f"a date YYYY-MM-DD from {FIRST_DAY} to {LAST_DAY}",
    ),
]


def _check_year_range(label: str, start_year: int, field: str) -> None:
    if not FIRST_DAY.year <= start_year <= LAST_DAY.year - 1:
        raise ValidationFailed.field(field, f"'{label}' is outside the years this ledger keeps")


def parse_year_label(value: Any, field: str = "year") -> str:
    fy = parse_year(value, field)
    _check_year_range(fy.label, fy.start_year, field)
    return fy.label


def parse_quarter_label(value: Any, field: str = "quarter") -> str:
    q = parse_quarter(value, field)
    _check_year_range(q.label, q.year.start_year, field)
    return q.label


def parse_period_label(value: Any, field: str = "period") -> str:
    period = parse_period(value, field)
    start = period.start_year if isinstance(period, FinancialYear) else period.year.start_year
    _check_year_range(period.label, start, field)
    return period.label


Year = Annotated[
    str,
    PlainValidator(_ledger_rule(parse_year_label)),
    _schema(pattern=YEAR_PATTERN, examples=["2025-26"]),
]
PeriodLabel = Annotated[
    str,
    PlainValidator(_ledger_rule(parse_period_label)),
    _schema(
        pattern=PERIOD_PATTERN,
        examples=["2025-26-Q2"],
        description="a year (2025-26), quarter (2025-26-Q2) or month (2025-26-M07)",
    ),
]
QuarterLabel = Annotated[
    str,
    PlainValidator(_ledger_rule(parse_quarter_label)),
    _schema(pattern=QUARTER_PATTERN, examples=["2025-26-Q2"], description="a quarter"),
]


def _decimal(places: int | None = None) -> Callable[[Any], Decimal]:
    def check(value: Any) -> Decimal:
        if isinstance(value, str) and len(value) > 30:
            raise invalid("must be a decimal string of at most 30 characters")
        return parse_decimal(value, "value", places=places)

    return _ledger_rule(check)


Pct = Annotated[
    Decimal,
    PlainValidator(_decimal(6)),
    _schema(pattern=r"^[0-9]+(\.[0-9]{1,6})?$", maxLength=30, examples=["33.3333"]),
]
DecimalStr = Annotated[
    Decimal,
    PlainValidator(_decimal()),
    _schema(pattern=r"^[0-9]+(\.[0-9]+)?$", maxLength=30, examples=["2.5"]),
]
Hours = Annotated[
    Decimal,
    PlainValidator(_decimal(2)),
    _schema(pattern=r"^[0-9]+(\.[0-9]{1,2})?$", maxLength=30, examples=["10000"]),
]


def _count(value: Any) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # 15000.0 is a JSON Schema integer too
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid("must be a whole number such as 80000")
    if value < 0:
        raise invalid("must not be negative")
    if value > 1_000_000_000:
        raise invalid("must be at most 1000000000")
    return value


Count = Annotated[
    int,
    PlainValidator(_count),
    WithJsonSchema({"type": "integer", "minimum": 0, "maximum": 1_000_000_000}),
]


def _event_id(value: Any) -> str:
    if not isinstance(value, str) or not re.match(r"^[0-9a-f-]{36}$", value):
        raise invalid("must be an event id (a UUID such as 3f2b1c9e-...)")
    return value


EventId = Annotated[
    str,
    PlainValidator(_event_id),
    _schema(format="uuid", examples=["0b7a1f66-3c55-4a37-9a4e-2f1d6f0f8a11"]),
]


def request_config(example: Mapping[str, Any]) -> ConfigDict:
    return ConfigDict(extra="forbid", json_schema_extra={"examples": [dict(example)]})


def response_config(example: Mapping[str, Any]) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": [dict(example)]})

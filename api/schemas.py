"""The API's own models: what clients send and what they get back.

Separate from events and commands (``ledger.domain``) and from tables: requests carry
amounts as decimal strings of pounds (parsed here, once, into pence by
``money.parse_amount``), dates as ``YYYY-MM-DD`` strings and ids as slugs; responses
give every amount as a two-decimal string. Every request model refuses unknown fields
and every model carries an example, so ``/openapi.json`` shows one for every route.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, StrictBool, WithJsonSchema
from pydantic_core import PydanticCustomError

from ledger.domain import commands as c
from ledger.domain import plan as p
from ledger.domain.errors import ValidationFailed
from ledger.domain.events import HwbArea, PartnerAmount, PartnerKind, Party, PoolKind
from ledger.domain.money import format_fraction, format_pence, parse_amount, parse_decimal
from ledger.domain.periods import FinancialYear, parse_period, parse_quarter, parse_year
from ledger.store.eventstore import StoredEvent
from projections import views as v

# --- field types: parsed and checked at the edge ----------------------------------------

SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]{1,39}$"
_SLUG = re.compile(SLUG_PATTERN)
_IDENT = re.compile(r"^[a-z0-9][a-z0-9_-]{0,59}$")
_CODE = re.compile(r"^[A-Za-z0-9]{1,20}$")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
AMOUNT_PATTERN = r"^-?(0|[1-9][0-9]*)(\.[0-9]{1,2})?$"
FIRST_DAY, LAST_DAY = date(1999, 4, 1), date(2099, 3, 31)


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
    _schema(pattern=AMOUNT_PATTERN, examples=["1234.50"], description=_AMOUNT_DOC + "; > 0"),
]
"""A posting: positive, at most £10bn; pence once parsed."""
AmountOrZero = Annotated[
    int,
    PlainValidator(_amount(allow_zero=True)),
    _schema(pattern=AMOUNT_PATTERN, examples=["0.00"], description=_AMOUNT_DOC + "; >= 0"),
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


def _text(max_len: int) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if not isinstance(value, str):
            raise invalid("must be a string")
        if not value.strip():
            raise invalid("must not be empty")
        if len(value) > max_len:
            raise invalid(f"must be at most {max_len} characters")
        if _CONTROL.search(value):
            raise invalid("must not contain control characters (such as new lines or NUL)")
        if not _is_utf8(value):
            raise invalid("must be valid Unicode text (it holds a lone surrogate)")
        return value

    return check


Name = Annotated[
    str,
    PlainValidator(_text(200)),
    _schema(maxLength=200, examples=["Nottinghamshire County Council"]),
]
Reference = Annotated[
    str, PlainValidator(_text(200)), _schema(maxLength=200, examples=["BACS 4471"])
]
Note = Annotated[
    str,
    PlainValidator(_text(500)),
    _schema(maxLength=500, examples=["Brought forward from the 2024-25 accounts"]),
]
Cohort = Annotated[str, PlainValidator(_text(40)), _schema(maxLength=40, examples=["65-84"])]
Unit = Annotated[str, PlainValidator(_text(60)), _schema(maxLength=60, examples=["attendances"])]


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


Day = Annotated[date, PlainValidator(_day), _schema(format="date", examples=["2025-10-01"])]


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
    _schema(pattern=r"^[0-9]{4}-[0-9]{2}$", examples=["2025-26"]),
]
PeriodLabel = Annotated[
    str,
    PlainValidator(_ledger_rule(parse_period_label)),
    _schema(examples=["2025-26-Q2"], description="a year (2025-26), quarter or month"),
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
    _schema(pattern=r"^[0-9]+(\.[0-9]+)?$", examples=["33.3333"]),
]
DecimalStr = Annotated[
    Decimal,
    PlainValidator(_decimal()),
    _schema(pattern=r"^[0-9]+(\.[0-9]+)?$", examples=["2.5"]),
]
Hours = Annotated[
    Decimal,
    PlainValidator(_decimal(2)),
    _schema(pattern=r"^[0-9]+(\.[0-9]{1,2})?$", examples=["10000"]),
]


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid("must be a whole number such as 80000")
    if value < 0:
        raise invalid("must not be negative")
    if value > 1_000_000_000:
        raise invalid("must be at most 1000000000")
    return value


Count = Annotated[int, PlainValidator(_count), WithJsonSchema({"type": "integer", "minimum": 0})]


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


# --- requests: parties and pools -----------------------------------------------------------


class PartnerCreate(BaseModel):
    model_config = request_config(
        {
            "id": "ncc",
            "name": "Nottinghamshire County Council",
            "kind": "local_authority",
            "ons_code": "E10000024",
        }
    )
    id: Slug
    name: Name
    kind: PartnerKind
    ods_code: Code | None = None
    ons_code: Code | None = None

    def command(self) -> c.RegisterPartner:
        return c.RegisterPartner(
            partner_id=self.id,
            name=self.name,
            kind=self.kind,
            ods_code=self.ods_code,
            ons_code=self.ons_code,
        )


class HwbAreaIn(BaseModel):
    model_config = request_config({"name": "Nottinghamshire", "ons_code": "E10000024"})
    name: Name
    ons_code: Code


class PoolCreate(BaseModel):
    model_config = request_config(
        {
            "id": "bcf-notts",
            "name": "Nottinghamshire Better Care Fund",
            "kind": "bcf",
            "host_partner_id": "ncc",
            "members": ["ncc", "icb-a"],
            "hwb_area": {"name": "Nottinghamshire", "ons_code": "E10000024"},
        }
    )
    id: Slug
    name: Name
    kind: PoolKind
    host_partner_id: Slug
    members: list[Slug] = Field(default_factory=list, max_length=200)
    hwb_area: HwbAreaIn | None = None

    def command(self) -> c.EstablishPool:
        return c.EstablishPool(
            pool_id=self.id,
            name=self.name,
            kind=self.kind,
            host_partner_id=self.host_partner_id,
            members=tuple(self.members),
            hwb_area=HwbArea(name=self.hwb_area.name, ons_code=self.hwb_area.ons_code)
            if self.hwb_area
            else None,
        )


class MemberCreate(BaseModel):
    model_config = request_config({"partner_id": "city"})
    partner_id: Slug

    def command(self, pool: str) -> c.JoinPool:
        return c.JoinPool(pool_id=pool, partner_id=self.partner_id)


# --- requests: the plan --------------------------------------------------------------------


class PlannedContributionIn(BaseModel):
    model_config = request_config(
        {"partner_id": "ncc", "funding_stream": "contribution", "amount": "2000000.00"}
    )
    partner_id: Slug
    funding_stream: Ident
    amount: AmountOrZero


class JointSplitIn(BaseModel):
    model_config = request_config({"la": "60", "icb": "40"})
    la: Pct
    icb: Pct


class SchemeIn(BaseModel):
    model_config = request_config(
        {
            "id": "carers",
            "name": "Carers' breaks",
            "scheme_type": "Carers Services",
            "commissioner": "joint",
            "joint_split": {"la": "60", "icb": "40"},
            "provider_type": "Charity / Voluntary Sector",
            "funding_stream": "minimum_nhs_contribution",
            "planned": "450000.00",
        }
    )
    id: Slug
    name: Name
    scheme_type: Name
    commissioner: Slug = Field(description="la, icb, joint or a member partner's id")
    joint_split: JointSplitIn | None = None
    provider_type: Name
    funding_stream: Ident
    planned: AmountOrZero


class TierIn(BaseModel):
    model_config = request_config({"up_to": "50000.00", "shares": {"ncc": "100"}})
    up_to: Amount | None = Field(description="cumulative top of the band; null for the last")
    shares: dict[Slug, Pct] = Field(max_length=200)


class RuleIn(BaseModel):
    model_config = request_config(
        {
            "method": "tiered",
            "tiers": [
                {"up_to": "50000.00", "shares": {"ncc": "100"}},
                {"up_to": None, "shares": {"ncc": "50", "city": "30", "icb-a": "20"}},
            ],
            "caps": {"icb-a": "20000.00"},
        }
    )
    method: p.RiskMethod
    shares: dict[Slug, Pct] = Field(default_factory=dict, max_length=200)
    tiers: list[TierIn] = Field(default_factory=list, max_length=50)
    caps: dict[Slug, Amount] = Field(default_factory=dict, max_length=200)

    def rule(self) -> p.RiskRule:
        return p.RiskRule(
            method=self.method,
            shares=_shares(self.shares),
            tiers=tuple(p.Tier(up_to=t.up_to, shares=_shares(t.shares)) for t in self.tiers),
            caps=tuple(p.Cap(partner_id=k, amount=a) for k, a in self.caps.items()),
        )


class RiskShareIn(BaseModel):
    model_config = request_config(
        {"overspend": {"method": "proportional"}, "underspend": {"method": "carry_forward"}}
    )
    overspend: RuleIn = RuleIn(method="proportional")
    underspend: RuleIn = RuleIn(method="proportional")


class RiskRewardSchemeIn(BaseModel):
    model_config = request_config(
        {
            "id": "rapid-response",
            "name": "Rapid response",
            "gain_shares": {"ncc": "50", "icb": "50"},
            "loss_shares": {"ncc": "70", "icb": "30"},
        }
    )
    id: Slug
    name: Name
    gain_shares: dict[Slug, Pct] = Field(max_length=200)
    loss_shares: dict[Slug, Pct] = Field(max_length=200)


class CapitationIn(BaseModel):
    model_config = request_config(
        {
            "budget": "12000000.00",
            "excluded_personal_budgets": "1500000.00",
            "weights": {"0-64": "1.0", "65-84": "2.5", "85+": "6.0"},
        }
    )
    budget: AmountOrZero
    excluded_personal_budgets: AmountOrZero = 0
    weights: dict[Cohort, DecimalStr] = Field(max_length=100)


class CommissionedServiceIn(BaseModel):
    model_config = request_config(
        {
            "id": "hc-bassetlaw-q1",
            "provider_id": "mears",
            "period": "2025-26-Q1",
            "hours": "10000",
            "rate": "17.00",
            "base_pct": "95",
            "outcomes": ["independence", "satisfaction"],
        }
    )
    id: Slug
    provider_id: Slug
    period: PeriodLabel
    hours: Hours
    rate: Amount
    base_pct: Pct
    outcomes: list[Slug] = Field(default_factory=list, max_length=50)
    unit_id: Slug | None = None


class MetricDefinitionIn(BaseModel):
    model_config = request_config(
        {
            "id": "ed-attendances",
            "name": "Emergency department attendances",
            "unit": "attendances",
            "lower_is_better": True,
        }
    )
    id: Ident
    name: Name
    unit: Unit
    lower_is_better: StrictBool


PLAN_EXAMPLE: dict[str, Any] = {
    "contributions": [
        {"partner_id": "ncc", "funding_stream": "contribution", "amount": "2000000.00"},
        {"partner_id": "city", "funding_stream": "contribution", "amount": "1000000.00"},
        {"partner_id": "icb-a", "funding_stream": "contribution", "amount": "500000.00"},
    ],
    "schemes": [
        {
            "id": "equipment",
            "name": "Community equipment",
            "scheme_type": "Assistive Technologies and Equipment",
            "commissioner": "ncc",
            "provider_type": "Private Sector",
            "funding_stream": "contribution",
            "planned": "3500000.00",
        }
    ],
    "risk_share": {
        "overspend": {"method": "proportional"},
        "underspend": {"method": "proportional"},
    },
}


class PlanPut(BaseModel):
    """A pool-year's whole agreement; every part is optional and the plan supersedes the
    previous one as a whole."""

    model_config = request_config(PLAN_EXAMPLE)
    contributions: list[PlannedContributionIn] = Field(default_factory=list, max_length=1000)
    schemes: list[SchemeIn] = Field(default_factory=list, max_length=1000)
    risk_share: RiskShareIn = RiskShareIn()
    risk_reward_schemes: list[RiskRewardSchemeIn] = Field(default_factory=list, max_length=200)
    capitation: CapitationIn | None = None
    commissioned_services: list[CommissionedServiceIn] = Field(
        default_factory=list, max_length=1000
    )
    metrics: list[MetricDefinitionIn] = Field(default_factory=list, max_length=200)

    def command(self, pool: str, year: str) -> c.AgreePlan:
        plan = p.Plan(
            contributions=tuple(
                p.PlannedContribution(
                    partner_id=x.partner_id, funding_stream=x.funding_stream, amount=x.amount
                )
                for x in self.contributions
            ),
            schemes=tuple(
                p.Scheme(
                    id=s.id,
                    name=s.name,
                    scheme_type=s.scheme_type,
                    commissioner=s.commissioner,
                    joint_split=p.JointSplit(la=s.joint_split.la, icb=s.joint_split.icb)
                    if s.joint_split
                    else None,
                    provider_type=s.provider_type,
                    funding_stream=s.funding_stream,
                    planned=s.planned,
                )
                for s in self.schemes
            ),
            risk_share=p.RiskShareRules(
                overspend=self.risk_share.overspend.rule(),
                underspend=self.risk_share.underspend.rule(),
            ),
            risk_reward_schemes=tuple(
                p.RiskRewardScheme(
                    id=r.id,
                    name=r.name,
                    gain_shares=_shares(r.gain_shares),
                    loss_shares=_shares(r.loss_shares),
                )
                for r in self.risk_reward_schemes
            ),
            capitation=p.Capitation(
                budget=self.capitation.budget,
                excluded_personal_budgets=self.capitation.excluded_personal_budgets,
                weights=tuple(
                    p.CohortWeight(cohort=k, weight=w) for k, w in self.capitation.weights.items()
                ),
            )
            if self.capitation
            else None,
            commissioned_services=tuple(
                p.CommissionedService(
                    id=s.id,
                    provider_id=s.provider_id,
                    period=s.period,
                    hours=s.hours,
                    rate=s.rate,
                    base_pct=s.base_pct,
                    outcomes=tuple(s.outcomes),
                    unit_id=s.unit_id,
                )
                for s in self.commissioned_services
            ),
            metrics=tuple(
                p.MetricDefinition(
                    id=m.id, name=m.name, unit=m.unit, lower_is_better=m.lower_is_better
                )
                for m in self.metrics
            ),
        )
        return c.AgreePlan(pool_id=pool, year=year, plan=plan)


def _shares(shares: Mapping[str, Decimal]) -> tuple[p.Share, ...]:
    return tuple(p.Share(partner_id=k, pct=v) for k, v in shares.items())


# --- requests: money -----------------------------------------------------------------------


class OpeningBalanceCreate(BaseModel):
    model_config = request_config(
        {"year": "2025-26", "amount": "-12500.00", "note": "Deficit brought forward from 2024-25"}
    )
    year: Year
    amount: SignedAmount = Field(description="may be negative (a deficit brought in)")
    note: Note

    def command(self, pool: str) -> c.RecordOpeningBalance:
        return c.RecordOpeningBalance(
            pool_id=pool, year=self.year, amount=self.amount, note=self.note
        )


_CONTRIBUTION = {
    "partner_id": "city",
    "funding_stream": "contribution",
    "amount": "250000.00",
    "effective_date": "2025-07-01",
    "reference": "BACS 4471",
}


class ContributionCreate(BaseModel):
    model_config = request_config(_CONTRIBUTION)
    partner_id: Slug
    funding_stream: Ident
    amount: Amount
    effective_date: Day
    year: Year | None = Field(None, description="default: the effective date's year")
    reference: Reference
    prior_period_adjustment: StrictBool = False

    def command(self, pool: str) -> c.PostContribution:
        return c.PostContribution(pool_id=pool, **self.model_dump())


class RefundCreate(BaseModel):
    model_config = request_config({**_CONTRIBUTION, "reference": "Refund of overpayment"})
    partner_id: Slug
    funding_stream: Ident
    amount: Amount
    effective_date: Day
    year: Year | None = None
    reference: Reference
    refunds_event_id: EventId | None = None
    prior_period_adjustment: StrictBool = False

    def command(self, pool: str) -> c.RefundContribution:
        return c.RefundContribution(pool_id=pool, **self.model_dump())


_SPEND = {
    "scheme_id": "equipment",
    "amount": "48250.00",
    "effective_date": "2025-07-15",
    "reference": "INV-20931",
}


class ExpenditureCreate(BaseModel):
    model_config = request_config(_SPEND)
    scheme_id: Slug
    amount: Amount
    effective_date: Day
    reference: Reference
    prior_period_adjustment: StrictBool = False

    def command(self, pool: str) -> c.RecordExpenditure:
        return c.RecordExpenditure(pool_id=pool, **self.model_dump())


class CreditCreate(BaseModel):
    model_config = request_config({**_SPEND, "reference": "CN-1182"})
    scheme_id: Slug
    amount: Amount
    effective_date: Day
    reference: Reference
    credits_event_id: EventId | None = None
    prior_period_adjustment: StrictBool = False

    def command(self, pool: str) -> c.CreditExpenditure:
        return c.CreditExpenditure(pool_id=pool, **self.model_dump())


class PartyIn(BaseModel):
    model_config = request_config({"partner_id": "icb-a"})
    partner_id: Slug | None = None
    pool_id: Slug | None = None

    def party(self) -> Party:
        return Party(partner_id=self.partner_id, pool_id=self.pool_id)


class TransferCreate(BaseModel):
    model_config = request_config(
        {
            "pool_id": "eq",
            "from": {"partner_id": "icb-a"},
            "to": {"partner_id": "ncc"},
            "amount": "75000.00",
            "purpose": "s256",
            "effective_date": "2025-08-01",
            "reference": "s256 agreement 2025/03",
        }
    )
    pool_id: Slug
    from_: PartyIn = Field(alias="from")
    to: PartyIn
    amount: Amount
    purpose: Literal["s256", "s75", "other"]
    effective_date: Day
    reference: Reference
    prior_period_adjustment: StrictBool = False

    def command(self) -> c.PostTransfer:
        return c.PostTransfer(
            pool_id=self.pool_id,
            from_party=self.from_.party(),
            to_party=self.to.party(),
            amount=self.amount,
            purpose=self.purpose,
            effective_date=self.effective_date,
            reference=self.reference,
            prior_period_adjustment=self.prior_period_adjustment,
        )


class ForecastCreate(BaseModel):
    model_config = request_config(
        {"year": "2025-26", "amount": "3600000.00", "as_of_date": "2025-09-30"}
    )
    year: Year
    amount: AmountOrZero
    scheme_id: Slug | None = Field(None, description="omit for the whole pool's forecast")
    as_of_date: Day

    def command(self, pool: str) -> c.RecordForecast:
        return c.RecordForecast(pool_id=pool, **self.model_dump())


class RiskRewardResultCreate(BaseModel):
    model_config = request_config(
        {
            "scheme_id": "rapid-response",
            "period": "2025-26-Q2",
            "costs": {"ncc": "300000.00"},
            "savings": {"icb": "500000.00"},
        }
    )
    scheme_id: Slug
    period: PeriodLabel
    costs: dict[Slug, AmountOrZero] = Field(max_length=200)
    savings: dict[Slug, AmountOrZero] = Field(max_length=200)
    prior_period_adjustment: StrictBool = False

    def command(self, pool: str) -> c.RecordRiskRewardResult:
        return c.RecordRiskRewardResult(
            pool_id=pool,
            scheme_id=self.scheme_id,
            period=self.period,
            costs=tuple(PartnerAmount(partner_id=k, amount=a) for k, a in self.costs.items()),
            savings=tuple(PartnerAmount(partner_id=k, amount=a) for k, a in self.savings.items()),
            prior_period_adjustment=self.prior_period_adjustment,
        )


class PopulationCreate(BaseModel):
    model_config = request_config(
        {"unit_id": "north", "cohort": "65-84", "count": 15000, "effective_date": "2025-04-01"}
    )
    unit_id: Slug
    cohort: Cohort
    count: Count
    effective_date: Day
    prior_period_adjustment: StrictBool = False

    def command(self, pool: str) -> c.RecordPopulation:
        return c.RecordPopulation(pool_id=pool, **self.model_dump())


class OutcomeAssessmentCreate(BaseModel):
    model_config = request_config(
        {
            "service_id": "hc-bassetlaw-q1",
            "outcome_id": "independence",
            "period": "2025-26-Q1",
            "met": True,
            "assessed_on": "2025-07-20",
        }
    )
    service_id: Slug
    outcome_id: Slug
    period: PeriodLabel
    met: StrictBool
    assessed_on: Day
    prior_period_adjustment: StrictBool = False

    def command(self, pool: str) -> c.AssessOutcome:
        return c.AssessOutcome(pool_id=pool, **self.model_dump())


class MetricCreate(BaseModel):
    model_config = request_config(
        {"metric_id": "ed-attendances", "period": "2025-26-Q2", "target": "1200", "actual": "1236"}
    )
    metric_id: Ident
    period: PeriodLabel
    target: DecimalStr
    actual: DecimalStr
    prior_period_adjustment: StrictBool = False

    def command(self, pool: str) -> c.RecordMetric:
        return c.RecordMetric(pool_id=pool, **self.model_dump())


class ReversalCreate(BaseModel):
    model_config = request_config({"reason": "Posted to the wrong partner; reposted as event 5521"})
    reason: Note
    prior_period_adjustment: StrictBool = False

    def command(self, event_id: str) -> c.ReverseEvent:
        return c.ReverseEvent(event_id=event_id, **self.model_dump())


# --- responses: events ------------------------------------------------------------------------

MONEY_KEYS = frozenset(
    {
        "amount",
        "planned",
        "budget",
        "excluded_personal_budgets",
        "rate",
        "up_to",
        "variance",
        "carried_forward",
    }
)


def money_as_strings(value: Any, key: str | None = None) -> Any:
    """A stored payload with each amount of pence written as a decimal string of pounds."""
    if isinstance(value, dict):
        return {k: money_as_strings(x, k) for k, x in value.items()}
    if isinstance(value, list):
        return [money_as_strings(x, key) for x in value]
    if key in MONEY_KEYS and isinstance(value, int) and not isinstance(value, bool):
        return format_pence(value)
    return value


_EVENT_EXAMPLE: dict[str, Any] = {
    "event_id": "0b7a1f66-3c55-4a37-9a4e-2f1d6f0f8a11",
    "position": 42,
    "recorded_at": "2025-07-01T09:47:50.123456Z",
    "type": "contribution_posted",
    "stream_id": "pool:eq",
    "effective_date": "2025-07-01",
    "pool_id": "eq",
    "partner_id": "city",
    "funding_stream": "contribution",
    "amount": "250000.00",
    "year": "2025-26",
    "reference": "BACS 4471",
    "prior_period_adjustment": False,
}


class EventPublic(BaseModel):
    """One recorded fact: its envelope, then the fact as stored (amounts as strings)."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [_EVENT_EXAMPLE]})
    event_id: str
    position: int
    recorded_at: str
    type: str
    stream_id: str
    effective_date: date | None = None


class WriteResult(EventPublic):
    """What a write recorded. The top-level fields are its (last) event's; ``events``
    lists every event it recorded, in order (a plan also records, the first time, the
    reference data it was checked against)."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={"examples": [{**_EVENT_EXAMPLE, "events": [_EVENT_EXAMPLE]}]},
    )
    events: list[EventPublic]


def event_public(e: StoredEvent) -> EventPublic:
    fact = money_as_strings(json.loads(e.payload))
    head = {
        "event_id": e.event_id,
        "position": e.position,
        "recorded_at": e.recorded_at,
        "type": e.type,
        "stream_id": e.stream_id,
        "effective_date": e.effective_date,
    }
    return EventPublic.model_validate({**fact, **head})


def write_result(events: Sequence[StoredEvent]) -> WriteResult:
    if not events:  # pragma: no cover - every accepted command records a fact
        raise ValueError("a write recorded nothing")
    each = [event_public(e) for e in events]
    return WriteResult.model_validate(
        {**each[-1].model_dump(), "events": [x.model_dump() for x in each]}
    )


class ImportResult(BaseModel):
    model_config = response_config(
        {"imported": 2, "first_position": 43, "last_position": 44, "events": [_EVENT_EXAMPLE]}
    )
    imported: int
    first_position: int
    last_position: int
    events: list[EventPublic]


class LogEvent(BaseModel):
    """An event as the auditor sees it: every stored column (all covered by the hash
    chain), the payload exactly as stored (pence) and the fact with amounts as strings."""

    model_config = response_config(
        {
            "position": 42,
            "event_id": "0b7a1f66-3c55-4a37-9a4e-2f1d6f0f8a11",
            "stream_id": "pool:eq",
            "stream_version": 7,
            "type": "contribution_posted",
            "schema_version": 1,
            "effective_date": "2025-07-01",
            "recorded_at": "2025-07-01T09:47:50.123456Z",
            "actor": "Officer of city",
            "actor_role": "finance_officer",
            "actor_partner_id": "city",
            "token_id": "tok_3kq",
            "request_id": "9d1f0c1e2b",
            "request_meta": '{"client_ip": "10.0.0.7", "user_agent": "curl/8.5"}',
            "pool_id": "eq",
            "partner_id": "city",
            "counterparty_id": None,
            "scheme_id": None,
            "funding_stream": "contribution",
            "year": "2025-26",
            "period": "2025-26-Q2",
            "reverses_event_id": None,
            "hash": "9f2c…",
            "payload": {"amount": 25000000, "partner_id": "city"},
            "fact": {"amount": "250000.00", "partner_id": "city"},
        }
    )
    position: int
    event_id: str
    stream_id: str
    stream_version: int
    type: str
    schema_version: int
    effective_date: date | None
    recorded_at: str
    actor: str
    actor_role: str
    actor_partner_id: str | None
    token_id: str | None
    request_id: str | None
    request_meta: str | None = Field(
        description="the client's address and user agent, as stored (JSON text, hashed as is)"
    )
    pool_id: str | None
    partner_id: str | None
    counterparty_id: str | None
    scheme_id: str | None
    funding_stream: str | None
    year: str | None
    period: str | None
    reverses_event_id: str | None
    hash: str
    payload: dict[str, Any]
    fact: dict[str, Any]


def log_event(e: StoredEvent) -> LogEvent:
    payload = json.loads(e.payload)
    return LogEvent(
        position=e.position,
        event_id=e.event_id,
        stream_id=e.stream_id,
        stream_version=e.stream_version,
        type=e.type,
        schema_version=e.schema_version,
        effective_date=e.effective_date,
        recorded_at=e.recorded_at,
        actor=e.actor,
        actor_role=e.actor_role,
        actor_partner_id=e.actor_partner_id,
        token_id=e.token_id,
        request_id=e.request_id,
        request_meta=e.request_meta,
        pool_id=e.pool_id,
        partner_id=e.partner_id,
        counterparty_id=e.counterparty_id,
        scheme_id=e.scheme_id,
        funding_stream=e.funding_stream,
        year=e.year,
        period=e.period,
        reverses_event_id=e.reverses_event_id,
        hash=e.hash,
        payload=payload,
        fact=money_as_strings(payload),
    )


class EventsPage(BaseModel):
    model_config = response_config(
        {"events": [], "after": 0, "limit": 100, "next_after": None, "head_position": 42}
    )
    events: list[LogEvent]
    after: int
    limit: int
    next_after: int | None = Field(description="pass as `after` for the next page; null at the end")
    head_position: int


class VerifyPublic(BaseModel):
    model_config = response_config(
        {
            "ok": True,
            "events_checked": 1234,
            "head_hash": "5d41402abc4b2a76b9719d911017c592ae1b1e5f0cbb5b1b6b3a8e8b3c1f2a9d",
            "head_position": 1234,
            "first_bad_position": None,
            "problem": None,
        }
    )
    ok: bool
    events_checked: int
    head_hash: str
    head_position: int
    first_bad_position: int | None = None
    problem: str | None = None


class Health(BaseModel):
    model_config = response_config({"status": "ok", "database": "ok", "head_position": 1234})
    status: Literal["ok", "unavailable"]
    database: str
    head_position: int | None = None


# --- responses: parties and pools ----------------------------------------------------------


class PartnerPublic(BaseModel):
    model_config = response_config(
        {
            "id": "ncc",
            "name": "Nottinghamshire County Council",
            "kind": "local_authority",
            "ods_code": None,
            "ons_code": "E10000024",
        }
    )
    id: str
    name: str
    kind: str
    ods_code: str | None = None
    ons_code: str | None = None


class PartnersPublic(BaseModel):
    model_config = response_config(
        {
            "as_at_position": 12,
            "partners": [
                {"id": "ncc", "name": "Nottinghamshire County Council", "kind": "local_authority"}
            ],
        }
    )
    as_at_position: int
    partners: list[PartnerPublic]


def partner_public(x: v.PartnerView) -> PartnerPublic:
    return PartnerPublic(
        id=x.partner_id, name=x.name, kind=x.kind, ods_code=x.ods_code, ons_code=x.ons_code
    )


class HwbAreaPublic(BaseModel):
    model_config = response_config({"name": "Nottinghamshire", "ons_code": "E10000024"})
    name: str | None
    ons_code: str | None


_POOL_EXAMPLE: dict[str, Any] = {
    "id": "eq",
    "name": "Community equipment",
    "kind": "section_75",
    "host_partner_id": "ncc",
    "members": ["city", "icb-a", "ncc"],
    "hwb_area": None,
    "years": ["2025-26"],
    "closed_quarters": ["2025-26-Q1"],
    "settled_years": [],
}


class PoolPublic(BaseModel):
    model_config = response_config(_POOL_EXAMPLE)
    id: str
    name: str
    kind: str
    host_partner_id: str
    members: list[str]
    hwb_area: HwbAreaPublic | None = None
    years: list[str] = Field(description="years with a plan in force")
    closed_quarters: list[str]
    settled_years: list[str]


class PoolDetail(PoolPublic):
    model_config = response_config({**_POOL_EXAMPLE, "as_at_position": 42})
    as_at_position: int


class PoolsPublic(BaseModel):
    model_config = response_config({"as_at_position": 42, "pools": [_POOL_EXAMPLE]})
    as_at_position: int
    pools: list[PoolPublic]


def pool_public(x: v.PoolView) -> PoolPublic:
    return PoolPublic(
        id=x.pool_id,
        name=x.name,
        kind=x.kind,
        host_partner_id=x.host_partner_id,
        members=list(x.members),
        hwb_area=HwbAreaPublic(name=x.hwb_name, ons_code=x.hwb_ons_code)
        if x.hwb_name or x.hwb_ons_code
        else None,
        years=list(x.years),
        closed_quarters=list(x.closed_quarters),
        settled_years=list(x.settled_years),
    )


# --- responses: balances and risk share ---------------------------------------------------


_PARTNER_BALANCE_EXAMPLE: dict[str, Any] = {
    "partner_id": "ncc",
    "planned": "2000000.00",
    "received": "1500000.00",
    "transfers_in": "0.00",
    "transfers_out": "0.00",
    "share": "0.5714285714",
    "risk_share": "57142.86",
    "net_obligation": "2057142.86",
    "outstanding": "557142.86",
}
_POOL_POSITION_EXAMPLE: dict[str, Any] = {
    "opening_balance": "0.00",
    "planned": "3500000.00",
    "income": "2500000.00",
    "spend": "1800000.00",
    "transfers_in": "0.00",
    "transfers_out": "0.00",
    "balance": "700000.00",
    "outturn": "3600000.00",
    "outturn_basis": "forecast",
    "variance": "100000.00",
}


class PartnerBalancePublic(BaseModel):
    model_config = response_config(_PARTNER_BALANCE_EXAMPLE)
    partner_id: str
    planned: str
    received: str
    transfers_in: str
    transfers_out: str
    share: str
    risk_share: str
    net_obligation: str
    outstanding: str


class PoolPositionPublic(BaseModel):
    model_config = response_config(_POOL_POSITION_EXAMPLE)
    opening_balance: str
    planned: str
    income: str
    spend: str
    transfers_in: str
    transfers_out: str
    balance: str
    outturn: str
    outturn_basis: v.Basis
    variance: str


class PartnerTransferPublic(BaseModel):
    model_config = response_config({"from": "icb-a", "to": "ncc", "amount": "75000.00"})
    from_: str = Field(serialization_alias="from")
    to: str
    amount: str


class TracedEvent(BaseModel):
    model_config = response_config(
        {
            "position": 42,
            "event_id": "0b7a1f66-3c55-4a37-9a4e-2f1d6f0f8a11",
            "type": "contribution_posted",
            "amount": "250000.00",
            "effective_date": "2025-07-01",
        }
    )
    position: int
    event_id: str | None = None
    type: str | None = None
    amount: str | None = None
    effective_date: date | None = None


class TracePublic(BaseModel):
    model_config = response_config(
        {
            "figure": "partner:ncc:received",
            "value": "1500000.00",
            "positions": [42, 57],
            "events": [],
        }
    )
    figure: str
    value: str | None = None
    positions: list[int]
    events: list[TracedEvent] = Field(default_factory=list)


def traced_event(e: StoredEvent) -> TracedEvent:
    data = json.loads(e.payload)
    amount = data.get("amount")
    return TracedEvent(
        position=e.position,
        event_id=e.event_id,
        type=e.type,
        amount=format_pence(amount) if isinstance(amount, int) else None,
        effective_date=e.effective_date,
    )


class BalancesPublic(BaseModel):
    """6.1: each partner's position and the pool's, for a year, as at a position."""

    model_config = response_config(
        {
            "pool_id": "eq",
            "year": "2025-26",
            "as_at_position": 1234,
            "partners": [_PARTNER_BALANCE_EXAMPLE],
            "pool": _POOL_POSITION_EXAMPLE,
            "partner_transfers": [],
        }
    )
    pool_id: str
    year: str
    as_at_position: int
    partners: list[PartnerBalancePublic]
    pool: PoolPositionPublic
    partner_transfers: list[PartnerTransferPublic] = Field(default_factory=list)
    trace: TracePublic | None = None


def balances_figure(b: BalancesPublic, figure: str) -> str | None:
    """The value a traced figure has in these balances, when it is one of theirs."""
    parts = figure.split(":")
    if len(parts) == 2 and parts[0] == "pool":
        found = b.pool.model_dump().get(parts[1])
        return found if isinstance(found, str) else None
    if len(parts) == 3 and parts[0] == "partner":
        row = next((x for x in b.partners if x.partner_id == parts[1]), None)
        found = row.model_dump().get(parts[2]) if row is not None else None
        return found if isinstance(found, str) else None
    return None


def balances_public(b: v.Balances) -> BalancesPublic:
    f = format_pence
    pool = b.pool
    return BalancesPublic(
        pool_id=b.pool_id,
        year=b.year,
        as_at_position=b.as_at_position,
        partners=[
            PartnerBalancePublic(
                partner_id=x.partner_id,
                planned=f(x.planned),
                received=f(x.received),
                transfers_in=f(x.transfers_in),
                transfers_out=f(x.transfers_out),
                share=format_fraction(x.share, 10),
                risk_share=f(x.risk_share),
                net_obligation=f(x.net_obligation),
                outstanding=f(x.outstanding),
            )
            for x in b.partners
        ],
        pool=PoolPositionPublic(
            opening_balance=f(pool.opening_balance),
            planned=f(pool.planned),
            income=f(pool.income),
            spend=f(pool.spend),
            transfers_in=f(pool.transfers_in),
            transfers_out=f(pool.transfers_out),
            balance=f(pool.balance),
            outturn=f(pool.outturn),
            outturn_basis=pool.outturn_basis,
            variance=f(pool.variance),
        ),
        partner_transfers=[
            PartnerTransferPublic(from_=a, to=b_, amount=f(amt))
            for a, b_, amt in b.partner_transfers
        ],
    )


BALANCE_CSV_COLUMNS = (
    "partner_id",
    "planned",
    "received",
    "transfers_in",
    "transfers_out",
    "share",
    "risk_share",
    "net_obligation",
    "outstanding",
)
POOL_CSV_FIELDS = (
    "opening_balance",
    "planned",
    "income",
    "spend",
    "transfers_in",
    "transfers_out",
    "balance",
    "outturn",
    "outturn_basis",
    "variance",
)


def balances_csv_rows(b: BalancesPublic) -> list[list[str]]:
    """The balances as CSV: one row per partner, a blank row, then the pool's figures."""
    rows: list[list[str]] = [
        [f"pool_id={b.pool_id}", f"year={b.year}", f"as_at_position={b.as_at_position}"],
        list(BALANCE_CSV_COLUMNS),
    ]
    for x in b.partners:
        d = x.model_dump()
        rows.append([str(d[k]) for k in BALANCE_CSV_COLUMNS])
    rows.append([])
    rows.append(["pool_figure", "value"])
    pd = b.pool.model_dump()
    rows += [[k, str(pd[k])] for k in POOL_CSV_FIELDS]
    return rows


class AllocationPublic(BaseModel):
    model_config = response_config({"partner_id": "ncc", "amount": "57142.86"})
    partner_id: str
    amount: str


class RiskSharePublic(BaseModel):
    """6.2: the variance, the rule applied and each partner's share."""

    model_config = response_config(
        {
            "pool_id": "eq",
            "year": "2025-26",
            "as_at_position": 1234,
            "variance": "100000.00",
            "direction": "overspend",
            "basis": "forecast",
            "settled": False,
            "method": "proportional",
            "rule": {"method": "proportional"},
            "allocations": [
                {"partner_id": "city", "amount": "28571.43"},
                {"partner_id": "icb-a", "amount": "14285.71"},
                {"partner_id": "ncc", "amount": "57142.86"},
            ],
            "carried_forward": "0.00",
        }
    )
    pool_id: str
    year: str
    as_at_position: int
    variance: str
    direction: v.Direction
    basis: v.Basis
    settled: bool
    method: str
    rule: dict[str, Any]
    allocations: list[AllocationPublic]
    carried_forward: str
    trace: TracePublic | None = None


def rule_public(rule: Mapping[str, Any]) -> dict[str, Any]:
    """A stored risk rule in the shape a plan is sent in: shares and caps as maps,
    amounts as strings."""
    if not rule:
        return {}
    r = p.RiskRule.model_validate(rule)
    out: dict[str, Any] = {"method": r.method}
    if r.shares:
        out["shares"] = {s.partner_id: str(s.pct) for s in r.shares}
    if r.tiers:
        out["tiers"] = [
            {
                "up_to": None if t.up_to is None else format_pence(t.up_to),
                "shares": {s.partner_id: str(s.pct) for s in t.shares},
            }
            for t in r.tiers
        ]
    if r.caps:
        out["caps"] = {cap.partner_id: format_pence(cap.amount) for cap in r.caps}
    return out


def risk_share_public(x: v.RiskShareView) -> RiskSharePublic:
    return RiskSharePublic(
        pool_id=x.pool_id,
        year=x.year,
        as_at_position=x.as_at_position,
        variance=format_pence(x.variance),
        direction=x.direction,
        basis=x.basis,
        settled=x.settled,
        method=x.method,
        rule=rule_public(x.rule),
        allocations=[
            AllocationPublic(partner_id=k, amount=format_pence(a)) for k, a in x.allocations
        ],
        carried_forward=format_pence(x.carried_forward),
    )


# --- responses: alliance reads ----------------------------------------------------------------


class RiskRewardPartnerPublic(BaseModel):
    model_config = response_config(
        {
            "partner_id": "icb",
            "costs": "0.00",
            "savings": "500000.00",
            "outcome": "100000.00",
            "transfer": "-400000.00",
        }
    )
    partner_id: str
    costs: str
    savings: str
    outcome: str
    transfer: str


class SettlementPublic(BaseModel):
    model_config = response_config({"from": "icb", "to": "ncc", "amount": "400000.00"})
    from_: str = Field(serialization_alias="from")
    to: str
    amount: str


class RiskRewardSchemePublic(BaseModel):
    model_config = response_config(
        {
            "scheme_id": "rapid-response",
            "name": "Rapid response",
            "net_benefit": "200000.00",
            "partners": [],
            "settlements": [{"from": "icb", "to": "ncc", "amount": "400000.00"}],
        }
    )
    scheme_id: str
    name: str
    net_benefit: str
    partners: list[RiskRewardPartnerPublic]
    settlements: list[SettlementPublic]


class RiskRewardPublic(BaseModel):
    """6.3: gain/loss share per scheme for a period."""

    model_config = response_config(
        {"pool_id": "alliance", "period": "2025-26-Q2", "as_at_position": 88, "schemes": []}
    )
    pool_id: str
    period: str
    as_at_position: int
    schemes: list[RiskRewardSchemePublic]


def risk_reward_public(x: v.RiskRewardView) -> RiskRewardPublic:
    f = format_pence
    return RiskRewardPublic(
        pool_id=x.pool_id,
        period=x.period,
        as_at_position=x.as_at_position,
        schemes=[
            RiskRewardSchemePublic(
                scheme_id=s.scheme_id,
                name=s.name,
                net_benefit=f(s.net_benefit),
                partners=[
                    RiskRewardPartnerPublic(
                        partner_id=pp.partner_id,
                        costs=f(pp.costs),
                        savings=f(pp.savings),
                        outcome=f(pp.outcome),
                        transfer=f(pp.transfer),
                    )
                    for pp in s.partners
                ],
                settlements=[
                    SettlementPublic(from_=a, to=b, amount=f(amt)) for a, b, amt in s.settlements
                ],
            )
            for s in x.schemes
        ],
    )


class UnitCapitationPublic(BaseModel):
    model_config = response_config(
        {
            "unit_id": "north",
            "weighted_population": {"Q1": "129500", "Q2": "129500", "Q3": "129500", "Q4": "129500"},
            "annual": "5258883.25",
            "quarters": {
                "Q1": "1314720.82",
                "Q2": "1314720.81",
                "Q3": "1314720.81",
                "Q4": "1314720.81",
            },
        }
    )
    unit_id: str
    weighted_population: dict[str, str]
    annual: str
    quarters: dict[str, str]


class CapitationPublic(BaseModel):
    """6.4: the capitated budget shared by weighted population, annual and per quarter."""

    model_config = response_config(
        {
            "pool_id": "alliance",
            "year": "2025-26",
            "as_at_position": 88,
            "budget": "12000000.00",
            "excluded_personal_budgets": "1500000.00",
            "units": [],
            "unallocated": {},
        }
    )
    pool_id: str
    year: str
    as_at_position: int
    budget: str
    excluded_personal_budgets: str
    units: list[UnitCapitationPublic]
    unallocated: dict[str, str] = Field(description="quarter -> why it was not allocated")


def _fraction_text(x: Fraction) -> str:
    return str(x.numerator) if x.denominator == 1 else format_fraction(x, 4)


def capitation_public(x: v.CapitationView) -> CapitationPublic:
    return CapitationPublic(
        pool_id=x.pool_id,
        year=x.year,
        as_at_position=x.as_at_position,
        budget=format_pence(x.budget),
        excluded_personal_budgets=format_pence(x.excluded_personal_budgets),
        units=[
            UnitCapitationPublic(
                unit_id=u.unit_id,
                weighted_population={
                    q: _fraction_text(w) for q, w in u.weighted_population.items()
                },
                annual=format_pence(u.annual),
                quarters={q: format_pence(a) for q, a in u.quarters.items()},
            )
            for u in x.units
        ],
        unallocated=dict(x.unallocated),
    )


class OutcomePartPublic(BaseModel):
    model_config = response_config({"outcome_id": "independence", "amount": "4250.00", "met": True})
    outcome_id: str
    amount: str
    met: bool | None = Field(description="null while not assessed")


class ServicePaymentPublic(BaseModel):
    model_config = response_config(
        {
            "service_id": "hc-bassetlaw-q1",
            "period": "2025-26-Q1",
            "commissioned_value": "170000.00",
            "base": "161500.00",
            "released": "4250.00",
            "total": "165750.00",
            "outcomes": [{"outcome_id": "independence", "amount": "4250.00", "met": True}],
        }
    )
    service_id: str
    period: str
    commissioned_value: str
    base: str
    released: str
    total: str
    outcomes: list[OutcomePartPublic]


class ProviderPaymentPublic(BaseModel):
    model_config = response_config(
        {
            "provider_id": "mears",
            "commissioned_value": "170000.00",
            "base": "161500.00",
            "released": "4250.00",
            "total": "165750.00",
            "services": [],
        }
    )
    provider_id: str
    commissioned_value: str
    base: str
    released: str
    total: str
    services: list[ServicePaymentPublic]


class OutcomePaymentsPublic(BaseModel):
    """6.5: base and outcome-released payments per provider for a period."""

    model_config = response_config(
        {"pool_id": "alliance", "period": "2025-26-Q1", "as_at_position": 88, "providers": []}
    )
    pool_id: str
    period: str
    as_at_position: int
    providers: list[ProviderPaymentPublic]


def outcome_payments_public(x: v.OutcomePaymentsView) -> OutcomePaymentsPublic:
    f = format_pence
    return OutcomePaymentsPublic(
        pool_id=x.pool_id,
        period=x.period,
        as_at_position=x.as_at_position,
        providers=[
            ProviderPaymentPublic(
                provider_id=pr.provider_id,
                commissioned_value=f(pr.commissioned_value),
                base=f(pr.base),
                released=f(pr.released),
                total=f(pr.total),
                services=[
                    ServicePaymentPublic(
                        service_id=s.service_id,
                        period=s.period,
                        commissioned_value=f(s.commissioned_value),
                        base=f(s.base),
                        released=f(s.released),
                        total=f(s.total),
                        outcomes=[
                            OutcomePartPublic(outcome_id=o, amount=f(a), met=met)
                            for o, a, met in s.outcomes
                        ],
                    )
                    for s in pr.services
                ],
            )
            for pr in x.providers
        ],
    )


class MetricPublic(BaseModel):
    model_config = response_config(
        {
            "metric_id": "ed-attendances",
            "name": "Emergency department attendances",
            "unit": "attendances",
            "lower_is_better": True,
            "period": "2025-26-Q2",
            "target": "1200",
            "actual": "1236",
            "status": "amber",
        }
    )
    metric_id: str
    name: str
    unit: str
    lower_is_better: bool
    period: str
    target: str
    actual: str
    status: Literal["green", "amber", "red"]


class MetricsPublic(BaseModel):
    """6.6: each metric's target, actual and status."""

    model_config = response_config(
        {"pool_id": "alliance", "period": "2025-26-Q2", "as_at_position": 88, "metrics": []}
    )
    pool_id: str
    period: str
    as_at_position: int
    metrics: list[MetricPublic]


def metrics_public(x: v.MetricsView) -> MetricsPublic:
    return MetricsPublic(
        pool_id=x.pool_id,
        period=x.period,
        as_at_position=x.as_at_position,
        metrics=[
            MetricPublic(
                metric_id=m.metric_id,
                name=m.name,
                unit=m.unit,
                lower_is_better=m.lower_is_better,
                period=m.period,
                target=m.target,
                actual=m.actual,
                status=m.status,
            )
            for m in x.metrics
        ],
    )

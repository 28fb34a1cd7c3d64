"""The checks the deciders share: ids, pool membership, open periods, years, streams,
schemes, amounts and texts. Each raises the domain error naming the field: a check of
shape (an id's form, a positive amount, a text) ``ValidationFailed``; a check against
what the ledger holds or of one field against another (membership, streams, schemes,
the pool's life, limits) ``RuleViolation``, which the API documents as a refusal by
rule (the OpenAPI document states every rule of shape, but cannot state these)."""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache
from typing import Any

from ledger.domain.deciders.context import Context
from ledger.domain.errors import (
    FieldError,
    NotFound,
    PeriodClosed,
    RuleViolation,
    ValidationFailed,
)
from ledger.domain.money import format_pence
from ledger.domain.periods import FinancialYear, Quarter, parse_year
from ledger.domain.state import PoolState

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,39}$")


def check_slug(value: str, name: str) -> None:
    if not SLUG.match(value):
        raise ValidationFailed.field(
            name, f"'{value}' is not an id: use 2-40 lower-case letters, digits and hyphens"
        )


def pool_in_context(ctx: Context, pool_id: str) -> PoolState:
    if ctx.pool is None or ctx.pool.pool_id != pool_id:
        raise NotFound(f"pool '{pool_id}' does not exist")
    return ctx.pool


def check_member(pool: PoolState, partner_id: str, name: str = "partner_id") -> None:
    if partner_id not in pool.members:
        raise RuleViolation.field(name, f"'{partner_id}' is not a member of pool '{pool.pool_id}'")


def check_open_or_adjustment(
    pool: PoolState, when: date, ppa: bool, name: str = "effective_date"
) -> None:
    q = Quarter.of(when).label
    if pool.is_closed(q):
        if not ppa:
            raise PeriodClosed(
                f"{q} is closed for pool '{pool.pool_id}'; post it as a prior-period "
                "adjustment (prior_period_adjustment: true) to have it reported in the next return",
                errors=(FieldError(name, f"falls in closed quarter {q}"),),
            )
    elif ppa:
        raise RuleViolation.field(
            "prior_period_adjustment", f"{q} is not closed for pool '{pool.pool_id}'; post normally"
        )


def year_for(effective: date, year: str | None, name: str = "year") -> str:
    natural = FinancialYear.of(effective)
    if year is None:
        return natural.label
    fy = parse_year(year, name)
    if abs(fy.start_year - natural.start_year) > 1:
        raise RuleViolation.field(
            name, f"{fy.label} is too far from the effective date's year {natural.label}"
        )
    return fy.label


def check_stream(pool: PoolState, ctx: Context, year: str, stream: str, name: str) -> None:
    if pool.kind == "bcf":
        ref = ctx.reference.for_year(year)
        if ref is None:
            raise RuleViolation.field("year", f"no BCF reference data for {year}")
        if stream not in ref.stream_ids():
            raise RuleViolation.field(
                name,
                f"'{stream}' is not a BCF funding stream in {year} "
                f"(one of: {', '.join(sorted(ref.stream_ids()))})",
            )
        return
    plan = pool.plan(year)
    allowed = {p.funding_stream for p in plan.contributions} if plan else set()
    allowed |= {s.funding_stream for s in plan.schemes} if plan else set()
    allowed.add("contribution")
    if stream not in allowed:
        raise RuleViolation.field(
            name, f"'{stream}' is not a funding stream of pool '{pool.pool_id}' in {year}"
        )


def scheme_in_plan(pool: PoolState, year: str, scheme_id: str, name: str = "scheme_id") -> Any:
    plan = pool.plan(year)
    scheme = plan.scheme(scheme_id) if plan else None
    if scheme is None:
        raise RuleViolation.field(
            name, f"'{scheme_id}' is not a scheme in pool '{pool.pool_id}''s plan for {year}"
        )
    return scheme


def check_positive(amount: int, name: str = "amount") -> None:
    if amount <= 0:
        raise ValidationFailed.field(name, "must be more than zero")


def check_text(value: str, name: str, *, max_len: int = 500, required: bool = True) -> None:
    if required and not value.strip():
        raise ValidationFailed.field(name, "must not be empty")
    if len(value) > max_len:
        raise ValidationFailed.field(name, f"must be at most {max_len} characters")


class CheckedAroundStandIns(ValidationFailed):
    """What ``Problems.raise_any`` raises when some fields were refused for their shape:
    the errors of the checks that read none of them. Only errors raised so are reported
    beside shape errors (``Ledger.rule_errors``); any other error met while deciding with
    stand-ins may have read one, and is dropped."""


class Problems:
    """Every field error of one command, reported together in one error (a body with
    a bad funding stream and a date outside the pool's life names both): a
    ``RuleViolation`` when every error is one, else ``ValidationFailed`` (a shape error
    among them makes the request malformed).

    Each independent check runs inside ``with problems.check(*inputs):``; a check whose
    input an earlier one refused is skipped by its decider. ``refused``: the body's
    fields the edge refused for their shape (``Context.refused``); a check naming one
    of them among its ``inputs`` read a stand-in, so what it finds is dropped, and
    ``raise_any`` always raises (the command is only being checked)."""

    def __init__(self, refused: frozenset[str] = frozenset()) -> None:
        self.errors: list[FieldError] = []
        self.shape = False  # some error is of shape, not a rule
        self.refused = refused
        self._inputs: tuple[str, ...] = ()

    def check(self, *inputs: str) -> Problems:
        """A context that keeps a ``ValidationFailed`` raised in it and lets anything
        else through (a class, not ``@contextmanager``: it runs several times on every
        posting, and a generator-based context costs about five calls each). Checks do
        not nest, so the inputs of the one running are kept on ``self``."""
        self._inputs = inputs
        return self

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, e: BaseException | None, tb: Any) -> bool:
        if not isinstance(e, ValidationFailed):
            return False
        if self.refused and self.refused.intersection(self._inputs):
            return True
        self.errors.extend(e.errors or (FieldError("", e.detail),))
        self.shape = self.shape or not isinstance(e, RuleViolation)
        return True

    def raise_any(self) -> None:
        if self.refused:
            detail = "; ".join(f"{e.field}: {e.message}" for e in self.errors)
            raise CheckedAroundStandIns(
                detail or "fields refused for their shape", errors=tuple(self.errors)
            )
        if self.errors:
            detail = "; ".join(f"{e.field}: {e.message}" for e in self.errors)
            kind = ValidationFailed if self.shape else RuleViolation
            raise kind(detail, errors=tuple(self.errors))


def life_of(pool: PoolState) -> tuple[str, str] | None:
    """The financial years a dated fact of the pool may fall in: from its first plan
    year up to the year after its latest (plans are often agreed after 1 April, and
    money flows meanwhile). None while the pool has no plan."""
    if not pool.plans:
        return None
    return _life(min(pool.plans), max(pool.plans))


@lru_cache(maxsize=256)
def _life(first: str, latest: str) -> tuple[str, str]:
    """``life_of`` from the first and latest plan years: a function of the two labels
    alone, so kept per pair (every dated posting asks; parsing a year is a regex)."""
    return first, FinancialYear(parse_year(latest).start_year + 1).label


def check_in_life(pool: PoolState, year: str, name: str) -> None:
    """A dated fact must fall in the pool's life (domain.md 5, "A pool's life")."""
    life = life_of(pool)
    if life is None:
        raise RuleViolation.field(
            name,
            f"{year} is not in pool '{pool.pool_id}''s life: it has no plan yet; "
            "agree a plan first",
        )
    first, last = life
    if not first <= year <= last:
        raise RuleViolation.field(
            name,
            f"{year} is not in pool '{pool.pool_id}''s life: a dated fact falls in "
            f"{first} (its first plan year) to {last} (the year after its latest plan)",
        )


def check_limit(amount: int, most: int, what: str, name: str = "amount") -> None:
    """A refund or credit note may not exceed ``most`` (never less than zero)."""
    most = max(most, 0)
    if amount > most:
        raise RuleViolation.field(name, f"{what}: at most {format_pence(most)}")

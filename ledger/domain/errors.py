"""The one error tree of the ledger.

    LedgerError                      base; carries a title and a detail for people
    +-- ValidationFailed (422)       bad input; ``errors`` names each field (and CSV line)
    |   +-- RuleViolation (422)      well-formed (every rule of shape the API documents is
    |                                met) but against a rule of the agreement or of what
    |                                the ledger holds: an unknown partner, stream or
    |                                scheme, a date outside the pool's life, a refund over
    |                                what was paid, a plan's cross-checks
    +-- NotFound (404)               an unknown partner, pool, scheme, event, return
    +-- Forbidden (403)              the actor's role or partner may not do this
    +-- Conflict (409)               the request clashes with what the ledger holds
        +-- AlreadyExists            a partner, pool or filed return that exists
        +-- PeriodClosed             a dated fact in a closed quarter, not marked as
        |                            a prior-period adjustment
        +-- AlreadyReversed          an event can be reversed once
        +-- ReturnIncomplete         approving a return with a required part missing
        +-- ConcurrencyError         a stream changed under the writer (unique key)
        +-- IdempotencyConflict      the same key was used with a different request

The API maps this tree to problem+json in one place (``api/errors.py``); the CLI
prints ``title: detail``. Messages name the pool, period and what to do next.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Self


@dataclass(frozen=True)
class FieldError:
    """One bad field: a dotted path (``amount``, ``from.partner_id``) and why."""

    field: str
    message: str
    line: int | None = None  # for CSV imports: the 1-based line of the file


class LedgerError(Exception):
    status = 400
    title = "Request refused"
    code = "ledger-error"

    def __init__(self, detail: str, *, errors: tuple[FieldError, ...] = ()) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors


class ValidationFailed(LedgerError):
    status = 422
    title = "Invalid input"
    code = "validation"

    @classmethod
    def field(cls, field: str, message: str) -> Self:
        return cls(f"{field}: {message}", errors=(FieldError(field, message),))


class RuleViolation(ValidationFailed):
    """A request of the right shape refused by a rule (the API answers it as the
    documented ``rule-violation`` problem, not ``validation``). A kind of
    ``ValidationFailed``, so one request's shape and rule errors are gathered together
    (``Problems``) and both are answered 422 naming each field."""

    status = 422
    title = "Against the rules of the agreement"
    code = "rule-violation"


class NotFound(LedgerError):
    status = 404
    title = "Not found"
    code = "not-found"


class Forbidden(LedgerError):
    status = 403
    title = "Forbidden"
    code = "forbidden"


class Conflict(LedgerError):
    status = 409
    title = "Conflict"
    code = "conflict"


class AlreadyExists(Conflict):
    title = "Already exists"
    code = "already-exists"


class PeriodClosed(Conflict):
    title = "Period closed"
    code = "period-closed"


class AlreadyReversed(Conflict):
    title = "Already reversed"
    code = "already-reversed"


class ReturnIncomplete(Conflict):
    """A return approved while a required part is missing; ``errors`` names each part."""

    title = "Return incomplete"
    code = "return-incomplete"


class ConcurrencyError(Conflict):
    title = "Concurrent change"
    code = "concurrency"


class IdempotencyConflict(Conflict):
    title = "Idempotency key reused with a different request"
    code = "idempotency-conflict"

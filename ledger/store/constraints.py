"""Database refusals classified by the constraint that refused, never by message text.

The unique keys are the ledger's last word on races (two writers deciding against the
same state): each is named here with the ledger error it means. PostgreSQL names the
constraint (psycopg's ``diag.constraint_name``); SQLite names none, but reports the
table and columns of the unique key (``SQLITE_CONSTRAINT_UNIQUE`` /
``SQLITE_CONSTRAINT_PRIMARYKEY``, "table.column, ..."), which identify it through the
tables' own metadata. Two partial keys share columns on SQLite (a return filed and a
quarter closed: pool and period); both mean the same error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ledger.domain.errors import AlreadyExists, AlreadyReversed, ConcurrencyError, LedgerError


@dataclass(frozen=True)
class Refusal:
    table: str
    columns: tuple[str, ...]
    error: Callable[[str], LedgerError]
    detail: str


REFUSALS: dict[str, Refusal] = {
    "uq_events_stream_version": Refusal(
        "events",
        ("stream_id", "stream_version"),
        ConcurrencyError,
        "the stream changed while this request was decided; retry it",
    ),
    "uq_events_reverses_event_id": Refusal(
        "events", ("reverses_event_id",), AlreadyReversed, "that event is already reversed"
    ),
    "uq_events_return_filed": Refusal(
        "events",
        ("pool_id", "period"),
        AlreadyExists,
        "a return for that quarter is already filed",
    ),
    "uq_events_period_closed": Refusal(
        "events", ("pool_id", "period"), AlreadyExists, "that quarter is already closed"
    ),
    "uq_events_settled": Refusal(
        "events", ("pool_id", "year"), AlreadyExists, "that year is already settled"
    ),
    "idempotency_keys_pkey": Refusal(
        "idempotency_keys",
        ("scope",),
        ConcurrencyError,
        "a request with this Idempotency-Key was answered meanwhile; retry it to get its answer",
    ),
    "ws_pools_pkey": Refusal(
        "ws_pools", ("pool_id",), AlreadyExists, "a pool with that id already exists"
    ),
    "ws_partners_pkey": Refusal(
        "ws_partners", ("partner_id",), AlreadyExists, "a partner with that id already exists"
    ),
    "filed_documents_pkey": Refusal(
        "filed_documents",
        ("pool_id", "period", "format"),
        AlreadyExists,
        "a return for that quarter is already filed",
    ),
}
_BY_COLUMNS: dict[tuple[str, tuple[str, ...]], list[str]] = {}
for _name, _r in REFUSALS.items():
    _BY_COLUMNS.setdefault((_r.table, _r.columns), []).append(_name)


def constraint_names(exc: BaseException) -> list[str]:
    """The constraints a DBAPI integrity error (or SQLAlchemy's wrapper of one) names:
    one on PostgreSQL; on SQLite those with the unique key's table and columns."""
    orig = getattr(exc, "orig", None) or exc
    diag = getattr(orig, "diag", None)
    if diag is not None:
        name = getattr(diag, "constraint_name", None)
        return [name] if name else []
    if getattr(orig, "sqlite_errorname", "") not in (
        "SQLITE_CONSTRAINT_UNIQUE",
        "SQLITE_CONSTRAINT_PRIMARYKEY",
    ):
        return []
    # SQLite's report of a unique key: "UNIQUE constraint failed: t.a, t.b"
    _, _, listed = str(orig.args[0] if orig.args else "").partition(": ")
    pairs = [p.strip().partition(".") for p in listed.split(",")]
    tables = {t for t, _, _ in pairs}
    if len(tables) != 1:
        return []
    return list(_BY_COLUMNS.get((tables.pop(), tuple(c for _, _, c in pairs)), []))


def refusal(exc: BaseException) -> LedgerError | None:
    """The ledger error a unique key's refusal means (None: not one of the ledger's)."""
    found = [REFUSALS[n] for n in constraint_names(exc) if n in REFUSALS]
    if not found or len({r.error for r in found}) != 1:
        return None
    return found[0].error(" or ".join(dict.fromkeys(r.detail for r in found)))

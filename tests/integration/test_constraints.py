"""Database refusals classified by the constraint that refused, on SQLite and
PostgreSQL: each of the ledger's unique keys, provoked for real, becomes the ledger
error it means; a key that is none of the ledger's is not passed off as one."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine, insert, text
from sqlalchemy.exc import IntegrityError

from ledger.clock import format_instant
from ledger.domain import commands as c
from ledger.domain import events as ev
from ledger.domain.errors import AlreadyExists, AlreadyReversed, ConcurrencyError, LedgerError
from ledger.handlers import Idempotency, Ledger
from ledger.store import eventstore as es
from ledger.store import tables as t
from ledger.store.constraints import constraint_names, refusal
from ledger.store.reads import read_stream
from tests.builders import ADMIN, contribution, given_equipment_pool, officer

ENVELOPE = es.Envelope(actor="test", actor_role="admin")


def append(engine: Engine, *pending: es.PendingEvent) -> None:
    """Events appended straight through the store, as a writer racing another would."""
    with es.write_transaction(engine) as (conn, head):
        rows = es.build_rows(head, list(pending), ENVELOPE, format_instant_now())
        with es.pipelined(conn):
            es.insert_rows(conn, rows)


def format_instant_now() -> str:
    return format_instant(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))


def next_version(engine: Engine) -> int:
    with engine.connect() as conn:
        return len(read_stream(conn, "pool:eq")) + 1


def test_a_stream_version_taken_by_another_writer_is_a_concurrency_error(
    engine: Engine, ledger: Ledger
) -> None:
    given_equipment_pool(ledger)
    taken = next_version(engine) - 1
    event = ev.PeriodClosed(pool_id="eq", quarter="2025-26-Q1")
    with pytest.raises(ConcurrencyError, match="the stream changed"):
        append(engine, es.PendingEvent(event, "pool:eq", taken))


def test_an_event_reversed_twice_is_already_reversed(engine: Engine, ledger: Ledger) -> None:
    given_equipment_pool(ledger)
    target = ledger.execute(
        contribution("eq", "city", "1.00", date(2025, 5, 1)), officer("city")
    ).events[0]
    ledger.execute(c.ReverseEvent(event_id=target.event_id, reason="twice"), ADMIN)
    again = ev.EventReversed(
        reversed_event_id=target.event_id,
        reversed_type=target.type,
        reversed_position=target.position,
        pool_id="eq",
        reason="again",
        effective_date=target.effective_date,
    )
    v = next_version(engine)
    with pytest.raises(AlreadyReversed):
        append(engine, es.PendingEvent(again, "pool:eq", v, target.event_id))


@pytest.mark.parametrize(
    ("event", "says"),
    [
        (ev.PeriodClosed(pool_id="eq", quarter="2025-26-Q1"), "already closed"),
        (
            ev.ReturnGenerated(
                pool_id="eq",
                quarter="2025-26-Q1",
                as_at_position=1,
                data_as_at="2026-11-23T09:00:00.000000Z",
                chain_head="00" * 32,
                content_hash="00" * 32,
                documents=(),
            ),
            "already filed",
        ),
        (
            ev.RiskShareSettled(
                pool_id="eq",
                year="2025-26",
                variance=0,
                direction="none",
                method="x",
                allocations=(),
            ),
            "already settled",
        ),
    ],
)
def test_a_once_only_fact_recorded_twice_already_exists(
    engine: Engine, ledger: Ledger, event: ev.Event, says: str
) -> None:
    given_equipment_pool(ledger)
    v = next_version(engine)
    append(engine, es.PendingEvent(event, "pool:eq", v))
    with pytest.raises(AlreadyExists, match=says):
        append(engine, es.PendingEvent(event, "pool:eq", v + 1))


def test_an_idempotency_key_stored_meanwhile_is_a_concurrency_error(
    engine: Engine, ledger: Ledger
) -> None:
    given_equipment_pool(ledger)
    idem = Idempotency("k1", "tok-city", "POST", "/v1/pools/eq/contributions", {"a": 1})
    with es.write_transaction(engine) as (conn, _):
        ledger._remember(conn, idem, [])
        with pytest.raises(ConcurrencyError, match="Idempotency-Key"):
            ledger._remember(conn, idem, [])


def test_a_pool_row_written_twice_already_exists(engine: Engine, ledger: Ledger) -> None:
    given_equipment_pool(ledger)
    with pytest.raises(IntegrityError) as raised, engine.begin() as conn:
        conn.execute(insert(t.ws_pools).values(pool_id="eq", version=1, state="{}"))
    assert constraint_names(raised.value) == ["ws_pools_pkey"]
    assert isinstance(refusal(raised.value), AlreadyExists)


def test_a_key_that_is_none_of_the_ledgers_is_not_passed_off_as_one(
    engine: Engine, ledger: Ledger
) -> None:
    # a read model's key (its message names a funding stream, which once read as a
    # stream version clash): left as the database's error, not a ledger refusal
    given_equipment_pool(ledger)
    ledger.execute(contribution("eq", "city", "1.00", date(2025, 5, 1)), officer("city"))
    with pytest.raises(IntegrityError) as raised, engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO rm_groups SELECT group_id + 100, pool_id, year, kind, partner_id, "
                "counterparty_id, scheme_id, funding_stream, quarter, key, position "
                "FROM rm_groups"
            )
        )
    assert constraint_names(raised.value) in (["ux_rm_groups_key"], [])
    assert refusal(raised.value) is None
    assert not isinstance(raised.value, LedgerError)

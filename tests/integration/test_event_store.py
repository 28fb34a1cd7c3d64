"""The event store on SQLite and PostgreSQL: append, chain, immutability, tampering,
idempotency, closed periods, reversals, recorded time and as-at reads."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DatabaseError

from ledger.clock import FixedClock
from ledger.domain import commands as c
from ledger.domain.errors import (
    AlreadyReversed,
    IdempotencyConflict,
    PeriodClosed,
    RuleViolation,
    ValidationFailed,
)
from ledger.handlers import Idempotency, Ledger
from ledger.store import eventstore as es
from ledger.store.reads import Head, position_at, read_head, read_range
from ledger.store.serialization import decode_event
from ledger.store.verify import verify
from tests.builders import ADMIN, contribution, given_equipment_pool, officer, spend
from tests.conftest import owner


def _head(engine: Engine) -> Head:
    with engine.connect() as conn:
        return read_head(conn)


def test_positions_are_gap_free_and_the_chain_verifies(ledger: Ledger, engine: Engine) -> None:
    # given a pool with its plan, when officers post
    given_equipment_pool(ledger)
    for i in range(5):
        ledger.execute(contribution("eq", "city", "1000.00", date(2025, 5, 1 + i)), officer("city"))
    # then positions run 1..n with no holes, and the chain verifies to the head
    with engine.connect() as conn:
        positions = [e.position for e in read_range(conn)]
    assert positions == list(range(1, len(positions) + 1))
    result = verify(engine)
    assert result.ok and result.events_checked == len(positions)
    assert result.head_hash == _head(engine).hash


def test_each_event_records_what_it_concerns_and_who_posted_it(
    ledger: Ledger, engine: Engine
) -> None:
    given_equipment_pool(ledger)
    out = ledger.execute(
        contribution("eq", "city", "1234.50", date(2025, 7, 3), reference="BACS-1"),
        officer("city"),
        request_id="req-1",
        request_meta={"ip": "127.0.0.1"},
    )
    (e,) = out.events
    assert (e.type, e.pool_id, e.partner_id, e.funding_stream, e.year, e.period) == (
        "contribution_posted",
        "eq",
        "city",
        "contribution",
        "2025-26",
        "2025-26-Q2",
    )
    assert e.effective_date == date(2025, 7, 3)
    assert (e.actor, e.actor_role, e.actor_partner_id, e.token_id, e.request_id) == (
        "Officer of city",
        "finance_officer",
        "city",
        "tok-city",
        "req-1",
    )
    assert e.recorded_at == "2026-11-23T09:00:00.000000Z"
    assert '"amount":123450' in e.payload  # integer pence inside


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE events SET actor = 'mallory' WHERE position = 1",
        "DELETE FROM events WHERE position = 1",
    ],
)
def test_the_database_refuses_update_and_delete_of_events(
    ledger: Ledger, engine: Engine, statement: str
) -> None:
    given_equipment_pool(ledger)
    refused = pytest.raises(DatabaseError, match=r"(?i)immutable|refused")
    with refused, owner(engine).begin() as conn:  # the triggers refuse the owner too
        conn.execute(text(statement))
    assert verify(engine).ok


def test_postgres_refuses_truncate_of_events(ledger: Ledger, engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("TRUNCATE exists only on PostgreSQL")
    given_equipment_pool(ledger)
    with pytest.raises(DatabaseError, match="refused"), owner(engine).begin() as conn:
        conn.execute(text("TRUNCATE events"))


def _lift_guards(conn: object, dialect: str) -> None:
    if dialect == "sqlite":
        conn.execute(text("DROP TRIGGER events_no_update"))  # type: ignore[attr-defined]
        conn.execute(text("DROP TRIGGER events_no_delete"))  # type: ignore[attr-defined]
    else:
        conn.execute(text("DROP TRIGGER events_no_change ON events"))  # type: ignore[attr-defined]


def test_a_date_stored_in_another_spelling_is_a_changed_byte_on_sqlite(
    ledger: Ledger, engine: Engine
) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL stores the date itself, not its text")
    given_equipment_pool(ledger)
    ledger.execute(contribution("eq", "ncc", "10.00", date(2025, 4, 2)), officer("ncc"))
    target = _head(engine).position
    with owner(engine).begin() as conn:
        _lift_guards(conn, engine.dialect.name)
        sql = f"UPDATE events SET effective_date = '2025-4-2' WHERE position = {target}"
        conn.execute(text(sql))
    result = verify(engine)  # the same day, but not the bytes that were hashed
    assert not result.ok and result.first_bad_position == target


@pytest.mark.parametrize(
    ("column", "tamper"),
    [
        ("payload", "replace(payload, '100000000', '100000001')"),
        ("payload", "replace(payload, ':', ': ')"),  # white space only: still a changed byte
        ("actor", "'Mallory'"),
        ("recorded_at", "'2026-11-23T09:00:00.000001Z'"),
        ("pool_id", "'other'"),
        ("hash", "CASE WHEN substr(hash, 1, 2) = 'ab' THEN 'cd' ELSE 'ab' END || substr(hash, 3)"),
    ],
)
def test_tampering_with_any_stored_byte_is_detected_naming_the_event(
    ledger: Ledger, engine: Engine, column: str, tamper: str
) -> None:
    # given a ledger whose chain verifies
    given_equipment_pool(ledger)
    for d in (1, 2, 3):
        ledger.execute(contribution("eq", "ncc", "1000000.00", date(2025, 4, d)), officer("ncc"))
    target = 6  # the second contribution
    # when an attacker with database access lifts the guard and changes one column
    with owner(engine).begin() as conn:  # the triggers guard against the owner too
        _lift_guards(conn, engine.dialect.name)
        conn.execute(text(f"UPDATE events SET {column} = {tamper} WHERE position = {target}"))
    # then verification fails and names that event
    result = verify(engine)
    assert not result.ok
    assert result.first_bad_position == target
    assert f"position {target}" in (result.problem or "")


def test_removing_events_from_the_end_is_detected_by_the_head(
    ledger: Ledger, engine: Engine
) -> None:
    given_equipment_pool(ledger)
    ledger.execute(contribution("eq", "ncc", "10.00", date(2025, 4, 1)), officer("ncc"))
    last = _head(engine).position
    with owner(engine).begin() as conn:  # the triggers guard against the owner too
        _lift_guards(conn, engine.dialect.name)
        conn.execute(text(f"DELETE FROM events WHERE position = {last}"))
    result = verify(engine)
    assert not result.ok and "head" in (result.problem or "")


def test_same_idempotency_key_and_request_returns_the_first_events_and_writes_nothing(
    ledger: Ledger, engine: Engine
) -> None:
    given_equipment_pool(ledger)
    cmd = contribution("eq", "city", "17", date(2025, 6, 1))
    idem = Idempotency(
        key="k1",
        token_id="tok-city",
        method="POST",
        path="/v1/pools/eq/contributions",
        request=cmd.model_dump(mode="json"),
    )
    first = ledger.execute(cmd, officer("city"), idempotency=idem)
    head = _head(engine)
    again = ledger.execute(cmd, officer("city"), idempotency=idem)
    assert again.replayed
    assert [e.event_id for e in again.events] == [e.event_id for e in first.events]
    assert _head(engine) == head


def test_same_idempotency_key_with_a_different_request_is_a_conflict_naming_the_field(
    ledger: Ledger, engine: Engine
) -> None:
    given_equipment_pool(ledger)
    cmd = contribution("eq", "city", "17.00", date(2025, 6, 1))
    other = contribution("eq", "city", "18.00", date(2025, 6, 1))
    scope = {
        "key": "k1",
        "token_id": "tok-city",
        "method": "POST",
        "path": "/v1/pools/eq/contributions",
    }
    ledger.execute(
        cmd, officer("city"), idempotency=Idempotency(**scope, request=cmd.model_dump(mode="json"))
    )
    head = _head(engine)
    with pytest.raises(IdempotencyConflict) as info:
        ledger.execute(
            other,
            officer("city"),
            idempotency=Idempotency(**scope, request=other.model_dump(mode="json")),
        )
    assert [f.field for f in info.value.errors] == ["amount"]
    assert _head(engine) == head


def test_a_rejected_request_writes_nothing(ledger: Ledger, engine: Engine) -> None:
    given_equipment_pool(ledger)
    head = _head(engine)
    with pytest.raises(ValidationFailed, match="scheme"):
        ledger.execute(spend("eq", "no-such-scheme", "10.00", date(2025, 6, 1)), officer("ncc"))
    assert _head(engine) == head


def test_a_closed_quarter_refuses_postings_unless_marked_as_prior_period_adjustments(
    ledger: Ledger, engine: Engine
) -> None:
    # given Q1 2025-26 closed for the pool
    given_equipment_pool(ledger)
    ledger.execute(c.ClosePeriod(pool_id="eq", quarter="2025-26-Q1"), ADMIN)
    # when a posting dated in Q1 arrives, then it is refused with 409
    with pytest.raises(PeriodClosed, match="prior-period adjustment"):
        ledger.execute(contribution("eq", "city", "50.00", date(2025, 6, 30)), officer("city"))
    # and accepted as a prior-period adjustment
    out = ledger.execute(
        contribution("eq", "city", "50.00", date(2025, 6, 30), ppa=True), officer("city")
    )
    assert out.events[0].event.prior_period_adjustment is True  # type: ignore[attr-defined]
    # while an open quarter takes no adjustment flag
    with pytest.raises(ValidationFailed, match="not closed"):
        ledger.execute(
            contribution("eq", "city", "50.00", date(2025, 7, 1), ppa=True), officer("city")
        )


def test_quarters_close_in_order_and_only_once_they_have_ended(ledger: Ledger) -> None:
    given_equipment_pool(ledger)
    ledger.execute(c.ClosePeriod(pool_id="eq", quarter="2025-26-Q1"), ADMIN)
    with pytest.raises(RuleViolation, match="in order"):
        ledger.execute(c.ClosePeriod(pool_id="eq", quarter="2025-26-Q3"), ADMIN)
    with pytest.raises(RuleViolation, match="not ended"):
        ledger.execute(c.ClosePeriod(pool_id="eq", quarter="2026-27-Q3"), ADMIN)


def test_an_event_can_be_reversed_once_and_a_reversal_not_at_all(
    ledger: Ledger, engine: Engine
) -> None:
    given_equipment_pool(ledger)
    posted = ledger.execute(
        contribution("eq", "city", "10.00", date(2025, 6, 1)), officer("city")
    ).events[0]
    rev = ledger.execute(
        c.ReverseEvent(event_id=posted.event_id, reason="keyed twice"), officer("city")
    ).events[0]
    assert rev.reverses_event_id == posted.event_id
    with pytest.raises(AlreadyReversed):
        ledger.execute(c.ReverseEvent(event_id=posted.event_id, reason="again"), officer("city"))
    with pytest.raises(RuleViolation, match="post the fact again"):
        ledger.execute(c.ReverseEvent(event_id=rev.event_id, reason="undo"), ADMIN)


def test_the_database_itself_refuses_a_second_reversal(ledger: Ledger, engine: Engine) -> None:
    given_equipment_pool(ledger)
    posted = ledger.execute(
        contribution("eq", "city", "10.00", date(2025, 6, 1)), officer("city")
    ).events[0]
    ledger.execute(c.ReverseEvent(event_id=posted.event_id, reason="keyed twice"), officer("city"))
    # a second reversal row written past the domain check hits the unique key
    with es.write_transaction(engine) as (conn, head):
        pending = [
            es.PendingEvent(
                event=decode_event(
                    "event_reversed", 1, read_range(conn, head.position - 1)[0].payload
                ),
                stream_id="pool:eq-dup",
                stream_version=1,
                reverses_event_id=posted.event_id,
            )
        ]
        rows = es.build_rows(
            head, pending, es.Envelope(actor="x", actor_role="admin"), head.recorded_at
        )
        with pytest.raises(AlreadyReversed):
            es.insert_rows(conn, rows)


def test_recorded_time_never_runs_backwards(
    engine: Engine, ledger: Ledger, clock: FixedClock
) -> None:
    given_equipment_pool(ledger)
    clock.advance(hours=-5)  # a server whose clock steps back
    e = ledger.execute(
        contribution("eq", "city", "1.00", date(2025, 6, 1)), officer("city")
    ).events[0]
    assert e.recorded_at == "2026-11-23T09:00:00.000000Z"


def test_as_at_an_instant_finds_the_position_the_ledger_had_then(
    engine: Engine, clock: FixedClock, ledger: Ledger
) -> None:
    given_equipment_pool(ledger)
    clock.advance(days=1)
    first = ledger.execute(
        contribution("eq", "city", "1.00", date(2025, 6, 1)), officer("city")
    ).events[0]
    clock.advance(days=1)
    ledger.execute(contribution("eq", "city", "2.00", date(2025, 6, 1)), officer("city"))
    with engine.connect() as conn:
        assert position_at(conn, "2026-11-24T12:00:00.000000Z") == first.position
        assert position_at(conn, "2026-11-23T08:59:59.000000Z") == 0


def test_finance_officer_cannot_post_for_another_partner(ledger: Ledger, engine: Engine) -> None:
    from ledger.domain.errors import Forbidden

    given_equipment_pool(ledger)
    with pytest.raises(Forbidden):
        ledger.execute(contribution("eq", "ncc", "10.00", date(2025, 6, 1)), officer("city"))
    # the host's officer (pooled fund manager) may record any member's contribution
    ledger.execute(contribution("eq", "city", "10.00", date(2025, 6, 1)), officer("ncc"))


def test_a_second_plan_supersedes_and_reversing_it_restores_the_first(ledger: Ledger) -> None:
    from tests.builders import equipment_plan, tiered_with_cap

    given_equipment_pool(ledger)
    second = ledger.execute(
        c.AgreePlan(pool_id="eq", year="2025-26", plan=equipment_plan(overspend=tiered_with_cap())),
        ADMIN,
    ).events[-1]
    with ledger.engine.connect() as conn:
        state = ledger.load_pool(conn, "eq")
    assert state is not None and state.plan("2025-26").risk_share.overspend.method == "tiered"  # type: ignore[union-attr]
    ledger.execute(c.ReverseEvent(event_id=second.event_id, reason="wrong rule"), ADMIN)
    ledger.forget_caches()
    with ledger.engine.connect() as conn:
        state = ledger.load_pool(conn, "eq")
    assert state is not None and state.plan("2025-26").risk_share.overspend.method == "proportional"  # type: ignore[union-attr]


def test_stream_versions_are_a_unique_key(ledger: Ledger, engine: Engine) -> None:
    from ledger.domain.errors import ConcurrencyError

    given_equipment_pool(ledger)
    with es.write_transaction(engine) as (conn, head):
        e = read_range(conn, head.position - 1)[0]
        pending = [
            es.PendingEvent(event=e.event, stream_id=e.stream_id, stream_version=e.stream_version)
        ]
        rows = es.build_rows(
            head, pending, es.Envelope(actor="x", actor_role="admin"), head.recorded_at
        )
        with pytest.raises(ConcurrencyError):
            es.insert_rows(conn, rows)


_ = (UTC, datetime)

"""The projector itself, on SQLite and PostgreSQL: older payloads go through their
upcasters, a payload it cannot read refuses the write naming the event, and money
lines carry their group's running total."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import Engine, select

from ledger.domain import commands as c
from ledger.handlers import Ledger
from ledger.store import serialization
from projections import tables as t
from projections.projector import ProjectionError, Projector
from projections.queries import Reader
from tests.builders import contribution, given_equipment_pool, officer, pounds


def test_a_payload_of_an_older_schema_version_is_read_through_its_upcaster(
    ledger: Ledger, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a contribution as it is stored today, and the same fact as a (made-up)
    # version 0 kept it: the amount under "pence", upcast by a registered upcaster
    given_equipment_pool(ledger)
    today = ledger.execute(contribution("eq", "city", "12.34", date(2025, 5, 1)), officer("city"))
    current = today.events[0]
    old = json.loads(current.payload)
    old["pence"] = old.pop("amount") * 10
    monkeypatch.setitem(
        serialization.UPCASTERS,
        ("contribution_posted", 0),
        lambda d: {**{k: v for k, v in d.items() if k != "pence"}, "amount": d["pence"]},
    )
    event = current._replace(
        position=current.position + 1, schema_version=0, payload=json.dumps(old)
    )
    # when the projector applies it (in a transaction then rolled back)
    with engine.connect() as conn:
        trans = conn.begin()
        Projector().apply(conn, [event])
        rows = conn.execute(
            select(t.rm_lines.c.position, t.rm_lines.c.amount, t.rm_lines.c.total).order_by(
                t.rm_lines.c.position
            )
        ).all()
        trans.rollback()
    # then its line has the upcast amount, summed into the same group
    assert [tuple(r) for r in rows] == [
        (current.position, pounds("12.34"), pounds("12.34")),
        (current.position + 1, pounds("123.40"), pounds("135.74")),
    ]


def test_a_payload_the_projector_cannot_read_refuses_the_write_naming_the_event(
    ledger: Ledger, engine: Engine
) -> None:
    given_equipment_pool(ledger)
    current = ledger.execute(
        contribution("eq", "city", "1.00", date(2025, 5, 1)), officer("city")
    ).events[0]
    broken = current._replace(position=current.position + 1, payload='{"pool_id":"eq"}')
    with engine.begin() as conn, pytest.raises(ProjectionError) as e:
        Projector().apply(conn, [broken])
    assert f"position {current.position + 1} (contribution_posted)" in str(e.value)


def test_lines_of_a_group_carry_its_running_total_and_a_reversal_takes_it_back(
    ledger: Ledger, engine: Engine
) -> None:
    given_equipment_pool(ledger)
    first = ledger.execute(contribution("eq", "city", "100.00", date(2025, 5, 1)), officer("city"))
    ledger.execute(contribution("eq", "city", "20.00", date(2025, 5, 2)), officer("city"))
    ledger.execute(contribution("eq", "city", "3.00", date(2025, 8, 2)), officer("city"))  # Q2
    ledger.execute(c.ReverseEvent(event_id=first.events[0].event_id, reason="x"), officer("city"))
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                t.rm_groups.c.kind,
                t.rm_groups.c.partner_id,
                t.rm_groups.c.quarter,
                t.rm_lines.c.amount,
                t.rm_lines.c.total,
                t.rm_lines.c.reversal,
            )
            .join_from(t.rm_groups, t.rm_lines, t.rm_lines.c.group_id == t.rm_groups.c.group_id)
            .order_by(t.rm_lines.c.position)
        ).all()
    assert [tuple(r) for r in rows] == [
        ("contribution", "city", "2025-26-Q1", pounds("100.00"), pounds("100.00"), False),
        ("contribution", "city", "2025-26-Q1", pounds("20.00"), pounds("120.00"), False),
        ("contribution", "city", "2025-26-Q2", pounds("3.00"), pounds("3.00"), False),
        ("contribution", "city", "2025-26-Q1", -pounds("100.00"), pounds("20.00"), True),
    ]
    assert Reader(engine).balances("eq", "2025-26").pool.income == pounds("23.00")

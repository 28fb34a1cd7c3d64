"""On PostgreSQL the application connects as a role that owns nothing: it may read and
add events, but not change, remove, truncate or drop them, nor switch the guard
triggers off with ``session_replication_role`` (the owner runs migrations)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from ledger.clock import FixedClock
from ledger.handlers import Ledger
from ledger.refdata import default_catalogue
from ledger.store.reads import read_head
from ledger.store.roles import grant_app_role
from projections.projector import Projector
from tests.builders import given_equipment_pool
from tests.conftest import owner


@pytest.fixture
def app_engine(engine: Engine) -> Iterator[Engine]:
    if engine.dialect.name != "postgresql":
        pytest.skip("database roles are PostgreSQL's")
    engine = owner(engine)  # the owner makes the role and grants it
    role = f"app_{uuid.uuid4().hex[:10]}"
    with engine.begin() as conn:
        conn.execute(text(f'CREATE ROLE "{role}" LOGIN'))
        grant_app_role(conn, role)
        search_path = conn.execute(text("SELECT current_schema()")).scalar_one()
    url = make_url(str(engine.url.render_as_string(hide_password=False))).set(username=role)
    app = create_engine(url, connect_args={"options": f"-csearch_path={search_path}"})
    try:
        yield app
    finally:
        app.dispose()
        with engine.begin() as conn:
            conn.execute(text(f'DROP OWNED BY "{role}"'))
            conn.execute(text(f'DROP ROLE "{role}"'))


def test_the_app_role_appends_and_reads_but_cannot_change_history(
    app_engine: Engine, clock: FixedClock
) -> None:
    # given the application writing as its own role
    ledger = Ledger(app_engine, clock, default_catalogue(), hooks=[Projector()])
    given_equipment_pool(ledger)
    with app_engine.connect() as conn:
        assert read_head(conn).position > 0
    # then nothing it may run rewrites or removes events, or lifts the guards
    for sql in (
        "UPDATE events SET actor = 'Mallory' WHERE position = 1",
        "DELETE FROM events WHERE position = 1",
        "TRUNCATE events",
        "DROP TABLE events",
        "ALTER TABLE events DISABLE TRIGGER events_no_change",
        "DROP TRIGGER events_no_change ON events",
        "SET session_replication_role = replica",
        "DELETE FROM merkle_nodes",
        "UPDATE checkpoints SET root = ''",
    ):
        with pytest.raises(DBAPIError) as refused, app_engine.begin() as conn:
            conn.execute(text(sql))
        assert "permission denied" in str(refused.value) or "must be owner" in str(refused.value), (
            sql
        )

"""The shared demo's guard and copies (tests/demo_fixtures.py): a write to the shared
demo is caught, and a copy holds the demo's chain and can be written to without the
shared demo changing, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from ledger.demo import DemoSummary
from ledger.domain import commands as c
from ledger.handlers import Ledger
from ledger.store.verify import verify
from tests.builders import ADMIN
from tests.conftest import owner
from tests.demo_fixtures import Demo, DemoTemplates, demo_ledger, head, written

# one xdist worker loads the demo for every module that uses it (tests/demo_fixtures.py)
pytestmark = pytest.mark.xdist_group("demo")

NCC = c.RegisterPartner(
    partner_id="ncc", name="Nottinghamshire County Council", kind="local_authority"
)
CITY = c.RegisterPartner(partner_id="city", name="Nottingham City Council", kind="local_authority")


def test_a_write_after_the_demo_loaded_is_caught(ledger: Ledger, engine: Engine) -> None:
    # given a "demo" of one partner, its summary naming position 1 as its last
    ledger.execute(NCC, ADMIN)
    demo = Demo(engine, DemoSummary(1, {}, ("ncc",), 1, 1, {}, None))
    assert not written(demo)
    # when one more event is appended, then the guard sees it
    ledger.execute(CITY, ADMIN)
    assert head(engine) == 2
    assert written(demo)


@pytest.mark.parametrize("db", ["sqlite", "postgresql"])
def test_a_copy_is_the_demo_and_writing_to_it_leaves_the_shared_demo_alone(
    demo_templates: DemoTemplates, db: str
) -> None:
    shared = demo_templates.shared(db)
    last = shared.summary.last_position
    with demo_templates.copy(db) as copied:
        assert head(copied.engine) == last
        assert verify(copied.engine).ok
        demo_ledger(copied.engine).execute(CITY, ADMIN)
        assert head(copied.engine) == last + 1
    assert head(shared.engine) == last
    assert not written(shared)


def test_the_shared_demo_and_its_copies_are_read_as_the_application_role(
    demo_templates: DemoTemplates,
) -> None:
    # given the demo on PostgreSQL, shared and copied
    shared = demo_templates.shared("postgresql")
    with demo_templates.copy("postgresql") as copied:
        for demo in (shared, copied):
            # then the tests see it as a deployment does: the application's role, which
            # may not rewrite an event
            assert demo.engine.url.username != owner(demo.engine).url.username
            with pytest.raises(DBAPIError), demo.engine.begin() as conn:
                conn.execute(text("UPDATE events SET payload = payload WHERE position = 1"))

"""The demo partnership's read models, kept by the append hook while it loads, equal a
rebuild from its events, row for row; and every pool's answers read the same from
the rebuilt rows, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, select

from ledger.domain.errors import NotFound
from projections import tables as t
from projections.queries import Reader
from projections.rebuild import compare_with_rebuild, rebuild, status
from tests.demo_fixtures import Demo, DemoTemplates

# one xdist worker loads the demo for every module that uses it (tests/demo_fixtures.py)
pytestmark = pytest.mark.xdist_group("demo")


def dump(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    with engine.connect() as conn:
        return {
            table.name: [
                tuple(r) for r in conn.execute(select(table).order_by(*table.primary_key.columns))
            ]
            for table in (*t.READ_MODEL_TABLES, t.rm_checkpoint)
        }


def answers(engine: Engine) -> list[object]:
    """Every pool's balances for each year with a plan, now and half way through."""
    reader = Reader(engine)
    head = reader.position()
    out: list[object] = []
    for pool in reader.pools():
        for year in pool.years:
            for at in (head // 2, head):
                try:
                    out.append(reader.balances(pool.pool_id, year, as_at=at))
                except NotFound:  # the pool was established after head // 2
                    out.append(None)
            out.append(reader.income_by_stream(pool.pool_id, year))
            out.append(reader.quarterly_trend(pool.pool_id, year))
            out.append(reader.scheme_spend(pool.pool_id, year))
    return out


@pytest.fixture(params=["sqlite", "postgresql"])
def demo(request: pytest.FixtureRequest, demo_templates: DemoTemplates) -> Iterator[Demo]:
    """A copy of the demo of its own (the rebuild rewrites the read models)."""
    with demo_templates.copy(request.param) as copied:
        yield copied


def test_the_demo_ledgers_read_models_equal_a_rebuild_row_for_row(demo: Demo) -> None:
    # given the demo loaded through the ledger, its read models kept incrementally
    engine, summary = demo.engine, demo.summary
    checkpoint, head = status(engine)
    assert checkpoint == head == summary.last_position
    kept, before = dump(engine), answers(engine)
    assert kept["rm_lines"] and kept["rm_facts"]
    # when compared with a rebuild, and then rebuilt
    assert compare_with_rebuild(engine) == []
    result = rebuild(engine, batch=500)
    # then every row, and every answer, is the same
    assert result.events == head
    assert dump(engine) == kept
    assert answers(engine) == before
    # and each balance satisfies the identity of 6.1
    for b in before:
        pool = getattr(b, "pool", None)
        if pool is not None and hasattr(pool, "balance"):
            assert pool.balance == (
                pool.opening_balance
                + pool.income
                + pool.transfers_in
                - pool.transfers_out
                - pool.spend
            )

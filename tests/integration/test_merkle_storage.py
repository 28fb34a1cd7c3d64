"""The Merkle tree as storage keeps it (issue 16's append cost): only the complete
subtrees of ``merkle.STORED_FROM_LEVEL`` (16 leaves) and up are stored, the ones below
are rehashed from the events, and roots and proofs are still the RFC's byte for byte;
migration 0005 deletes the stored nodes below level 4 and its downgrade puts them back
(SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from functools import cache

import pytest
from alembic import command
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

from ledger.clock import format_instant
from ledger.domain import events as ev
from ledger.domain import merkle
from ledger.store import eventstore as es
from ledger.store import tree
from ledger.store.migrate import alembic_config
from ledger.store.reads import read_head, read_range
from ledger.store.verify import verify
from tests.conftest import owner, upgrade_as_owner

ENVELOPE = es.Envelope(actor="Officer of city", actor_role="finance_officer")


def append(engine: Engine, count: int) -> None:
    """``count`` contributions appended in one batch straight through the event store,
    as the write path appends them."""
    with es.write_transaction(engine) as (conn, head):
        pending = [
            es.PendingEvent(
                event=ev.ContributionPosted(
                    pool_id="eq",
                    amount=100 + head.position + i,
                    effective_date=date(2025, 6, 1),
                    year="2025-26",
                    reference=f"BACS {head.position + i + 1}",
                    partner_id="city",
                    funding_stream="contribution",
                ),
                stream_id="pool:eq",
                stream_version=head.position + i + 1,
            )
            for i in range(count)
        ]
        rows = es.build_rows(
            head, pending, ENVELOPE, format_instant(datetime(2026, 11, 23, 9, tzinfo=UTC))
        )
        with es.pipelined(conn):
            es.insert_rows(conn, rows)


def append_in_batches(engine: Engine, batches: Iterable[int]) -> None:
    for count in batches:
        append(engine, count)


def stored(conn: Connection) -> dict[int, bytes]:
    """``merkle_nodes`` as it stands: node key -> hash."""
    rows = conn.execute(text("SELECT node, hash FROM merkle_nodes ORDER BY node"))
    return {int(n): bytes(h) for n, h in rows}


def leaves_of(conn: Connection) -> list[bytes]:
    return [tree.leaf_of(e) for e in read_range(conn, 0, 100_000)]


# --- the RFC's recursive definitions, as written (2.1.1, 2.1.3.1, 2.1.4.1) ------------------


def split(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


class Rfc:
    """PATH and SUBPROOF over the leaves ``d``, on ranges ``[lo, hi)`` of them, with
    MTH(D[lo:hi]) from ``merkle.root_of`` (remembered: the proofs of every size share
    their subtrees)."""

    def __init__(self, d: Sequence[bytes]) -> None:
        self.mth = cache(lambda lo, hi: merkle.root_of(d[lo:hi]))

    def path(self, m: int, lo: int, hi: int) -> list[bytes]:
        """PATH(m, D[lo:hi])."""
        if hi - lo == 1:
            return []
        k = split(hi - lo)
        if m < k:
            return [*self.path(m, lo, lo + k), self.mth(lo + k, hi)]
        return [*self.path(m - k, lo + k, hi), self.mth(lo, lo + k)]

    def subproof(self, m: int, lo: int, hi: int, whole: bool) -> list[bytes]:
        """SUBPROOF(m, D[lo:hi], b)."""
        if m == hi - lo:
            return [] if whole else [self.mth(lo, hi)]
        k = split(hi - lo)
        if m <= k:
            return [*self.subproof(m, lo, lo + k, whole), self.mth(lo + k, hi)]
        return [*self.subproof(m - k, lo + k, hi, False), self.mth(lo, lo + k)]


# every size to 70 (either side of 16, 32, 48 and 64), then either side of 128, and 256
SIZES = [*range(1, 71), 127, 128, 129, 256]


def test_roots_and_every_proof_at_every_size_are_the_rfcs(engine: Engine) -> None:
    # given 257 events appended one by one and in batches of every alignment
    append_in_batches(engine, [1, 1, 1, 2, 9, 1, 17, 16, 3, 30, 1, 64, 7, 1, 40, 33, 30])
    with engine.connect() as conn:
        leaves = leaves_of(conn)
        assert len(leaves) == read_head(conn).position == 257
        rfc = Rfc(leaves)
        for size in SIZES:
            # then the root, every inclusion proof and every consistency proof read
            # from storage are the RFC's, and verify
            root = tree.root_at(conn, size)
            assert root == merkle.root_of(leaves[:size]), size
            for i in range(size):
                proof = tree.inclusion_proof(conn, i + 1, size)
                assert proof == rfc.path(i, 0, size), (i, size)
                assert merkle.verify_inclusion(i, size, leaves[i], proof, root)
            for first in range(1, size + 1):
                proof = tree.consistency_proof(conn, first, size)
                assert proof == rfc.subproof(first, 0, size, True), (first, size)
                old = rfc.mth(0, first)
                assert merkle.verify_consistency(first, size, old, root, proof)


def test_a_batch_of_64_events_from_empty_stores_seven_nodes_and_none_below_level_4(
    engine: Engine,
) -> None:
    # given an empty ledger, when 64 events are appended in one batch
    append(engine, 64)
    with engine.connect() as conn:
        nodes, leaves = stored(conn), leaves_of(conn)
    # then the nodes of 16, 32 and 64 leaves are stored (4 + 2 + 1), each the RFC's
    # hash of its leaves, and no leaf or node below 16 leaves
    want = {(4, 0): (0, 16), (4, 1): (16, 32), (4, 2): (32, 48), (4, 3): (48, 64)}
    want |= {(5, 0): (0, 32), (5, 1): (32, 64), (6, 0): (0, 64)}
    assert nodes == {i << 6 | lv: merkle.root_of(leaves[a:b]) for (lv, i), (a, b) in want.items()}
    # and the frontier is the whole tree, one node
    with engine.connect() as conn:
        assert read_head(conn).frontier == merkle.root_of(leaves).hex()


def test_most_appends_store_no_node_and_a_batch_of_1000_stores_123(engine: Engine) -> None:
    # given 64 events (seven nodes), when 15 single appends follow, then none is stored
    append(engine, 64)
    with engine.connect() as conn:
        seven = stored(conn)
    for _ in range(15):
        append(engine, 1)
        with engine.connect() as conn:
            assert stored(conn) == seven
    # when the 80th completes a block of 16, its node alone is added
    append(engine, 1)
    with engine.connect() as conn:
        assert stored(conn).keys() - seven.keys() == {4 << 6 | 4}
    # and a batch of 1000 from position 81 (to 1080) stores the nodes it completes:
    # 62 of 16 leaves (ending at 96, 112, ..., 1072), 31 of 32 (96 to 1056), 15 of 64
    # (128 to 1024), 8 of 128, 4 of 256, 2 of 512 and 1 of 1024: 123, where storing
    # every node wrote 1998 (the 1000 leaves, 500 + 250 + 125 nodes of 2, 4 and 8 leaves
    # and the same 123)
    with engine.connect() as conn:
        before = len(stored(conn))
    append(engine, 1000)
    with engine.connect() as conn:
        assert len(stored(conn)) - before == 62 + 31 + 15 + 8 + 4 + 2 + 1
    assert verify(engine).ok


def test_a_proof_beyond_the_head_is_a_lookup_error(engine: Engine) -> None:
    append(engine, 20)
    with engine.connect() as conn:
        for read in (
            lambda: tree.root_at(conn, 21),
            lambda: tree.root_at(conn, 33),
            lambda: tree.inclusion_proof(conn, 3, 21),
            lambda: tree.consistency_proof(conn, 16, 40),
        ):
            with pytest.raises(LookupError):
                read()


def test_a_changed_stored_node_of_the_frontier_is_named_by_verify(engine: Engine) -> None:
    # given 40 events: the frontier is 32 leaves (stored), then 8 (rehashed)
    append(engine, 40)
    assert verify(engine).ok
    # when the stored node of the first 32 leaves is rewritten
    with owner(engine).begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.execute(text("DROP TRIGGER merkle_nodes_no_update"))
        else:
            conn.execute(text("DROP TRIGGER merkle_nodes_no_change ON merkle_nodes"))
        conn.execute(
            text("UPDATE merkle_nodes SET hash = :h WHERE node = :n"),
            {"h": bytes(32), "n": 0 << 6 | 5},
        )
    # then verify names the node by the positions it covers
    result = verify(engine)
    assert not result.ok and result.first_bad_position == 1
    assert result.problem == (
        "the stored Merkle node over positions 1 to 32 is not the tree of those events"
    )


def test_a_changed_frontier_in_the_head_is_named_at_the_head(engine: Engine) -> None:
    # given 40 events: the head keeps the frontier, 32 leaves then 8 (not stored as a node)
    append(engine, 40)
    with engine.begin() as conn:
        stored = bytes.fromhex(conn.execute(text("SELECT frontier FROM ledger_head")).scalar())
        assert len(stored) == 64
        # when the hash of the last 8 leaves is rewritten in the head row
        changed = (stored[:32] + bytes(32)).hex()
        conn.execute(text("UPDATE ledger_head SET frontier = :f WHERE id = 1"), {"f": changed})
    # then verify names the tree at the head (the next append would fold that hash in)
    result = verify(engine)
    assert not result.ok and result.first_bad_position == 40
    assert result.problem == "the stored Merkle tree at position 40 is not the tree of the events"


# --- migration 0005 ------------------------------------------------------------------------


def migrate(engine: Engine, how: str, to: str) -> None:
    cfg = alembic_config()
    with owner(engine).begin() as conn:  # migrations are the owner's
        cfg.attributes["connection"] = conn
        getattr(command, how)(cfg, to)


def guards(conn: Connection) -> list[tuple[str, ...]]:
    """The triggers on ``merkle_nodes``, as the database holds them."""
    if conn.dialect.name == "sqlite":
        sql = "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = "
        return [tuple(r) for r in conn.execute(text(sql + "'merkle_nodes' ORDER BY name"))]
    sql = (
        "SELECT tgname, pg_get_triggerdef(oid), tgenabled FROM pg_trigger "
        "WHERE tgrelid = 'merkle_nodes'::regclass AND NOT tgisinternal ORDER BY tgname"
    )
    return [tuple(r) for r in conn.execute(text(sql))]


def proofs_at(conn: Connection, size: int) -> list[list[bytes]]:
    return [tree.consistency_proof(conn, f, size) for f in range(1, size + 1)] + [
        tree.inclusion_proof(conn, p, size) for p in range(1, size + 1)
    ]


def test_migration_0005_deletes_the_nodes_below_level_4_and_its_downgrade_restores_them(
    engine: Engine,
) -> None:
    # given 100 events in a database as migration 0004 left it: every node stored
    append_in_batches(engine, [1, 5, 30, 64])
    migrate(engine, "downgrade", "0003_ledger")
    migrate(engine, "upgrade", "0004_ledger")
    with owner(engine).connect() as conn:
        every, head, guarded = stored(conn), read_head(conn), guards(conn)
        leaves = leaves_of(conn)
        roots = [tree.root_at(conn, n) for n in range(1, 101)]
        proofs = proofs_at(conn, 100)
    built, _ = merkle.append_leaves(0, [], leaves)
    assert every == {i << 6 | lv: h for (lv, i), h in built}  # 100 leaves, 97 nodes
    assert len(every) == 197 and len(guarded) == 2
    # when 0005 runs
    upgrade_as_owner(engine)
    # then only the nodes of level 4 and up are left, and the roots, the proofs, the
    # frontier and the guards are as they were
    with owner(engine).connect() as conn:
        assert stored(conn) == {k: h for k, h in every.items() if k & 63 >= 4}
        assert len(stored(conn)) == 6 + 3 + 1  # 16 leaves x6, 32 x3, 64 x1
        assert [tree.root_at(conn, n) for n in range(1, 101)] == roots
        assert proofs_at(conn, 100) == proofs
        assert read_head(conn).frontier == head.frontier
        assert guards(conn) == guarded
    with pytest.raises(DBAPIError, match=r"immutable|append-only"), owner(engine).begin() as c:
        c.execute(text("DELETE FROM merkle_nodes"))
    assert verify(engine).ok
    # when it is downgraded, every node is back byte for byte
    migrate(engine, "downgrade", "0004_ledger")
    with owner(engine).connect() as conn:
        assert stored(conn) == every
        assert guards(conn) == guarded
    # and up again, appends go on from the same frontier
    upgrade_as_owner(engine)
    append(engine, 28)
    with engine.connect() as conn:
        assert tree.root_at(conn, 128) == merkle.root_of(leaves_of(conn))
        assert len(stored(conn)) == 8 + 4 + 2 + 1
    assert verify(engine).ok

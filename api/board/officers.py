"""Finance officers on the board: read-only, and scoped as the API scopes them.

- An officer sees only the pools its partner belongs to (the overview lists no other;
  any page of another pool is a 403, as the API's answer to the same officer is). An
  unknown pool is still a 404.
- In a pool it belongs to, an officer of a member that is not the host sees in the
  event log, and may open, only the events naming its partner (contributor, refund's
  partner, either party of a transfer) or recorded by its partner's officers: the
  rule of ``GET /v1/pools/{pool}/postings``. The host's officers see the whole pool's,
  as they post for every member. The figures and their traces are the API's, which
  officers read whole (a trace lists every event behind a figure, so it adds up), but
  an event outside the officer's scope is not linked to its detail.
- Nothing is posted from the board; any form other than signing in or out refuses an
  officer's session (403), whatever a later page adds.
- The audit page (verification of the whole ledger, checkpoints) is not an officer's:
  ``GET /v1/verify`` is the auditor's in the API.
"""

from __future__ import annotations

from sqlalchemy import Connection, select

from api.board.auth import BoardUser
from ledger.store.reads import StoredEvent
from projections import tables as pt
from projections.parties import pools_of_partner

OFFICER = "finance_officer"


class OfficerRefused(Exception):
    """An officer asked for something outside its partner's scope: a 403 page."""

    def __init__(self, heading: str, *lines: str) -> None:
        super().__init__(heading)
        self.heading, self.lines = heading, lines


def is_officer(user: BoardUser | None) -> bool:
    return user is not None and user.role == OFFICER


def visible_pools(conn: Connection, user: BoardUser) -> set[str] | None:
    """The pools ``user`` may see: every pool (None) but for an officer."""
    if not is_officer(user):
        return None
    return pools_of_partner(conn, user.partner_id or "") if user.partner_id else set()


def pool_exists(conn: Connection, pool_id: str) -> bool:
    m = pt.rm_pool_members.c
    return conn.execute(select(m.pool_id).where(m.pool_id == pool_id).limit(1)).first() is not None


def check_pool(conn: Connection, user: BoardUser, pool_id: str) -> None:
    """Refuse an officer a pool its partner does not belong to (at the ledger's head,
    as the API checks). An unknown pool is left to the page, which answers 404."""
    pools = visible_pools(conn, user)
    if pools is None or pool_id in pools or not pool_exists(conn, pool_id):
        return
    raise OfficerRefused(
        "You cannot see this page",
        f"A finance officer of {user.partner_id} sees only the pools its partner belongs "
        f"to; {pool_id} is not one of them.",
    )


def partner_scope(conn: Connection, user: BoardUser | None, pool_id: str) -> str | None:
    """The partner whose events ``user`` may see in ``pool_id``, or None for all of
    them (board, auditor, admin, and the host's officers)."""
    if user is None or not is_officer(user):
        return None
    p = pt.rm_pools.c
    host = conn.execute(select(p.host_partner_id).where(p.pool_id == pool_id)).scalar()
    return None if host is not None and host == user.partner_id else (user.partner_id or "")


def may_see(e: StoredEvent, partner: str | None) -> bool:
    """Whether an event is in a scope given by :func:`partner_scope`."""
    return partner is None or partner in (e.partner_id, e.counterparty_id, e.actor_partner_id)

"""PostgreSQL's two roles: the owner, who runs migrations and owns every table, and the
application's role, which owns nothing and may only read and add rows to the
append-only tables (so neither the guard triggers nor ``session_replication_role``
can be switched off from the application's connections).

``grant_app_role(conn, role)``, run by the owner after ``pooled db upgrade``, gives
``role`` exactly what the application needs in the current schema (the test fixtures
connect to PostgreSQL as such a role, so a right it lacks fails the tests).
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from ledger.store.tables import IMMUTABLE_TABLES


def grant_app_role(conn: Connection, role: str) -> None:
    if not role.replace("_", "").isalnum():
        raise ValueError(f"not a plain role name: {role!r}")
    schema = conn.execute(text("SELECT current_schema()")).scalar_one()
    tables = (
        conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"))
        .scalars()
        .all()
    )
    by_rights: dict[str, list[str]] = {}  # one GRANT per set of rights
    for table in tables:
        if table in IMMUTABLE_TABLES:
            rights = "SELECT, INSERT"
        elif table == "alembic_version":
            rights = "SELECT"
        else:  # the head row, write-side state, tokens, idempotency keys, read models
            # (TRUNCATE: a rebuild of the read models empties them so, on PostgreSQL)
            rights = "SELECT, INSERT, UPDATE, DELETE, TRUNCATE"
        by_rights.setdefault(rights, []).append(f'"{schema}"."{table}"')
    statements = [
        f'REVOKE ALL ON ALL TABLES IN SCHEMA "{schema}" FROM "{role}"',
        f'GRANT USAGE ON SCHEMA "{schema}" TO "{role}"',
        *(f'GRANT {r} ON {", ".join(names)} TO "{role}"' for r, names in by_rights.items()),
        f'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA "{schema}" TO "{role}"',
    ]
    conn.exec_driver_sql(";\n".join(statements))  # one round trip

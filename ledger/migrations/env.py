"""Alembic environment. The URL comes from the caller (``pooled db upgrade`` sets
``sqlalchemy.url``) or POOLED_DATABASE_URL; metadata modules are named in alembic.ini
so the ledger never imports the read side."""

from __future__ import annotations

import importlib
import os

from alembic import context
from sqlalchemy import MetaData

from ledger.store.engine import make_engine, normalise_url

config = context.config


def _metadata() -> list[MetaData]:
    names = (config.get_main_option("metadata_modules") or "").split()
    out = []
    for n in names:
        try:
            out.append(importlib.import_module(n).metadata)
        except ModuleNotFoundError:
            continue
    return out


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url") or os.environ.get("POOLED_DATABASE_URL")
    if not url:
        url = "sqlite:///var/pooled.db"
    return normalise_url(url)


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=_metadata(), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(
            connection=connection,
            target_metadata=_metadata(),
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(_url())
    with engine.connect() as conn:
        context.configure(
            connection=conn,
            target_metadata=_metadata(),
            render_as_batch=conn.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()

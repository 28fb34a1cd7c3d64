"""Run the Alembic migrations (both branches: ledger and projections) programmatically."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

ROOT = Path(__file__).resolve().parents[2]


def alembic_config(url: str | None = None) -> Config:
    ini = ROOT / "alembic.ini"
    cfg = Config(str(ini)) if ini.exists() else Config()
    cfg.set_main_option("script_location", str(ROOT / "ledger" / "migrations"))
    cfg.set_main_option(
        "version_locations",
        " ".join(str(ROOT / p / "migrations" / "versions") for p in ("ledger", "projections")),
    )
    cfg.set_main_option("path_separator", "space")
    cfg.set_main_option("metadata_modules", "ledger.store.tables projections.tables")
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(engine: Engine) -> None:
    """Migrate the database behind ``engine`` to the newest revision of every branch."""
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "heads")

"""Configuration by environment variables prefixed ``POOLED_``; read only by entrypoints."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="POOLED_", extra="ignore")

    database_url: str = "sqlite:///var/pooled.db"
    host: str = "127.0.0.1"
    port: int = 8000
    sqlite_synchronous: str = "FULL"
    scheduler: bool = True
    return_due_days: int | None = None  # overrides the reporting calendar's default
    scheduler_hour: int = 6  # Europe/London hour of the daily catch-up run
    max_body_bytes: int = 5_000_000
    # the checkpoint signing key (Ed25519 PEM): this path, or signing-key.pem under
    # data_dir, created on first start (ledger.store.checkpoints)
    signing_key_file: str | None = None
    # Board sessions: keys shared by every instance (comma-separated, the first signs,
    # the others are still accepted while sessions signed with them run out); unset,
    # a key file made on first start in ``data_dir`` (mode 0600).
    session_key: str | None = None
    data_dir: str = "var"
    # operations (issue 17): logs, metrics, tracing
    log_level: str = "INFO"
    log_format: str = "json"  # json | console (`make run` sets console)
    metrics_port: int | None = None  # also serve /metrics, unauthenticated, on this port
    metrics_host: str = "127.0.0.1"
    otel: bool = False  # OpenTelemetry tracing (the `otel` extra), exported by OTLP


def signing_key_path(settings: Settings) -> str:
    """Where the checkpoint signing key lives (outside the database)."""
    import os.path

    return settings.signing_key_file or os.path.join(settings.data_dir, "signing-key.pem")

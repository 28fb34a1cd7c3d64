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
    demo: bool = True  # load the demo partnership into an empty ledger on `pooled serve --demo`
    # operations (issue 17): logs, metrics, tracing
    log_level: str = "INFO"
    log_format: str = "json"  # json | console (`make run` sets console)
    metrics_port: int | None = None  # also serve /metrics, unauthenticated, on this port
    metrics_host: str = "127.0.0.1"
    otel: bool = False  # OpenTelemetry tracing (the `otel` extra), exported by OTLP

"""Operations: the request log (one JSON object per line, no query strings, no tokens),
/metrics (admin only, counters move), and the log format switch."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import jsonschema_rs
import pytest
from sqlalchemy import Engine

from ledger.logs import JsonFormatter, configure_logging
from tests.e2e.api_support import World, build_world, contribution

REQUEST_LINE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": [
        "time",
        "level",
        "logger",
        "event",
        "request_id",
        "method",
        "path",
        "route",
        "status",
        "duration_ms",
        "token_id",
        "positions",
    ],
    "properties": {
        "time": {"type": "string", "pattern": r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$"},
        "level": {"enum": ["info"]},
        "logger": {"const": "pooled.access"},
        "event": {"const": "request"},
        "request_id": {"type": "string", "minLength": 1},
        "method": {"enum": ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]},
        "path": {"type": "string", "pattern": r"^/[^?#]*$"},
        "route": {"type": "string"},
        "status": {"type": "integer", "minimum": 100, "maximum": 599},
        "duration_ms": {"type": "number", "minimum": 0},
        "token_id": {"type": ["string", "null"], "pattern": "^tok_"},
        "positions": {"type": ["array", "null"], "items": {"type": "integer", "minimum": 1}},
    },
}


@pytest.fixture
def world(engine: Engine) -> World:
    return build_world(engine)


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("pooled.access")
    logger.addHandler(handler)
    old_level = logger.level
    logger.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)


def parsed(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_write_is_logged_as_one_json_line_with_the_token_id_and_positions(
    world: World, captured: io.StringIO
) -> None:
    head = world.head()
    r = world.post("ncc", "/v1/pools/eq/contributions", contribution("ncc", "100.00"))
    assert r.status_code == 201, r.text

    (line,) = parsed(captured)
    jsonschema_rs.validate(REQUEST_LINE_SCHEMA, line)
    assert line["method"] == "POST"
    assert line["path"] == "/v1/pools/eq/contributions"
    assert line["route"] == "/v1/pools/{pool}/contributions"
    assert line["status"] == 201
    assert line["token_id"] == world.token_ids["ncc"]
    assert line["positions"] == [head + 1]
    assert line["request_id"] == r.headers["x-request-id"]
    assert world.secrets["ncc"] not in captured.getvalue()


def test_the_request_log_never_writes_the_query_string(world: World, captured: io.StringIO) -> None:
    r = world.client.get(
        "/v1/pools/eq/balances?year=2025-26&token=secret-in-url",
        headers=world.auth("board"),
    )
    assert r.status_code == 200, r.text
    r = world.client.get("/no/such/page?token=another-secret")
    assert r.status_code == 404

    text = captured.getvalue()
    assert "secret-in-url" not in text and "another-secret" not in text
    first, second = parsed(captured)
    jsonschema_rs.validate(REQUEST_LINE_SCHEMA, first)
    assert first["path"] == "/v1/pools/eq/balances"
    assert first["token_id"] == world.token_ids["board"]
    assert first["positions"] is None
    assert second["path"] == "/no/such/page"
    assert second["route"] == "unmatched"
    assert second["token_id"] is None


def test_a_refused_token_is_logged_without_a_token_id_or_the_secret(
    world: World, captured: io.StringIO
) -> None:
    r = world.client.get("/v1/pools", headers={"Authorization": "Bearer pooled_not-a-token"})
    assert r.status_code == 401
    (line,) = parsed(captured)
    assert line["status"] == 401 and line["token_id"] is None
    assert "pooled_not-a-token" not in captured.getvalue()


def _sample(page: str, name: str, **labels: str) -> float | None:
    """The value of the sample ``name{labels}`` on a Prometheus text page."""
    for line in page.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        metric, _, value = line.rpartition(" ")
        if metric.split("{")[0] != name:
            continue
        wanted = all(f'{k}="{v}"' in metric for k, v in labels.items())
        if wanted:
            return float(value)
    return None


def test_metrics_are_for_admins_and_the_counters_move(world: World) -> None:
    assert world.get("board", "/metrics").status_code == 403
    assert world.client.get("/metrics").status_code == 401

    before = world.get("admin", "/metrics")
    assert before.status_code == 200
    assert before.headers["content-type"].startswith("text/plain")
    route = "/v1/pools/{pool}/contributions"
    posts_before = _sample(before.text, "pooled_http_requests_total", route=route, status="201")
    events_before = _sample(before.text, "pooled_events_appended_total")
    assert posts_before is None  # no contribution posted yet

    for amount in ("10.00", "20.00", "30.00"):
        r = world.post("ncc", "/v1/pools/eq/contributions", contribution("ncc", amount))
        assert r.status_code == 201, r.text
    bad = world.post("ncc", "/v1/pools/eq/contributions", contribution("ncc", "1.001"))
    assert bad.status_code == 422

    page = world.get("admin", "/metrics").text
    assert _sample(page, "pooled_http_requests_total", route=route, status="201") == 3
    assert _sample(page, "pooled_http_requests_total", route=route, status="422") == 1
    assert (
        _sample(page, "pooled_http_request_duration_seconds_count", route=route, status="201") == 3
    )
    assert _sample(page, "pooled_events_appended_total") == (events_before or 0) + 3
    assert _sample(page, "pooled_ledger_head_position") == world.head()
    assert _sample(page, "pooled_projector_lag_events") == 0
    assert _sample(page, "pooled_database_up") == 1
    assert _sample(page, "pooled_scheduler_runs_total") is not None


def test_configure_logging_writes_json_lines_or_console_lines_to_stderr(
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    try:
        configure_logging("INFO", "json")
        logging.getLogger("pooled.test").info("hello", extra={"fields": {"pool": "eq"}})
        line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
        assert (line["event"], line["pool"], line["level"]) == ("hello", "eq", "info")
        configure_logging("WARNING", "console")
        logging.getLogger("pooled.test").info("quiet")
        logging.getLogger("pooled.test").warning("loud", extra={"fields": {"pool": "eq"}})
        err = capsys.readouterr().err
        assert "quiet" not in err
        assert "warning pooled.test: loud  pool=eq" in err
        with pytest.raises(ValueError, match="json or console"):
            configure_logging("INFO", "xml")
    finally:
        for h in list(root.handlers):
            root.removeHandler(h)
        for h in saved[0]:
            root.addHandler(h)
        root.setLevel(saved[1])

"""``pooled serve`` as a real process: its stderr is JSON lines (uvicorn's own records
too), its request log has no query strings (uvicorn's access log, which wrote them in
full, is off), and POOLED_METRICS_PORT serves the metrics page without a token."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.test_api_processes import ROOT, free_port

pytestmark = pytest.mark.slow


def _wait(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"server exited {proc.returncode}: {log.read_text()}")
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    proc.kill()
    pytest.fail(f"not ready in {timeout}s: {log.read_text()}")


def test_serve_logs_json_lines_without_query_strings_and_serves_metrics_on_its_port(
    tmp_path: Path, sqlite_template: Path
) -> None:
    db = tmp_path / "pooled.db"
    shutil.copy(sqlite_template, db)
    port, metrics_port = free_port(), free_port()
    env = {
        **os.environ,
        "POOLED_DATABASE_URL": f"sqlite:///{db}",
        "POOLED_LOG_FORMAT": "json",
        "POOLED_METRICS_PORT": str(metrics_port),
        "PYTHONUNBUFFERED": "1",
    }
    out, err = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    with out.open("wb") as o, err.open("wb") as e:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from api.cli import main; main()",
                "serve",
                "--no-scheduler",
                "--port",
                str(port),
            ],
            cwd=ROOT,
            env=env,
            stdout=o,
            stderr=e,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait(f"{base}/healthz", proc, err)
        assert httpx.get(f"{base}/healthz?token=secret-in-the-url").status_code == 200
        assert httpx.get(f"{base}/v1/pools?access_token=another-secret").status_code == 401
        scraped = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics")
        assert scraped.status_code == 200
        assert 'pooled_http_requests_total{method="GET",route="/healthz",status="200"}' in (
            scraped.text
        )
        assert "pooled_ledger_head_position 0.0" in scraped.text
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    text = err.read_text()
    assert "secret-in-the-url" not in text and "another-secret" not in text
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]
    assert lines, "no log lines"
    requests = [r for r in lines if r["event"] == "request"]
    paths = [(r["path"], r["status"]) for r in requests]
    assert ("/healthz", 200) in paths and ("/v1/pools", 401) in paths
    assert any(r["logger"].startswith("uvicorn") for r in lines)  # uvicorn's records, as JSON
    assert not any(r["logger"] == "uvicorn.access" for r in lines)

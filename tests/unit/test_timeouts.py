"""pytest-timeout: a hung test fails with its name (also under xdist), and the suite's
timeouts are the generous ones pyproject.toml and tests/conftest.py set."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_the_suite_runs_with_a_timeout_per_test(request: pytest.FixtureRequest) -> None:
    assert request.config.getini("timeout") == "300"


@pytest.mark.slow
def test_a_slow_test_gets_longer(request: pytest.FixtureRequest) -> None:
    marker = request.node.get_closest_marker("timeout")
    assert marker is not None and marker.args == (900,)


@pytest.mark.slow
@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_a_hung_test_fails_with_its_name(tmp_path: Path, workers: list[str]) -> None:
    (tmp_path / "test_hang.py").write_text(
        "import time\n\n\ndef test_hangs():\n    time.sleep(60)\n\n\ndef test_fine():\n    pass\n"
    )
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-c",
            str(ROOT / "pyproject.toml"),
            "--rootdir",
            str(tmp_path),
            "-o",
            "timeout=2",
            *workers,
            str(tmp_path / "test_hang.py"),
        ],
        capture_output=True,
        text=True,
        timeout=50,
        cwd=tmp_path,
    )
    assert run.returncode == 1, run.stdout + run.stderr
    assert "FAILED test_hang.py::test_hangs" in run.stdout
    assert "Timeout (>2.0s)" in run.stdout
    assert "1 failed, 1 passed" in run.stdout

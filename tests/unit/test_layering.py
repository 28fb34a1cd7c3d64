"""Dependencies point one way: api, scheduler -> projections -> ledger -> ledger.domain.
The domain imports no database, web or clock code."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STDLIB = set(sys.stdlib_module_names)
DOMAIN_ALLOWED = {"pydantic", "ledger", "cryptography"}  # cryptography: checkpoint signatures
DOMAIN_FORBIDDEN_STDLIB = {"sqlite3", "socket", "http", "urllib", "time"}
FORBIDDEN = {
    "ledger": {"projections", "api", "scheduler", "fastapi", "uvicorn", "apscheduler"},
    "projections": {"api", "scheduler", "fastapi", "apscheduler"},
    "scheduler": {"api.board"},
}


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), str(path))
    out: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append(node.module)
    return out


def _files(package: str) -> list[Path]:
    return [p for p in (ROOT / package).rglob("*.py") if "migrations" not in p.parts]


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_a_package_imports_nothing_above_it(package: str) -> None:
    bad = [
        f"{p.relative_to(ROOT)} imports {name}"
        for p in _files(package)
        for name in _imports(p)
        if any(name == f or name.startswith(f + ".") for f in FORBIDDEN[package])
        and not (package == "scheduler" and p.name == "cli.py")
    ]
    assert bad == []


def test_the_domain_imports_only_the_standard_library_pydantic_and_itself() -> None:
    bad = []
    for p in _files("ledger/domain"):
        for name in _imports(p):
            top = name.split(".")[0]
            outside = name.startswith("ledger.") and not name.startswith("ledger.domain")
            foreign = top not in STDLIB and top not in DOMAIN_ALLOWED
            if outside or foreign or top in DOMAIN_FORBIDDEN_STDLIB:
                bad.append(f"{p.name} imports {name}")
    assert bad == []


def test_the_domain_never_reads_the_clock() -> None:
    offenders = [
        p.name
        for p in _files("ledger/domain")
        if any(s in p.read_text() for s in ("datetime.now(", "date.today(", "time.time("))
    ]
    assert offenders == []

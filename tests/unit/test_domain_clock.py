"""The domain never reads the clock: the time a rule needs (``today``, a recorded
instant) is passed in. Which modules the domain may import is declared in
pyproject.toml's import contracts (``lint-imports``); a call is not an import, so this
one is a text check."""

from __future__ import annotations

from pathlib import Path

DOMAIN = Path(__file__).resolve().parents[2] / "ledger" / "domain"


def test_the_domain_never_reads_the_clock() -> None:
    offenders = [
        p.name
        for p in DOMAIN.rglob("*.py")
        if any(s in p.read_text() for s in ("datetime.now(", "date.today(", "time.time("))
    ]
    assert offenders == []

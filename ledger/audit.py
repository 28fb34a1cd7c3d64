"""``pooled audit verify``: a partner's or auditor's check of the ledger that does not
trust its host.

It imports only the domain's hashing code (``ledger.domain.hashing``, ``merkle``,
``checkpoint``: the standard library and ``cryptography``), so it runs on a laptop
without the server's code, database or web stack (a test holds this). Given:

- the checkpoints the partner saved (each signed by the ledger's key),
- the ledger's public key, or several, or its key ring (after a key rotation: each
  checkpoint names the key id of the key that signed it),
- optionally the events the partner saved (inclusion-proof answers of
  ``GET /v1/events/{position}/proof``, or bare events as those answers give them),
- optionally a way to ask the server (``fetch``: a GET giving parsed JSON),

it checks every saved signature; every saved inclusion proof against its own signed
checkpoint (offline); and, with the server, that its latest signed checkpoint extends
every saved one (RFC 9162 consistency proofs, checked against the *saved* roots) and
that every saved event is still in the server's tree as it was saved. The first
saved event the server no longer has as saved names the position where history
diverged; without one, the report bounds it between checkpoints.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ledger.domain import checkpoint as dc
from ledger.domain import merkle
from ledger.domain.hashing import canonical_row

Fetch = Callable[[str], Any]


@dataclass
class AuditReport:
    lines: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    diverged_at: int | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    def good(self, line: str) -> None:
        self.lines.append("ok: " + line)

    def bad(self, line: str, position: int | None = None) -> None:
        self.problems.append(line)
        self.lines.append("FAILED: " + line)
        if position is not None and (self.diverged_at is None or position < self.diverged_at):
            self.diverged_at = position


def load_checkpoints(data: Any) -> list[dc.SignedCheckpoint]:
    """Saved checkpoints: one, a list, ``{"checkpoints": [...]}`` (the list answer) or
    an inclusion-proof answer (its checkpoint)."""
    if isinstance(data, dict) and "checkpoints" in data:
        data = data["checkpoints"]
    if isinstance(data, dict) and "checkpoint" in data:
        data = data["checkpoint"]
    items = data if isinstance(data, list) else [data]
    return [dc.SignedCheckpoint.from_json(x) for x in items]


def load_events(data: Any) -> list[dict[str, Any]]:
    """Saved events: inclusion-proof answers or bare events, one or a list."""
    if isinstance(data, dict) and "events" in data:
        data = data["events"]
    return list(data) if isinstance(data, list) else [data]


def _leaf(event: dict[str, Any]) -> bytes:
    return merkle.leaf_hash(canonical_row(event).encode("utf-8"))


def _hexes(xs: Sequence[str]) -> list[bytes]:
    return [bytes.fromhex(x) for x in xs]


def audit_verify(
    saved: Sequence[dc.SignedCheckpoint],
    public_key: str | Sequence[str],
    events: Sequence[dict[str, Any]] = (),
    fetch: Fetch | None = None,
) -> AuditReport:
    """``public_key``: the text of a key file (or several): a key, PEM blocks or a key
    ring (``dc.load_keys``). Each checkpoint is checked with the key its key id names."""
    report = AuditReport()
    texts = [public_key] if isinstance(public_key, str) else list(public_key)
    key = dc.ring_of(k for text in texts for k in dc.load_keys(text))
    for s in saved:
        cp = s.checkpoint
        wrong = dc.ring_problem(key, s)
        if wrong is None:
            report.good(f"checkpoint at position {cp.position} is signed by key {s.key_id[:16]}")
        else:
            report.bad(f"checkpoint at position {cp.position} {wrong}")
    for item in events:
        _check_saved_proof(report, key, item)
    if fetch is None:
        return report
    latest = _latest(report, key, fetch)
    if latest is None:
        return report
    for s in sorted(saved, key=lambda s: s.checkpoint.position):
        _check_consistency(report, s.checkpoint, latest, fetch)
    for item in events:
        _check_still_included(report, item, latest, fetch)
    if report.problems and report.diverged_at is None:
        _bound_divergence(report, key, saved, latest, fetch)
    return report


def _check_saved_proof(report: AuditReport, key: dc.KeyRing, item: dict[str, Any]) -> None:
    event = item.get("event", item)
    pos = int(event["position"])
    leaf = _leaf(event)
    if "leaf_hash" in item and bytes.fromhex(item["leaf_hash"]) != leaf:
        report.bad(f"saved event at position {pos} does not hash to its saved leaf hash", pos)
        return
    if "proof" not in item:
        return
    signed = dc.SignedCheckpoint.from_json(item["checkpoint"])
    cp = signed.checkpoint
    wrong = dc.ring_problem(key, signed)
    if wrong is not None:
        report.bad(f"the checkpoint saved with event {pos} {wrong}")
    elif merkle.verify_inclusion(
        pos - 1, cp.position, leaf, _hexes(item["proof"]), bytes.fromhex(cp.root)
    ):
        report.good(f"event at position {pos} is in the signed tree of {cp.position} events")
    else:
        report.bad(f"event at position {pos} is not in the signed tree of {cp.position}", pos)


def _latest(report: AuditReport, key: dc.KeyRing, fetch: Fetch) -> dc.Checkpoint | None:
    listed = fetch("/v1/checkpoints?limit=1").get("checkpoints", [])
    if not listed:
        report.bad("the server has no signed checkpoint")
        return None
    signed = dc.SignedCheckpoint.from_json(listed[0])
    wrong = dc.ring_problem(key, signed)
    if wrong is not None:
        report.bad(f"the server's latest checkpoint {wrong}")
        return None
    report.good(f"the server's latest checkpoint (position {signed.checkpoint.position}) is signed")
    return signed.checkpoint


def _check_consistency(
    report: AuditReport, old: dc.Checkpoint, new: dc.Checkpoint, fetch: Fetch
) -> None:
    if old.ledger_id != new.ledger_id:
        report.bad(f"checkpoint at position {old.position} is of another ledger")
        return
    if old.position > new.position:
        report.bad(
            f"the server's latest checkpoint ({new.position}) is behind a saved one "
            f"({old.position}): events were removed from the end",
            new.position + 1,
        )
        return
    answer = fetch(f"/v1/proofs/consistency?from={old.position}&to={new.position}")
    ok = merkle.verify_consistency(
        old.position,
        new.position,
        bytes.fromhex(old.root),
        bytes.fromhex(new.root),
        _hexes(answer.get("proof", [])),
    )
    if ok:
        report.good(f"the tree at {new.position} extends the saved checkpoint at {old.position}")
    else:
        report.bad(
            f"the server's tree at {new.position} does not extend the saved checkpoint at "
            f"position {old.position}: history up to {old.position} was rewritten"
        )


def _check_still_included(
    report: AuditReport, item: dict[str, Any], latest: dc.Checkpoint, fetch: Fetch
) -> None:
    event = item.get("event", item)
    pos = int(event["position"])
    if pos > latest.position:
        report.bad(f"saved event at position {pos} is beyond the server's latest checkpoint", pos)
        return
    answer = fetch(f"/v1/events/{pos}/proof?checkpoint={latest.position}")
    ok = merkle.verify_inclusion(
        pos - 1, latest.position, _leaf(event), _hexes(answer["proof"]), bytes.fromhex(latest.root)
    )
    if ok:
        report.good(f"saved event at position {pos} is still in the tree of {latest.position}")
        return
    theirs = answer.get("event", {})
    changed = sorted(k for k in event if k in theirs and theirs[k] != event[k] and k != "hash")
    report.bad(
        f"history diverged at position {pos}: the server no longer has the event saved "
        f"there" + (f" (changed: {', '.join(changed)})" if changed else ""),
        pos,
    )


def _bound_divergence(
    report: AuditReport,
    key: dc.KeyRing,
    saved: Sequence[dc.SignedCheckpoint],
    latest: dc.Checkpoint,
    fetch: Fetch,
) -> None:
    """Between the last checkpoint the latest tree still extends and the first it does
    not (the server's own signed checkpoints, which its database cannot re-sign)."""
    theirs = load_checkpoints(fetch("/v1/checkpoints?limit=1000"))
    points = sorted(
        {
            s.checkpoint.position: s.checkpoint
            for s in [*saved, *theirs]
            if dc.ring_problem(key, s) is None
        }.values(),
        key=lambda c: c.position,
    )
    good, bad = 0, None
    for cp in points:
        if cp.position > latest.position:
            continue
        answer = fetch(f"/v1/proofs/consistency?from={cp.position}&to={latest.position}")
        if merkle.verify_consistency(
            cp.position,
            latest.position,
            bytes.fromhex(cp.root),
            bytes.fromhex(latest.root),
            _hexes(answer.get("proof", [])),
        ):
            good = cp.position
        elif bad is None:
            bad = cp.position
    if bad is not None:
        report.bad(f"history diverged after position {good} and at or before position {bad}", bad)


def read_json(path: str) -> Any:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def http_fetch(server: str, token: str) -> Fetch:
    """GETs to the server with a bearer token (standard library only)."""
    import urllib.request

    def get(path: str) -> Any:
        req = urllib.request.Request(
            server.rstrip("/") + path, headers={"Authorization": f"Bearer {token}"}
        )
        with urllib.request.urlopen(req, timeout=60) as r:
            return json.load(r)

    return get


def run(
    checkpoints: str,
    public_key: str | Sequence[str],
    events: str | None = None,
    fetch: Fetch | None = None,
) -> AuditReport:
    """Read the files and verify (the command line's body). ``public_key``: one key
    file or several (a key each, PEM blocks, or a key ring)."""
    keys = []
    for path in [public_key] if isinstance(public_key, str) else public_key:
        with open(path, encoding="utf-8") as f:
            keys.append(f.read())
    saved = load_checkpoints(read_json(checkpoints))
    evs = load_events(read_json(events)) if events else []
    return audit_verify(saved, keys, evs, fetch)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m ledger.audit --checkpoints F --public-key F [--events F]
    [--server URL --token T]``: the verifier without the rest of pooled."""
    import argparse
    import os

    p = argparse.ArgumentParser(prog="pooled audit verify")
    p.add_argument("--checkpoints", required=True)
    p.add_argument("--public-key", required=True, action="append")
    p.add_argument("--events")
    p.add_argument("--server")
    p.add_argument("--token", default=os.environ.get("POOLED_TOKEN"))
    a = p.parse_args(argv)
    fetch = http_fetch(a.server, a.token or "") if a.server else None
    report = run(a.checkpoints, a.public_key, a.events, fetch)
    print("\n".join(report.lines))
    if report.ok:
        print("OK")
        return 0
    if report.diverged_at is not None:
        print(f"history diverged at position {report.diverged_at}")
    return 1


if __name__ == "__main__":
    raise SystemExit(main())

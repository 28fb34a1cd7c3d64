"""A small world for the HTTP tests: the app over a database, tokens for every role,
and the equipment pool of worked example A set up through the API itself."""

from __future__ import annotations

import shutil
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from api.app import create_app
from ledger.clock import FixedClock
from ledger.settings import Settings
from ledger.store import tokens
from ledger.store.engine import make_engine
from ledger.store.reads import read_head
from tests.conftest import (
    dispose_app_engine,
    drop_postgres_schema,
    postgres_app_engine,
    require_postgres,
)

with warnings.catch_warnings():
    # Starlette asks for ``httpx2`` in place of the ``httpx`` the project pins; the client
    # works the same either way.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

PARTNERS = {
    "ncc": ("Nottinghamshire County Council", "local_authority"),
    "city": ("Nottingham City Council", "local_authority"),
    "icb-a": ("NHS Nottingham and Nottinghamshire ICB", "icb"),
    "trust": ("Sherwood Forest Hospitals NHS FT", "nhs_trust"),
}
PLAN: dict[str, Any] = {
    "contributions": [
        {"partner_id": "ncc", "funding_stream": "contribution", "amount": "2000000.00"},
        {"partner_id": "city", "funding_stream": "contribution", "amount": "1000000.00"},
        {"partner_id": "icb-a", "funding_stream": "contribution", "amount": "500000.00"},
    ],
    "schemes": [
        {
            "id": "equipment",
            "name": "Community equipment",
            "scheme_type": "Assistive Technologies and Equipment",
            "commissioner": "ncc",
            "provider_type": "Private Sector",
            "funding_stream": "contribution",
            "planned": "3500000.00",
        }
    ],
    "risk_share": {
        "overspend": {"method": "proportional"},
        "underspend": {"method": "proportional"},
    },
    # alliance parts, so every kind of posting has something to post against
    "risk_reward_schemes": [
        {
            "id": "rapid-response",
            "name": "Rapid response",
            "gain_shares": {"ncc": "50", "icb-a": "50"},
            "loss_shares": {"ncc": "70", "icb-a": "30"},
        }
    ],
    "capitation": {
        "budget": "12000000.00",
        "excluded_personal_budgets": "1500000.00",
        "weights": {"0-64": "1.0", "65-84": "2.5", "85+": "6.0"},
    },
    "commissioned_services": [
        {
            "id": "hc-north-q2",
            "provider_id": "mears",
            "period": "2025-26-Q2",
            "hours": "10000",
            "rate": "17.00",
            "base_pct": "95",
            "outcomes": ["independence", "satisfaction"],
        }
    ],
    "metrics": [
        {
            "id": "falls-admissions",
            "name": "Emergency admissions after falls",
            "unit": "admissions",
            "lower_is_better": True,
        }
    ],
}
SMALL_BODY_LIMIT = 64_000


@dataclass
class World:
    client: TestClient
    engine: Engine
    clock: FixedClock
    secrets: dict[str, str] = field(default_factory=dict)  # who -> bearer secret
    token_ids: dict[str, str] = field(default_factory=dict)

    def auth(self, who: str, key: str | None = None) -> dict[str, str]:
        h = {"Authorization": f"Bearer {self.secrets[who]}"}
        if key is not None:
            h["Idempotency-Key"] = key
        return h

    def post(self, who: str, path: str, body: Any, key: str | None = None) -> Any:
        return self.client.post(path, json=body, headers=self.auth(who, key))

    def get(self, who: str, path: str, **params: Any) -> Any:
        return self.client.get(path, params=params, headers=self.auth(who))

    def head(self) -> int:
        with self.engine.connect() as conn:
            return read_head(conn).position

    def issue(self, who: str, role: str, partner_id: str | None = None) -> None:
        record, secret = tokens.create_token(
            self.engine, role=role, name=f"{who} ({role})", partner_id=partner_id, clock=self.clock
        )
        self.secrets[who] = secret
        self.token_ids[who] = record.token_id


def contribution(partner: str, amount: str, on: str = "2025-07-01", **extra: Any) -> dict[str, Any]:
    return {
        "partner_id": partner,
        "funding_stream": "contribution",
        "amount": amount,
        "effective_date": on,
        "reference": f"BACS {partner} {amount}",
        **extra,
    }


def spend(amount: str, on: str = "2025-07-15", **extra: Any) -> dict[str, Any]:
    return {
        "scheme_id": "equipment",
        "amount": amount,
        "effective_date": on,
        "reference": f"INV {amount}",
        **extra,
    }


def build_world(engine: Engine, *, clock: FixedClock | None = None) -> World:
    """Tokens for admin, board, auditor, a revoked one, and an officer of each partner;
    partners ncc (host), city, icb-a in pool ``eq`` with the example-A plan; trust
    registered but in no pool."""
    clock = clock or FixedClock(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    settings = Settings(max_body_bytes=SMALL_BODY_LIMIT, scheduler=False)
    app = create_app(settings, engine=engine, clock=clock)
    w = World(TestClient(app), engine, clock)
    for who, role in (("admin", "admin"), ("board", "board"), ("auditor", "auditor")):
        w.issue(who, role)
    w.issue("revoked", "admin")
    tokens.revoke_token(engine, w.token_ids["revoked"], clock)
    for pid, (name, kind) in PARTNERS.items():
        r = w.post("admin", "/v1/partners", {"id": pid, "name": name, "kind": kind})
        assert r.status_code == 201, r.text
        w.issue(pid, "finance_officer", pid)
    r = w.post(
        "admin",
        "/v1/pools",
        {
            "id": "eq",
            "name": "Community equipment",
            "kind": "section_75",
            "host_partner_id": "ncc",
            "members": ["ncc", "city", "icb-a"],
        },
    )
    assert r.status_code == 201, r.text
    r = w.client.put("/v1/pools/eq/years/2025-26/plan", json=PLAN, headers=w.auth("admin"))
    assert r.status_code == 201, r.text
    return w


@contextmanager
def database(kind: str, tmp: Path, template: Path) -> Iterator[Engine]:
    """A migrated, empty database outside the function-scoped ``engine`` fixture (for
    module-scoped worlds)."""
    if kind == "sqlite":
        path = tmp / f"api-{uuid.uuid4().hex[:8]}.db"
        shutil.copy(template, path)
        eng = make_engine(f"sqlite:///{path}")
        try:
            yield eng
        finally:
            eng.dispose()
        return
    require_postgres()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    eng = postgres_app_engine(schema)  # migrated by the owner, used as the app's role
    try:
        yield eng
    finally:
        dispose_app_engine(eng)
        drop_postgres_schema(schema)

"""Idempotency-Key: a retry returns the first answer and writes nothing; a different
body under the same key is a 409 naming the difference; a refused request stores no
key; eight concurrent retries write exactly once."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, select

from api.deps import WriterDep
from api.schemas.events import WriteResult
from api.schemas.postings import ContributionCreate
from ledger.store.tables import idempotency_keys
from tests.e2e.api_support import World, build_world, contribution

PATH = "/v1/pools/eq/contributions"


@pytest.fixture
def world(engine: Engine) -> Iterator[World]:
    w = build_world(engine)
    yield w
    w.client.close()


def body(amount: str = "17", **extra: Any) -> dict[str, Any]:
    return {**contribution("city", amount), "reference": "BACS 1", **extra}


def test_the_same_key_and_body_returns_the_first_answer_and_writes_once(world: World) -> None:
    w = world
    first = w.post("city", PATH, body("17"), key="pay-1")
    assert first.status_code == 201, first.text
    assert "Idempotent-Replayed" not in first.headers
    head = w.head()
    # "17" and "17.00" are the same amount, so the same request
    again = w.post("city", PATH, body("17.00"), key="pay-1")
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["event_id"] == first.json()["event_id"]
    assert again.json()["position"] == first.json()["position"]
    assert again.json() == first.json()
    assert w.head() == head


def test_the_same_key_with_a_different_body_is_a_conflict_naming_the_field(world: World) -> None:
    w = world
    assert w.post("city", PATH, body("17"), key="pay-2").status_code == 201
    head = w.head()
    r = w.post("city", PATH, body("18"), key="pay-2")
    assert r.status_code == 409
    assert r.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in r.json()["errors"]] == ["amount"]
    assert "amount" in r.json()["detail"]
    r = w.post("city", PATH, body("17", effective_date="2025-07-02"), key="pay-2")
    assert r.status_code == 409
    assert [e["field"] for e in r.json()["errors"]] == ["effective_date"]
    assert w.head() == head


def test_a_key_is_scoped_to_the_token_and_the_path(world: World) -> None:
    w = world
    a = w.post("city", PATH, body("17"), key="shared")
    b = w.post("ncc", PATH, body("17"), key="shared")  # another token: another request
    assert a.status_code == b.status_code == 201
    assert a.json()["event_id"] != b.json()["event_id"]
    c = w.post(
        "ncc",
        "/v1/pools/eq/forecasts",
        {"year": "2025-26", "amount": "1.00", "as_of_date": "2025-09-30"},
        key="shared",
    )
    assert c.status_code == 201  # another path: another request


def test_a_refused_request_stores_no_key(world: World) -> None:
    w = world
    head = w.head()
    assert w.post("city", PATH, body("17.001"), key="pay-3").status_code == 422
    assert w.post("city", PATH, {**body("17"), "partner_id": "ncc"}, key="pay-3").status_code == 403
    assert w.head() == head
    r = w.post("city", PATH, body("17"), key="pay-3")
    assert r.status_code == 201, r.text
    assert "Idempotent-Replayed" not in r.headers


def test_eight_concurrent_retries_of_one_request_write_exactly_one_event(world: World) -> None:
    w = world
    head = w.head()
    start = threading.Barrier(8)
    answers: list[tuple[int, str]] = []
    lock = threading.Lock()

    def retry() -> None:
        start.wait()
        r = w.post("city", PATH, body("250.00"), key="burst")
        with lock:
            answers.append((r.status_code, r.json().get("event_id", r.text)))

    threads = [threading.Thread(target=retry) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(answers) == 8
    assert {status for status, _ in answers} == {201}
    assert len({event_id for _, event_id in answers}) == 1
    assert w.head() == head + 1


def test_an_import_is_idempotent_too(world: World) -> None:
    w = world
    csv_text = (
        "kind,partner_id,amount,effective_date,reference\r\n"
        "contribution,city,10.00,2025-07-01,A\r\n"
        "contribution,ncc,20.00,2025-07-01,B\r\n"
    )
    headers = {**w.auth("ncc", "imp-1"), "Content-Type": "text/csv"}
    first = w.client.post("/v1/pools/eq/imports", content=csv_text, headers=headers)
    assert first.status_code == 201, first.text
    head = w.head()
    again = w.client.post(
        "/v1/pools/eq/imports", content=csv_text.replace("10.00", "10"), headers=headers
    )
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["events"] == first.json()["events"]
    assert w.head() == head
    changed = w.client.post(
        "/v1/pools/eq/imports", content=csv_text.replace("20.00", "21.00"), headers=headers
    )
    assert changed.status_code == 409
    assert w.head() == head


def accept_contribution(body: ContributionCreate, write: WriterDep) -> WriteResult:
    """A write answered 202 (no route of the API answers a write with other than 201)."""
    return write.one(body.command("eq"))


def test_a_repeat_gets_the_status_the_first_answer_was_given(world: World) -> None:
    w = world
    app: Any = w.client.app
    app.add_api_route("/v1/test/accepted", accept_contribution, methods=["POST"], status_code=202)
    first = w.post("city", "/v1/test/accepted", body("17"), key="acc-1")
    assert first.status_code == 202, first.text
    again = w.post("city", "/v1/test/accepted", body("17"), key="acc-1")
    assert again.status_code == 202
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    # the key's row keeps the first answer's status; an ordinary write's is 201
    assert w.post("city", PATH, body("18"), key="pay-9").status_code == 201
    with w.engine.connect() as conn:
        kept = sorted(conn.execute(select(idempotency_keys.c.status)).scalars())
    assert kept == [201, 202]

"""Prometheus metrics (``prometheus-client``): the registry both processes serve. The
API serves it at ``GET /metrics`` for admin tokens (``api.metrics``); either the API or
``pooled scheduler run`` also serves it without a token on ``POOLED_METRICS_PORT``
(bound to ``POOLED_METRICS_HOST``, 127.0.0.1 by default) for a scraper that holds no
token. It lives here, below ``api`` and ``scheduler``, because both serve it and
neither imports the other (the import contracts in pyproject.toml).

Kept cheap on the hot path: a request adds one counter increment and one histogram
observation (in the request log middleware, :mod:`api.access`); an append adds two
counter increments after its commit. Everything read from the database (the ledger
head, the projector's checkpoint, the returns filed and due) is read once per scrape,
by :class:`LedgerCollector`, never per request.

Each app has its own registry (tests build many apps in one process). The scheduler's
runs and failures (``RUNS``, ``RUN_FAILURES``, ``FILING_FAILURES``, counted by
``scheduler.jobs`` and ``scheduler.service``) are this process's counts: they are on
the page of the process running the scheduler.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Connection, Engine

from filing.records import due_date, filed_records, first_quarter, read_at
from ledger.clock import LONDON
from ledger.store.reads import StoredEvent
from projections.parties import pools_at
from projections.rebuild import status
from projections.returns.reference import ReferenceSource

log = logging.getLogger("pooled.metrics")

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Tally:
    """A thread-safe count for the metrics page (the scheduler's runs and failures)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.value = 0

    def add(self, n: int = 1) -> None:
        with self._lock:
            self.value += n


# this process's scheduler counts, read at scrape time
RUNS, RUN_FAILURES, FILING_FAILURES = Tally(), Tally(), Tally()


class Metrics:
    """An app's metrics: request counts and latencies (by method, route template and
    status), commits and events appended, and the scrape-time ledger collector."""

    def __init__(
        self, engine: Engine, reference: ReferenceSource, due_days: int | None = None
    ) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "pooled_http_requests",
            "HTTP requests answered, by method, route template and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "pooled_http_request_duration_seconds",
            "Time to answer a request, by method, route template and status",
            ["method", "route", "status"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.appends = Counter(
            "pooled_append_transactions",
            "Append transactions committed by this process (a group commit is one)",
            registry=self.registry,
        )
        self.events = Counter(
            "pooled_events_appended",
            "Events appended by this process",
            registry=self.registry,
        )
        self.registry.register(LedgerCollector(engine, reference, due_days))

    # -- a ReadModelHook (ledger.hooks): it counts commits, and remembers nothing
    def apply(self, conn: Connection, events: Sequence[StoredEvent]) -> None:
        """Nothing to do inside the append transaction; only commits are counted."""

    def committed(self, h0: int, h1: int) -> None:
        self.appends.inc()
        self.events.inc(h1 - h0)

    def forget(self) -> None:
        """Nothing remembered: the counters count this process's commits."""

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        labels = (method, route, str(status))
        self.requests.labels(*labels).inc()
        self.latency.labels(*labels).observe(seconds)

    def page(self) -> bytes:
        return generate_latest(self.registry)


def _midnight(d: date) -> float:
    """The start of ``d`` in London, as a Unix timestamp."""
    return datetime.combine(d, time(0), LONDON).timestamp()


class LedgerCollector(Collector):
    """Read at scrape time, in one read transaction: the head position, the read models'
    checkpoint and lag, and per BCF pool its last filed return and next due date; and
    the scheduler's runs and failures in this process."""

    def __init__(self, engine: Engine, reference: ReferenceSource, due_days: int | None) -> None:
        self.engine, self.reference, self.due_days = engine, reference, due_days

    def collect(self) -> Iterable[Metric]:
        yield from _scheduler_counts()
        try:
            yield from self._from_database()
        except Exception as e:  # a scrape must answer even while the database is down
            log.warning("metrics: the database could not be read: %s", e.__class__.__name__)
            up = GaugeMetricFamily("pooled_database_up", "1 when the last scrape read it")
            up.add_metric([], 0)
            yield up

    def _from_database(self) -> Iterable[Metric]:

        checkpoint, head = status(self.engine)
        up = GaugeMetricFamily("pooled_database_up", "1 when the last scrape read it")
        up.add_metric([], 1)
        yield up
        g = GaugeMetricFamily("pooled_ledger_head_position", "The ledger head's position")
        g.add_metric([], head)
        yield g
        g = GaugeMetricFamily(
            "pooled_projector_checkpoint_position", "The position the read models are at"
        )
        g.add_metric([], checkpoint)
        yield g
        g = GaugeMetricFamily(
            "pooled_projector_lag_events", "Events appended but not yet in the read models"
        )
        g.add_metric([], max(head - checkpoint, 0))
        yield g

        last = GaugeMetricFamily(
            "pooled_return_last_filed_timestamp_seconds",
            "When the pool's latest quarterly return was filed (quarter as a label)",
            labels=["pool", "quarter"],
        )
        due = GaugeMetricFamily(
            "pooled_return_next_due_timestamp_seconds",
            "Start (London) of the due date of the pool's next unfiled return",
            labels=["pool", "quarter"],
        )

        with read_at(self.engine) as (conn, at):
            for pool in pools_at(conn, at):
                if pool.kind != "bcf":
                    continue
                filed = filed_records(conn, pool.pool_id, at)
                q = first_quarter(pool)
                latest = None
                while q is not None and q.label in filed:
                    latest, q = filed[q.label], q.next()
                if latest is not None and latest.generated_at:
                    when = datetime.fromisoformat(latest.generated_at)
                    stamp = (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()
                    last.add_metric([pool.pool_id, latest.quarter], stamp)
                if q is not None:
                    d = due_date(q, self.reference, self.due_days)
                    due.add_metric([pool.pool_id, q.label], _midnight(d))
        yield last
        yield due


def _scheduler_counts() -> Iterable[Metric]:
    for name, doc, tally in (
        ("pooled_scheduler_runs", "Catch-up runs of the return scheduler here", RUNS),
        ("pooled_scheduler_run_failures", "Catch-up runs that raised", RUN_FAILURES),
        (
            "pooled_scheduler_filing_failures",
            "Returns a catch-up could not file (a rule refused them)",
            FILING_FAILURES,
        ),
    ):
        c = CounterMetricFamily(name, doc)
        c.add_metric([], tally.value)
        yield c


def serve_on_port(metrics: Metrics, host: str, port: int) -> Any:
    """Serve the page without a token on ``host:port`` (a thread); returns its server,
    whose ``shutdown()`` stops it."""
    from prometheus_client import start_http_server

    server, _thread = start_http_server(port, addr=host, registry=metrics.registry)
    log.info("metrics on http://%s:%s/metrics", host, port)
    return server

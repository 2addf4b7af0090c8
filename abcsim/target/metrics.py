"""The target's Prometheus metrics, served as text at ``GET /metrics``.

A dashboard during a replay of the London open shows requests and errors per
request type, the latency histogram, how many requests are in flight, how
long the queue is and how many of the 32 workers are busy, plus the process's
CPU seconds and resident memory (where a leak fault shows up).

Each server has its own :class:`~prometheus_client.CollectorRegistry`, not the
global one, so several targets in one test process never share a counter.
"""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
)

from abcsim.scenario.spec import REQUEST_TYPES

PREFIX = "abc_target"

LATENCY_BUCKETS: tuple[float, ...] = (
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.0,
    5.0,
    10.0,
    30.0,
    60.0,
)
"""Seconds; spans a 2 ms health check to a stalled batch workflow, with the SLOs' 0.5 s and 2 s."""

ERROR_REASONS: tuple[str, ...] = ("error", "overload", "reset", "bad_request", "timeout")
"""``error``: a 500 from the error fault; ``overload``: a 503 from a full queue;
``reset``: a connection reset by the fault; ``bad_request``: a 400 (bad ``size``);
``timeout``: a 504 from a nested workflow stage that waited too long for a worker."""


class TargetMetrics:
    """Every metric of one server, in a registry of its own."""

    def __init__(
        self,
        *,
        workers: int,
        memory_limit_bytes: int,
        in_flight: Callable[[], float],
        queued: Callable[[], float],
        busy: Callable[[], float],
        leaked: Callable[[], float],
    ) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            f"{PREFIX}_requests", "API requests received, by request type", ["request"], registry=r
        )
        self.errors = Counter(
            f"{PREFIX}_errors",
            "API requests not answered 200, by request type and reason",
            ["request", "reason"],
            registry=r,
        )
        self.latency = Histogram(
            f"{PREFIX}_request_duration_seconds",
            "Arrival to answer of API requests, queueing included, by request type",
            ["request"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        # Gauges read at scrape time from the server's own counts: nothing to update
        # on the request path (a Gauge's inc/dec takes a lock every time).
        Gauge(
            f"{PREFIX}_in_flight", "API requests received and not yet answered", registry=r
        ).set_function(in_flight)
        Gauge(f"{PREFIX}_queue_length", "Requests waiting for a worker", registry=r).set_function(
            queued
        )
        Gauge(f"{PREFIX}_workers_busy", "Workers serving a request", registry=r).set_function(busy)
        Gauge(f"{PREFIX}_workers", "Workers in the pool", registry=r).set(workers)
        Gauge(
            f"{PREFIX}_memory_limit_bytes", "The memory limit (ABC_MEMORY_LIMIT)", registry=r
        ).set(memory_limit_bytes)
        Gauge(f"{PREFIX}_leaked_bytes", "Memory leaked by the leak fault", registry=r).set_function(
            leaked
        )
        # process_cpu_seconds_total, process_resident_memory_bytes, ... (read from /proc,
        # so Linux only; elsewhere they are simply absent).
        ProcessCollector(registry=r)
        # Every series exists from the start at 0, so a scrape before any traffic
        # (and a counter compared with what a test sent) sees all request types.
        for request in REQUEST_TYPES:
            self.requests.labels(request)
            self.latency.labels(request)
            for reason in ERROR_REASONS:
                self.errors.labels(request, reason)

    def render(self) -> tuple[bytes, str]:
        """The exposition text and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST

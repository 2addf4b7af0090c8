"""The reference target's HTTP API: the scenario's endpoints, plus health, metrics and admin.

Every request type in the scenario's endpoint table is served at its method
and path (``POST /api/v1/agents/risk-analysis``). A request is served like this:

1. it counts as arrived and reads its ``size`` — the ``size`` field of a JSON
   body (``{"size": 1000}``) or else the ``size`` query parameter (``?size=20``);
   1 if neither, 400 if not a whole number from 1 to 1,000,000;
2. the faults draw its fate; inside a stall window it waits for the window's end;
   a reset fault closes the connection now;
3. it queues for a worker (503 at once if the queue is full) and holds it for
   its service time — a workflow holds one per stage, re-joining the back of the
   queue between stages — plus any latency spike;
4. it answers 500 if the error fault picked it, else 200 with a JSON body.

``X-ABC-Event-Id`` and ``X-ABC-Synthetic`` request headers are accepted and
echoed on the answer (and ``event_id`` in the body) so a replayer can match
answers to schedule rows.

The target's own endpoints — never queued, stalled or faulted:

- ``GET /health``: liveness and state (unless the scenario serves ``GET /health`` itself);
- ``GET /metrics``: Prometheus text (:mod:`abcsim.target.metrics`);
- ``GET /_admin/faults``: the faults in force and the seconds since start;
  ``POST /_admin/faults`` with a JSON object such as ``{"error_rate": 0.5}`` or
  ``{"stall": [12, 15], "spike_rate": "off"}`` changes the named faults (others
  stay); ``DELETE /_admin/faults`` switches all off. Bad input gets 400.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import time
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np

from abcsim.errors import ScenarioError, TargetError
from abcsim.scenario.spec import Scenario
from abcsim.target.faults import Decision, FaultInjector, Faults
from abcsim.target.http import Handler, Request, Response, Router, json_response
from abcsim.target.metrics import ERROR_REASONS, TargetMetrics
from abcsim.target.payloads import Payloads
from abcsim.target.pool import QueueFull, WorkerPool
from abcsim.target.service import ServiceModel, Stage
from abcsim.target.settings import TargetSettings

MAX_SIZE = 1_000_000
RESERVED_PATHS = ("/metrics", "/_admin/faults")  # /health yields to a scenario that serves it
# (as sent, as parsed): the server lower-cases the names it parses
ECHOED_HEADERS = tuple((h, h.lower()) for h in ("X-ABC-Event-Id", "X-ABC-Synthetic"))


class TargetState:
    """What one running target's handlers share: pool, models, faults and metrics."""

    def __init__(self, scenario: Scenario, settings: TargetSettings, started: float) -> None:
        # One stream per concern, so switching a fault on never changes the service times.
        service_seed, fault_seed, payload_seed = np.random.SeedSequence(settings.seed).spawn(3)
        self.scenario = scenario
        self.settings = settings
        self.pool = WorkerPool(settings.workers, settings.queue_limit)
        self.service = ServiceModel(scenario.system, service_seed)
        self.faults = FaultInjector(settings.faults, np.random.default_rng(fault_seed), started)
        self.payloads = Payloads(np.random.default_rng(payload_seed))
        self.in_flight = 0  # API requests received and not yet answered
        self.nested_wait_s = scenario.system.timeout_s  # the nested fault's way out
        self.metrics = TargetMetrics(
            workers=settings.workers,
            memory_limit_bytes=settings.memory_limit_bytes,
            in_flight=lambda: self.in_flight,
            queued=lambda: self.pool.queued,
            busy=lambda: self.pool.busy,
            leaked=lambda: self.faults.leaked_bytes,
        )

    def status(self) -> dict[str, Any]:
        """The server's state, for health answers."""
        return {
            "status": "ok",
            "scenario": self.scenario.name,
            "workers": self.pool.workers,
            "workers_busy": self.pool.busy,
            "queue_length": self.pool.queued,
            "queue_limit": self.pool.queue_limit,
            "memory_limit_bytes": self.settings.memory_limit_bytes,
            "faults": self.faults.faults.active(),
            "performance_mode": self.settings.performance_mode,
        }


@dataclass(frozen=True)
class TargetApp:
    """A target's routes and the state its handlers share."""

    state: TargetState
    router: Router


def build_app(scenario: Scenario, settings: TargetSettings, started: float) -> TargetApp:
    """The routes and state serving ``scenario``'s endpoints (``started``: time.monotonic())."""
    router = Router()
    state = TargetState(scenario, settings, started)
    served: dict[tuple[str, str], str] = {}
    for request, endpoint in scenario.endpoints:
        key = (endpoint.method, endpoint.path)
        field = f"endpoints.{request}"
        if key in served:
            where = f"{endpoint.method} {endpoint.path}"
            raise ScenarioError(scenario.source, field, f"{where} is also {served[key]}'s")
        if endpoint.path in RESERVED_PATHS:
            raise ScenarioError(scenario.source, field, f"{endpoint.path} is the target's own path")
        try:
            router.add(endpoint.method, endpoint.path, _api_handler(state, request))
        except ValueError as exc:
            raise TargetError(f"{scenario.source}: {field}: cannot serve it: {exc}") from None
        served[key] = request
    if ("GET", "/health") not in served:
        router.add("GET", "/health", partial(_health, state))
    router.add("GET", "/metrics", partial(_metrics, state))
    router.add("GET", "/_admin/faults", partial(_get_faults, state))
    router.add("POST", "/_admin/faults", partial(_post_faults, state))
    router.add("DELETE", "/_admin/faults", partial(_delete_faults, state))
    return TargetApp(state, router)


# -- the API -------------------------------------------------------------------------


class _BadRequestError(Exception):
    """The request's ``size`` or body is unusable (answered 400)."""


def _api_handler(state: TargetState, request_type: str) -> Handler:
    # The metric children of this request type, bound once: ``labels()`` looks a
    # child up under a lock, a cost every request would otherwise pay three times.
    metrics = state.metrics
    requests = metrics.requests.labels(request_type)
    latency = metrics.latency.labels(request_type)
    errors = {reason: metrics.errors.labels(request_type, reason) for reason in ERROR_REASONS}

    async def handle(request: Request) -> Response:
        arrived = time.monotonic()
        requests.inc()
        state.in_flight += 1
        try:
            response, reason = await _serve(state, request_type, request)
        finally:
            state.in_flight -= 1
        if reason:
            errors[reason].inc()
        if reason != "reset":
            latency.observe(time.monotonic() - arrived)
        return response

    return handle


async def _serve(state: TargetState, request_type: str, request: Request) -> tuple[Response, str]:
    """Serve one API request; returns the answer and the error reason ('' if ok)."""
    headers = {h: v for h, key in ECHOED_HEADERS if (v := request.headers.get(key)) is not None}
    try:
        size = _size(request)
    except _BadRequestError as exc:
        return json_response({"error": str(exc)}, status=400, headers=headers), "bad_request"
    faults = state.faults
    decision = faults.decide()
    if faults.faults.stall:  # a window is set (checked here: most servers have none)
        await faults.stall()
    if decision.reset:
        return _reset(request), "reset"
    faults.leak()
    stages = state.service.stages(request_type, size)
    try:
        if faults.faults.nested and len(stages) > 1:
            queued_s = await _hold_nested(state.pool, stages, decision, state.nested_wait_s)
        else:
            queued_s = await _hold_workers(state.pool, stages, decision)
    except _StageTimeoutError as exc:
        timed_out = {"error": str(exc), "request": request_type}
        return json_response(timed_out, status=504, headers=headers), "timeout"
    except QueueFull:
        body = {"error": "overloaded: the queue is full", "queue_limit": state.pool.queue_limit}
        headers["Retry-After"] = "1"
        return json_response(body, status=503, headers=headers), "overload"
    if faults.faults.stall:
        await faults.stall()  # nothing is answered inside a stall window
    if decision.error:
        body = {"error": "internal error (injected fault)", "request": request_type}
        return json_response(body, status=500, headers=headers), "error"
    status = state.status() if request_type == "health_check" else {}
    body = state.payloads.body(request_type, size, stages, status)
    body["event_id"] = headers.get("X-ABC-Event-Id")
    body["service_ms"] = round((sum(s.seconds for s in stages) + decision.spike_s) * 1000.0, 3)
    body["queued_ms"] = round(queued_s * 1000.0, 3)
    return json_response(body, headers=headers), ""


def _size(request: Request) -> int:
    """The request's ``size``: the JSON body's field, else the query parameter, else 1."""
    if request.body and request.content_type == "application/json":
        try:
            data = request.json()
        except ValueError:
            raise _BadRequestError("the body is not valid JSON") from None
        if isinstance(data, dict) and "size" in data:
            return _parse_size(data["size"])
    # Only now parse the query string: a replayer's POST says its size in the body.
    return _parse_size(request.query("size"))


def _parse_size(raw: Any) -> int:
    if raw is None:
        return 1
    try:
        if isinstance(raw, bool) or (isinstance(raw, float) and not raw.is_integer()):
            raise ValueError
        size = int(raw)
    except (TypeError, ValueError):
        raise _BadRequestError(f"size must be a whole number, got {raw!r}") from None
    if not 1 <= size <= MAX_SIZE:
        raise _BadRequestError(f"size must be from 1 to {MAX_SIZE}, got {size}")
    return size


async def _hold_workers(pool: WorkerPool, stages: tuple[Stage, ...], decision: Decision) -> float:
    """Hold a worker for each stage in turn; returns the seconds spent queueing.

    Times are read from ``time.monotonic()``, the clock of asyncio's loop: uvloop's
    ``loop.time()`` counts whole milliseconds, too coarse for a queueing time.
    """
    queued = 0.0
    for i, stage in enumerate(stages):
        asked = time.monotonic()
        # acquire/release rather than ``async with pool.worker()``: the same, without
        # an async context manager's generator and its frames on every request.
        await pool.acquire(admit=i == 0)
        try:
            queued += time.monotonic() - asked
            # A spike is a slow request (a GC pause, a cold cache): it keeps its worker busy.
            await asyncio.sleep(stage.seconds + (decision.spike_s if i == 0 else 0.0))
        finally:
            pool.release()
    return queued


class _StageTimeoutError(Exception):
    """A nested workflow stage waited too long for a worker (the ``nested`` fault)."""


async def _hold_nested(
    pool: WorkerPool, stages: tuple[Stage, ...], decision: Decision, wait_s: float
) -> float:
    """The ``nested`` fault: each stage keeps its worker while the next waits for one, as an
    agent calling an agent does; all are given back at the end, or when a stage has waited
    ``wait_s`` (the deadlock's only way out). Returns the seconds spent queueing."""
    queued, held = 0.0, 0
    try:
        for i, stage in enumerate(stages):
            asked = time.monotonic()
            if i == 0:
                await pool.acquire()
            else:
                try:
                    await asyncio.wait_for(pool.acquire(admit=False), wait_s)
                except TimeoutError:
                    raise _StageTimeoutError(
                        f"workflow stage {stage.request} waited {wait_s:g} s for a worker "
                        f"while holding {held} (nested calls)"
                    ) from None
            held += 1
            queued += time.monotonic() - asked
            await asyncio.sleep(stage.seconds + (decision.spike_s if i == 0 else 0.0))
    finally:
        for _ in range(held):
            pool.release()
    return queued


def _reset(request: Request) -> Response:
    """Abort the connection with a TCP RST (SO_LINGER 0), so the client sees a reset."""
    transport = request.transport
    sock = transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()
    return Response(500)  # never sent: the server writes nothing to an aborted connection


# -- the target's own endpoints -----------------------------------------------------------


async def _health(state: TargetState, request: Request) -> Response:
    return json_response(state.status())


async def _metrics(state: TargetState, request: Request) -> Response:
    body, content_type = state.metrics.render()
    return Response(200, body, content_type)


def _faults_answer(state: TargetState) -> Response:
    uptime = time.monotonic() - state.faults.started
    return json_response({"faults": state.faults.faults.active(), "uptime_s": round(uptime, 3)})


async def _get_faults(state: TargetState, request: Request) -> Response:
    return _faults_answer(state)


async def _post_faults(state: TargetState, request: Request) -> Response:
    try:
        changes = request.json()
    except ValueError:
        return json_response({"error": "the body must be a JSON object"}, status=400)
    if not isinstance(changes, dict):
        return json_response({"error": "the body must be a JSON object"}, status=400)
    faults = state.faults.faults
    try:
        for name, value in changes.items():
            faults = faults.with_fault(name, value, source="/_admin/faults")
    except ScenarioError as exc:
        return json_response({"error": str(exc)}, status=400)
    state.faults.faults = faults  # all or nothing: a bad field changes none
    return _faults_answer(state)


async def _delete_faults(state: TargetState, request: Request) -> Response:
    state.faults.faults = Faults()
    return _faults_answer(state)

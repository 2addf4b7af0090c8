"""Open-loop replay on a Locust worker: one shard of a schedule, sent at the scheduled times.

The master (:mod:`~abcsim.locust.master`) gives each worker a :class:`ShardPlan`
— the slice, its shard ``k`` of ``n`` (agents with ``agent_id % n == k``) and one
wall-clock start for all — and the worker's :class:`ReplayUser` plays it on an
absolute clock, as ``abcsim replay`` does (:mod:`abcsim.replay.runner`): each
event goes out at ``start + (t − window.start) / speed`` whether or not earlier
ones have answered; at most ``max_in_flight`` are out, and one that cannot go
out within ``lateness_s`` of its time is recorded as dropped. Requests go
through geventhttpclient (Locust's own HTTP stack) with abcsim's payloads.

Each request is reported to Locust's statistics by its request type, with the
response time measured from the **scheduled** time (free of coordinated
omission), and ends as one abcsim results row; rows go to the master every
second (Arrow IPC in a Locust message), and a last message says the shard is
done. Stopped (the master's ``abcsim_stop``, or Locust stopping the user), the
worker sends nothing new, gives requests in flight a short grace, and records
every event it did not finish as ``stopped``: the master's file still has one
row per event.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import gevent
import gevent.event
import gevent.pool
import numpy as np
import pyarrow as pa
from geventhttpclient import HTTPClient
from locust import User, constant, events, task
from locust.env import Environment
from locust.rpc import Message

from abcsim.replay.client import answered, reason
from abcsim.replay.headers import resolve_headers
from abcsim.replay.http import Origin
from abcsim.replay.recorder import CONNECTION_ERROR, TIMEOUT, Recorder
from abcsim.replay.runner import STOP_GRACE_S
from abcsim.replay.templates import Row, Templates
from abcsim.replay.tls import TlsSettings, tls_context
from abcsim.results.columns import RESULTS_SCHEMA
from abcsim.scenario import parse_scenario
from abcsim.scenario.spec import REQUEST_TYPES
from abcsim.schedule.slicing import EventBlock, Window, iter_slice

log = logging.getLogger("abcsim")

PLAN, ROWS, DONE, STOP = "abcsim_plan", "abcsim_rows", "abcsim_done", "abcsim_stop"
"""The Locust message types between master and workers."""

FLUSH_S = 1.0
"""Rows go to the master this often."""

PLAN_WAIT_S = 60.0
YIELD_EVERY = 256
"""Events sent back to back before a late dispatcher lets the other greenlets run."""


@dataclass(frozen=True)
class ShardPlan:
    """What one worker replays: sent by the master as a plain dict (msgpack)."""

    schedule: str
    target: str
    window: tuple[float, float]
    speed: float
    scale: float
    shard: int
    shards: int
    start_at: float  # epoch seconds at which window[0] plays, the same on every worker
    timeout_s: float
    lateness_s: float
    max_in_flight: int
    agent_types: tuple[str, ...]
    run_id: str  # a new one per run: rows of another run are refused
    # the scenario's text and where it came from (its endpoints, templates and payload
    # model), the schedule's seed and start (ISO): the requests are the CLI replay's
    scenario_text: str
    scenario_source: str
    seed: int
    schedule_start: str
    # --header lines as given (each worker takes ${VAR} from its own environment: no
    # secret travels from the master) and the TLS settings (files on the worker's disk)
    header_lines: tuple[str, ...] = ()
    tls: dict[str, Any] = field(default_factory=dict)

    def to_message(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in vars(self).items()}

    @classmethod
    def from_message(cls, data: dict[str, Any]) -> ShardPlan:
        return cls(
            **{
                **data,
                "window": tuple(data["window"]),
                "header_lines": tuple(data.get("header_lines", ())),
                "agent_types": tuple(data["agent_types"]),
            }
        )


def shard_templates(plan: ShardPlan, env: Mapping[str, str]) -> Templates:
    """The request templates of the master's scenario, as ``abcsim replay`` compiles them,
    with the extra headers' ``${VAR}`` taken from this process's ``env``."""
    source = plan.scenario_source  # a scenario file's relative paths are from its folder
    folder = Path(source).parent if source.endswith(".toml") else None
    spec = parse_scenario(plan.scenario_text, source, folder)
    return Templates(
        spec.endpoints,
        plan.agent_types,
        seed=plan.seed,
        schedule_start=dt.datetime.fromisoformat(plan.schedule_start),
        payloads=spec.payloads,
        releases=spec.market.releases,
        headers=resolve_headers(plan.header_lines, spec.replay.headers, env).items,
    )


def to_ipc(batches: list[pa.RecordBatch]) -> bytes:
    """Results batches as one Arrow IPC stream (dictionaries travel with it)."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, RESULTS_SCHEMA) as writer:
        for batch in batches:
            writer.write_batch(batch)
    return bytes(sink.getvalue().to_pybytes())


class ShardReplay:
    """Plays one :class:`ShardPlan` in the calling greenlet; see the module docstring."""

    def __init__(self, plan: ShardPlan, environment: Environment) -> None:
        self.plan = plan
        self.environment = environment
        self.stopping = gevent.event.Event()
        self.origin = Origin.parse(plan.target)
        self.templates = shard_templates(plan, os.environ)
        tls = TlsSettings(**plan.tls)
        self.pool = gevent.pool.Pool(plan.max_in_flight)
        self.http = HTTPClient(
            self.origin.host,
            self.origin.port,
            concurrency=plan.max_in_flight,
            connection_timeout=plan.timeout_s,
            network_timeout=plan.timeout_s,
            ssl=self.origin.scheme == "https",
            ssl_context_factory=lambda cafile=None: tls_context(tls),
            insecure=tls.insecure,
        )
        self.t0 = time.monotonic() + (plan.start_at - time.time())
        self.recorder = Recorder(plan.agent_types, plan.window[0], plan.speed, self.t0)

    def run(self) -> None:
        """Send the shard, flush rows as they come, tell the master when done."""
        plan = self.plan
        blocks = iter_slice(
            plan.schedule,
            Window(*plan.window),
            scale=plan.scale,
            shard=(plan.shard, plan.shards),
        )
        flusher = gevent.spawn(self._flush_every_second)
        try:
            self._dispatch(blocks)
            if not self.stopping.is_set():
                self.pool.join()
        finally:
            # stopped, killed or failed: nothing new goes out, the rest is recorded
            for block in blocks:
                self.recorder.never_sent(block, "stopped")
            if not self.pool.join(timeout=STOP_GRACE_S):
                self.pool.kill(block=True, timeout=STOP_GRACE_S)  # each records its cut-off
            flusher.kill(block=True)
            self._flush()
            self.http.close()
            self._send(
                DONE,
                {"shard": plan.shard, "run_id": plan.run_id, "stopped": self.stopping.is_set()},
            )

    def _dispatch(self, blocks: Iterator[EventBlock]) -> None:
        plan = self.plan
        for block in blocks:
            due_times = (self.t0 + (block.t - plan.window[0]) / plan.speed).tolist()
            rows = zip(
                block.event_id.tolist(),
                block.t.tolist(),
                block.agent_type.tolist(),
                block.request.tolist(),
                self.templates.rows(block),
                strict=True,
            )
            for i, (event_id, t, agent_type, request, values) in enumerate(rows):
                due = due_times[i]
                try:
                    delay = due - time.monotonic()
                    if delay <= 0 and i % YIELD_EVERY == 0:
                        gevent.sleep(0)  # behind: still let answers, rows and stops in
                    if self.stopping.wait(delay) if delay > 0 else self.stopping.is_set():
                        self.recorder.never_sent(block.take(np.arange(i, len(block))), "stopped")
                        return
                    late = time.monotonic() - due
                    if late <= plan.lateness_s and self.pool.full():
                        self.pool.wait_available(timeout=plan.lateness_s - late)
                        late = time.monotonic() - due
                except BaseException:  # killed while waiting: this block's rest is stopped too
                    self.recorder.never_sent(block.take(np.arange(i, len(block))), "stopped")
                    raise
                if late > plan.lateness_s:
                    self._drop(
                        due,
                        event_id,
                        t,
                        agent_type,
                        request,
                        f"late: not sent within {plan.lateness_s:g} s of its time",
                    )
                elif self.pool.full():
                    self._drop(
                        due,
                        event_id,
                        t,
                        agent_type,
                        request,
                        "no free slot within "
                        f"{plan.lateness_s:g} s (ABC_MAX_CONCURRENT_REQUESTS "
                        f"{plan.max_in_flight})",
                    )
                else:
                    self.pool.spawn(self._request, due, event_id, t, agent_type, request, values)

    def _drop(
        self, due: float, event_id: int, t: float, agent_type: int, request: int, why: str
    ) -> None:
        self.recorder.never_sent_one(event_id, t, agent_type, request, why)
        self._report(request, 1000.0 * (time.monotonic() - due), 0, why)

    def _request(
        self, due: float, event_id: int, t: float, agent_type: int, request: int, values: Row
    ) -> None:
        method, path, headers, body = self.templates.parts(request, values)
        path = self.origin.base_path + path
        sent = time.monotonic()
        status, outcome, nbytes, error = 0, TIMEOUT, 0, "stopped before the response"
        try:
            with gevent.Timeout(self.plan.timeout_s):
                response = self.http.request(method, path, body=body, headers=headers)
                answer = answered(response.status_code, len(response.read()))
            status, outcome, nbytes, error = (
                answer.status,
                answer.outcome,
                answer.nbytes,
                answer.error,
            )
        except gevent.Timeout:
            outcome, error = TIMEOUT, "timeout"
        except Exception as exc:  # refused, reset, malformed: still one row
            outcome, error = CONNECTION_ERROR, reason(exc)
        finally:
            end = time.monotonic()
            self.recorder.ended(
                event_id=event_id,
                t=t,
                agent_type=agent_type,
                request=request,
                due=due,
                sent=sent,
                end=end,
                status=status,
                outcome=outcome,
                nbytes=nbytes,
                error=error,
            )
            self._report(request, 1000.0 * (end - due), nbytes, error)

    def _report(self, request: int, latency_ms: float, nbytes: int, error: str) -> None:
        """One request to Locust's statistics: its type, and latency from its scheduled time."""
        self.environment.events.request.fire(
            request_type=self.templates.routes[request].method,
            name=REQUEST_TYPES[request],
            response_time=latency_ms,
            response_length=nbytes,
            exception=RequestFailedError(error) if error else None,
            context={},
        )

    def _flush_every_second(self) -> None:
        while True:
            gevent.sleep(FLUSH_S)
            self._flush()

    def _flush(self) -> None:
        batches = self.recorder.take()
        if batches:
            self._send(ROWS, {"run_id": self.plan.run_id, "ipc": to_ipc(batches)})

    def _send(self, kind: str, data: dict[str, Any]) -> None:
        runner = self.environment.runner
        assert runner is not None
        runner.send_message(kind, data)


class RequestFailedError(Exception):
    """How a request that was not answered with success shows in Locust's failures."""


class _Worker:
    """This process's part: the plan the master sent, and the replay running it."""

    def __init__(self) -> None:
        self.plan: ShardPlan | None = None
        self.ready = gevent.event.Event()
        self.playing: ShardReplay | None = None
        self.played: set[str] = set()

    def take_plan(self, environment: Environment, msg: Message, **_: Any) -> None:
        plan = ShardPlan.from_message(msg.data)
        # the schedule at this machine's ABC_SCHEDULE, if set: the master's path is its own
        self.plan = replace(plan, schedule=os.environ.get("ABC_SCHEDULE") or plan.schedule)
        self.ready.set()

    def stop(self, environment: Environment, msg: Message, **_: Any) -> None:
        if self.playing is not None:
            self.playing.stopping.set()
        elif self.plan is not None and self.plan.run_id not in self.played:
            # stopped before its user started: the master fills in the shard's rows
            self.played.add(self.plan.run_id)
            assert environment.runner is not None
            environment.runner.send_message(
                DONE, {"shard": self.plan.shard, "run_id": self.plan.run_id, "stopped": True}
            )


WORKER = _Worker()


class ReplayUser(User):
    """Replays this worker's shard of the schedule, once per run; then idles.

    Run one per worker: the master's load shape asks for as many users as
    there are workers, and Locust spreads them one to a worker.
    """

    wait_time = constant(1.0)

    @task
    def replay(self) -> None:
        if not WORKER.ready.wait(PLAN_WAIT_S):
            log.error("no replay plan from the master within %g s", PLAN_WAIT_S)
            return
        plan = WORKER.plan
        if plan is None or plan.run_id in WORKER.played:
            gevent.sleep(3600.0)  # this run's shard is played (or playing): never twice
            return
        WORKER.played.add(plan.run_id)
        WORKER.playing = ShardReplay(plan, self.environment)
        try:
            WORKER.playing.run()
        finally:
            WORKER.playing = None


@events.init.add_listener
def _register(environment: Environment, **_: Any) -> None:
    runner = environment.runner
    if runner is not None and not _is_master(runner):
        runner.register_message(PLAN, WORKER.take_plan)
        runner.register_message(STOP, WORKER.stop)


def _is_master(runner: object) -> bool:
    from locust.runners import MasterRunner

    return isinstance(runner, MasterRunner)

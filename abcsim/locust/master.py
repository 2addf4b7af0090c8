"""The replay's Locust master: one plan, one start time, one abcsim results file for all workers.

At the start of a run the master checks the replay as ``abcsim replay`` does
(:func:`~abcsim.replay.setup.prepare_replay`: target allowed, orders only in
performance mode, rate ceiling), picks one wall-clock start a moment ahead,
and sends each connected worker its :class:`~abcsim.locust.worker.ShardPlan`:
shard ``k`` of ``n``. Workers send their rows back as they go; the master
streams them into the results file (``ABC_RESULTS``, or
``SCHEDULE.results.parquet``). Its :class:`ReplayShape` keeps one user per
worker and ends the run when every shard is done.

Stopped early (Ctrl-C, SIGTERM, the web UI's stop), the master asks the
workers to stop, waits a few seconds for their last rows, and records every
event no worker reported as ``dropped`` ("stopped"): the file still holds
exactly one row per event of the slice; like every stopped run's, those are
not requests to the report stage. A worker that dies (Locust misses its
heartbeats) ends its shard the same way, but its unreported events are
``dropped`` ("no result from its worker"): the generator failed, and they count
as failures. Either way the run is marked as stopped early. The master then
prints abcsim's summary and, for a run that went to the end, makes the SLO
verdict Locust's exit status (0 all targets hold, 1 one breached), so a CI job
can gate on either tool.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from typing import Any

import gevent
import numpy as np
import numpy.typing as npt
import pyarrow as pa
from locust import LoadTestShape, events
from locust.env import Environment
from locust.rpc import Message
from locust.runners import STATE_MISSING, LocalRunner, MasterRunner, Runner

from abcsim.errors import AbcsimError
from abcsim.locust.settings import LocustSettings, fail, in_locust_terms, locust_settings
from abcsim.locust.worker import DONE, PLAN, ROWS, STOP, ShardPlan
from abcsim.replay.recorder import Recorder
from abcsim.replay.runner import STOP_GRACE_S, ReplayRun
from abcsim.replay.session import replay_meta
from abcsim.replay.setup import PreparedReplay, prepare_replay
from abcsim.report import Report, report
from abcsim.results import ResultsWriter
from abcsim.schedule.slicing import iter_slice

log = logging.getLogger("abcsim")

LEAD_S = {"local": 0.5, "distributed": 2.0}
"""How far ahead the shared clock starts: time for the plan to reach every worker."""

LAST_ROWS_S = STOP_GRACE_S + 5.0
"""After a stop, how long the master waits for the workers' last rows."""


class Collector:
    """One replay run on the master's side; see the module docstring."""

    def __init__(self, environment: Environment, settings: LocustSettings) -> None:
        self.environment = environment
        self.settings = settings
        self.prepared: PreparedReplay | None = None
        self.writer: ResultsWriter | None = None
        self.plans: dict[str, ShardPlan] = {}  # by worker (client id)
        self.done: set[int] = set()
        self.seen: list[npt.NDArray[np.int64]] = []
        self.start_at = 0.0
        self.deadline = float("inf")
        self.report: Report | None = None
        self.stopped = False

    @property
    def started(self) -> bool:
        return self.writer is not None

    @property
    def complete(self) -> bool:
        return self.started and len(self.done) == len(self.plans)

    def prepare(self) -> PreparedReplay:
        """Check the replay (once the target is known); a problem is one AbcsimError."""
        if self.prepared is None:
            s = self.settings
            if s.schedule is None:
                raise AbcsimError("ABC_SCHEDULE: the replay locustfile needs a schedule file")
            self.prepared = prepare_replay(
                s.schedule,
                self.environment.host or "",
                env=os.environ,
                window=s.window,
                speed=s.speed,
                scale=s.scale,
                max_in_flight=s.max_concurrent,
                timeout_s=s.timeout_s,
                lateness_s=s.lateness_s,
                max_rate=s.max_rate,
                allow_hosts=s.allow_hosts,
                scenario=os.environ.get("ABC_SCENARIO") or None,  # else the schedule's own
                headers=s.headers,
                tls=s.tls,
                allow_orders_without_performance_mode=s.allow_orders,
            )
        return self.prepared

    def start(self, runner: Runner) -> None:
        """Open the results file and send every worker its shard and the shared start."""
        prepared = self.prepare()
        plan = prepared.plan
        workers = _workers(runner)
        mode = "local" if isinstance(runner, LocalRunner) else "distributed"
        start_at = self.start_at = time.time() + LEAD_S[mode]
        out = self.settings.results_path
        self.writer = ResultsWriter(out, replay_meta(prepared, start_at))
        self.deadline = start_at + plan.window.length / plan.speed + plan.timeout_s + 30.0
        run_id = uuid.uuid4().hex
        for shard, worker in enumerate(workers):
            self.plans[worker] = ShardPlan(
                schedule=str(plan.schedule),
                target=plan.target,
                window=(plan.window.start, plan.window.end),
                speed=plan.speed,
                scale=plan.scale,
                shard=shard,
                shards=len(workers),
                start_at=start_at,
                timeout_s=plan.timeout_s,
                lateness_s=plan.lateness_s,
                max_in_flight=plan.max_in_flight,
                agent_types=plan.agent_types,
                run_id=run_id,
                scenario_text=prepared.scenario.text,
                scenario_source=prepared.scenario.source,
                seed=plan.seed,
                schedule_start=plan.schedule_start.isoformat(),
                header_lines=self.settings.headers,
                tls=vars(plan.tls),
            )
            runner.send_message(PLAN, self.plans[worker].to_message(), _client(worker))
        log.info(
            "replaying %s events of %s to %s on %d worker(s); results in %s",
            f"{prepared.events:,}",
            plan.schedule,
            plan.target,
            len(workers),
            out,
        )

    def _current(self, data: dict[str, Any]) -> bool:
        return self.started and any(p.run_id == data.get("run_id") for p in self.plans.values())

    def take_rows(self, environment: Environment, msg: Message, **_: Any) -> None:
        if not self._current(msg.data) or self.writer is None or self.report is not None:
            return
        for batch in pa.ipc.open_stream(msg.data["ipc"]):
            self.writer.write(batch)  # Arrow IPC keeps the results schema as sent
            self.seen.append(batch.column("event_id").to_numpy())

    def take_done(self, environment: Environment, msg: Message, **_: Any) -> None:
        if self._current(msg.data):
            self.done.add(int(msg.data["shard"]))

    def drop_lost(self, runner: Runner) -> None:
        """A worker gone (killed, its machine down; Locust misses its heartbeats for 3 s)
        will send nothing more: its shard is over, its unreported events are filled in."""
        if not isinstance(runner, MasterRunner):
            return
        alive = {w.id for w in runner.clients.all if w.state != STATE_MISSING}
        for worker, plan in self.plans.items():
            if plan.shard not in self.done and worker not in alive:
                log.warning("worker %s is gone: shard %d ends here", worker, plan.shard)
                self.done.add(plan.shard)

    def finish(self, runner: Runner) -> None:
        """Close the file with one row per event, then report (once, however the run ended)."""
        if self.writer is None or self.report is not None:
            return
        if not self.complete:
            self.stopped = True
            for worker, plan in self.plans.items():
                if plan.shard not in self.done:
                    runner.send_message(STOP, {"run_id": plan.run_id}, _client(worker))
            waited_until = time.monotonic() + LAST_ROWS_S
            while not self.complete and time.monotonic() < waited_until:
                gevent.sleep(0.1)
        missing = self._fill_missing()
        if self.stopped or missing:
            self.writer.stopped()  # the file says the run did not play to its end
        self.writer.close()
        prepared = self.prepare()
        run = ReplayRun(
            events=self.writer.rows,
            interrupted=self.stopped or missing > 0,
            wall_s=time.time() - self.start_at,
        )
        # the master ends the run as `abcsim replay` does: one call to the report stage
        self.report = report(self.writer.path, prepared.scenario)
        for line in (*self.report.lines, *self.report.breaches):
            print(line)
        if missing:
            log.warning("%s events had no result from a worker: recorded as dropped", missing)
        verdict = "stopped early" if run.interrupted else "done"
        log.info("%s: %s results in %s", verdict, f"{run.events:,}", self.writer.path)

    def _fill_missing(self) -> int:
        """Record every event of the slice that no worker reported as dropped."""
        assert self.writer is not None
        plan = self.prepare().plan
        seen = np.unique(np.concatenate(self.seen)) if self.seen else np.empty(0, np.int64)
        recorder = Recorder(plan.agent_types, plan.window.start, plan.speed, 0.0)
        missing = 0
        for block in iter_slice(plan.schedule, plan.window, scale=plan.scale):
            lost = ~np.isin(block.event_id, seen, assume_unique=False)
            if lost.any():
                missing += int(lost.sum())
                # stopped by the user: not sent, not the system's failure; a worker lost
                # mid-run is the generator's failure, and counts as one
                why = "stopped" if self.stopped else "no result from its worker"
                recorder.never_sent(block.take(lost), why)
                for batch in recorder.take():
                    self.writer.write(batch)
        return missing


def _workers(runner: Runner) -> list[str]:
    if isinstance(runner, MasterRunner):
        return sorted(w.id for w in runner.clients.all)
    return ["local"]


def _client(worker: str) -> str | None:
    return None if worker == "local" else worker


class ReplayShape(LoadTestShape):
    """One replay user per worker; the run ends when every shard is done (or far past its end)."""

    def tick(self) -> tuple[int, float] | None:
        collector = COLLECTOR.current
        if collector is not None and collector.started:
            assert self.runner is not None
            collector.drop_lost(self.runner)
            if collector.complete or time.time() > collector.deadline:
                return None
            users = len(collector.plans)
        else:
            runner = self.runner
            users = runner.worker_count if isinstance(runner, MasterRunner) else 1
        return max(users, 1), float(max(users, 1))


class _Current:
    """The collector of this process's current run (a new one at each start)."""

    current: Collector | None = None


COLLECTOR = _Current()


@events.init.add_listener
def _on_init(environment: Environment, **_: Any) -> None:
    runner = environment.runner
    if not isinstance(runner, MasterRunner | LocalRunner):
        return
    runner.register_message(ROWS, lambda **kw: _forward("take_rows", **kw))
    runner.register_message(DONE, lambda **kw: _forward("take_done", **kw))
    try:
        collector = Collector(environment, locust_settings(os.environ))
        if environment.host:  # known now: refuse a bad replay before anything starts
            collector.prepare()
    except AbcsimError as exc:
        fail(exc)
    COLLECTOR.current = collector


def _forward(method: str, **kwargs: Any) -> None:
    if COLLECTOR.current is not None:
        getattr(COLLECTOR.current, method)(**kwargs)


@events.test_start.add_listener
def _on_start(environment: Environment, **_: Any) -> None:
    runner = environment.runner
    if not isinstance(runner, MasterRunner | LocalRunner):
        return
    collector = COLLECTOR.current = _collector_for(environment)
    try:
        collector.start(runner)
    except AbcsimError as exc:
        log.error("%s", in_locust_terms(exc))
        environment.process_exit_code = 2
        gevent.spawn(runner.quit)


def _collector_for(environment: Environment) -> Collector:
    """The collector checked at start-up if it fits this run (not used, same host), so the
    slice is not scanned twice; a new one otherwise (another run, a host from the web UI)."""
    previous = COLLECTOR.current
    host = (environment.host or "").rstrip("/")
    prepared = previous.prepared if previous is not None and not previous.started else None
    if previous is not None and prepared is not None and prepared.plan.target == host:
        return previous
    return Collector(environment, previous.settings if previous else locust_settings(os.environ))


@events.test_stop.add_listener
def _on_stop(environment: Environment, **_: Any) -> None:
    if COLLECTOR.current is not None and environment.runner is not None:
        COLLECTOR.current.finish(environment.runner)


@events.quitting.add_listener
def _on_quit(environment: Environment, **_: Any) -> None:
    collector = COLLECTOR.current
    if collector is None or environment.runner is None:
        return
    collector.finish(environment.runner)
    if collector.report is not None and not collector.stopped:
        environment.process_exit_code = collector.report.exit_status

"""The notebook API: the flow — simulate, plan, replay, report — as DataFrames in, DataFrames out.

The library works on files (a schedule or a results Parquet file), as the CLI
does. A notebook wants frames: ``simulate_frame("smoke")`` is the schedule
as :func:`~abcsim.schedule.read_schedule` would read it back, and
``plan_frame(schedule, workers=8)`` and ``replay_frame(schedule, url)`` are
the results a plan or a replay would write. Each frame carries its file's
metadata in ``frame.attrs`` — the same fields, as strings (``start``,
``seed``, ``scenario`` for a schedule; ``source``, ``target``, ``window`` ...
for results) — so the next function finds the scenario and the clock there,
and ``frame.to_parquet`` keeps them. Any temporary file a step needs is made
and removed inside it. A Tuesday afternoon, planned and summarised::

    from abcsim import api
    week = api.simulate_frame("smoke", hours=2, seed=1)
    plan = api.plan_frame(week, workers=4)
    print("\\n".join(api.report(plan).lines))

Settings resolve as on the command line: the scenario's, then ``ABC_*``
variables in the environment (``ABC_SEED``, ``ABC_PERFORMANCE_MODE``, ...),
then the arguments given here.
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import os
import pickle
import signal
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, replace
from multiprocessing.connection import Connection
from pathlib import Path

import pandas as pd
import pyarrow as pa

from abcsim.errors import ReplayError
from abcsim.parquet_stream import decode_metadata, encode_metadata
from abcsim.plan import Capacity, busiest_window, plan_capacity, prepare_plan, run_plan, run_trial
from abcsim.replay import PreparedReplay, prepare_replay, run_replay
from abcsim.report import Report, format_breaches
from abcsim.report import report as report_results
from abcsim.results import read_results as read_results_file
from abcsim.results import read_results_meta
from abcsim.scenario import Scenario, load_scenario, resolve_run
from abcsim.schedule import ScheduleMeta, ScheduleWriter, read_meta, read_schedule
from abcsim.schedule.columns import SCHEDULE_COLUMNS, SCHEDULE_SCHEMA
from abcsim.simulate import write_schedule

Schedule = pd.DataFrame | str | Path
"""A schedule frame (with its metadata in ``attrs``) or a schedule file."""


def simulate_frame(
    scenario: str | Path | Scenario = "smoke",
    *,
    days: float | None = None,
    hours: float | None = None,
    start: str | None = None,
    seed: int | None = None,
) -> pd.DataFrame:
    """Simulate a scenario (a built-in name, a TOML file or a :class:`Scenario`) into a frame.

    Settings resolve as ``abcsim simulate``'s: the scenario's, then ``ABC_SEED``, ``ABC_START``
    and ``ABC_DAYS``, then these arguments. An hour of the smoke scenario::

        tuesday = simulate_frame("smoke", hours=1, seed=1)
        tuesday.attrs["start"], tuesday["agent_type"].value_counts()
    """
    spec = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    run = resolve_run(spec, os.environ, seed=seed, start=start, days=days, hours=hours)
    with tempfile.TemporaryDirectory(prefix="abcsim-simulate-") as folder:
        path = Path(folder) / "schedule.parquet"
        write_schedule(spec, run, path)
        frame = read_schedule(path)
        frame.attrs.update(_attrs(read_meta(path).to_metadata()))
    return frame


def read_results(path: str | Path) -> pd.DataFrame:
    """A results file as a frame, its metadata in ``attrs`` (what :func:`report` reads).

    For example::

        results = read_results("tue.results.parquet")     # from abcsim replay or plan
        results.attrs["source"], results["outcome"].value_counts()
    """
    frame = read_results_file(path)
    frame.attrs.update(_attrs(read_results_meta(path).to_metadata()))
    return frame


def report(results: pd.DataFrame | str | Path, scenario: str | Scenario | None = None) -> Report:
    """The end-of-run summary of a results frame or file: Locust's tables, SLO breaches, status.

    ``scenario`` (a name, a file or a :class:`Scenario`) gives other SLOs than the results' own.

    For example::

        summary = report(plan_frame(simulate_frame("smoke", hours=1)))
        print("\\n".join(summary.lines), summary.breaches, summary.exit_status)
    """
    spec = load_scenario(scenario) if isinstance(scenario, str | Path) else scenario
    return report_results(results, spec)


def plan_frame(
    schedule: Schedule,
    *,
    scenario: str | None = None,
    window: str | None = None,
    replicas: int | None = None,
    workers: int | None = None,
    queue_limit: int | None = None,
    scale: float = 1.0,
    seed: int | None = None,
) -> pd.DataFrame:
    """What a replay of ``schedule`` would measure on the queueing model: the results frame.

    The choices are ``abcsim plan``'s flags (``window="Tue 13:00..Tue 14:00"``, ...).

    Twice smoke's traffic on 4 workers::

        plan = plan_frame(simulate_frame("smoke"), workers=4, scale=2.0)
        plan.groupby("request", observed=True)["latency"].quantile(0.95)
    """
    with (
        _schedule_file(schedule) as path,
        tempfile.TemporaryDirectory(prefix="abcsim-plan-") as folder,
    ):
        plan = prepare_plan(
            path,
            scenario=scenario,
            window=window,
            replicas=replicas,
            workers=workers,
            queue_limit=queue_limit,
            scale=scale,
            seed=seed,
        )
        out = Path(folder) / "plan.results.parquet"
        run_plan(plan, out)
        return read_results(out)


def sweep_frame(
    schedule: Schedule,
    *,
    workers: Sequence[int] | None = None,
    scales: Sequence[float] = (1.0,),
    window: str | None = None,
    replicas: int | None = None,
    queue_limit: int | None = None,
    seed: int | None = None,
) -> pd.DataFrame:
    """The busiest hour of ``schedule`` on each number of workers per replica (default: the
    scenario's) at each traffic scale, as ``abcsim plan --sweep`` runs it: a row per trial —
    size, offered load, utilisation, P50/P95/P99 (ms), error rate, ``passed`` and the SLO
    ``breaches``. Every trial models the same requests with the same service times, so rows
    differ by capacity and load alone.

    For example::

        grid = sweep_frame(simulate_frame("smoke"), workers=[2, 3, 4], scales=[1, 2])
        grid.pivot(index="workers", columns="scale", values="p95_ms")
    """
    with _schedule_file(schedule) as path:
        plan = prepare_plan(
            path, window=window, replicas=replicas, queue_limit=queue_limit, seed=seed
        )
        hour = busiest_window(plan)
    rows = []
    for size in [plan.system.workers] if workers is None else workers:
        system = replace(plan.system, workers=size)
        for scale in scales:
            trial = run_trial(hour, system, plan.scenario.slo, plan.seed, scale=scale)
            breaches = tuple(format_breaches(trial.breaches))
            rows.append({**asdict(trial), "passed": trial.passed, "breaches": breaches})
    frame = pd.DataFrame(rows)
    frame.attrs["hour"] = hour.label
    return frame


def capacity(
    schedule: Schedule,
    *,
    dimension: str = "workers",
    window: str | None = None,
    replicas: int | None = None,
    workers: int | None = None,
    queue_limit: int | None = None,
    scale: float = 1.0,
    seed: int | None = None,
) -> Capacity:
    """The fewest workers per replica (or, with ``dimension="replicas"``, replicas) meeting
    every SLO in the busiest hour, as ``abcsim plan --find-capacity`` finds it: the answer,
    the size one smaller and what it misses, and the headroom (the traffic scale the answer
    still holds).

    For example::

        found = capacity(simulate_frame("smoke"))
        found.answer.workers, found.smaller.breaches, found.headroom
    """
    with _schedule_file(schedule) as path:
        plan = prepare_plan(
            path,
            window=window,
            replicas=replicas,
            workers=workers,
            queue_limit=queue_limit,
            scale=scale,
            seed=seed,
        )
        return plan_capacity(plan, dimension=dimension)


def replay_frame(
    schedule: Schedule,
    target: str,
    *,
    window: str | None = None,
    speed: float = 1.0,
    scale: float = 1.0,
    scenario: str | None = None,
    max_in_flight: int | None = None,
    timeout_s: float | None = None,
    lateness_s: float = 1.0,
    allow_hosts: Sequence[str] = (),
) -> pd.DataFrame:
    """Replay ``schedule`` against ``target`` at its scheduled times: the results frame.

    The choices and the safety checks are ``abcsim replay``'s. Inside a running event loop
    (a Jupyter kernel's) the replay runs in a child process with its own loop. Interrupted
    (Ctrl-C, the kernel's stop button) it stops as the CLI does and returns what it
    recorded; the requests never sent are ``dropped``.

    A minute of smoke's Tuesday against the reference target::

        with serve_in_thread("smoke", workers=4) as target:
            measured = replay_frame(tuesday, target.url, window="Tue 13:30..Tue 13:31")
    """
    with (
        _schedule_file(schedule) as path,
        tempfile.TemporaryDirectory(prefix="abcsim-replay-") as folder,
    ):
        prepared = prepare_replay(
            path,
            target,
            env=os.environ,
            window=window,
            speed=speed,
            scale=scale,
            max_in_flight=max_in_flight,
            timeout_s=timeout_s,
            lateness_s=lateness_s,
            allow_hosts=allow_hosts,
            scenario=scenario,
        )
        out = Path(folder) / "replay.results.parquet"
        if _loop_running():
            _replay_in_child(prepared, out)
        else:
            run_replay(prepared, out)
        return read_results(out)


# -- plumbing ------------------------------------------------------------------


def _attrs(metadata: dict[bytes, bytes]) -> dict[str, str]:
    """A file's metadata as ``frame.attrs``: strings only, so ``to_parquet`` can keep them."""
    return decode_metadata(metadata)


@contextmanager
def _schedule_file(schedule: Schedule) -> Iterator[Path]:
    """A schedule file for ``schedule``: the file itself, or a frame written to a temporary one."""
    if not isinstance(schedule, pd.DataFrame):
        yield Path(schedule)
        return
    meta = ScheduleMeta.from_metadata(
        encode_metadata({str(k): str(v) for k, v in schedule.attrs.items()}),
        "schedule frame (attrs)",
    )
    # the planner and the replayer read schedules in time order, as the simulation writes them
    frame = schedule if schedule["t"].is_monotonic_increasing else schedule.sort_values("t")
    table = pa.Table.from_pandas(
        frame[list(SCHEDULE_COLUMNS)], SCHEDULE_SCHEMA, preserve_index=False
    )
    with tempfile.TemporaryDirectory(prefix="abcsim-schedule-") as folder:
        path = Path(folder) / "schedule.parquet"
        with ScheduleWriter(path, meta) as writer:
            for batch in table.to_batches():
                writer.write(batch)
        yield path


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _replay_in_child(prepared: PreparedReplay, out: Path) -> None:
    """Run the replay in a fresh process: its own event loop, its own signal handlers.

    A thread that already runs a loop (a Jupyter kernel's) cannot start another, and
    Python lets only a process's main thread handle signals, which the replay does to
    stop cleanly. A process of its own also keeps the replayer off the kernel's
    interpreter lock, which a target serving in a kernel thread takes at times.
    """
    context = mp.get_context("spawn")  # a fork would copy the kernel's threads mid-flight
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(prepared, out, send), daemon=True)
    child.start()
    send.close()  # the child holds the only sending end: its exit ends our wait
    with receive:
        try:
            answer = _answer(receive)
        except KeyboardInterrupt:
            if child.pid is not None:
                os.kill(child.pid, signal.SIGINT)  # it stops and keeps what it recorded
            answer = _answer(receive)
    child.join()
    if isinstance(answer, BaseException):
        raise answer
    if answer != _DONE:
        raise ReplayError(f"the replay process ended with status {child.exitcode}")


_DONE = "done"


def _answer(receive: Connection) -> object:
    """What the child sent: :data:`_DONE`, its exception, or None if it died without a word."""
    try:
        answer: object = receive.recv()
    except EOFError:
        return None
    return answer


def _child(prepared: PreparedReplay, out: Path, send: Connection) -> None:
    try:
        run_replay(prepared, out)
    except Exception as exc:  # raised again in the parent, as it would have been there
        try:
            pickle.loads(pickle.dumps(exc))
        except Exception:  # one whose arguments do not survive the pipe: its message does
            exc = ReplayError(str(exc))
        send.send(exc)
    else:
        send.send(_DONE)
    finally:
        send.close()

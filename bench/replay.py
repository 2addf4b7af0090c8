"""Benchmark ``abcsim replay``'s open-loop sending against Locust's FastHttpUser, on one machine.

Everything runs against the reference target (``abcsim target``), started once in
its own process: smoke's scenario with every service time fixed at 0.001 ms (the
least the scenario allows is anything above 0), thousands of workers and a huge
queue, so the server adds no queueing of its own. Every request is the same
``POST /api/v1/agents/data-collection`` with a JSON body ``{"size": 1, "event_id": N}``
and the three ``X-ABC-*`` headers, from abcsim and from Locust alike.

What it measures, in one run:

1. **abcsim's sustained rate, one process** — ``abcsim replay SCHEDULE -q --processes 1``
   (a subprocess, as a user runs it) on uniform schedules of increasing rate, a
   ramp and then a bisection. A rate is *held* when the run has no drops, no
   errors, a send-lag P99 under 10 ms, and an achieved send rate of at least 98%
   of the scheduled one (the best of two tries, as other work may share the
   machine). A search's sustained rate is the highest rate it held. The search
   runs 3 times: the first ramps up from 3,000/s, the 2nd and 3rd from the ramp
   step below the first's result (each is a real search: it must hold its rates
   again and fail one, and a start that is not held walks the ramp down); each
   then bisects twice between its last rate held and its first not held.
   ``--quick``: 5-s steps instead of 10-s, and no bisection (ramps only).
2. **Locust FastHttpUser, one process** — ``locust --headless --only-summary --csv``
   (no ``--processes``, no workers) with users that fire as fast as they can
   (``wait_time = constant(0)``), at a couple of user counts; its req/s is the
   ``Requests/s`` of the Aggregated row of its ``_stats.csv``. Each of 3
   repetitions takes its best user count. This is Locust's closed-loop
   *maximum*: a stricter bar than the on-time rate abcsim must hold. Sections 1
   and 2 run in 3 rounds (abcsim's search, then Locust's runs), so that other
   work on the machine weighs on both sides alike.
3. **Send lag at 1,000 requests/s** — P50/P99/max of ``sent − t`` (actual minus
   scheduled send, from the results file; speed 1) over a sustained run.
4. **Memory over a long run** — ``abcsim replay`` at 1,000 requests/s for 5 minutes
   (``--quick``: 1 minute) while ``VmRSS`` of the replay process is read from
   ``/proc/PID/status``; RSS at minute 1 and at the end, and the slope fitted after
   minute 1 (``--quick``: after 20 s).
5. **Locust's engine running abcsim's replay user** (information, no target) —
   abcsim's replay locustfile (``abcsim.locust.LOCUSTFILES["replay"]``) on a Locust
   master and one worker, two real processes on loopback, as a user scales out:
   the same uniform schedules, the same *held* rule and search (3 times), and the
   send lag at 1,000 requests/s; the worker is the sender, the master writes the
   results file. Printed next to abcsim replay's own engine: sustained rate
   (min, median), CPU µs per request, send-lag P99 at 1,000 requests/s.

6. **Request templates** — CPU µs per request of ``abcsim replay`` at 2,000
   requests/s (15 s; ``--quick``: 8 s) with the endpoint's request rendered from
   abc_week's ``trade_execution`` template (9 fields: payload draws, a client
   order id, an ``Idempotency-Key`` header) and without a template (the default
   ``{"size":N,"event_id":ID}``), 3 runs each, alternating; the medians' ratio.
   ``--only-templates`` runs this section alone.

For every run the CPU used by the load generator and by the target over the
steady part of the run is read from ``/proc/PID/stat``; both share the machine's
cores (nothing is pinned), so a target at ~100% of a core caps every figure.
CPU per request (µs) compares the generators independently of that cap. Each
side's rate and µs per request are printed as the min and the median of its 3
repetitions (abcsim: the held run at each search's sustained rate; Locust: each
repetition's best user count).

Targets (the verdict; every one must pass for exit status 0):

* rate: the median of abcsim's 3 sustained rates / the median of Locust
  FastHttpUser's 3 best req/s >= 1.5x;
* CPU: requests per CPU second, abcsim / Locust FastHttpUser, i.e. Locust's median
  µs per request / abcsim's median µs per request >= 1.5x;
* send-lag P99 < 2 ms (and no drops) at 1,000 requests/s;
* memory flat: RSS growth from minute 1 to the end < 20 MiB;
* templates: CPU µs per request with abc_week's order template / without <= 1.15.

Run from the project root (Linux: reads /proc)::

    python bench/replay.py            # 22-25 minutes: 10-s steps, 5-minute memory run
    python bench/replay.py --quick    # about 8 minutes: 5-s steps, ramps only, 1-minute memory
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import platform
import re
import select
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from importlib import metadata
from pathlib import Path

import httptools
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from abcsim import eventloop
from abcsim.locust import LOCUSTFILES  # plain Python: does not import locust
from abcsim.scenario import REQUEST_TYPES, load_scenario
from abcsim.schedule.synthetic import uniform_schedule

PYTHON = sys.executable
SERVICE_MS = 0.001  # [system.service] times must be > 0; this is as near 0 as asyncio gets
TARGET_WORKERS = 4096
TARGET_QUEUE = 65536
REQUEST = "data_collection"

RAMP = (  # abcsim replay held the old top, 16,000/s, on 2 cores: room above it
    *(500, 1000, 2000, 3000, 4000, 5000, 6000, 8000, 10000, 12000, 14000, 16000),
    *(20000, 24000, 28000, 32000, 40000),
)
REPEATS = 3  # searches per engine, Locust FastHttpUser repetitions
HOLD_LAG_P99_S = 0.010
HOLD_ACHIEVED = 0.98
LAG_RATE = 1000
MEMORY_RATE = 1000
MAX_IN_FLIGHT = 256  # abcsim replay's default; ABC_MAX_CONCURRENT_REQUESTS for Locust's worker

RATIO_TARGET = 1.5
LAG_TARGET_S = 0.002
MEMORY_GROWTH_MIB = 20.0
TEMPLATE_RATE = 2000
TEMPLATE_COST_TARGET = 1.15

SAMPLE_S = 0.5  # /proc sampling period
CLK_TCK = os.sysconf("SC_CLK_TCK")
ABCSIM_LEAD_S = 0.25  # abcsim replay's clock starts this long after it says "replaying"
LOCUST_LEAD_S = 2.0  # the Locust master's clock starts this long after it says "replaying"
MiB = 1024**2


@dataclass(frozen=True)
class Settings:
    step_s: float  # length of one ramp step (both replay engines)
    template_s: float  # each run of section 6
    bisect: int  # bisection rounds after the ramp
    first_rate: int  # where the first search's ramp starts
    back: int  # later searches start this many ramp steps below the first one's result
    locust_users: tuple[int, ...]
    locust_s: int
    lag_s: float
    memory_s: float
    memory_mark_s: float  # RSS "at minute 1"


FULL = Settings(10.0, 15.0, 2, 3000, 1, (16, 64), 20, 60.0, 300.0, 60.0)
QUICK = Settings(5.0, 8.0, 0, 3000, 1, (32,), 10, 20.0, 60.0, 20.0)  # ramps only: no bisection


# ----------------------------------------------------------------------------- the target
def fast_scenario_text() -> str:
    """smoke's TOML with every service time fixed at ``SERVICE_MS`` (per item: 0)."""
    text = load_scenario("smoke").text
    start, end = text.index("[system.service]"), text.index("[replay]")
    service = "\n".join(
        f"{r} = {{ median_ms = {SERVICE_MS}, p95_ms = {SERVICE_MS} }}"
        for r in REQUEST_TYPES
        if r != "multi_agent_workflow"
    )
    return f"{text[:start]}[system.service]\n{service}\n\n{text[end:]}"


def templated_scenario_text(text: str) -> str:
    """``text`` with abc_week's order template (body and headers) on the bench's endpoint."""
    order = dict(load_scenario("abc_week").endpoints)["trade_execution"]
    assert order.body is not None
    path = dict(load_scenario("smoke").endpoints)[REQUEST].path
    headers = ", ".join(f"{name} = {json.dumps(value)}" for name, value in order.headers)
    endpoint = (
        f'{REQUEST} = {{ method = "POST", path = "{path}", headers = {{ {headers} }}, '
        f"body = {_toml_inline(json.loads(order.body))} }}"
    )
    line = next(x for x in text.splitlines() if x.startswith(f"{REQUEST} = {{ method"))
    return text.replace(line, endpoint)


def _toml_inline(value: object) -> str:
    """A JSON value as TOML (inline tables and arrays)."""
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml_inline(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_toml_inline(v) for v in value) + "]"
    return json.dumps(value)


@contextmanager
def reference_target(scenario: Path, log: Path) -> Iterator[tuple[str, int]]:
    """``abcsim target`` in a subprocess: yields (URL, pid); SIGTERM at the end."""
    command = [PYTHON, "-m", "abcsim", "target", "--scenario", str(scenario), "--port", "0"]
    command += ["--workers", str(TARGET_WORKERS), "--queue-limit", str(TARGET_QUEUE)]
    with log.open("w") as err:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=err, text=True)
    try:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], 60.0)
        url = process.stdout.readline().strip() if ready else ""
        if not url.startswith("http://"):
            raise RuntimeError(f"the target did not start: {log.read_text()[-500:]}")
        yield url, process.pid
    finally:
        _end(process, signal.SIGTERM)


def _end(process: subprocess.Popen[str] | subprocess.Popen[bytes], signum: int) -> None:
    """Stop a child of ours that may still run: ``signum``, then SIGKILL after 10 s."""
    if process.poll() is None:
        process.send_signal(signum)
        try:
            process.wait(10.0)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# ----------------------------------------------------------------------------- /proc sampling
@dataclass(frozen=True)
class Sample:
    at: float  # time.monotonic()
    cpu_s: float  # user + system CPU seconds so far
    rss: int  # bytes


def machine_busy_s() -> float:
    """CPU seconds all cores have spent busy since boot (``/proc/stat``, steal included)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    return (user + nice + system + irq + softirq + steal) / CLK_TCK


def read_proc(pid: int) -> tuple[float, int] | None:
    """(CPU seconds, RSS bytes) of a live process, or None once it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) "
    cpu = (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime
    found = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
    return cpu, int(found.group(1)) * 1024 if found else 0


class Sampler:
    """Reads CPU time and RSS of some processes every ``SAMPLE_S`` in a thread."""

    def __init__(self, pids: Sequence[int]) -> None:
        self.samples: dict[int, list[Sample]] = {pid: [] for pid in pids}
        self.machine: list[tuple[float, float]] = []  # (at, busy seconds of all cores)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while True:
            now = time.monotonic()
            self.machine.append((now, machine_busy_s()))
            for pid, samples in self.samples.items():
                read = read_proc(pid)
                if read is not None:
                    samples.append(Sample(now, *read))
            if self._stop.wait(SAMPLE_S):
                return

    def cpu_share(self, pid: int, start: float, end: float) -> float:
        """CPU seconds per second of ``pid`` between two monotonic times (1.0 = one core)."""
        inside = [s for s in self.samples[pid] if start <= s.at <= end]
        if len(inside) < 2:
            return math.nan
        first, last = inside[0], inside[-1]
        return (last.cpu_s - first.cpu_s) / (last.at - first.at)

    def others_share(self, start: float, end: float) -> float:
        """CPU (cores) used by everything but the sampled processes between two times."""
        inside = [m for m in self.machine if start <= m[0] <= end]
        if len(inside) < 2:
            return math.nan
        (first, busy_first), (last, busy_last) = inside[0], inside[-1]
        ours = sum(self.cpu_share(pid, first, last) for pid in self.samples)
        # the two are read a moment apart and tick-rounded: a few % either way is noise
        return max(0.0, (busy_last - busy_first) / (last - first) - ours)


# ----------------------------------------------------------------------------- replay runs
def write_schedule(path: Path, scenario_text: str, rate: float, seconds: float) -> Path:
    """``rate`` evenly spaced data-collection requests/s for ``seconds``, 4 agents."""
    return uniform_schedule(
        path,
        load_scenario("smoke"),
        rate=rate,
        seconds=seconds,
        request=REQUEST,
        scenario_text=scenario_text,
    )


@dataclass(frozen=True)
class ReplayFigures:
    """One replay run of a uniform schedule, by either engine."""

    rate: float
    seconds: float
    events: int
    ok: int
    dropped: int
    errors: int
    achieved: float  # requests/s actually sent, first to last send
    lag_p50_s: float
    lag_p99_s: float
    lag_max_s: float
    replay_cpu: float  # cores, steady part of the run: the sending process
    target_cpu: float
    others_cpu: float  # everything else on the machine
    rss: tuple[tuple[float, int], ...]  # the sender's (seconds since the clock started, bytes)
    master_cpu: float = math.nan  # Locust's master (it writes the results file); abcsim: none

    @property
    def held(self) -> bool:
        return (
            self.dropped == 0
            and self.errors == 0
            and self.lag_p99_s < HOLD_LAG_P99_S
            and self.achieved >= HOLD_ACHIEVED * self.rate
        )

    @property
    def cpu_us_per_request(self) -> float:
        return 1e6 * self.replay_cpu / self.rate


Replayer = Callable[[float, float], ReplayFigures]
"""Replays a uniform schedule of (rate, seconds) by one engine."""


@dataclass(frozen=True)
class Context:
    """What every run needs: the folder, the scenario, the target."""

    folder: Path
    text: str  # the fast scenario's TOML
    url: str
    target_pid: int


def run_replay(ctx: Context, rate: float, seconds: float) -> ReplayFigures:
    """``abcsim replay`` a uniform schedule in a subprocess, sampling it and the target."""
    schedule = write_schedule(ctx.folder / f"uniform-{rate:g}.parquet", ctx.text, rate, seconds)
    out, err_log = ctx.folder / "results.parquet", ctx.folder / "replay.err"
    command = [PYTHON, "-m", "abcsim", "replay", str(schedule), "--target", ctx.url]
    command += ["--out", str(out), "--max-rate", str(10 * rate), "--processes", "1", "-q"]
    command += ["--max-in-flight", str(MAX_IN_FLIGHT)]
    with err_log.open("w") as err:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=err)
    try:
        with Sampler([process.pid, ctx.target_pid]) as sampler:
            clock = _wait_for_clock(process, err_log, ABCSIM_LEAD_S)
            process.wait(timeout=seconds + 300.0)
    finally:
        _end(process, signal.SIGKILL)
    if process.returncode not in (0, 1):  # 1: the smoke SLOs, not a failure here
        raise RuntimeError(f"abcsim replay exited {process.returncode}: {err_log.read_text()}")
    schedule.unlink()
    return replay_figures(ctx, rate, seconds, out, sampler, process.pid, clock)


def run_locust_replay(ctx: Context, rate: float, seconds: float) -> ReplayFigures:
    """abcsim's replay locustfile on a Locust master and one worker (two processes, loopback),
    sampling the worker (the sender), the master and the target."""
    schedule = write_schedule(ctx.folder / f"uniform-{rate:g}.parquet", ctx.text, rate, seconds)
    out = ctx.folder / "locust-replay.parquet"
    master_log, worker_log = ctx.folder / "master.log", ctx.folder / "worker.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ABC_")}
    env.update(
        ABC_SCHEDULE=str(schedule),
        ABC_SPEED="1",
        ABC_RESULTS=str(out),
        ABC_MAX_RATE=str(10 * rate),
        ABC_MAX_CONCURRENT_REQUESTS=str(MAX_IN_FLIGHT),
    )
    port = _free_port()
    locust = [PYTHON, "-m", "locust", "-f", str(LOCUSTFILES["replay"])]
    master_args = ["--master", "--headless", "--expect-workers", "1"]
    master_args += ["--master-bind-host", "127.0.0.1", "--master-bind-port", str(port)]
    master_args += ["--host", ctx.url, "--only-summary"]
    worker_args = ["--worker", "--master-host", "127.0.0.1", "--master-port", str(port)]
    with master_log.open("w") as m_log, worker_log.open("w") as w_log:
        master = subprocess.Popen(
            [*locust, *master_args], env=env, stdout=m_log, stderr=subprocess.STDOUT
        )
        worker = subprocess.Popen(
            [*locust, *worker_args], env=env, stdout=w_log, stderr=subprocess.STDOUT
        )
    try:
        with Sampler([worker.pid, master.pid, ctx.target_pid]) as sampler:
            clock = _wait_for_clock(master, master_log, LOCUST_LEAD_S)
            master.wait(timeout=seconds + 120.0)
            worker.wait(timeout=30.0)  # it quits when the master does
    finally:
        _end(master, signal.SIGKILL)
        _end(worker, signal.SIGKILL)
    if master.returncode not in (0, 1) or not out.exists():  # 1: the smoke SLOs
        tail = "\n".join(master_log.read_text(errors="replace").splitlines()[-15:])
        raise RuntimeError(f"the Locust master exited {master.returncode}:\n{tail}")
    schedule.unlink()
    figures = replay_figures(ctx, rate, seconds, out, sampler, worker.pid, clock)
    steady = _steady(clock, seconds)
    return replace(figures, master_cpu=sampler.cpu_share(master.pid, *steady))


def replay_figures(
    ctx: Context,
    rate: float,
    seconds: float,
    out: Path,
    sampler: Sampler,
    sender: int,
    clock: float,
) -> ReplayFigures:
    """A run's figures from its results file (then deleted) and the /proc samples."""
    steady = _steady(clock, seconds)
    rss = tuple((s.at - clock, s.rss) for s in sampler.samples[sender] if s.at >= clock)
    table = pq.read_table(out, columns=["t", "sent", "outcome"])
    out.unlink()
    outcome = table.column("outcome").cast(pa.string())
    ok = int(pc.sum(pc.equal(outcome, "ok")).as_py() or 0)
    dropped = int(pc.sum(pc.equal(outcome, "dropped")).as_py() or 0)
    sent = table.column("sent").to_numpy()
    lag = (sent - table.column("t").to_numpy())[~np.isnan(sent)]
    span = float(np.nanmax(sent) - np.nanmin(sent)) if lag.size > 1 else 0.0
    p50, p99, top = np.percentile(lag, [50, 99, 100]) if lag.size else (math.nan,) * 3
    return ReplayFigures(
        rate=rate,
        seconds=seconds,
        events=table.num_rows,
        ok=ok,
        dropped=dropped,
        errors=table.num_rows - ok - dropped,
        achieved=(lag.size - 1) / span if span > 0 else 0.0,
        lag_p50_s=float(p50),
        lag_p99_s=float(p99),
        lag_max_s=float(top),
        replay_cpu=sampler.cpu_share(sender, *steady),
        target_cpu=sampler.cpu_share(ctx.target_pid, *steady),
        others_cpu=sampler.others_share(*steady),
        rss=rss,
    )


def _steady(clock: float, seconds: float) -> tuple[float, float]:
    """The steady part of a run: after its first second (or quarter), before its end."""
    return clock + min(1.0, seconds / 4), clock + seconds - 0.25


def _wait_for_clock(process: subprocess.Popen[bytes], log: Path, lead_s: float) -> float:
    """The monotonic time a replay's clock starts: ``lead_s`` after it logs 'replaying'."""
    deadline = time.monotonic() + 120.0
    while time.monotonic() < deadline and process.poll() is None:
        if "replaying" in log.read_text(errors="replace"):
            return time.monotonic() + lead_s
        time.sleep(0.02)
    raise RuntimeError(f"the replay did not start: {log.read_text(errors='replace')[-800:]}")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# ----------------------------------------------------------------------------- the search
@dataclass(frozen=True)
class Search:
    """One sustained-rate search: every run, and the highest rate held."""

    start: float  # the rate its ramp started at
    runs: tuple[ReplayFigures, ...]
    sustained: float

    @property
    def best(self) -> ReplayFigures | None:
        """The held run at the sustained rate (its CPU per request is the search's)."""
        return next((r for r in self.runs if r.held and r.rate == self.sustained), None)

    @property
    def cpu_us_per_request(self) -> float:
        return self.best.cpu_us_per_request if self.best is not None else math.nan


def find_sustained(replay: Replayer, settings: Settings, start: float) -> Search:
    """Ramp from ``start`` (up while held; down until held if ``start`` is not), then bisect."""
    runs: list[ReplayFigures] = []

    def holds(rate: float) -> bool:
        for _ in range(2):  # best of two tries: other work may share the machine
            runs.append(replay(rate, settings.step_s))
            _show(runs[-1])
            if runs[-1].held:
                return True
        return False

    first = RAMP.index(int(start))
    best, failed = 0.0, math.inf
    if holds(RAMP[first]):
        best = RAMP[first]
        for rate in RAMP[first + 1 :]:
            if not holds(rate):
                failed = rate
                break
            best = rate
    else:
        failed = RAMP[first]
        for rate in reversed(RAMP[:first]):
            if holds(rate):
                best = rate
                break
            failed = rate
    for _ in range(settings.bisect if math.isfinite(failed) else 0):
        middle = round((best + failed) / 2 / 50) * 50
        if middle in (best, failed):
            break
        if holds(middle):
            best = middle
        else:
            failed = middle
    return Search(start, tuple(runs), best)


def restart_rate(first: Search, settings: Settings) -> float:
    """Where a later search starts: ``settings.back`` ramp steps below the first's result."""
    at_or_below = [i for i, rate in enumerate(RAMP) if rate <= first.sustained]
    return RAMP[max(0, (at_or_below[-1] if at_or_below else 0) - settings.back)]


def _sustained(search: Search) -> str:
    top = " (the ramp's top: a floor, not a ceiling)" if search.sustained == RAMP[-1] else ""
    return f"{search.sustained:,.0f} requests/s{top}"


def search_header(indent: str, master: bool) -> None:
    print(
        f"{indent}{'rate/s':>7} {'achieved':>10} {'lag P50':>8} {'P99 ms':>8} {'max ms':>8} "
        f"{'dropped':>8} {'errors':>6} {'sender':>7} {'µs/req':>6} {'target':>7} "
        f"{'others':>7}" + (f" {'master':>7}" if master else "")
    )


def _show(run: ReplayFigures) -> None:
    verdict = "held" if run.held else "NOT held"
    master = "" if math.isnan(run.master_cpu) else f" {100 * run.master_cpu:>6.0f}%"
    print(
        f"    {run.rate:>7,.0f} {run.achieved:>10,.0f} {1000 * run.lag_p50_s:>8.2f} "
        f"{1000 * run.lag_p99_s:>8.2f} {1000 * run.lag_max_s:>8.1f} {run.dropped:>8,} "
        f"{run.errors:>6,} {100 * run.replay_cpu:>6.0f}% {run.cpu_us_per_request:>6.0f} "
        f"{100 * run.target_cpu:>6.0f}% {100 * run.others_cpu:>6.0f}%{master}  {verdict}",
        flush=True,
    )


# ----------------------------------------------------------------------------- Locust FastHttpUser
LOCUSTFILE = '''\
"""Locust FastHttpUser firing the benchmark's request as fast as it can."""

import itertools

from locust import FastHttpUser, constant, task

_ids = itertools.count()


class Bench(FastHttpUser):
    wait_time = constant(0)

    @task
    def data_collection(self):
        event_id = next(_ids)
        headers = {{
            "X-ABC-Synthetic": "1",
            "X-ABC-Event-Id": str(event_id),
            "X-ABC-Agent-Type": "trading",
        }}
        self.client.post("{path}", json={{"size": 1, "event_id": event_id}}, headers=headers)
'''


@dataclass(frozen=True)
class LocustFigures:
    users: int
    seconds: int
    requests: int
    failures: int
    rate: float  # Requests/s of the Aggregated row
    median_ms: float
    locust_cpu: float
    target_cpu: float
    others_cpu: float

    @property
    def cpu_us_per_request(self) -> float:
        return 1e6 * self.locust_cpu / self.rate if self.rate else math.nan


def run_locust(ctx: Context, path: str, users: int, seconds: int, tag: str) -> LocustFigures:
    """One headless Locust process, ``users`` users spawned at once, for ``seconds``."""
    locustfile = ctx.folder / "locustfile.py"
    locustfile.write_text(LOCUSTFILE.format(path=path))
    prefix = ctx.folder / f"locust-{tag}-{users}"
    locust = str(Path(PYTHON).with_name("locust"))
    command = [locust, "-f", str(locustfile), "--headless", "-u", str(users), "-r", str(users)]
    command += ["-t", f"{seconds}s", "--only-summary", "--csv", str(prefix), "-H", ctx.url]
    log = ctx.folder / f"locust-{tag}-{users}.log"
    with log.open("w") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
    try:
        with Sampler([process.pid, ctx.target_pid]) as sampler:
            started = time.monotonic()
            process.wait(timeout=seconds + 120.0)
    finally:
        _end(process, signal.SIGKILL)
    stats = Path(f"{prefix}_stats.csv")
    if not stats.exists():
        raise RuntimeError(f"locust wrote no stats: {log.read_text()[-800:]}")
    with stats.open() as handle:
        row = next(r for r in csv.DictReader(handle) if r["Name"] == "Aggregated")
    steady = (started + 3.0, started + 2.0 + seconds - 0.5)  # ~2 s to import and spawn
    return LocustFigures(
        users=users,
        seconds=seconds,
        requests=int(row["Request Count"]),
        failures=int(row["Failure Count"]),
        rate=float(row["Requests/s"]),
        median_ms=float(row["Median Response Time"]),
        locust_cpu=sampler.cpu_share(process.pid, *steady),
        target_cpu=sampler.cpu_share(ctx.target_pid, *steady),
        others_cpu=sampler.others_share(*steady),
    )


def locust_header(indent: str) -> None:
    print(
        f"{indent}{'users':>7} {'req/s':>10} {'requests':>10} {'fails':>6} {'median ms':>9} "
        f"{'locust':>7} {'µs/req':>6} {'target':>7} {'others':>7}"
    )


def _show_locust(f: LocustFigures) -> None:
    print(
        f"    {f.users:>7} {f.rate:>10,.0f} {f.requests:>10,} {f.failures:>6,} "
        f"{f.median_ms:>9.0f} {100 * f.locust_cpu:>6.0f}% {f.cpu_us_per_request:>6.0f} "
        f"{100 * f.target_cpu:>6.0f}% {100 * f.others_cpu:>6.0f}%",
        flush=True,
    )


# ----------------------------------------------------------------------------- repetitions
@dataclass(frozen=True)
class Spread:
    """Min and median of one figure over the repetitions."""

    values: tuple[float, ...]

    @property
    def min(self) -> float:
        return min(self.values)

    @property
    def median(self) -> float:
        return float(statistics.median(self.values))

    def text(self, fmt: str = ",.0f") -> str:
        each = ", ".join(format(v, fmt) for v in self.values)
        return f"min {self.min:{fmt}}, median {self.median:{fmt}} ({each})"


def search_spreads(searches: Sequence[Search]) -> tuple[Spread, Spread]:
    """(sustained rate, CPU µs per request) over the searches."""
    return (
        Spread(tuple(s.sustained for s in searches)),
        Spread(tuple(s.cpu_us_per_request for s in searches)),
    )


def locust_spreads(bests: Sequence[LocustFigures]) -> tuple[Spread, Spread]:
    """(req/s, CPU µs per request) over each repetition's best user count."""
    return (
        Spread(tuple(b.rate for b in bests)),
        Spread(tuple(b.cpu_us_per_request for b in bests)),
    )


def show_lag(what: str, run: ReplayFigures) -> None:
    master = "" if math.isnan(run.master_cpu) else f", master CPU {100 * run.master_cpu:.0f}%"
    print(
        f"  {what}: P50 {1000 * run.lag_p50_s:.2f} ms, P99 {1000 * run.lag_p99_s:.2f} ms, max "
        f"{1000 * run.lag_max_s:.1f} ms; {run.events:,} events, {run.dropped:,} dropped, "
        f"{run.errors:,} errors; sender CPU {100 * run.replay_cpu:.0f}%{master}",
        flush=True,
    )


# ----------------------------------------------------------------------------- memory
@dataclass(frozen=True)
class MemoryFigures:
    mark_s: float
    end_s: float
    rss_mark: int
    rss_end: int
    slope_mib_min: float  # least squares over the samples after the mark

    @property
    def growth(self) -> int:
        return self.rss_end - self.rss_mark


def memory_figures(run: ReplayFigures, mark_s: float) -> MemoryFigures:
    """RSS at ``mark_s`` and at the end of the schedule, and the slope in between."""
    series = [(t, rss) for t, rss in run.rss if 0.0 <= t <= run.seconds]
    after = [(t, rss) for t, rss in series if t >= mark_s]
    times = np.array([t for t, _ in after])
    sizes = np.array([rss for _, rss in after], dtype=np.float64)
    slope = float(np.polyfit(times / 60.0, sizes / MiB, 1)[0]) if len(after) > 2 else math.nan
    return MemoryFigures(after[0][0], series[-1][0], after[0][1], series[-1][1], slope)


# ----------------------------------------------------------------------------- report
@dataclass(frozen=True)
class Results:
    abcsim: tuple[Search, ...]
    locusts: tuple[tuple[LocustFigures, ...], ...]  # per repetition, per user count
    lag: ReplayFigures
    memory: MemoryFigures
    engine: tuple[Search, ...]  # Locust's engine running abcsim's replay user
    engine_lag: ReplayFigures
    templates: TemplateCost


@dataclass(frozen=True)
class TemplateCost:
    """Section 6: the replay's CPU per request with and without a request template."""

    plain: tuple[ReplayFigures, ...]
    templated: tuple[ReplayFigures, ...]

    @property
    def plain_us(self) -> float:
        return statistics.median(r.cpu_us_per_request for r in self.plain)

    @property
    def templated_us(self) -> float:
        return statistics.median(r.cpu_us_per_request for r in self.templated)

    @property
    def ratio(self) -> float:
        return self.templated_us / self.plain_us

    @property
    def ok(self) -> bool:
        runs = (*self.plain, *self.templated)
        clean = all(r.dropped == 0 and r.errors == 0 for r in runs)
        return clean and self.ratio <= TEMPLATE_COST_TARGET

    def verdict_line(self) -> str:
        what = f"CPU per request at {TEMPLATE_RATE:,}/s: order template / none"
        figure = f"{self.templated_us:,.1f}/{self.plain_us:,.1f} µs = {self.ratio:.3f}x"
        goal = f"<= {TEMPLATE_COST_TARGET:g}x"
        return f"{what:<56} {figure:>22} {goal:>9}  {_verdict(self.ok)}"


def template_section(ctx: Context, settings: Settings) -> TemplateCost:
    """Section 6: alternate runs with and without the order template; print each."""
    print(
        f"6. request templates: abcsim replay at {TEMPLATE_RATE:,} requests/s for "
        f"{settings.template_s:g} s, abc_week's trade_execution template on the endpoint "
        f"vs none, {REPEATS} runs each, alternating"
    )
    templated_ctx = replace(ctx, text=templated_scenario_text(ctx.text))
    plain, templated = [], []
    for k in range(1, REPEATS + 1):
        for name, runs, where in (("none", plain, ctx), ("template", templated, templated_ctx)):
            run = run_replay(where, TEMPLATE_RATE, settings.template_s)
            runs.append(run)
            print(
                f"  run {k} {name:<9} {run.cpu_us_per_request:7.1f} µs/request, "
                f"{run.dropped:,} dropped, {run.errors:,} errors, send-lag P99 "
                f"{1000 * run.lag_p99_s:.2f} ms",
                flush=True,
            )
    cost = TemplateCost(tuple(plain), tuple(templated))
    print(f"  medians: {cost.templated_us:.1f} vs {cost.plain_us:.1f} µs ({cost.ratio:.3f}x)")
    return cost


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def compare_engines(results: Results) -> None:
    """abcsim replay's own engine next to Locust's running abcsim's replay user."""
    rows = (
        ("abcsim replay, 1 process", results.abcsim, results.lag),
        ("Locust master + 1 worker", results.engine, results.engine_lag),
    )
    print()
    print(
        "Replay engines side by side (information, no target): sustained open-loop rate, "
        f"CPU µs per request of the sender at its sustained rate, send lag at {LAG_RATE:,}/s"
    )
    print(
        f"  {'engine':<26} {'rate min':>9} {'median':>9} {'µs/req min':>10} {'median':>7} "
        f"{'lag P99 at 1,000/s':>19}"
    )
    for name, searches, lag in rows:
        rate, cpu = search_spreads(searches)
        print(
            f"  {name:<26} {rate.min:>9,.0f} {rate.median:>9,.0f} {cpu.min:>10,.0f} "
            f"{cpu.median:>7,.0f} {1000 * lag.lag_p99_s:>16.2f} ms"
        )
    abcsim, _ = search_spreads(results.abcsim)
    engine, _ = search_spreads(results.engine)
    if engine.median > 0:
        print(
            f"  median rates: abcsim replay's engine sends {abcsim.median / engine.median:.2f}x "
            "what one Locust worker sends on time"
        )
    _floor_note((*results.abcsim, *results.engine), "this comparison")


def _floor_note(searches: Sequence[Search], what: str) -> None:
    capped = sum(s.sustained == RAMP[-1] for s in searches)
    if capped:
        print(
            f"  NOTE: {capped} search(es) held the ramp's top ({RAMP[-1]:,}/s): {what} rests "
            "on a floor; extend RAMP"
        )


def report(results: Results, settings: Settings) -> bool:
    """Print the comparison and the targets; True if all pass."""
    bests = [max(rep, key=lambda f: f.rate) for rep in results.locusts]
    a_rate, a_cpu = search_spreads(results.abcsim)
    l_rate, l_cpu = locust_spreads(bests)
    compare_engines(results)
    print()
    print(
        f"abcsim replay vs Locust FastHttpUser, {REPEATS} repetitions each "
        "(the verdict uses the medians)"
    )
    print(f"  abcsim sustained rate/s:      {a_rate.text()}")
    print(f"  Locust FastHttpUser req/s:    {l_rate.text()}")
    print(f"  abcsim CPU µs per request:    {a_cpu.text()}")
    print(f"  Locust CPU µs per request:    {l_cpu.text()}")
    not_held = [r.target_cpu for s in results.abcsim for r in s.runs if r.rate > s.sustained]
    above = f"{100 * max(not_held):.0f}%" if not_held else "(no run)"
    print(
        f"  target CPU: {100 * max(b.target_cpu for b in bests):.0f}% of a core at most under "
        f"Locust's best, {above} at most in abcsim's runs above its sustained rate "
        "(near 100% = the target, not the generator, sets the ceiling)"
    )
    _floor_note(results.abcsim, "abcsim's rate ratio")
    print()
    rate_ratio = a_rate.median / l_rate.median if l_rate.median else math.nan
    cpu_ratio = l_cpu.median / a_cpu.median if a_cpu.median else math.nan
    print(f"{'target':<56} {'measured':>22} {'goal':>9}  result")
    rate_ok = rate_ratio >= RATIO_TARGET
    what = "rate, medians: abcsim sustained / Locust FastHttpUser"
    figure = f"{a_rate.median:,.0f}/{l_rate.median:,.0f} = {rate_ratio:.2f}x"
    print(f"{what:<56} {figure:>22} {'>= 1.5x':>9}  {_verdict(rate_ok)}")
    cpu_ok = cpu_ratio >= RATIO_TARGET
    what = "requests per CPU second, medians: abcsim / Locust"
    figure = f"{l_cpu.median:,.0f}/{a_cpu.median:,.0f} µs = {cpu_ratio:.2f}x"
    print(f"{what:<56} {figure:>22} {'>= 1.5x':>9}  {_verdict(cpu_ok)}")
    lag = results.lag
    lag_ok = lag.lag_p99_s < LAG_TARGET_S and lag.dropped == 0
    what = f"send-lag P99 at {LAG_RATE:,}/s for {lag.seconds:g} s (no drops)"
    figure = f"{1000 * lag.lag_p99_s:.2f} ms"
    print(f"{what:<56} {figure:>22} {'< 2 ms':>9}  {_verdict(lag_ok)}")
    memory = results.memory
    mem_ok = memory.growth < MEMORY_GROWTH_MIB * MiB
    what = f"RSS growth {memory.mark_s:.0f} s -> {memory.end_s:.0f} s at {MEMORY_RATE:,}/s"
    figure = f"{memory.growth / MiB:+.1f} MiB"
    print(f"{what:<56} {figure:>22} {'< 20 MiB':>9}  {_verdict(mem_ok)}")
    print(results.templates.verdict_line())
    print(
        "  (the verdict uses the medians of 3 repetitions; requests per CPU second = Locust's "
        "median µs per request / abcsim's)"
    )
    if settings.memory_s < FULL.memory_s:
        print("  (--quick: a 1-minute memory run; the target is stated for 5 minutes)")
    ok = rate_ok and cpu_ok and lag_ok and mem_ok and results.templates.ok
    print(f"overall: {_verdict(ok)} (all five targets must pass)")
    return ok


# ----------------------------------------------------------------------------- main
def rounds(
    ctx: Context, path: str, settings: Settings, version: str
) -> tuple[tuple[Search, ...], tuple[tuple[LocustFigures, ...], ...]]:
    """Sections 1 and 2: ``REPEATS`` rounds of abcsim's search, then Locust FastHttpUser."""
    searches: list[Search] = []
    locusts: list[tuple[LocustFigures, ...]] = []
    for k in range(1, REPEATS + 1):
        start = settings.first_rate if k == 1 else restart_rate(searches[0], settings)
        print(f"  round {k} of {REPEATS}: abcsim replay, ramp from {start:,.0f}/s")
        search_header("    ", master=False)
        searches.append(find_sustained(lambda r, s: run_replay(ctx, r, s), settings, start))
        print(f"    sustained open-loop rate: {_sustained(searches[-1])}")
        print(f"  round {k} of {REPEATS}: Locust {version} FastHttpUser")
        locust_header("    ")
        figures = []
        for users in settings.locust_users:
            figures.append(run_locust(ctx, path, users, settings.locust_s, f"r{k}"))
            _show_locust(figures[-1])
        locusts.append(tuple(figures))
    return tuple(searches), tuple(locusts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--quick", action="store_true", help="5-s steps, ramps only, 1-minute memory run"
    )
    parser.add_argument(
        "--only-templates", action="store_true", help="section 6 alone: the templates' cost"
    )
    args = parser.parse_args(argv)
    settings = QUICK if args.quick else FULL
    began = time.monotonic()
    # importing locust would monkey-patch this process with gevent: ask for its version only
    locust_version = metadata.version("locust")
    text = fast_scenario_text()
    path = dict(load_scenario("smoke").endpoints)[REQUEST].path
    print(
        f"abcsim replay benchmark: Python {platform.python_version()}, httptools "
        f"{httptools.__version__}, Locust {locust_version}, {os.cpu_count()} CPUs; event loop: "
        f"replay asyncio, target {eventloop.loop_name()}"
    )
    print(
        f"  the target and the load generator share the {os.cpu_count()} CPUs (nothing pinned); "
        "other work on the machine shows as noise"
    )
    print(
        f"  target: abcsim target, smoke with every service time {SERVICE_MS} ms, "
        f"{TARGET_WORKERS} workers, queue {TARGET_QUEUE}; every request POST {path}"
    )
    held_rule = (
        f"held = no drops or errors, send-lag P99 < {1000 * HOLD_LAG_P99_S:g} ms, achieved >= "
        f"{100 * HOLD_ACHIEVED:g}% (best of 2 tries)"
    )
    with tempfile.TemporaryDirectory(prefix="abcsim-bench-replay-") as name:
        folder = Path(name)
        scenario = folder / "fast.toml"
        scenario.write_text(text)
        with reference_target(scenario, folder / "target.err") as (url, target_pid):
            ctx = Context(folder, text, url, target_pid)
            print(f"  target at {url} (pid {target_pid})")
            print()
            if args.only_templates:
                cost = template_section(ctx, settings)
                print(cost.verdict_line())
                return 0 if cost.ok else 1
            print(
                f"1 and 2. abcsim replay (1 process, uniform schedules of {settings.step_s:g} s; "
                f"{held_rule}) and Locust FastHttpUser (1 process, wait_time constant(0), "
                f"{settings.locust_s} s, users spawned at once; req/s from _stats.csv "
                f"Aggregated), {REPEATS} rounds"
            )
            searches, locusts = rounds(ctx, path, settings, locust_version)
            print()
            print(f"3. send lag (sent - t) at {LAG_RATE:,} requests/s for {settings.lag_s:g} s")
            lag = run_replay(ctx, LAG_RATE, settings.lag_s)
            show_lag("abcsim replay", lag)
            print()
            print(
                f"4. memory: abcsim replay at {MEMORY_RATE:,} requests/s for "
                f"{settings.memory_s:g} s, VmRSS of the replay process every {SAMPLE_S:g} s"
            )
            long_run = run_replay(ctx, MEMORY_RATE, settings.memory_s)
            memory = memory_figures(long_run, settings.memory_mark_s)
            print(
                f"  RSS {memory.rss_mark / MiB:,.1f} MiB at {memory.mark_s:.0f} s, "
                f"{memory.rss_end / MiB:,.1f} MiB at {memory.end_s:.0f} s "
                f"({100 * memory.growth / memory.rss_mark:+.1f}%); slope after the mark "
                f"{memory.slope_mib_min:+.2f} MiB/min; {long_run.dropped:,} dropped, send-lag "
                f"P99 {1000 * long_run.lag_p99_s:.2f} ms",
                flush=True,
            )
            print()
            print(
                f"5. Locust {locust_version}'s engine running abcsim's replay user: a master and "
                f"one worker (loopback), ABC_MAX_CONCURRENT_REQUESTS={MAX_IN_FLIGHT}; the same "
                f"schedules and {held_rule}; sender = the worker"
            )
            engine: list[Search] = []
            for k in range(1, REPEATS + 1):
                start = settings.first_rate if k == 1 else restart_rate(engine[0], settings)
                print(f"  search {k} of {REPEATS}: ramp from {start:,.0f}/s")
                search_header("    ", master=True)
                engine.append(
                    find_sustained(lambda r, s: run_locust_replay(ctx, r, s), settings, start)
                )
                print(f"    sustained open-loop rate: {_sustained(engine[-1])}")
            rate, cpu = search_spreads(engine)
            print(f"  sustained rate/s: {rate.text()}; worker µs/request: {cpu.text()}")
            print(f"  send lag (sent - t) at {LAG_RATE:,} requests/s for {settings.lag_s:g} s")
            engine_lag = run_locust_replay(ctx, LAG_RATE, settings.lag_s)
            show_lag("Locust's engine", engine_lag)
            print()
            templates = template_section(ctx, settings)
    results = Results(searches, locusts, lag, memory, tuple(engine), engine_lag, templates)
    ok = report(results, settings)
    print(f"(took {(time.monotonic() - began) / 60:.1f} minutes)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

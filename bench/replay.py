"""Benchmark ``abcsim replay``'s open-loop sending against Locust's FastHttpUser, on one machine.

Everything runs against the reference target (``abcsim target``), started once in
its own process: smoke's scenario with every service time fixed at 0.001 ms (the
least the scenario allows is anything above 0), thousands of workers and a huge
queue, so the server adds no queueing of its own. Every request is the same
``POST /api/v1/agents/data-collection`` with a JSON body ``{"size": 1, "event_id": N}``
and the three ``X-ABC-*`` headers, from abcsim and from Locust alike.

What it measures, in one run:

1. **abcsim's sustained rate, one process** — ``abcsim replay SCHEDULE -q --workers 1``
   (a subprocess, as a user runs it) on uniform schedules of increasing rate, a
   ramp and then a bisection. A rate is *held* when the run has no drops, no
   errors, a send-lag P99 under 10 ms, and an achieved send rate of at least 98%
   of the scheduled one (the best of two tries, as other work may share the
   machine). The sustained rate is the highest rate held.
2. **Locust FastHttpUser, one process** — ``locust --headless --only-summary --csv``
   (no ``--processes``, no workers) with users that fire as fast as they can
   (``wait_time = constant(0)``), at a couple of user counts; its req/s is the
   ``Requests/s`` of the Aggregated row of its ``_stats.csv``. The best is the
   baseline. This is Locust's closed-loop *maximum*: a stricter bar than the
   on-time rate abcsim must hold.
3. **Send lag at 1,000 requests/s** — P50/P99/max of ``sent − t`` (actual minus
   scheduled send, from the results file; speed 1) over a sustained run.
4. **Memory over a long run** — ``abcsim replay`` at 1,000 requests/s for 5 minutes
   (``--quick``: 1 minute) while ``VmRSS`` of the replay process is read from
   ``/proc/PID/status``; RSS at minute 1 and at the end, and the slope fitted after
   minute 1 (``--quick``: after 20 s).

For every run the CPU used by the load generator and by the target over the
steady part of the run is read from ``/proc/PID/stat``; both share the machine's
cores (nothing is pinned), so a target at ~100% of a core caps every figure.
CPU per request (µs) compares the generators independently of that cap.

Targets: abcsim's sustained rate >= 1.5x Locust FastHttpUser's req/s; send-lag
P99 < 2 ms at 1,000 requests/s; memory flat: RSS growth from minute 1 to the
end < 20 MiB.

Run from the project root (Linux: reads /proc)::

    python bench/replay.py            # about 10 minutes
    python bench/replay.py --quick    # about 3 minutes: short steps, 1-minute memory run
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import platform
import re
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import httptools
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from abcsim import eventloop
from abcsim.scenario import REQUEST_TYPES, load_scenario
from abcsim.schedule.synthetic import uniform_schedule

PYTHON = sys.executable
SERVICE_MS = 0.001  # [system.service] times must be > 0; this is as near 0 as asyncio gets
TARGET_WORKERS = 4096
TARGET_QUEUE = 65536
REQUEST = "data_collection"

RAMP = (500, 1000, 2000, 3000, 4000, 5000, 6000, 8000, 10000, 12000, 14000, 16000)
HOLD_LAG_P99_S = 0.010
HOLD_ACHIEVED = 0.98
LAG_RATE = 1000
MEMORY_RATE = 1000

RATIO_TARGET = 1.5
LAG_TARGET_S = 0.002
MEMORY_GROWTH_MIB = 20.0

SAMPLE_S = 0.5  # /proc sampling period
CLK_TCK = os.sysconf("SC_CLK_TCK")
LEAD_S = 0.25  # abcsim replay's clock starts this long after it says "replaying"
MiB = 1024**2


@dataclass(frozen=True)
class Settings:
    step_s: float  # length of one ramp step
    bisect: int  # bisection rounds after the ramp
    locust_users: tuple[int, ...]
    locust_s: int
    lag_s: float
    memory_s: float
    memory_mark_s: float  # RSS "at minute 1"


FULL = Settings(15.0, 2, (16, 64), 20, 60.0, 300.0, 60.0)
QUICK = Settings(6.0, 1, (32,), 10, 20.0, 60.0, 20.0)


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
        process.send_signal(signal.SIGTERM)
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


# ----------------------------------------------------------------------------- abcsim replay
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
    """One ``abcsim replay`` run of a uniform schedule."""

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
    replay_cpu: float  # cores, steady part of the run
    target_cpu: float
    others_cpu: float  # everything else on the machine
    rss: tuple[tuple[float, int], ...]  # (seconds since the clock started, bytes)

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


def run_replay(
    folder: Path, scenario_text: str, url: str, target_pid: int, rate: float, seconds: float
) -> ReplayFigures:
    """``abcsim replay`` a uniform schedule in a subprocess, sampling it and the target."""
    schedule = write_schedule(folder / f"uniform-{rate:g}.parquet", scenario_text, rate, seconds)
    out, err_log = folder / "results.parquet", folder / "replay.err"
    command = [PYTHON, "-m", "abcsim", "replay", str(schedule), "--target", url, "--out", str(out)]
    command += ["--max-rate", str(10 * rate), "--workers", "1", "-q"]
    with err_log.open("w") as err:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=err)
    try:
        with Sampler([process.pid, target_pid]) as sampler:
            clock = _wait_for_clock(process, err_log)
            process.wait(timeout=seconds + 300.0)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    if process.returncode not in (0, 1):  # 1: the smoke SLOs, not a failure here
        raise RuntimeError(f"abcsim replay exited {process.returncode}: {err_log.read_text()}")
    steady = (clock + min(1.0, seconds / 4), clock + seconds - 0.25)
    rss = tuple((s.at - clock, s.rss) for s in sampler.samples[process.pid] if s.at >= clock)
    table = pq.read_table(out, columns=["t", "sent", "outcome"])
    schedule.unlink()
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
        replay_cpu=sampler.cpu_share(process.pid, *steady),
        target_cpu=sampler.cpu_share(target_pid, *steady),
        others_cpu=sampler.others_share(*steady),
        rss=rss,
    )


def _wait_for_clock(process: subprocess.Popen[bytes], err_log: Path) -> float:
    """The monotonic time the replay's clock starts: just after it says 'replaying'."""
    deadline = time.monotonic() + 120.0
    while time.monotonic() < deadline and process.poll() is None:
        if "replaying" in err_log.read_text():
            return time.monotonic() + LEAD_S
        time.sleep(0.02)
    raise RuntimeError(f"abcsim replay did not start: {err_log.read_text()[-500:]}")


def find_sustained(
    folder: Path, text: str, url: str, target_pid: int, settings: Settings
) -> tuple[list[ReplayFigures], float]:
    """Ramp up, then bisect; returns every run and the highest rate held."""
    runs: list[ReplayFigures] = []

    def holds(rate: float) -> bool:
        for _ in range(2):  # best of two tries: other work may share the machine
            runs.append(run_replay(folder, text, url, target_pid, rate, settings.step_s))
            _show(runs[-1])
            if runs[-1].held:
                return True
        return False

    best, failed = 0.0, math.inf
    for rate in RAMP:
        if not holds(rate):
            failed = rate
            break
        best = rate
    for _ in range(settings.bisect if math.isfinite(failed) else 0):
        middle = round((best + failed) / 2 / 50) * 50
        if middle in (best, failed):
            break
        if holds(middle):
            best = middle
        else:
            failed = middle
    return runs, best


def _show(run: ReplayFigures) -> None:
    verdict = "held" if run.held else "NOT held"
    print(
        f"  {run.rate:>7,.0f} {run.achieved:>10,.0f} {1000 * run.lag_p50_s:>8.2f} "
        f"{1000 * run.lag_p99_s:>8.2f} {1000 * run.lag_max_s:>8.1f} {run.dropped:>8,} "
        f"{run.errors:>6,} {100 * run.replay_cpu:>6.0f}% {run.cpu_us_per_request:>6.0f} "
        f"{100 * run.target_cpu:>6.0f}% {100 * run.others_cpu:>6.0f}%  {verdict}",
        flush=True,
    )


# ----------------------------------------------------------------------------- Locust
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


def run_locust(
    folder: Path, path: str, url: str, target_pid: int, users: int, seconds: int
) -> LocustFigures:
    """One headless Locust process, ``users`` users spawned at once, for ``seconds``."""
    locustfile = folder / "locustfile.py"
    locustfile.write_text(LOCUSTFILE.format(path=path))
    prefix = folder / f"locust{users}"
    locust = str(Path(PYTHON).with_name("locust"))
    command = [locust, "-f", str(locustfile), "--headless", "-u", str(users), "-r", str(users)]
    command += ["-t", f"{seconds}s", "--only-summary", "--csv", str(prefix), "-H", url]
    log = folder / f"locust{users}.log"
    with log.open("w") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
    try:
        with Sampler([process.pid, target_pid]) as sampler:
            started = time.monotonic()
            process.wait(timeout=seconds + 120.0)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
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
        target_cpu=sampler.cpu_share(target_pid, *steady),
        others_cpu=sampler.others_share(*steady),
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
def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def report(
    sustained: float,
    runs: list[ReplayFigures],
    best_run: ReplayFigures | None,
    locusts: list[LocustFigures],
    lag: ReplayFigures,
    memory: MemoryFigures,
    settings: Settings,
) -> bool:
    """Print the targets; True if all pass."""
    baseline = max(locusts, key=lambda f: f.rate)
    ratio = sustained / baseline.rate if baseline.rate else math.nan
    print()
    if best_run is not None:
        efficiency = baseline.cpu_us_per_request / best_run.cpu_us_per_request
        print(
            f"CPU per request: abcsim {best_run.cpu_us_per_request:.0f} µs at "
            f"{best_run.rate:,.0f}/s, Locust {baseline.cpu_us_per_request:.0f} µs at "
            f"{baseline.rate:,.0f}/s -> abcsim does {efficiency:.2f}x the requests per CPU "
            "second (information: independent of the target's ceiling)"
        )
    not_held = [r.target_cpu for r in runs if not r.held and r.rate > sustained]
    print(
        f"target CPU: {100 * baseline.target_cpu:.0f}% of a core under Locust's best, "
        f"{100 * max(not_held, default=math.nan):.0f}% at most in abcsim's runs above its "
        "sustained rate (near 100% = the target, not the generator, sets the ceiling)"
    )
    print()
    print(f"{'target':<52} {'measured':>16} {'goal':>12}  result")
    rate_ok = ratio >= RATIO_TARGET
    what = "abcsim sustained rate / Locust FastHttpUser req/s"
    figure = f"{sustained:,.0f}/{baseline.rate:,.0f} = {ratio:.2f}x"
    print(f"{what:<52} {figure:>16} {'>= 1.5x':>12}  {_verdict(rate_ok)}")
    lag_ok = lag.lag_p99_s < LAG_TARGET_S and lag.dropped == 0
    what = f"send-lag P99 at {LAG_RATE:,}/s for {lag.seconds:g} s"
    print(f"{what:<52} {1000 * lag.lag_p99_s:>13.2f} ms {'< 2 ms':>12}  {_verdict(lag_ok)}")
    mem_ok = memory.growth < MEMORY_GROWTH_MIB * MiB
    what = f"RSS growth {memory.mark_s:.0f} s -> {memory.end_s:.0f} s at {MEMORY_RATE:,}/s"
    figure = f"{memory.growth / MiB:+.1f} MiB"
    print(f"{what:<52} {figure:>16} {'< 20 MiB':>12}  {_verdict(mem_ok)}")
    if settings.memory_s < FULL.memory_s:
        print("  (--quick: a 1-minute memory run; the target is stated for 5 minutes)")
    return rate_ok and lag_ok and mem_ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="short steps, 1-minute memory run")
    args = parser.parse_args(argv)
    settings = QUICK if args.quick else FULL
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
    with tempfile.TemporaryDirectory(prefix="abcsim-bench-replay-") as name:
        folder = Path(name)
        scenario = folder / "fast.toml"
        scenario.write_text(text)
        with reference_target(scenario, folder / "target.err") as (url, target_pid):
            print(f"  target at {url} (pid {target_pid})")
            print()
            print(
                f"1. abcsim replay, 1 process, uniform schedules of {settings.step_s:g} s; held = "
                f"no drops or errors, send-lag P99 < {1000 * HOLD_LAG_P99_S:g} ms, achieved >= "
                f"{100 * HOLD_ACHIEVED:g}% (best of 2 tries)"
            )
            print(
                f"  {'rate/s':>7} {'achieved':>10} {'lag P50':>8} {'P99 ms':>8} {'max ms':>8} "
                f"{'dropped':>8} {'errors':>6} {'replay':>7} {'µs/req':>6} {'target':>7} "
                f"{'others':>7}"
            )
            runs, sustained = find_sustained(folder, text, url, target_pid, settings)
            held = [r for r in runs if r.held and r.rate == sustained]
            best_run = held[0] if held else None
            print(f"  sustained open-loop rate, one process: {sustained:,.0f} requests/s")
            print()
            print(
                f"2. Locust {locust_version} FastHttpUser, 1 process, wait_time constant(0), "
                f"{settings.locust_s} s, users spawned at once; req/s from _stats.csv Aggregated"
            )
            print(
                f"  {'users':>7} {'req/s':>10} {'requests':>10} {'fails':>6} {'median ms':>9} "
                f"{'locust':>7} {'µs/req':>6} {'target':>7} {'others':>7}"
            )
            locusts = []
            for users in settings.locust_users:
                f = run_locust(folder, path, url, target_pid, users, settings.locust_s)
                locusts.append(f)
                print(
                    f"  {f.users:>7} {f.rate:>10,.0f} {f.requests:>10,} {f.failures:>6,} "
                    f"{f.median_ms:>9.0f} {100 * f.locust_cpu:>6.0f}% "
                    f"{f.cpu_us_per_request:>6.0f} {100 * f.target_cpu:>6.0f}% "
                    f"{100 * f.others_cpu:>6.0f}%",
                    flush=True,
                )
            print()
            print(f"3. send lag (sent - t) at {LAG_RATE:,} requests/s for {settings.lag_s:g} s")
            lag = run_replay(folder, text, url, target_pid, LAG_RATE, settings.lag_s)
            print(
                f"  P50 {1000 * lag.lag_p50_s:.2f} ms, P99 {1000 * lag.lag_p99_s:.2f} ms, max "
                f"{1000 * lag.lag_max_s:.1f} ms; {lag.events:,} events, {lag.dropped:,} dropped, "
                f"{lag.errors:,} errors; replay CPU {100 * lag.replay_cpu:.0f}%",
                flush=True,
            )
            print()
            print(
                f"4. memory: abcsim replay at {MEMORY_RATE:,} requests/s for "
                f"{settings.memory_s:g} s, VmRSS of the replay process every {SAMPLE_S:g} s"
            )
            long_run = run_replay(folder, text, url, target_pid, MEMORY_RATE, settings.memory_s)
            memory = memory_figures(long_run, settings.memory_mark_s)
            print(
                f"  RSS {memory.rss_mark / MiB:,.1f} MiB at {memory.mark_s:.0f} s, "
                f"{memory.rss_end / MiB:,.1f} MiB at {memory.end_s:.0f} s "
                f"({100 * memory.growth / memory.rss_mark:+.1f}%); slope after the mark "
                f"{memory.slope_mib_min:+.2f} MiB/min; {long_run.dropped:,} dropped, send-lag "
                f"P99 {1000 * long_run.lag_p99_s:.2f} ms",
                flush=True,
            )
    ok = report(sustained, runs, best_run, locusts, lag, memory, settings)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

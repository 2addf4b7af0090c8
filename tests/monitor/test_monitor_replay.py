"""``abcsim replay --monitor/--watch-pid`` against real processes on loopback.

The measured side runs in processes of its own: the reference target as
``abcsim target`` (its ``/metrics`` are what is scraped, its memory what
leaks), a CPU hog for ``--watch-pid``, and the replay itself.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import select
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from abcsim.monitor import monitor_path, read_monitor
from abcsim.results import read_results, read_results_meta
from abcsim.results.bursts import failure_bursts
from tests.helpers import REPO, run_cli, uniform_schedule

pytestmark = pytest.mark.system  # a CI step of its own: make test-system

KiB = 1024


@contextlib.contextmanager
def target_process(
    *args: str, port: int = 0, scenario: str = "smoke"
) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """``abcsim target --scenario SCENARIO ARGS`` in its own process; its URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "abcsim", "target", "--scenario", scenario, "--port", str(port),
         *args],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], 60.0)
        url = process.stdout.readline().strip() if ready else ""
        assert url.startswith("http://"), "the target did not start"
        yield url, process
    finally:
        process.terminate()
        process.wait(timeout=10)


def _replay(schedule: Path, url: str, *args: str, env: dict[str, str] | None = None
            ) -> subprocess.CompletedProcess[str]:  # fmt: skip
    return run_cli("replay", str(schedule), "-t", url, "-q", *args, cwd=schedule.parent, env=env)


def test_the_scraped_series_sit_on_the_results_clock(tmp_path: Path) -> None:
    """50 requests/s for 8 s: a sample a second, every series of the target's /metrics,
    and at each sample its request counter equals the results' count of requests due by
    then, within half a second's requests (25) and those in flight."""
    schedule = uniform_schedule(tmp_path / "s.parquet", rate=50, seconds=8)
    with target_process() as (url, _):
        result = _replay(schedule, url, "--monitor", f"{url}/metrics")
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr
    assert "Resources:" in result.stdout and "no memory leak" in result.stdout
    frame = read_monitor(monitor_path(tmp_path / "s.results.parquet"))
    up = frame[frame.metric == "up"]
    assert (up.value == 1).all() and 8 <= len(up) <= 12
    assert {"process_resident_memory_bytes", "abc_target_in_flight"} <= set(frame.metric)
    counted = frame[
        (frame.metric == "abc_target_requests_total")
        & (frame.labels == 'request="data_collection"')
    ]
    due = np.sort(read_results(tmp_path / "s.results.parquet").t.to_numpy())
    for t, value in zip(counted.t, counted.value, strict=True):
        expected = np.searchsorted(due, t, side="right")
        assert abs(value - expected) <= 25 + 5, (t, value, expected)


def test_a_target_restarted_mid_replay_is_a_gap(tmp_path: Path) -> None:
    """The target is stopped 3 s into a 10-s replay and started again 2 s later on the same
    port: the monitor records failed samples (up = 0) in between and the series after."""
    schedule = uniform_schedule(tmp_path / "s.parquet", rate=20, seconds=10)
    with target_process() as (url, first):
        port = int(url.rsplit(":", 1)[1])
        replay = subprocess.Popen(
            [sys.executable, "-m", "abcsim", "replay", str(schedule), "-t", url, "-q",
             "--monitor", f"{url}/metrics"],
            cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(REPO)},
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        time.sleep(3.5)
        first.terminate()
        first.wait(timeout=10)
        time.sleep(2.0)
        with target_process(port=port):
            replay.communicate(timeout=60)
    assert replay.returncode in (0, 1), replay.returncode
    frame = read_monitor(monitor_path(tmp_path / "s.results.parquet"))
    up = frame[frame.metric == "up"].sort_values("t")
    down = up[up.value == 0]
    assert len(down) >= 1
    assert (up[up.t > down.t.max()].value == 1).any()  # scraped again after the restart
    memory = frame[frame.metric == "process_resident_memory_bytes"]
    assert not memory[(memory.t > down.t.min()) & (memory.t < down.t.max())].shape[0]


@pytest.mark.parametrize("leak_kib", [256, 0], ids=["leak", "no-leak"])
def test_the_leak_fault_is_found_with_its_slope(tmp_path: Path, leak_kib: int) -> None:
    """50 requests/s for 15 s against a target that keeps 256 KiB per request: flagged,
    with a slope within 25% of 256 KiB x 50/s (47,186 MB/hour); exit 1, the breach line
    naming the source. The same run without the fault is not flagged, exit 0."""
    schedule = uniform_schedule(tmp_path / "s.parquet", rate=50, seconds=15)
    fault = ("--fault", f"leak_bytes={leak_kib}K") if leak_kib else ()
    with target_process(*fault) as (url, _):
        result = _replay(schedule, url, "--monitor", f"{url}/metrics")
    lines = [x for x in result.stdout.splitlines() if "memory leak" in x]
    if not leak_kib:
        assert result.returncode == 0, result.stdout[-2000:]
        assert any("no memory leak" in x for x in lines), result.stdout[-2000:]
        print(next(x for x in lines if "no memory leak" in x))  # shown with -s
        return
    assert result.returncode == 1, result.stdout[-2000:]
    breach = next(x for x in lines if x.startswith("resource breached: "))
    assert f"{url}/metrics: memory leak: +" in breach and "MB/hour" in breach
    per_hour = float(breach.split("memory leak: +")[1].split(" MB/hour")[0].replace(",", ""))
    injected = leak_kib * KiB * 50 * 3600 / 1e6
    print(f"leak measured {per_hour:,.1f} MB/hour, injected {injected:,.1f}")  # shown with -s
    assert per_hour == pytest.approx(injected, rel=0.25)


def test_cpu_and_memory_ceilings_breach_with_the_figure_and_the_threshold(tmp_path: Path) -> None:
    """A busy loop pinned to one core, watched by pid, with [slo] cpu_share 0.3 (so a loaded
    machine still shows the breach): exit 1 naming the pid, its peak and 30%. A memory limit
    of 20 MB (ABC_MEMORY_LIMIT) under the target's resident memory: exit 1, the same way."""
    schedule = uniform_schedule(tmp_path / "s.parquet", rate=10, seconds=8)
    text = (REPO / "scenarios" / "smoke.toml").read_text()
    (tmp_path / "strict.toml").write_text(text.replace("[slo]", "[slo]\ncpu_share = 0.3", 1))
    hog = subprocess.Popen(
        [sys.executable, "-c", "import os; os.sched_setaffinity(0, {0})\nwhile True: pass"]
    )
    try:
        with target_process() as (url, _):
            cpu = _replay(schedule, url, "--watch-pid", str(hog.pid), "--scenario",
                          str(tmp_path / "strict.toml"))  # fmt: skip
            memory = _replay(schedule, url, "--monitor", f"{url}/metrics",
                             env={"ABC_MEMORY_LIMIT": "20M"})  # fmt: skip
    finally:
        hog.kill()
        hog.wait()
    assert cpu.returncode == 1, cpu.stdout[-2000:]
    breach = next(x for x in cpu.stdout.splitlines() if x.startswith("resource breached"))
    assert breach.startswith(f"resource breached: pid:{hog.pid}: peak CPU ")
    assert "of 1 core" in breach and breach.endswith("> 30%")
    assert memory.returncode == 1, memory.stdout[-2000:]
    lines = [x for x in memory.stdout.splitlines() if x.startswith("resource breached")]
    assert any(f"{url}/metrics: peak memory " in x and x.endswith("> 21 MB") for x in lines)


def _set_faults(url: str, body: bytes) -> float:
    """POST the target's /_admin/faults; the wall time it took effect (the answer's)."""
    request = urllib.request.Request(f"{url}/_admin/faults", data=body, method="POST")
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=5.0) as answer:
        assert answer.status == 200
    return time.time()


def test_an_error_fault_switched_on_for_20_s_is_one_burst(tmp_path: Path) -> None:
    """50 requests/s for 45 s; the target's error_rate fault is set to 0.5 about 15 s in and
    off 20 s later (through /_admin/faults). The report names one burst, its start and end
    within 2 s of the switches (schedule time, from the file's wall_start), holding at
    least 95% of the failures."""
    schedule = uniform_schedule(tmp_path / "s.parquet", rate=50, seconds=45)
    with target_process() as (url, _):
        replay = subprocess.Popen(
            [sys.executable, "-m", "abcsim", "replay", str(schedule), "-t", url, "-q"],
            cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(REPO)},
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        time.sleep(15.0)
        on = _set_faults(url, b'{"error_rate": 0.5}')
        time.sleep(20.0)
        off = _set_faults(url, b'{"error_rate": "off"}')
        stdout, stderr = replay.communicate(timeout=60)
    assert replay.returncode == 1, stdout[-2000:] + stderr  # the error-rate SLO is breached
    out = tmp_path / "s.results.parquet"
    wall_start = read_results_meta(out).wall_start.timestamp()
    bursts = failure_bursts(out)
    assert len(bursts) == 1, bursts
    burst = bursts[0]
    assert abs(burst.start_t - (on - wall_start)) <= 2.0, (burst, on - wall_start)
    assert abs(burst.end_t - (off - wall_start)) <= 2.0, (burst, off - wall_start)
    assert burst.share >= 0.95
    print(
        f"burst {burst.start_t:.1f}-{burst.end_t:.1f} s, switched {on - wall_start:.1f}-"
        f"{off - wall_start:.1f} s, {100 * burst.share:.1f}% of {burst.run_failures}"
    )  # -s
    assert "Failure bursts:" in stdout and "HTTP 500 on data_collection" in stdout
    page = run_cli("report", str(out), "--html", "page.html", cwd=tmp_path)
    assert page.returncode == 1, page.stderr  # the same verdict as the replay's
    assert "burst: " in (tmp_path / "page.html").read_text()


@pytest.mark.parametrize("nested", [True, False], ids=["nested", "plain"])
def test_nested_workflows_deadlock_and_the_report_says_when(tmp_path: Path, nested: bool) -> None:
    """Workflows at 20/s for 8 s on 4 workers, with [system] timeout_s 2. With the nested
    fault the first four take every worker, each waiting for a second: the report flags a
    possible deadlock beginning in the run's first 2 s (exit 1). Without it, workflows
    queue and some are refused, but they move: no deadlock is flagged."""
    text = (REPO / "scenarios" / "smoke.toml").read_text()
    scenario = tmp_path / "tight.toml"
    scenario.write_text(text.replace("[system]", "[system]\ntimeout_s = 2", 1))
    schedule = uniform_schedule(
        tmp_path / "s.parquet", rate=20, seconds=8, request="multi_agent_workflow"
    )
    fault = ("--fault", "nested=on") if nested else ()
    with target_process("--workers", "4", *fault, scenario=str(scenario)) as (url, _):
        result = _replay(schedule, url, "--monitor", f"{url}/metrics", "--scenario",
                         str(scenario))  # fmt: skip
    flagged = [x for x in result.stdout.splitlines() if "possible deadlock" in x]
    if not nested:
        assert not flagged, result.stdout[-2000:]
        return
    assert result.returncode == 1, result.stdout[-2000:]
    breach = next(x for x in flagged if x.startswith("resource breached: "))
    assert f"{url}/metrics: possible deadlock from Tue " in breach, breach
    began = dt.datetime.strptime(breach.split(" from Tue ")[1][:8], "%H:%M:%S")
    # smoke's schedule starts at 12:00:00; the report dates it from the last sample that
    # saw a request complete, so up to one interval (1 s) before the first stuck one
    assert -1.5 <= (began - dt.datetime(1900, 1, 1, 12)).total_seconds() <= 2.0, breach
    assert "all 4 workers busy" in breach and "none completed" in breach

"""Open-loop replay on Locust's master and workers, as real processes on 127.0.0.1.

A slice of smoke's schedule (Tue 13:00-13:02 UTC, speed 24: five seconds) is
replayed by a Locust master and two workers. The master's results file must
hold exactly one row per event of the slice, no event may reach the target
twice (its request counter rises by exactly the rows sent), and the counts per
request type must equal those of ``abcsim replay`` on the same slice.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from abcsim.locust import LOCUSTFILES
from abcsim.results import read_results, read_results_meta
from abcsim.scenario import load_scenario, resolve_run
from abcsim.schedule.parquet import read_meta, read_schedule
from abcsim.schedule.slicing import iter_slice, parse_window
from abcsim.simulate import write_schedule
from abcsim.target import RunningTarget
from tests.conftest import Serve, fixed_scenario
from tests.helpers import requests_received, run_cli
from tests.locust.runs import (
    LocustRun,
    free_port,
    locust_env,
    processes_with,
    start_locust,
)

WINDOW, SPEED = "Tue 13:00..Tue 13:02", "24"

pytestmark = pytest.mark.locust  # a CI step of its own: make test-locust


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> Path:
    scenario = load_scenario("smoke")
    path = tmp_path_factory.mktemp("smoke") / "smoke.parquet"
    write_schedule(scenario, resolve_run(scenario, {}), path)
    return path


@pytest.fixture
def target(serve: Serve) -> RunningTarget:
    return serve(fixed_scenario(1.0, workers=512, queue_limit=10_000))


def slice_event_ids(schedule: Path) -> list[int]:
    meta = read_meta(schedule)
    window = parse_window(WINDOW, meta.start, meta.duration_s)
    return sorted(int(e) for b in iter_slice(schedule, window) for e in b.event_id)


def start_cluster(
    schedule: Path, target: RunningTarget, folder: Path, workers: int = 2
) -> tuple[LocustRun, list[LocustRun], Path]:
    """``locust --master`` and ``workers`` × ``locust --worker`` with abcsim's replay locustfile."""
    results = folder / "cluster.parquet"
    env = {"ABC_SCHEDULE": str(schedule), "ABC_WINDOW": WINDOW, "ABC_SPEED": SPEED,
           "ABC_RESULTS": str(results)}  # fmt: skip
    port = str(free_port())
    master = start_locust(
        LOCUSTFILES["replay"], "--master", "--headless", "--expect-workers", str(workers),
        "--master-bind-host", "127.0.0.1", "--master-bind-port", port, "--host", target.url,
        cwd=folder, env=env,
    )  # fmt: skip
    worker = ("--worker", "--master-host", "127.0.0.1", "--master-port", port)
    others = [
        start_locust(LOCUSTFILES["replay"], *worker, cwd=folder, env=env) for _ in range(workers)
    ]
    return master, others, results


def test_a_master_and_two_workers_replay_each_event_once(
    smoke: Path, target: RunningTarget, tmp_path: Path
) -> None:
    before = requests_received(target)
    master, workers, results = start_cluster(smoke, target, tmp_path)
    status, output = master.finish()
    assert status == 0, output[-3000:]
    for worker in workers:
        assert worker.finish(30.0)[0] == 0
    frame = read_results(results)
    assert sorted(frame.event_id) == slice_event_ids(smoke)  # one row per event, no more
    sent = int(frame.sent.notna().sum())
    preflight = 1  # the master's one health request before the clock starts
    assert requests_received(target) - before == sent + preflight  # none sent twice
    assert (frame.outcome == "ok").mean() > 0.95, frame.outcome.value_counts()

    # abcsim's own engine on the same slice, in two processes by the old spelling of --processes
    own = tmp_path / "own.parquet"
    single = run_cli(
        "replay", str(smoke), "-t", target.url, "-w", WINDOW, "--speed", SPEED, "--out", str(own),
        "--workers", "1", "-q", cwd=tmp_path,
    )  # fmt: skip
    assert single.returncode in (0, 1), single.stderr
    assert "--workers is now --processes" in single.stderr
    by_type = frame.groupby("request", observed=False).size()
    assert by_type.equals(read_results(own).groupby("request", observed=False).size())


def test_a_worker_killed_mid_run_keeps_its_rows_and_the_rest_are_dropped(
    smoke: Path, target: RunningTarget, tmp_path: Path
) -> None:
    """kill -9 of one worker: Locust misses its heartbeats for about 3 s, the master ends
    its shard there; the rows it sent before dying are kept, its other events are dropped."""
    master, workers, results = start_cluster(smoke, target, tmp_path)
    _wait_for("replaying", master)
    deadline = time.monotonic() + 60.0
    while requests_received(target) < 100:  # the run is under way, however busy the machine
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(2.5)  # workers hand their rows over every second: some of each have arrived
    workers[0].process.kill()
    _, output = master.finish()
    workers[1].finish(30.0)
    assert "is gone" in output and "stopped early" in output, output[-3000:]
    assert read_results_meta(results).ended == "stopped"
    frame = read_results(results).set_index("event_id").sort_index()
    assert list(frame.index) == slice_event_ids(smoke)
    agents = read_schedule(smoke).set_index("event_id").agent_id.loc[frame.index]
    lost = frame.error == "no result from its worker"  # the generator's failure, counted
    shard = agents % 2  # which of the two shards each event was in
    lost_in = sorted(set(shard[lost]))
    assert len(lost_in) == 1, lost_in  # the survivor's shard lost nothing
    killed = shard == lost_in[0]
    assert (frame.outcome[killed] == "ok").sum() > 0  # what it sent before dying is kept


def test_abcsim_replay_on_locust_stopped_mid_run_still_reports_one_row_per_event(
    smoke: Path, target: RunningTarget, tmp_path: Path
) -> None:
    """``abcsim replay --engine locust`` starts a master and 2 workers; a Ctrl-C reaches
    only abcsim, which stops the master (SIGINT), which stops the workers: exit 130, the
    usual summary, and every event of the slice in the results, the unsent as stopped."""
    out = tmp_path / "engine.parquet"
    replay = subprocess.Popen(
        [sys.executable, "-m", "abcsim", "replay", str(smoke), "-t", target.url, "-w", WINDOW,
         "--speed", SPEED, "--out", str(out), "--engine", "locust", "--processes", "2",
         "--csv", "ci/run"],
        cwd=tmp_path, env=locust_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    log = tmp_path / "engine.locust.log"
    deadline = time.monotonic() + 60.0
    while not (log.exists() and "replaying" in log.read_text()):
        assert replay.poll() is None and time.monotonic() < deadline, log.read_text()
        time.sleep(0.1)
    # mid-run however busy the machine: once the target has had 100 of the 1,732 requests
    while requests_received(target) < 100:
        assert replay.poll() is None and time.monotonic() < deadline + 30.0, log.read_text()
        time.sleep(0.05)
    replay.send_signal(signal.SIGINT)
    stdout, stderr = replay.communicate(timeout=60.0)
    assert replay.returncode == 130, stderr
    assert "Aggregated" in stdout and "By agent type" in stdout and "stopped early" in stderr
    frame = read_results(out)
    assert sorted(frame.event_id) == slice_event_ids(smoke)
    outcomes = frame.outcome.value_counts()
    assert outcomes["ok"] > 0 and outcomes["dropped"] > 0, outcomes
    assert set(frame.error[frame.outcome == "dropped"].str.split(":").str[0]) == {"stopped"}
    assert read_results_meta(out).ended == "stopped"  # the file says so, as the CLI's does
    assert (tmp_path / "ci" / "run_stats.csv").exists()
    assert log.read_text().count("Starting Locust") == 3  # a master and two workers ...
    assert not processes_with("ABC_RESULTS", str(out))  # ... all gone


def _wait_for(text: str, run: LocustRun, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while text not in run.log.read_text():
        assert run.process.poll() is None and time.monotonic() < deadline, run.log.read_text()
        time.sleep(0.1)

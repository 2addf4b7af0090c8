"""``abcsim replay`` as CI runs it: exit statuses, Ctrl-C, refusals, Locust CSVs.

Each test starts a real reference target on 127.0.0.1 and runs the command in
a subprocess against it.
"""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from abcsim.report import FAILURES_CSV_COLUMNS, STATS_CSV_COLUMNS, STATS_HISTORY_CSV_COLUMNS
from abcsim.results import read_results
from tests.conftest import Serve, fixed_scenario
from tests.helpers import REPO, error_line, requests_received, run_cli, uniform_schedule


def _start_replay(schedule: Path, url: str, *flags: str, cwd: Path) -> subprocess.Popen[str]:
    """``abcsim replay SCHEDULE -t URL FLAGS -q`` running in the background, to be signalled."""
    return subprocess.Popen(
        [sys.executable, "-m", "abcsim", "replay", str(schedule), "-t", url, *flags, "-q"],
        cwd=cwd,
        env=dict(os.environ, PYTHONPATH=str(REPO)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_met_slos_exit_0_and_write_locust_csvs(serve: Serve, tmp_path: Path) -> None:
    schedule = uniform_schedule(tmp_path / "s.parquet", rate=50, seconds=2)
    target = serve(fixed_scenario(5.0, workers=16))
    result = run_cli(
        "replay", str(schedule), "--target", target.url, "--csv", "ci/run", "-q", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert "Aggregated" in result.stdout and "SLO breached" not in result.stdout
    for suffix, header in (
        ("stats", STATS_CSV_COLUMNS),
        ("stats_history", STATS_HISTORY_CSV_COLUMNS),
        ("failures", FAILURES_CSV_COLUMNS),
    ):
        with open(tmp_path / f"ci/run_{suffix}.csv", newline="") as handle:
            assert next(csv.reader(handle)) == list(header)
    assert len(read_results(tmp_path / "s.results.parquet")) == 100


def test_a_breached_slo_exits_1_and_says_which(serve: Serve, tmp_path: Path) -> None:
    """smoke's data_collection P95 target is 500 ms; the target takes 600 ms each."""
    schedule = uniform_schedule(tmp_path / "s.parquet", rate=20, seconds=1)
    target = serve(fixed_scenario(600.0, workers=32))
    result = run_cli("replay", str(schedule), "--target", target.url, "-q", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert "SLO breached: data_collection P95" in result.stdout


def test_ctrl_c_leaves_a_readable_file_and_prints_the_summary(serve: Serve, tmp_path: Path) -> None:
    schedule = uniform_schedule(tmp_path / "s.parquet", rate=50, seconds=30)
    target = serve(fixed_scenario(2.0, workers=16))
    process = _start_replay(schedule, target.url, cwd=tmp_path)
    time.sleep(3.0)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 130, stderr  # stopped early: no verdict on a partial run
    assert "Aggregated" in stdout and "Traceback" not in stderr
    assert "stopped early" in stderr
    results = read_results(tmp_path / "s.results.parquet")
    assert sorted(results["event_id"]) == list(range(1500))  # one row per event, even now
    assert (results["outcome"] == "ok").sum() > 20
    dropped = results[results["outcome"] == "dropped"]
    assert len(dropped) > 1000 and (dropped["error"] == "stopped").all()
    # events the stop cut off are not the system's failures: a healthy target breaches nothing
    assert "events not sent: the run was stopped" in stdout
    assert "SLO breached" not in stdout, stdout
    again = run_cli("report", "s.results.parquet", cwd=tmp_path)
    assert again.returncode == 0, again.stdout
    assert "SLO breached" not in again.stdout


def test_a_non_loopback_target_is_refused_before_sending(tmp_path: Path) -> None:
    schedule = uniform_schedule(tmp_path / "s.parquet", rate=10, seconds=1)
    result = run_cli("replay", str(schedule), "--target", "http://192.0.2.10:8080", cwd=tmp_path)
    assert "--allow-host 192.0.2.10" in error_line(result)
    assert not (tmp_path / "s.results.parquet").exists()


def test_a_mistyped_speed_hits_the_rate_ceiling(tmp_path: Path) -> None:
    schedule = uniform_schedule(tmp_path / "s.parquet", rate=100, seconds=10)
    result = run_cli(
        "replay", str(schedule), "-t", "http://127.0.0.1:9", "--speed", "600", cwd=tmp_path
    )
    line = error_line(result)
    assert "ceiling of 5,000/s" in line and "(raise --max-rate if" in line
    assert line.startswith("error: --speed 600 --scale 1: "), line  # the flags, as typed


def test_a_bad_window_is_one_line(tmp_path: Path) -> None:
    schedule = uniform_schedule(tmp_path / "s.parquet", rate=10, seconds=10)
    result = run_cli(
        "replay", str(schedule), "-t", "http://127.0.0.1:9", "--window", "8..2", cwd=tmp_path
    )
    assert "ends before it starts" in error_line(result)


def test_sigterm_while_waiting_for_answers_still_stops(serve: Serve, tmp_path: Path) -> None:
    """Everything is sent in 1 s, then the target stalls for 30 s; SIGTERM at 3 s ends it."""
    schedule = uniform_schedule(tmp_path / "s.parquet", rate=20, seconds=1)
    target = serve(fixed_scenario(2.0, workers=16), faults=("stall=0:30",))
    # the preflight asks the target's own /health, which a stall never holds up
    process = _start_replay(
        schedule, target.url, "--timeout", "60", "--health-path", "/health", cwd=tmp_path
    )
    time.sleep(3.0)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=20)
    assert process.returncode == 130, stderr
    results = read_results(tmp_path / "s.results.parquet")
    assert len(results) == 20
    assert (results["error"] == "stopped before the response").all()


@pytest.mark.parametrize("window", ["Mon 25:00..Mon 26:00", "nan..100"])
def test_impossible_windows_are_one_line(tmp_path: Path, window: str) -> None:
    schedule = uniform_schedule(tmp_path / "s.parquet", rate=10, seconds=10)
    result = run_cli(
        "replay", str(schedule), "-t", "http://127.0.0.1:9", "--window", window, cwd=tmp_path
    )
    assert "--window" in error_line(result)


def test_an_unwritable_csv_folder_is_refused_before_sending(tmp_path: Path) -> None:
    schedule = uniform_schedule(tmp_path / "s.parquet", rate=10, seconds=1)
    (tmp_path / "file").write_text("not a folder")
    result = run_cli(
        "replay", str(schedule), "-t", "http://127.0.0.1:9", "--csv", "file/run", cwd=tmp_path
    )
    assert "--csv" in error_line(result)
    assert not (tmp_path / "s.results.parquet").exists()


@pytest.mark.system  # a CI step of its own: make test-system
def test_kill_9_of_a_sharded_replay_stops_every_worker_and_leaves_no_worker_file(
    serve: Serve, tmp_path: Path
) -> None:
    """100 requests/s for 30 s from 2 processes; SIGKILL of the parent 3 s after the first
    request: 1 s later the target must receive nothing more (over the next 3 s: at most 2
    requests already on the wire), and no file but the parent's results journal remains."""
    schedule = uniform_schedule(tmp_path / "s.parquet", rate=100, seconds=30)
    target = serve(fixed_scenario(2.0, workers=64))
    process = _start_replay(schedule, target.url, "--processes", "2", cwd=tmp_path)
    deadline = time.monotonic() + 20.0
    while requests_received(target) <= 1 and time.monotonic() < deadline:  # 1: the preflight's
        time.sleep(0.1)
    assert requests_received(target) > 1, process.stderr
    time.sleep(3.0)
    process.kill()
    process.wait(timeout=10)
    time.sleep(1.0)
    after_a_second = requests_received(target)
    time.sleep(3.0)
    assert requests_received(target) - after_a_second <= 2, (
        "a worker kept sending after its parent died"
    )
    assert after_a_second < 3000  # the rest of the window was never sent
    time.sleep(1.0)  # the workers' own clean-up
    # the workers keep no file of their own: their rows went to the parent's journal
    hidden = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("."))
    assert hidden == [".s.results.parquet.journal"], hidden


def test_a_generator_that_cannot_keep_up_voids_the_verdict(serve: Serve, tmp_path: Path) -> None:
    """100 requests/s, each answered in 50 ms, with one request in flight at most: the
    replayer can send 20/s, so most go out late or never (its own limits). The verdict is
    void — exit 3, not 1 — whatever the SLOs say; the same replay with room is not."""
    schedule = uniform_schedule(tmp_path / "s.parquet", rate=100, seconds=3)
    target = serve(fixed_scenario(50.0, workers=64))
    starved = run_cli(
        "replay", str(schedule), "-t", target.url, "--max-in-flight", "1", "--lateness", "0.5",
        "-q", cwd=tmp_path,
    )  # fmt: skip
    assert starved.returncode == 3, starved.stdout[-2000:]
    assert "SLO verdict void: the generator, not the system, was the bottleneck" in starved.stdout
    assert "never sent: the generator's own lateness or in-flight limit" in starved.stdout
    again = run_cli("report", "s.results.parquet", cwd=tmp_path)
    assert again.returncode == 3  # the file carries the evidence: the report agrees
    roomy = run_cli("replay", str(schedule), "-t", target.url, "-q", cwd=tmp_path)
    assert roomy.returncode == 0, roomy.stdout[-2000:]
    assert "void" not in roomy.stdout

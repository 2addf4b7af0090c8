"""``abcsim plan`` end to end: the results file, the report, the exit statuses, the CLI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from abcsim.cli import flag, main
from abcsim.errors import PlanError
from abcsim.plan import prepare_plan, run_plan
from abcsim.report import report
from abcsim.results import RESULTS_COLUMNS, read_results, read_results_meta
from abcsim.schedule import read_schedule
from tests.helpers import run_cli, uniform_schedule
from tests.plan.scenarios import fixed_system, scenario_file


def test_one_row_per_event_as_a_replay_would_write_it(tmp_path: Path) -> None:
    """10 requests/s of 50 ms each on 2 workers never queue: latency = service = 50 ms."""
    schedule = uniform_schedule(tmp_path / "s.parquet", rate=10, seconds=30)
    scenario = scenario_file(tmp_path / "fixed.toml", fixed_system(50.0, workers=2))
    prepared = prepare_plan(schedule, scenario=str(scenario))
    run = run_plan(prepared, tmp_path / "r.parquet")
    summary = report(run.results, planned=run)
    frame = read_results(tmp_path / "r.parquet")
    assert list(frame.columns) == list(RESULTS_COLUMNS)
    np.testing.assert_array_equal(frame["event_id"], read_schedule(schedule)["event_id"])
    np.testing.assert_array_equal(frame["sent"], frame["t"])
    np.testing.assert_allclose(frame["latency"], 0.05, rtol=1e-12)
    np.testing.assert_allclose(frame["service"], 0.05, rtol=1e-12)
    assert (frame["outcome"] == "ok").all() and (frame["status"] == 200).all()
    assert read_results_meta(tmp_path / "r.parquet").source == "plan"
    assert summary.exit_status == 0 and not summary.breaches
    assert run.whole.utilisation == pytest.approx(10 * 0.05 / 2, rel=0.01)
    assert run.whole.cpu_cores == pytest.approx(0.5, rel=0.01)
    assert run.whole.peak_queue == 0
    assert run.busiest is None  # 30 s: the whole run is its own busiest stretch
    text = "\n".join(summary.lines)
    for needle in ("Aggregated", "whole run", "CPU/replica", "mean queue", "Erlang C"):
        assert needle in text
    assert "busiest hour" not in text


def test_the_overhead_adds_to_latency_and_holds_no_worker(tmp_path: Path) -> None:
    """10 requests/s of 50 ms on 1 worker: a 30 ms overhead is felt by all, queues none."""
    schedule = uniform_schedule(tmp_path / "s.parquet", rate=10, seconds=10)
    plain = scenario_file(tmp_path / "plain.toml", fixed_system(50.0, workers=1))
    slow = scenario_file(
        tmp_path / "slow.toml",
        fixed_system(50.0, workers=1).replace("[system]\n", "[system]\noverhead_ms = 30\n"),
    )
    run_plan(prepare_plan(schedule, scenario=str(plain)), tmp_path / "a.parquet")
    run_plan(prepare_plan(schedule, scenario=str(slow)), tmp_path / "b.parquet")
    a, b = read_results(tmp_path / "a.parquet"), read_results(tmp_path / "b.parquet")
    np.testing.assert_allclose(b["latency"], a["latency"] + 0.03, rtol=1e-12)
    np.testing.assert_array_equal(b["service"], a["service"])


def test_a_full_queue_answers_503_and_a_slow_answer_times_out(tmp_path: Path) -> None:
    """40 requests/s of 100 ms on 1 worker: the queue (limit 5) fills, waits pass 0.3 s."""
    schedule = uniform_schedule(tmp_path / "s.parquet", rate=40, seconds=5)
    scenario = scenario_file(tmp_path / "fixed.toml", fixed_system(100.0, workers=1, queue_limit=5))
    prepared = prepare_plan(schedule, scenario=str(scenario), timeout_s=0.3)
    run = run_plan(prepared, tmp_path / "r.parquet")
    summary = report(run.results)
    frame = read_results(tmp_path / "r.parquet")
    refused = frame[frame["status"] == 503]
    late = frame[frame["outcome"] == "timeout"]
    assert len(refused) > 100 and len(late) > 0
    assert (refused["outcome"] == "http_error").all() and (refused["error"] == "HTTP 503").all()
    assert (refused["latency"] == 0).all()
    assert (late["latency"] == 0.3).all() and (late["status"] == 0).all()
    assert (late["error"] == "timeout").all()
    assert summary.exit_status == 1
    assert any("error rate" in line for line in summary.breaches)
    assert run.whole.refused == len(refused) and run.whole.peak_queue == 5


def test_scale_and_window_slice_the_schedule(tmp_path: Path) -> None:
    schedule = uniform_schedule(tmp_path / "s.parquet", rate=100, seconds=20)
    prepared = prepare_plan(schedule, window="5..15", scale=2.0)
    run_plan(prepared, tmp_path / "r.parquet")
    frame = read_results(tmp_path / "r.parquet")
    assert len(frame) == 2_000
    assert (np.diff(frame["t"].to_numpy()) >= 0).all()
    assert frame["t"].min() >= 5.0


def test_bad_choices_are_plan_errors(tmp_path: Path) -> None:
    schedule = uniform_schedule(tmp_path / "s.parquet", rate=10, seconds=2)
    for options, setting, shown in (
        ({"workers": 0}, "workers", "--workers"),
        ({"scale": -1.0}, "scale", "--scale"),
        ({"speed": 0.0}, "speed", "--speed"),
        ({"timeout_s": 0.0}, "timeout_s", "--timeout"),
        ({"balancer": "random"}, "balancer", "--balancer"),
    ):
        # the library names its own argument; the command line renders it as the flag
        with pytest.raises(PlanError, match=f"^{setting}: ") as caught:
            prepare_plan(schedule, **options)  # type: ignore[arg-type]
        assert caught.value.settings == (setting,)
        assert caught.value.render(flag).startswith(f"{shown}: ")


# -- the command ---------------------------------------------------------------------------


def test_cli_exit_statuses(tmp_path: Path) -> None:
    schedule = uniform_schedule(tmp_path / "s.parquet", rate=20, seconds=10)
    met = run_cli("plan", str(schedule), cwd=tmp_path)
    assert met.returncode == 0, met.stderr
    assert "Aggregated" in met.stdout and "CPU/replica" in met.stdout
    assert (tmp_path / "s.plan.parquet").exists()
    slow = scenario_file(tmp_path / "slow.toml", fixed_system(600.0, workers=32))
    breached = run_cli(
        "plan", str(schedule), "--scenario", str(slow), "-o", "b.parquet", cwd=tmp_path
    )
    assert breached.returncode == 1, breached.stderr
    assert "SLO breached: data_collection P95 600 ms > 500 ms" in breached.stdout
    for args, field in (
        (["--workers", "0"], "--workers"),
        (["--window", "Tue 99:00..x"], "--window"),
        (["--sweep", "threads=1:4"], "--sweep"),
        (["--find-capacity", "--workers", "2", "--replicas", "2"], "--find-capacity"),
        (["--system", "missing.toml"], "missing.toml"),
    ):
        assert field in _error_line(["plan", str(schedule), *args])
    assert "no such file" in _error_line(["plan", str(tmp_path / "nothing.parquet")])


def _error_line(args: list[str]) -> str:
    """The CLI in process (faster than a subprocess per case): exit 2 and one ``error:`` line."""
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, (result.output, result.exception)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def test_cli_find_capacity_and_sweep(tmp_path: Path) -> None:
    """16 requests/s of 200 ms (3.2 workers' worth): 3 fall behind for good, 4 never queue."""
    schedule = uniform_schedule(tmp_path / "s.parquet", rate=16, seconds=60)
    scenario = scenario_file(tmp_path / "fixed.toml", fixed_system(200.0, workers=32))
    result = run_cli(
        "plan", str(schedule), "--scenario", str(scenario), "--find-capacity", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert "answer: 4 workers per replica" in result.stdout
    assert "one smaller: 1 × 3: misses" in result.stdout
    assert "headroom" in result.stdout
    sweep = run_cli(
        "plan", str(schedule), "--scenario", str(scenario), "--sweep", "workers=2:5",
        "--plot", "sweep.png", cwd=tmp_path,
    )  # fmt: skip
    assert sweep.returncode == 0, sweep.stderr
    assert sweep.stdout.count(" × ") == 4
    assert (tmp_path / "sweep.png").read_bytes()[:4] == b"\x89PNG"


def test_calibrate_refuses_a_plans_results(tmp_path: Path) -> None:
    schedule = uniform_schedule(tmp_path / "s.parquet", rate=20, seconds=2)
    prepared = prepare_plan(schedule)
    run_plan(prepared, tmp_path / "s.plan.parquet")
    line = _error_line(["calibrate", str(tmp_path / "s.plan.parquet")])
    assert "calibrate from a replay's" in line

"""A sweep must not flatter a failing system: its percentiles rise with the load.

Refusals (503 at once) and timeouts are failures, counted in the error rate,
never as response times: the percentiles are of answered requests. So as the
traffic grows, P50, P95 and P99 of the busiest hour rise with it — until the
client's timeout caps every answered request, where they stay flat within
sampling noise.
"""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import pytest

from abcsim.plan import parse_sweep, plan_sweep, prepare_plan
from abcsim.scenario import load_scenario, resolve_run
from abcsim.simulate import write_schedule
from tests.helpers import run_cli, uniform_schedule
from tests.plan.scenarios import fixed_system, scenario_file

SEED = 3  # smoke's Tuesday afternoon; its busiest hour holds 64,214 requests


@pytest.fixture(scope="module")
def smoke_schedule(tmp_path_factory: pytest.TempPathFactory) -> Path:
    scenario = load_scenario("smoke")
    path = tmp_path_factory.mktemp("sweep") / "smoke.parquet"
    write_schedule(scenario, resolve_run(scenario, {}, seed=SEED), path)
    return path


def test_percentiles_rise_with_the_traffic_as_errors_grow(smoke_schedule: Path) -> None:
    """4 workers, 0.5x to 3x: every percentile strictly rises; errors go from 0 to > 10%."""
    sweep = plan_sweep(prepare_plan(smoke_schedule, workers=4), parse_sweep("scale=0.5:3:0.25"))
    trials = sweep.trials
    for name in ("p50_ms", "p95_ms", "p99_ms"):
        values = [getattr(t, name) for t in trials]
        assert all(b > a for a, b in pairwise(values)), (name, values)
    assert trials[0].error_rate == 0.0 and trials[-1].error_rate > 0.10
    assert trials[0].passed and not trials[-1].passed and sweep.met


def test_at_saturation_the_percentiles_stay_at_the_timeout_never_fall_to_zero(
    smoke_schedule: Path,
) -> None:
    """2 workers saturate from 1.25x: 16% to 90% errors. Refusals used to enter P50 at 0 ms;
    now each P95 is at least the one before, within 0.1% (its sampling noise at the 10 s cap)."""
    sweep = plan_sweep(prepare_plan(smoke_schedule, workers=2), parse_sweep("scale=1:3:0.25"))
    p50 = [t.p50_ms for t in sweep.trials]
    p95 = [t.p95_ms for t in sweep.trials]
    assert all(b >= a * 0.999 for a, b in pairwise(p95)), p95
    assert all(b >= a * 0.999 for a, b in pairwise(p50)), p50
    assert min(p50) > 100 and sweep.trials[-1].error_rate > 0.5
    assert not sweep.met


def test_cli_sweep_exits_1_when_no_value_meets_the_slos_and_draws_only_when_asked(
    tmp_path: Path,
) -> None:
    """16 requests/s of 200 ms need 4 workers: a sweep of 1 to 3 meets nothing."""
    schedule = uniform_schedule(tmp_path / "s.parquet", rate=16, seconds=60)
    scenario = scenario_file(tmp_path / "fixed.toml", fixed_system(200.0, workers=32))
    failing = run_cli(
        "plan", str(schedule), "--scenario", str(scenario), "--sweep", "workers=1:3", cwd=tmp_path
    )
    assert failing.returncode == 1, failing.stderr
    assert "no workers in the sweep meets every SLO" in failing.stdout
    assert "data_collection P95" in failing.stdout  # the request type's own target, named
    assert not list(tmp_path.glob("*.png"))  # no --plot, no picture
    passing = run_cli(
        "plan", str(schedule), "--scenario", str(scenario), "--sweep", "workers=3:5",
        "--plot", "sweep.png", cwd=tmp_path,
    )  # fmt: skip
    assert passing.returncode == 0, passing.stderr
    assert (tmp_path / "sweep.png").read_bytes()[:4] == b"\x89PNG"
    assert not list(tmp_path.glob(".*.partial"))

"""Two runs side by side: which differences are beyond run-to-run noise.

Synthetic results (seeded): two runs drawn from one latency distribution must
show no difference beyond noise; a run 20% slower must show one at every
percentile; an error rate of 1% vs 5% over 5,000 requests is beyond noise. The
order-statistic interval is checked against its definition: over 2,000 seeded
samples of 1,000, the 95% interval of the median covers the true median about
95% of the time (tolerance: 93-97%, about 3 standard errors).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from abcsim.report.compare import compare, order_interval
from tests.conftest import Serve, fixed_scenario
from tests.helpers import run_cli, uniform_schedule


def run(latency: np.ndarray, *, errors: float = 0.0, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = latency.size
    failed = rng.random(n) < errors
    return pd.DataFrame(
        {
            "event_id": np.arange(n),
            "request": pd.Categorical(["data_collection"] * n),
            "latency": latency,
            "outcome": pd.Categorical(np.where(failed, "http_error", "ok")),
        }
    )


def test_one_distribution_twice_is_within_noise_and_a_slower_run_is_not() -> None:
    rng = np.random.default_rng(11)
    base = rng.lognormal(np.log(0.04), 0.5, 5000)
    again = rng.lognormal(np.log(0.04), 0.5, 5000)
    (same,) = compare(run(base), run(again))
    assert [q.beyond_noise for q in same.percentiles] == [False, False, False]
    assert not same.errors_beyond_noise
    (slower,) = compare(run(base), run(again * 1.2))
    assert [q.beyond_noise for q in slower.percentiles] == [True, True, True]
    assert all(0.1 < q.change < 0.35 for q in slower.percentiles)


def test_error_rates_apart_are_beyond_noise() -> None:
    latency = np.full(5000, 0.05)
    (d,) = compare(run(latency, errors=0.01, seed=1), run(latency, errors=0.05, seed=2))
    assert d.errors_beyond_noise and 0.005 < d.first_errors < 0.015


def test_the_order_statistic_interval_covers_the_median_95_percent_of_the_time() -> None:
    rng = np.random.default_rng(5)
    samples = np.sort(rng.exponential(1.0, (2000, 1000)), axis=1)
    median = np.log(2.0)
    covered = 0
    for row in samples:
        interval = order_interval(row, 50.0)
        assert interval is not None
        covered += interval[0] <= median <= interval[1]
    assert 0.93 <= covered / len(samples) <= 0.97
    assert order_interval(np.sort(rng.random(40)), 99.0) is None  # out of reach: no verdict


def test_report_against_a_plan_of_the_same_slice(serve: Serve, tmp_path: Path) -> None:
    schedule = uniform_schedule(tmp_path / "s.parquet", rate=40, seconds=3)
    target = serve(fixed_scenario(5.0, workers=16))
    assert run_cli("replay", str(schedule), "-t", target.url, "-q", cwd=tmp_path).returncode == 0
    assert run_cli("plan", str(schedule), "--out", "p.parquet", cwd=tmp_path).returncode in (0, 1)
    result = run_cli("report", "s.results.parquet", "--against", "p.parquet", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "p.parquet → s.results.parquet, joined on event_id" in result.stdout
    row = next(line for line in result.stdout.splitlines() if line.startswith("data_collection"))
    assert "120" in row.split()  # all 120 events of the slice in both

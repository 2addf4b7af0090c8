"""Calibration: the fits pick the right family, separate per-item costs, and round-trip as TOML."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from abcsim.plan.calibrate import calibrate, calibrate_file, fit_service, system_toml
from abcsim.results import OUTCOMES, ResultsMeta, ResultsWriter, results_batch
from abcsim.scenario import load_scenario
from abcsim.scenario.load import load_system
from abcsim.scenario.service import sample_ms
from abcsim.scenario.spec import REQUEST_TYPES, ServiceTime
from tests.helpers import uniform_schedule


def test_a_lognormal_sample_is_fitted_as_a_lognormal() -> None:
    """5,000 draws (seed 1) of median 40, P95 120 ms: both within 4% (standard errors ~1.5%)."""
    ms = sample_ms(ServiceTime(40.0, 120.0), np.ones(5_000, np.int32), np.random.default_rng(1))
    service, lognormal_aic, gamma_aic = fit_service(ms)
    assert service.distribution == "lognormal" and lognormal_aic < gamma_aic
    assert service.median_ms == pytest.approx(40.0, rel=0.04)
    assert service.p95_ms == pytest.approx(120.0, rel=0.04)


def test_a_gamma_sample_is_fitted_as_a_gamma() -> None:
    """5,000 draws (seed 2) of a gamma with median 300, P95 700 ms."""
    truth = ServiceTime(300.0, 700.0, distribution="gamma")
    ms = sample_ms(truth, np.ones(5_000, np.int32), np.random.default_rng(2))
    service, lognormal_aic, gamma_aic = fit_service(ms)
    assert service.distribution == "gamma" and gamma_aic < lognormal_aic
    assert service.median_ms == pytest.approx(300.0, rel=0.04)
    assert service.p95_ms == pytest.approx(700.0, rel=0.04)


def test_a_fixed_time_stays_fixed() -> None:
    service, _, _ = fit_service(np.full(100, 20.0))
    assert service == ServiceTime(20.0, 20.0)


def _frame(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """A replay's rows: risk analyses of 1-1,000 positions, 200/600 ms + 0.3 ms per extra item."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 1_001, n)
    truth = ServiceTime(200.0, 600.0, per_item_ms=0.3)
    ms = sample_ms(truth, sizes, rng)
    frame = pd.DataFrame(
        {
            "event_id": np.arange(n),
            "t": np.arange(n) * 10.0,
            "request": pd.Categorical(["risk_analysis"] * n, categories=list(REQUEST_TYPES)),
            "outcome": pd.Categorical(["ok"] * n, categories=list(OUTCOMES)),
            "service": ms / 1000.0,
        }
    )
    return frame, sizes.astype(np.float64)


def test_the_per_item_cost_is_separated_when_sizes_are_known() -> None:
    """4,000 requests (seed 3): per_item_ms within 10% of 0.3, median and P95 within 6%."""
    frame, sizes = _frame(4_000, seed=3)
    base = load_scenario("smoke").system
    result = calibrate(frame, base, sizes=sizes)
    risk = result.system.service_time("risk_analysis")
    assert risk.per_item_ms == pytest.approx(0.3, rel=0.1)
    assert risk.median_ms == pytest.approx(200.0, rel=0.06)
    assert risk.p95_ms == pytest.approx(600.0, rel=0.06)
    assert [f.request for f in result.fits] == ["risk_analysis"]
    kept = dict(result.kept)
    assert "data_collection" in kept and result.system.service_time("data_collection") == (
        base.service_time("data_collection")
    )
    without = calibrate(frame, base)
    assert without.system.service_time("risk_analysis").per_item_ms == 0.0
    assert any("per_item_ms is 0" in note for note in without.notes)


def test_the_overhead_is_taken_off_before_fitting() -> None:
    """The same 4,000 requests (seed 3) measured 3 ms slower: with overhead_ms = 3, the same fit."""
    frame, sizes = _frame(4_000, seed=3)
    base = load_scenario("smoke").system
    plain = calibrate(frame, base, sizes=sizes).system.service_time("risk_analysis")
    frame["service"] += 0.003
    result = calibrate(frame, base, sizes=sizes, overhead_ms=3.0)
    risk = result.system.service_time("risk_analysis")
    assert result.system.overhead_ms == 3.0
    assert risk.median_ms == pytest.approx(plain.median_ms, rel=1e-6)
    assert risk.p95_ms == pytest.approx(plain.p95_ms, rel=1e-6)


def test_the_written_section_reads_back_as_the_fitted_system(tmp_path: Path) -> None:
    frame, sizes = _frame(2_000, seed=4)
    result = calibrate(frame, load_scenario("smoke").system, sizes=sizes, overhead_ms=1.25)
    path = tmp_path / "system.toml"
    path.write_text(system_toml(result))
    assert load_system(path) == result.system


def test_calibrate_a_replay_results_file_with_its_schedule(tmp_path: Path) -> None:
    """A replay-shaped file of 600 data requests whose times are 30/90 ms lognormal (seed 5)."""
    schedule = uniform_schedule(tmp_path / "s.parquet", rate=10, seconds=60)
    smoke = load_scenario("smoke")
    n = 600
    ms = sample_ms(ServiceTime(30.0, 90.0), np.ones(n, np.int32), np.random.default_rng(5))
    meta = ResultsMeta(
        source="replay",
        target="http://127.0.0.1:1",
        scenario_name=smoke.name,
        scenario_text=smoke.text,
        seed=0,
        schedule_start=smoke.start,
        wall_start=dt.datetime.now(dt.UTC),
        window=(0.0, 60.0),
    )
    t = np.arange(n) / 10.0
    with ResultsWriter(tmp_path / "r.parquet", meta) as writer:
        writer.write(
            results_batch(
                event_id=np.arange(n, dtype=np.int64),
                t=t,
                agent_type=np.zeros(n, np.int8),
                agent_types=("trading",),
                request=np.zeros(n, np.int8),
                sent=t,
                latency=ms / 1000.0 + 0.001,
                service=ms / 1000.0,
                status=np.full(n, 200, np.int16),
                outcome=np.zeros(n, np.int8),
                bytes_=np.full(n, 100, np.int32),
                error=[""] * n,
            )
        )
    result = calibrate_file(tmp_path / "r.parquet", schedule=schedule)
    data = result.system.service_time("data_collection")
    assert data.median_ms == pytest.approx(30.0, rel=0.08)
    assert data.p95_ms == pytest.approx(90.0, rel=0.1)
    assert data.per_item_ms == 0.0  # every size is 1
    assert "data_collection" in system_toml(result)

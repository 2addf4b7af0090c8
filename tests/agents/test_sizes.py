"""Request sizes: heavy-tailed, clustered on round numbers, and varied for every request type.

Sizes are items per request (symbols, positions, lots). Hill's estimate of a
tail index uses the largest 1% of a sample: α̂ = 1 / mean(log(X_i / X_(k))).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from abcsim.agents.base import RequestMix
from abcsim.scenario import REQUEST_TYPES, AgentType, load_scenario
from abcsim.scenario.spec import SizeSpec
from tests.helpers import run_arrays

WEEK = load_scenario("abc_week")
DATA = REQUEST_TYPES.index("data_collection")


def hill(sizes: np.ndarray, share: float = 0.01) -> float:
    """Hill's tail index from the largest ``share`` of ``sizes``."""
    top = np.sort(sizes.astype(np.float64))[::-1]
    k = max(int(top.size * share), 10)
    return float(1.0 / np.mean(np.log(top[:k] / top[k])))


def test_a_heavy_size_has_its_median_and_tail() -> None:
    """1,000,000 draws of { median = 20, tail = 1.5 } (no cap in reach, no rounding), seed 5:
    median within 5% of 20, Hill's index within 0.15 of 1.5, and uniform { min, max } as
    before."""
    heavy = SizeSpec(low=1, high=10**9, median=20.0, tail=1.5)
    spec = WEEK.agent_type("trading")
    mix = RequestMix.of(with_sizes(spec, heavy, SizeSpec(low=3, high=7)), WEEK.market)
    rng = np.random.default_rng(5)
    codes = np.full(1_000_000, DATA, dtype=np.int8)
    sizes = mix.sizes(rng, codes)
    assert np.median(sizes) == pytest.approx(20, rel=0.05)
    assert hill(sizes) == pytest.approx(1.5, abs=0.15)
    uniform = mix.sizes(rng, np.full(100_000, REQUEST_TYPES.index("risk_analysis"), np.int8))
    assert set(np.unique(uniform)) == {3, 4, 5, 6, 7}


def with_sizes(spec: AgentType, data: SizeSpec, risk: SizeSpec) -> AgentType:
    """``spec`` with the given data_collection and risk_analysis sizes."""
    sizes = list(spec.sizes)
    sizes[DATA] = data
    sizes[REQUEST_TYPES.index("risk_analysis")] = risk
    return dataclasses.replace(spec, sizes=tuple(sizes))


def test_abc_week_sizes_are_heavy_tailed_and_round() -> None:
    """abc_week, Tue 2026-01-13 12:00-18:00 UTC, seed 1, every data_collection request: Hill's
    index between 1 and 3; 10, 20, ..., 90 each at least 1.5x as frequent as its two
    neighbours on average, and 100 as 99 and 101; trade_execution sizes not all 1, up to
    hundreds."""
    columns = run_arrays(WEEK, start="2026-01-13T12:00:00Z", hours=6)
    data = columns["size"][columns["request"] == DATA]
    assert data.size > 1_000_000
    print(f"\ndata_collection sizes: Hill {hill(data):.2f}, median {np.median(data):g}")
    assert 1.0 <= hill(data) <= 3.0
    frequency = np.bincount(data, minlength=200)
    for m in (*range(10, 100, 10), 100):
        neighbours = (frequency[m - 1] + frequency[m + 1]) / 2
        assert frequency[m] >= 1.5 * neighbours, (m, frequency[m - 1 : m + 2])
    trades = columns["size"][columns["request"] == REQUEST_TYPES.index("trade_execution")]
    assert np.unique(trades).size > 50 and trades.max() >= 100

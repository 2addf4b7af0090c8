"""The resource checks on synthetic series: CPU rates, peaks, and the leak test's error rates.

The leak test is statistical: its seeds and tolerances are stated, and it would
fail if the trend were a plain least-squares fit thrown by a GC step, or if any
positive slope counted as a leak.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from abcsim.monitor.checks import (
    ResourceLimits,
    find_leak,
    peak_cpu_cores,
    resource_verdicts,
)
from abcsim.monitor.columns import CPU_CORES, CPU_SECONDS, RESIDENT_BYTES, UP
from abcsim.monitor.deadlock import find_deadlocks

MiB = 2**20


def _memory(seconds: int, slope_bytes_s: float, seed: int, step: float = -20 * MiB) -> pd.Series:
    """Resident memory sampled once a second: 300 MiB, a trend, allocator noise (sd 1 MiB)
    and, at a third of the run, a ``step`` (by default 20 MiB down: a garbage collection
    returning pages; 3 MiB up: an arena that grew once)."""
    rng = np.random.default_rng(seed)
    wall = 1_800_000_000.0 + np.arange(seconds, dtype=float)
    rss = 300 * MiB + slope_bytes_s * np.arange(seconds) + rng.normal(0, MiB, seconds)
    rss[seconds // 3 :] += step
    return pd.Series(rss, index=wall)


def test_a_leak_is_found_with_its_slope_despite_a_gc_step() -> None:
    """Seeds 0-49, 120 samples, a 1 MiB/s leak and a 20 MiB GC step down after warm-up:
    every run flagged, the slope within 5% (the step pulls it 2-4% low)."""
    for seed in range(50):
        leak = find_leak(_memory(120, MiB, seed))
        assert leak is not None and leak.is_leak, seed
        assert leak.slope == pytest.approx(MiB, rel=0.05)


@pytest.mark.parametrize("step", [0.0, 3 * MiB, -20 * MiB], ids=["flat", "up-3MiB", "gc"])
def test_memory_without_a_leak_is_not_flagged(step: float) -> None:
    """Seeds 0-199, 120 samples, no trend: none flagged (tolerance: 2 of 200). The growth
    floor matters: the interval alone is above 0 in 6 of 200 flat runs and in 199 of 200
    runs with a one-off 3 MiB step up, which a monitor must not call a leak."""
    flagged = 0
    for seed in range(200):
        leak = find_leak(_memory(120, 0.0, seed, step))
        assert leak is not None
        flagged += leak.is_leak
    assert flagged <= 2


def test_a_tiny_trend_is_not_a_leak() -> None:
    """20 KiB/s for 120 s is real (its interval is above 0) but under 2% of 300 MiB:
    no threat at any horizon a replay runs."""
    leak = find_leak(_memory(120, 20 * 1024, 3))
    assert leak is not None and not leak.is_leak


def test_peak_cpu_is_the_busiest_window() -> None:
    """A counter rising at 0.2 cores, then 1.5 cores for 10 s, then 0.2: peak 1.5 (5-s rate)."""
    wall = np.arange(0.0, 40.0)
    rate = np.where((wall >= 15) & (wall < 25), 1.5, 0.2)
    used = np.concatenate([[0.0], np.cumsum(rate[:-1])])
    assert peak_cpu_cores(pd.Series(used, index=wall)) == pytest.approx(1.5, rel=0.01)


def test_verdicts_name_the_source_the_figure_and_the_threshold() -> None:
    def samples(cores: float) -> pd.DataFrame:
        rows = []
        for i in range(30):
            rows += [
                ("pid:42", float(i), UP, "", 1.0),
                ("pid:42", float(i), CPU_SECONDS, "", 0.95 * i),  # 95% of one core
                ("pid:42", float(i), RESIDENT_BYTES, "", 2.5e9),  # over 2 GiB
                ("pid:42", float(i), CPU_CORES, "", cores),  # its affinity
            ]
        rows.append(("pid:42", 30.0, UP, "", 0.0))
        return pd.DataFrame(rows, columns=["source", "wall", "metric", "labels", "value"])

    limits = ResourceLimits()
    verdicts = {v.check: v for v in resource_verdicts(samples(1.0), limits)}
    assert verdicts["cpu"].breached and "peak CPU 95% of 1 core" in verdicts["cpu"].line
    assert "> 80%" in verdicts["cpu"].line and verdicts["cpu"].line.startswith("pid:42: ")
    assert verdicts["memory"].breached
    assert "peak memory 2,500.0 MB > 2,147 MB" in verdicts["memory"].line
    assert not verdicts["leak"].breached  # flat
    assert "1 of 31 samples failed" in verdicts["gaps"].line
    cpu = next(v for v in resource_verdicts(samples(2.0), limits) if v.check == "cpu")
    assert not cpu.breached and "48% of 2 cores" in cpu.line


def _target_samples(completed: list[float], busy: list[float]) -> pd.DataFrame:
    rows = []
    for t, (done, working) in enumerate(zip(completed, busy, strict=True)):
        rows += [
            (float(t), "svc_workers", "", 4.0),
            (float(t), "svc_workers_busy", "", working),
            (float(t), "svc_in_flight", "", 9.0),
            (float(t), "svc_request_duration_seconds_count", 'request="a"', done),
            (float(t), "svc_request_duration_seconds_count", 'request="b"', 0.0),
        ]
    return pd.DataFrame(rows, columns=["t", "metric", "labels", "value"])


def test_a_stretch_with_every_worker_busy_and_nothing_completing_is_a_possible_deadlock() -> None:
    """Any exporter's *_workers_busy, *_workers, *_in_flight and histogram counts: from
    t = 3 nothing completes with all 4 busy until t = 7 (4 s, >= 2 s): one stretch, dated
    from the last sample at which requests still completed."""
    completed = [0, 5, 10, 15, 15, 15, 15, 15, 20, 25]
    busy = [2, 4, 4, 4, 4, 4, 4, 4, 4, 3]
    stuck = find_deadlocks(_target_samples(completed, busy))
    assert [(s.start_t, s.seconds, s.workers, s.in_flight) for s in stuck] == [(3.0, 4.0, 4, 9)]
    one_second = [0, 5, 10, 10, 15, 20, 25, 30, 35, 40]  # stuck for 1 s only: too short
    assert find_deadlocks(_target_samples(one_second, busy)) == []
    idle = [0, 5, 10, 15, 15, 15, 15, 15, 20, 25]
    spare = [2, 3, 3, 3, 3, 3, 3, 3, 3, 3]  # nothing completes, but a worker is free: idle
    assert find_deadlocks(_target_samples(idle, spare)) == []

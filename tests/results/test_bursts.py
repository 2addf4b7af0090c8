"""Failure bursts: found where they are, within a second, and not where errors are spread out.

Synthetic frames with fixed seeds: 50 requests a second for 120 s with a
background of 0.5% errors. The detector must find a 20-s burst of 40% errors
to the second and hold it as one; background errors alone, or errors spread
evenly at 5%, are no burst.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from abcsim.results.bursts import frame_bursts


def _frame(seed: int, burst: tuple[float, float] | None, rate: float = 0.005) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t = np.arange(0, 120, 0.02)
    p = np.full(t.size, rate)
    if burst is not None:
        p[(t >= burst[0]) & (t < burst[1])] = 0.4
    failed = rng.random(t.size) < p
    return pd.DataFrame(
        {
            "t": t,
            "request": np.where(t % 1 < 0.5, "data_collection", "risk_analysis"),
            "outcome": np.where(failed, "http_error", "ok"),
            "error": np.where(failed, "HTTP 503", ""),
        }
    )


def test_a_burst_is_found_to_the_second_and_described() -> None:
    """Seeds 0-19: one burst, starting and ending within 1 s of 50.0-70.0 s, holding at
    least 85% of the failures."""
    for seed in range(20):
        bursts = frame_bursts(_frame(seed, (50.0, 70.0)))
        assert len(bursts) == 1, (seed, bursts)
        burst = bursts[0]
        assert abs(burst.start_t - 50.0) <= 1.0 and abs(burst.end_t - 70.0) <= 1.0, burst
        assert burst.share >= 0.85
    text = burst.describe(dt.datetime(2026, 1, 13, 14, 30, tzinfo=dt.UTC))
    assert text.startswith(f"{100 * burst.share:.0f}% of the {burst.run_failures:,} failures")
    assert "from Tue 14:30:50 to 14:31:10 UTC" in text
    assert "HTTP 503 on data_collection" in text and "HTTP 503 on risk_analysis" in text


def test_spread_out_errors_are_no_burst() -> None:
    """Seeds 0-19: 0.5% or 5% errors all along give no burst (false alarms: 0 of 40)."""
    for seed in range(20):
        assert frame_bursts(_frame(seed, None)) == []
        assert frame_bursts(_frame(seed, None, rate=0.05)) == []

"""HighFrequencyUser: rate while active, under-dispersed polling, over-dispersed bursts.

One New York high-frequency user with no login jitter (so its active windows
are exactly 08:00-17:00 New York), Tuesday and Wednesday, seed 1. Dispersion
is the index Σ(N − E)² / ΣE over 60 s windows, with E the model's expected
count (λ(t) moves traffic within a session), so a Poisson process scores 1.
"""

from __future__ import annotations

import numpy as np
import pytest

from abcsim.agents.hft import hawkes_clusters
from abcsim.market import Intensity, TradingCalendar
from abcsim.scenario import resolve_run
from tests.helpers import run_arrays, variant

START, HOURS = "2026-01-13T00:00:00Z", 48.0


def _dispersion_and_rate(**behaviour: float) -> tuple[float, float]:
    scenario = variant(
        "smoke",
        {
            "hft": {
                "count": 1,
                "login_jitter_minutes": 0.0,
                "regions": (("new_york", 1.0),),
                "behaviour": behaviour,
            }
        },
    )
    spec = scenario.agents[0]
    t = run_arrays(scenario, start=START, hours=HOURS)["t"]
    run = resolve_run(scenario, {}, start=START, hours=HOURS)
    calendar = TradingCalendar(scenario.market, run.start, run.duration_s)
    intensity = Intensity(calendar, spec.profile)
    rate = spec.behaviour.rate  # type: ignore[union-attr]
    windows = calendar.session_windows("new_york", spec.weekdays)
    windows = windows[(windows[:, 0] >= 0) & (windows[:, 1] <= run.duration_s)]
    assert len(windows) == 2
    observed, expected, active, sent = [], [], 0.0, 0
    for login, logout in windows:
        level = intensity.mean(login, logout)
        edges = np.arange(login, logout - 59.0, 60.0)
        observed.append(np.histogram(t, np.append(edges, edges[-1] + 60.0))[0])
        expected.append(
            rate * np.diff(intensity.cumulative(np.append(edges, edges[-1] + 60.0))) / level
        )
        active += logout - login
        sent += int(((t >= login) & (t < logout)).sum())
    n, e = np.concatenate(observed), np.concatenate(expected)
    return float(((n - e) ** 2).sum() / e.sum()), sent / active


def test_polling_alone_is_under_dispersed_and_averages_the_rate() -> None:
    """Gamma gaps of shape 4: dispersion ≈ 1/4; must be < 0.5. Rate within 2%."""
    dispersion, rate = _dispersion_and_rate(burst_share=0.0)
    assert dispersion < 0.5
    assert abs(rate / 10.0 - 1) < 0.02


def test_hawkes_bursts_are_over_dispersed_and_keep_the_rate() -> None:
    """abc_week's mix (25% bursts, branching 0.75): ≈ 0.25·0.75 + 16·0.25 ≈ 4.2; must be > 2.5."""
    dispersion, rate = _dispersion_and_rate()
    assert dispersion > 2.5
    assert abs(rate / 10.0 - 1) < 0.03


def test_bursts_alone_approach_the_hawkes_limit() -> None:
    """All bursts: 1/(1 − 0.75)² = 16 for windows ≫ decay; must lie in [10, 22]."""
    dispersion, rate = _dispersion_and_rate(burst_share=1.0)
    assert 10 < dispersion < 22
    assert abs(rate / 10.0 - 1) < 0.05


@pytest.mark.parametrize("branching", [0.0, 0.5, 0.75])
def test_hawkes_cluster_size_is_one_over_one_minus_branching(branching: float) -> None:
    """200,000 immigrants, seed 7: mean cluster size within 1.5% of 1/(1 − n)."""
    rng = np.random.default_rng(7)
    immigrants = np.sort(rng.uniform(0, 1e6, 200_000))
    events = hawkes_clusters(rng, immigrants, branching, 0.3)
    assert events.size / immigrants.size == pytest.approx(1 / (1 - branching), rel=0.015)

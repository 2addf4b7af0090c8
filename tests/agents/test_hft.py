"""HighFrequencyUser: its rate, under-dispersed polling, self-excitation and shared events.

One New York high-frequency user (abc_week's behaviour) with no login jitter,
no time away from its desk and the market's activity switched off, so its
expected count in each minute is known exactly: ``rate · ∫ λ · presence`` over
the minute. Tuesday and Wednesday 2026-01-13/14, seed 1. Dispersion is the
index Σ(N − E)² / ΣE over 60 s windows while its desk is in, so a Poisson
process scores 1.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from abcsim.agents.hft import hawkes_clusters, kernel_terms, presence
from abcsim.facts.measure import fit_busy_hours
from abcsim.market import TradingCalendar
from abcsim.scenario import load_scenario, resolve_run
from abcsim.scenario.spec import HawkesKernel, HftBehaviour
from abcsim.simulate.engine import agent_contexts
from tests.helpers import clock_only, run_arrays, variant

START, HOURS = "2026-01-13T00:00:00Z", 48.0


def _one_user(**behaviour: Any) -> Any:
    scenario = variant(
        "abc_week",
        {
            "hft": {
                "count": 1,
                "login_jitter_minutes": 0.0,
                "regions": (("new_york", 1.0),),
                "behaviour": {"off_desk": 0.0, **behaviour},
            }
        },
    )
    return clock_only(scenario)


def _dispersion_and_ratio(**behaviour: Any) -> tuple[float, float]:
    """(dispersion index of 1-min counts at the desk, sent / expected there)."""
    scenario = _one_user(**behaviour)
    t = run_arrays(scenario, start=START, hours=HOURS)["t"]
    run = resolve_run(scenario, {}, start=START, hours=HOURS)
    calendar = TradingCalendar(scenario.market, run.start, run.duration_s)
    ctx = next(agent_contexts(scenario, run, calendar, lambda *_: None))
    b = ctx.spec.behaviour
    clock = ctx.intensity.weighted(b.rate * presence(ctx, b))  # expected requests: Λ
    windows = calendar.session_windows("new_york")
    windows = windows[(windows[:, 0] >= 3600) & (windows[:, 1] <= run.duration_s - 3600)]
    assert len(windows) == 2
    observed, expected = [], []
    for login, logout in windows:
        edges = np.arange(login + 1800.0, logout - 1800.0, 60.0)  # past the login ramp
        observed.append(np.histogram(t, edges)[0])
        expected.append(np.diff(clock.cumulative(edges)))
    n, e = np.concatenate(observed), np.concatenate(expected)
    return float(((n - e) ** 2).sum() / e.sum()), float(n.sum() / e.sum())


def test_polling_alone_is_under_dispersed_and_keeps_its_rate() -> None:
    """No reactions, no shared events: gamma gaps of shape 4, dispersion ≈ 1/4 (< 0.5);
    count within 2% of rate · ∫λ."""
    dispersion, ratio = _dispersion_and_ratio(branching=0.0, shared=0.0)
    assert dispersion < 0.5
    assert abs(ratio - 1) < 0.02


def test_reactions_make_it_bursty_and_keep_its_rate() -> None:
    """abc_week's branching 0.8: over-dispersed far beyond Poisson (> 5); count within 5%."""
    dispersion, ratio = _dispersion_and_ratio()
    assert dispersion > 5
    assert abs(ratio - 1) < 0.05


@pytest.mark.parametrize("branching", [0.0, 0.5, 0.8])
def test_cluster_size_is_one_over_one_minus_branching(branching: float) -> None:
    """200,000 immigrants, seed 7: mean cluster size within 1.5% of 1/(1 − n)."""
    taus, weights = kernel_terms(HawkesKernel())
    events = hawkes_clusters(np.random.default_rng(7), np.zeros(200_000), branching, taus, weights)
    assert events.size / 200_000 == pytest.approx(1 / (1 - branching), rel=0.015)


def test_children_come_after_the_kernels_mean_delay() -> None:
    """2,000,000 immigrants at 0 with n = 0.01 (children, hardly any grandchildren), seed 8:
    the mean delay of the ~20,000 children within 15% of Σ w·τ (about 3 standard errors:
    the 300 s term makes the delays' spread ~55 s)."""
    taus, weights = kernel_terms(HawkesKernel())
    events = hawkes_clusters(np.random.default_rng(8), np.zeros(2_000_000), 0.01, taus, weights)
    delays = events[events > 0]
    assert 15_000 < delays.size < 25_000
    assert delays.mean() == pytest.approx(float(taus @ weights), rel=0.15)


def test_the_kernel_decays_like_a_power_law() -> None:
    """abc_week's kernel (exponent 0.3): between 0.1 s and 30 s its density falls like
    t^-1.3; a log-log fit of the sum of exponentials gives a slope within 0.15 of −1.3."""
    taus, weights = kernel_terms(HawkesKernel())
    t = np.geomspace(0.1, 30.0, 40)
    density = (weights[None, :] * np.exp(-t[:, None] / taus) / taus).sum(axis=1)
    slope = np.polyfit(np.log(t), np.log(density), 1)[0]
    assert abs(slope + 1.3) < 0.15
    assert weights.sum() == pytest.approx(1.0)


def test_a_hawkes_fit_of_a_busy_user_recovers_its_branching_ratio() -> None:
    """abc_week as it is (activity on, shared events, polling), Tue 2026-01-13 06:00-18:00,
    seeds 1 and 2; three users (Sydney, London, New York desks). Method: the maximum-likelihood
    fit of abcsim.facts.hawkes — background = everybody else's rate over 5 s times a level per
    30 min; kernel = 8 exponentials from 10 ms to 5 min with free weights — over each user's 6
    busiest hours. Every fit within ±0.1 of the configured 0.8."""
    scenario = load_scenario("abc_week")
    hft = [a.name for a in scenario.agents].index("hft")
    first = sum(a.count for a in scenario.agents[:hft])
    configured = scenario.agents[hft].behaviour
    assert isinstance(configured, HftBehaviour)
    fits = []
    for seed in (1, 2):
        columns = run_arrays(scenario, start="2026-01-13T06:00:00Z", hours=12, seed=seed)
        per_second = np.bincount(columns["t"].astype(np.int64), minlength=12 * 3600)
        for agent in (first, first + 7, first + 14):
            times = np.sort(columns["t"][columns["agent_id"] == agent])
            found = fit_busy_hours(times, per_second)
            assert found is not None
            fits.append(found[1].branching)
    assert all(abs(fit - configured.branching) <= 0.1 for fit in fits), fits


def test_shared_market_events_make_users_fire_together() -> None:
    """Two London users, activity off, Tue 09:00-12:00, seed 3: the correlation of their
    1-s counts is above 0.05 when all their immigrants are shared market events and
    below 0.02 when none are."""
    correlations = {}
    for shared in (0.0, 1.0):
        scenario = variant(
            "abc_week",
            {
                "hft": {
                    "count": 2,
                    "login_jitter_minutes": 0.0,
                    "regions": (("london", 1.0),),
                    "behaviour": {"shared": shared},
                }
            },
        )
        scenario = clock_only(scenario)
        columns = run_arrays(scenario, start="2026-01-13T09:00:00Z", hours=3, seed=3)
        counts = [
            np.bincount(columns["t"][columns["agent_id"] == a].astype(np.int64), minlength=10800)
            for a in (0, 1)
        ]
        correlations[shared] = float(np.corrcoef(counts[0][:10800], counts[1][:10800])[0, 1])
    assert correlations[1.0] > 0.05 > 0.02 > abs(correlations[0.0]), correlations

"""The market's activity A(t): mean 1, each component's memory, a level per day, off when off."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pytest

from abcsim.market import TradingCalendar
from abcsim.market.activity import activity_path, ornstein_uhlenbeck
from abcsim.market.intensity import grid
from abcsim.scenario import load_scenario
from abcsim.scenario.spec import NO_ACTIVITY, Activity

MARKET = load_scenario("abc_week").market
START = dt.datetime(2026, 1, 11, 22, tzinfo=dt.UTC)


def _path(activity: Activity, days: float, seed: int) -> np.ndarray:
    calendar = TradingCalendar(MARKET, START, days * 86400.0)
    return activity_path(activity, calendar, grid(calendar), np.random.default_rng(seed))


def test_an_ornstein_uhlenbeck_component_has_its_sd_and_memory() -> None:
    """1,000,000 steps of 5 s, τ = 60 s, σ = 0.1, seed 1: sd within 2% of 0.1; lag-12 (60 s)
    autocorrelation within 0.02 of e^-1."""
    x = ornstein_uhlenbeck(np.random.default_rng(1), 1_000_000, 5.0, 60.0, 0.1)
    assert x.std() == pytest.approx(0.1, rel=0.02)
    rho = np.corrcoef(x[:-12], x[12:])[0, 1]
    assert rho == pytest.approx(np.exp(-1), abs=0.02)


def test_activity_has_mean_one_and_abc_weeks_spread() -> None:
    """abc_week's A over 60 days, seed 2: mean within 3% of 1 (it moves traffic, adds none);
    sd of log A within 15% of sqrt(Σσ² + daily σ²)."""
    a = _path(MARKET.activity, 60, 2)
    assert a.mean() == pytest.approx(1.0, rel=0.03)
    assert np.log(a).std() == pytest.approx(np.sqrt(MARKET.activity.variance), rel=0.15)


def test_a_daily_level_is_one_draw_per_trading_day() -> None:
    """Only a daily level (σ 0.2), 10 days, seed 3: A is constant within each trading day
    (22:00 to 22:00 UTC) and differs between days."""
    only_daily = Activity(daily_sigma=0.2)
    a = _path(only_daily, 10, 3)
    cells_per_day = int(86400 / 5)
    days = a[: 10 * cells_per_day].reshape(10, cells_per_day)  # START is 22:00: days align
    assert np.allclose(days, days[:, :1])
    assert np.unique(days[:, 0]).size == 10


def test_no_activity_is_ones_and_the_same_seed_the_same_path() -> None:
    assert (_path(NO_ACTIVITY, 2, 4) == 1.0).all()
    assert np.array_equal(_path(MARKET.activity, 2, 5), _path(MARKET.activity, 2, 5))
    assert not np.array_equal(_path(MARKET.activity, 2, 5), _path(MARKET.activity, 2, 6))
    disabled = dataclasses.replace(MARKET.activity, sigmas=(0.0,) * 6, daily_sigma=0.0)
    assert not disabled.enabled

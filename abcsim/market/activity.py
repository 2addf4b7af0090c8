"""The market's activity A(t): a random mood shared by every agent, with memory at every scale.

Real trading is not a clock plus Poisson noise: a busy minute is followed by
busy minutes, a quiet afternoon stays quiet, one Tuesday is 10% busier than
the next. A(t) carries that. It multiplies λ(t) for all agents alike (each
type feels it to the power of its profile's ``activity``, 1 by default; a
power a other than 0 or 1 shifts that type's mean by exp((a² − a)·Var/2)), so
their counts rise and fall together, as a market's do.

    log A(t) = Σₖ Xₖ(t) + D(day) − Var/2

Each Xₖ is an Ornstein–Uhlenbeck process — mean 0, standard deviation σₖ,
time constant τₖ — and D is a level drawn for each trading day; ``− Var/2``
makes E[A] = 1, so A moves traffic around without adding any. With τₖ spread
geometrically from a minute to a day, the sum's spectrum falls like a power of
the frequency across that range: counts are over-dispersed and autocorrelated
for tens of minutes, with a Hurst exponent well above 1/2 (long memory, as
Eisler & Kertész measured in trading activity), not a sum of unrelated minutes.

A is drawn once per run on λ's grid from the market's own generator (each OU
exactly, as an AR(1) recursion filtered by :func:`scipy.signal.lfilter`), so
every agent reads the same path and the schedule does not depend on chunking.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import lfilter  # type: ignore[import-untyped]

from abcsim.market.calendar import DAY, FloatArray, TradingCalendar
from abcsim.scenario.spec import Activity


def activity_path(
    activity: Activity, calendar: TradingCalendar, t: FloatArray, rng: np.random.Generator
) -> FloatArray:
    """A(t) on the evenly spaced grid ``t``; all ones if ``activity`` has no components."""
    if not activity.enabled or t.size == 0:
        return np.ones(t.shape)
    step = float(t[1] - t[0]) if t.size > 1 else 1.0
    log_a = np.zeros(t.shape)
    for tau, sigma in zip(activity.timescales_s, activity.sigmas, strict=True):
        log_a += ornstein_uhlenbeck(rng, t.size, step, tau, sigma)
    log_a += daily_levels(activity, calendar, t, rng)
    return np.asarray(np.exp(log_a - activity.variance / 2.0), dtype=np.float64)


def ornstein_uhlenbeck(
    rng: np.random.Generator, n: int, step: float, tau: float, sigma: float
) -> FloatArray:
    """``n`` points ``step`` apart of a stationary OU process (time constant ``tau``, sd ``sigma``).

    Exact at the grid points: x[i+1] = a·x[i] + σ·√(1 − a²)·ε with a = exp(−step/τ),
    starting from the stationary law, so the process has no warm-up.
    """
    if sigma == 0:
        return np.zeros(n)
    a = float(np.exp(-step / tau))
    noise = rng.standard_normal(n) * sigma * np.sqrt(1.0 - a * a)
    first = rng.standard_normal() * sigma
    path, _ = lfilter([1.0], [1.0, -a], noise, zi=[a * first])
    return np.asarray(path, dtype=np.float64)


def daily_levels(
    activity: Activity, calendar: TradingCalendar, t: FloatArray, rng: np.random.Generator
) -> FloatArray:
    """D(day) at each ``t``: one normal draw per 24 hours from ``day_start`` UTC (weekends too).

    The day turns at the quiet roll (22:00 UTC by default), so a new level comes
    in when little traffic sees the step.
    """
    if activity.daily_sigma == 0:
        return np.zeros(t.shape)
    start = activity.day_start
    turn = start.hour * 3600.0 + start.minute * 60.0
    since_turn = calendar.start.timestamp() - turn + t
    day = np.floor(since_turn / DAY).astype(np.int64)
    levels = rng.standard_normal(int(day[-1] - day[0]) + 1) * activity.daily_sigma
    return np.asarray(levels[day - day[0]], dtype=np.float64)

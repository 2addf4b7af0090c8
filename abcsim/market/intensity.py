"""λ(t): how busy the market is at each moment, as a multiplier per agent type.

    λ(t) = [(1 − s) + s · (baseline + Σ sessions open at t · weight)]
           × [1 + b · Σ exchange opens · amplitude · exp(−(t − open) / decay)]
           × [1 + n · Σ news releases in progress · (multiplier − 1)]
           × roll-hour factor × Saturday factor

with ``s``, ``b``, ``n`` the agent type's :class:`~abcsim.scenario.spec.Profile`.
So at 14:00 UTC on a winter Tuesday, London and New York desks are both in
(λ ≈ 2.2 for a trading user), at 14:30 the XNYS open burst multiplies that by
4, and at 21:30 the roll hour cuts it to a fifth.

λ is tabulated on a grid of ``step_s`` seconds (piecewise constant), together
with its integral Λ(t). Sampling a non-homogeneous process is then a time
change: draw points in Λ ("operational time") and map them back with Λ⁻¹ —
exact for the piecewise-constant λ, and vectorised.
"""

from __future__ import annotations

import math

import numpy as np

from abcsim.market.calendar import FloatArray, TradingCalendar
from abcsim.scenario.spec import Profile

GRID_STEP_S = 5.0
_BURST_SPAN = 12.0  # an open burst is cut after this many decay constants (e^-12 ≈ 6e-6)


class Intensity:
    """λ(t) and Λ(t) for one agent type over the calendar's horizon."""

    def __init__(
        self, calendar: TradingCalendar, profile: Profile, step_s: float = GRID_STEP_S
    ) -> None:
        cells = math.ceil(calendar.duration_s / step_s) + 1
        self.step_s = step_s
        self.edges = np.arange(cells + 1, dtype=np.float64) * step_s
        self.values = intensity_at(calendar, profile, self.edges[:-1] + step_s / 2)
        self.integral = np.concatenate([[0.0], np.cumsum(self.values) * step_s]).astype(np.float64)

    def at(self, t: FloatArray) -> FloatArray:
        """λ at each ``t``."""
        cell = np.clip((np.asarray(t) // self.step_s).astype(np.int64), 0, self.values.size - 1)
        return self.values[cell]

    def cumulative(self, t: FloatArray | float) -> FloatArray:
        """Λ(t) = ∫₀ᵗ λ."""
        return np.asarray(np.interp(t, self.edges, self.integral), dtype=np.float64)

    def inverse(self, tau: FloatArray) -> FloatArray:
        """Λ⁻¹: the ``t`` at which operational time reaches ``tau``."""
        return np.interp(tau, self.integral, self.edges)

    def mean(self, start: float, end: float) -> float:
        """Average λ over ``[start, end)``."""
        if end <= start:
            return 0.0
        span = self.cumulative(np.array([start, end]))
        return float(span[1] - span[0]) / (end - start)


def intensity_at(calendar: TradingCalendar, profile: Profile, t: FloatArray) -> FloatArray:
    """λ(t) for an agent type with ``profile``; ``t`` must be an evenly spaced grid."""
    market = calendar.market
    sessions = np.full(t.shape, market.baseline)
    for session in market.sessions:
        ramp = session.ramp_minutes * 60.0
        for opens, closes in calendar.session_windows(session.name):
            cells = _cells(t, opens, closes)
            sessions[cells] += session.weight * _trapezoid(t[cells], opens, closes, ramp)
    level = (1.0 - profile.sessions) + profile.sessions * sessions

    bursts = np.ones(t.shape)
    for session in market.sessions:
        if session.exchange is None or session.open_burst == 0 or profile.open_bursts == 0:
            continue
        decay = session.burst_decay_minutes * 60.0
        for opens in calendar.exchange_opens(session.exchange):
            cells = _cells(t, opens, opens + _BURST_SPAN * decay)
            lag = t[cells] - opens
            bursts[cells] += (
                profile.open_bursts * session.open_burst * np.exp(-lag / decay) * (lag >= 0)
            )

    news = np.ones(t.shape)
    for spike in market.news:
        for at in calendar.local_times(spike.tz, spike.at, spike.weekdays):
            cells = _cells(t, at, at + spike.minutes * 60.0)
            inside = (t[cells] >= at) & (t[cells] < at + spike.minutes * 60.0)
            news[cells] += profile.news * (spike.multiplier - 1.0) * inside

    roll = np.where(calendar.in_roll(t), market.roll.factor, 1.0)
    saturday = np.where(calendar.saturday(t), market.week.saturday_factor, 1.0)
    return np.asarray(level * bursts * news * roll * saturday, dtype=np.float64)


def _cells(t: FloatArray, start: float, end: float) -> slice:
    """The slice of the sorted grid ``t`` that lies in ``[start, end]``."""
    return slice(int(np.searchsorted(t, start)), int(np.searchsorted(t, end, side="right")))


def _trapezoid(t: FloatArray, start: float, end: float, ramp: float) -> FloatArray:
    """1 inside ``[start, end]``, with linear ramps of ``ramp`` seconds inside each edge."""
    if ramp <= 0:
        return np.ones(t.shape)
    up = np.clip((t - start) / ramp, 0.0, 1.0)
    down = np.clip((end - t) / ramp, 0.0, 1.0)
    return np.minimum(up, down)

"""λ(t): how busy the market is at each moment, as a multiplier per agent type.

    λ(t) = [(1 − s) + s · (baseline + Σ sessions open at t · weight · holiday factor)]
           × [1 + b · Σ exchange opens · amplitude · exp(−(t − open) / decay)]
           × [1 + n · Σ releases · (peak − 1) · shape(t − release)]
           × roll-hour factor × Saturday factor
           × A(t)^a

with ``s``, ``b``, ``n``, ``a`` the agent type's
:class:`~abcsim.scenario.spec.Profile` and A the market's activity
(:mod:`abcsim.market.activity`). The bracketed product is the *smooth* λ, a
function of the clock and the calendar alone: at 14:00 UTC on a winter
Tuesday London and New York are both in, at 14:30 the XNYS open burst adds to
it, at 13:30 on a payrolls Friday it jumps fivefold and decays
(:func:`~abcsim.market.releases.release_shape`), and on Thanksgiving New York's
share is thinned. A(t) then makes each day, hour and minute its own.

λ is tabulated on a grid of ``step_s`` seconds (piecewise constant), together
with its integral Λ(t). Sampling a non-homogeneous process is then a time
change: draw points in Λ ("operational time") and map them back with Λ⁻¹ —
exact for the piecewise-constant λ, and vectorised.
"""

from __future__ import annotations

import math

import numpy as np

from abcsim.market.calendar import FloatArray, TradingCalendar
from abcsim.market.releases import SPAN_MINUTES, release_shape, shocks
from abcsim.scenario.spec import Profile

GRID_STEP_S = 5.0
_BURST_SPAN = 12.0  # an open burst is cut after this many decay constants (e^-12 ≈ 6e-6)


def grid(calendar: TradingCalendar, step_s: float = GRID_STEP_S) -> FloatArray:
    """The midpoints of λ's cells over the calendar's horizon (one cell past its end)."""
    cells = math.ceil(calendar.duration_s / step_s) + 1
    return (np.arange(cells, dtype=np.float64) + 0.5) * step_s


class Intensity:
    """λ(t) and Λ(t) for one agent type over the calendar's horizon: the smooth λ times the
    market's ``activity`` (A on :func:`grid`), if given."""

    def __init__(
        self,
        calendar: TradingCalendar,
        profile: Profile,
        activity: FloatArray | None = None,
        step_s: float = GRID_STEP_S,
    ) -> None:
        centers = grid(calendar, step_s)
        self.step_s = step_s
        self.edges = np.append(centers - step_s / 2, centers[-1] + step_s / 2)
        values = intensity_at(calendar, profile, centers)
        if activity is not None and profile.activity != 0:
            values = values * activity**profile.activity
        self._set(values)

    def _set(self, values: FloatArray) -> None:
        self.values: FloatArray = values
        self.integral: FloatArray = np.concatenate([[0.0], np.cumsum(values) * self.step_s])

    def weighted(self, weight: FloatArray) -> Intensity:
        """This λ times a per-cell ``weight`` (an agent's own presence at its desk)."""
        copy = object.__new__(Intensity)
        copy.step_s, copy.edges = self.step_s, self.edges
        copy._set(self.values * weight)
        return copy

    def at(self, t: FloatArray) -> FloatArray:
        """λ at each ``t``."""
        cell = np.clip((np.asarray(t) // self.step_s).astype(np.int64), 0, self.values.size - 1)
        return self.values[cell]

    def cumulative(self, t: FloatArray | float) -> FloatArray:
        """Λ(t) = ∫₀ᵗ λ."""
        return np.asarray(np.interp(t, self.edges, self.integral), dtype=np.float64)

    def inverse(self, tau: FloatArray) -> FloatArray:
        """Λ⁻¹: the ``t`` at which operational time reaches ``tau``."""
        return np.asarray(np.interp(tau, self.integral, self.edges), dtype=np.float64)

    def mean(self, start: float, end: float) -> float:
        """Average λ over ``[start, end)``."""
        if end <= start:
            return 0.0
        span = self.cumulative(np.array([start, end]))
        return float(span[1] - span[0]) / (end - start)


def intensity_at(calendar: TradingCalendar, profile: Profile, t: FloatArray) -> FloatArray:
    """The smooth λ(t) for an agent type with ``profile``; ``t`` must be an evenly spaced grid."""
    market = calendar.market
    sessions = np.full(t.shape, market.baseline)
    for session in market.sessions:
        ramp = session.ramp_minutes * 60.0
        days = calendar.session_days(session.name)
        for (opens, closes), factor in zip(days.bounds, days.factor, strict=True):
            cells = _cells(t, opens, closes)
            sessions[cells] += session.weight * factor * trapezoid(t[cells], opens, closes, ramp)
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
    if profile.news:
        found = shocks(calendar)
        for at, peak, decay in zip(found.t, found.peak, found.decay_minutes, strict=True):
            cells = _cells(t, at, at + SPAN_MINUTES * 60.0)
            lag_minutes = (t[cells] - at) / 60.0
            news[cells] += profile.news * (peak - 1.0) * release_shape(lag_minutes, decay)

    roll = np.where(calendar.in_roll(t), market.roll.factor, 1.0)
    saturday = np.where(calendar.saturday(t), market.week.saturday_factor, 1.0)
    return np.asarray(level * bursts * news * roll * saturday, dtype=np.float64)


def _cells(t: FloatArray, start: float, end: float) -> slice:
    """The slice of the sorted grid ``t`` that lies in ``[start, end]``."""
    return slice(int(np.searchsorted(t, start)), int(np.searchsorted(t, end, side="right")))


def trapezoid(t: FloatArray, start: float, end: float, ramp: float) -> FloatArray:
    """1 inside ``[start, end]``, with linear ramps of ``ramp`` seconds inside each edge."""
    if ramp <= 0:
        return np.ones(t.shape)
    up = np.clip((t - start) / ramp, 0.0, 1.0)
    down = np.clip((end - t) / ramp, 0.0, 1.0)
    return np.minimum(up, down)

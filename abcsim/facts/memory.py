"""Memory in counts: over-dispersion, autocorrelation, a Hurst exponent, the wander of 5 minutes.

Measured in hours when the smooth rate is flat — 09:00–12:00 UTC on weekdays
by default, London in and New York not yet, no open, no release — so what
moves the counts is the market's memory, not the clock. Counts are divided by
their mean over all those hours (in flat hours, the smooth rate), so a busy
day stands above a quiet one: day-to-day variation is memory too.

* **Dispersion**: variance over mean of the counts in bins of 1 s and 60 s
  (a Poisson process scores 1; clustering and memory push it up).
* **Autocorrelation** of 1-minute counts at given lags, pooled over windows
  (the mean over all windows removed, so a whole busy morning counts).
* **Hurst exponent** by detrended fluctuation analysis (DFA-1, Peng et al. 1994):
  the fluctuation F(s) of the integrated, box-wise linearly detrended series
  grows like s^H; H = 0.5 for independent minutes, above for long memory.
  F²(s) is averaged over windows before the fit, over boxes of 4 to 45 minutes.
* **Wander**: the standard deviation of 5-minute counts around the mean of
  their 30-minute block, relative to it (real FX: about ±12%).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from abcsim.facts.counts import Counts

FloatArray = npt.NDArray[np.float64]
FLAT_HOURS = (9, 12)
DFA_SCALES = (4, 5, 6, 8, 10, 12, 15, 18, 22, 27, 33, 39, 45)
ACF_LAGS = (1, 5, 30, 60)


def flat_windows(
    counts: Counts, hours: tuple[int, int] = FLAT_HOURS, weekdays: Sequence[int] = range(5)
) -> list[FloatArray]:
    """The counts of each full weekday window ``hours`` (UTC), as given (any bin width)."""
    windows = []
    for day in counts.full_days():
        if day.weekday() not in weekdays:
            continue
        begin = dt.datetime.combine(day, dt.time(hours[0]), dt.UTC)
        window = counts.window(begin, begin + dt.timedelta(hours=hours[1] - hours[0]))
        if window is not None and window.sum() > 0:
            windows.append(window.astype(np.float64))
    return windows


def relative(windows: Sequence[FloatArray]) -> list[FloatArray]:
    """The windows divided by their common mean (the flat hours' rate)."""
    level = float(np.mean(np.concatenate(windows))) if windows else 0.0
    return [w / level for w in windows] if level > 0 else []


def dispersion(windows: Sequence[FloatArray]) -> float:
    """Variance over mean of the counts, averaged over windows (raw counts, not relative)."""
    ratios = [w.var() / w.mean() for w in windows if w.mean() > 0]
    return float(np.mean(ratios)) if ratios else float("nan")


def autocorrelation(
    windows: Sequence[FloatArray], lags: Sequence[int] = ACF_LAGS
) -> dict[int, float]:
    """Autocorrelation at each lag (in bins), pooled: Σ x_t·x_{t+k} / Σ x_t² over windows,
    ``x`` the counts less their mean over all windows."""
    mean = float(np.mean(np.concatenate(windows))) if windows else 0.0
    centred = [w - mean for w in windows]
    power = sum(float((x * x).sum()) for x in centred)
    out = {}
    for lag in lags:
        pairs = sum(float((x[:-lag] * x[lag:]).sum()) for x in centred if x.size > lag)
        out[lag] = pairs / power if power > 0 else float("nan")
    return out


def hurst_dfa(windows: Sequence[FloatArray], scales: Sequence[int] = DFA_SCALES) -> float:
    """The Hurst exponent by DFA-1, F²(s) pooled over windows; NaN if too little data."""
    used, fluctuation = dfa_fluctuations(windows, scales)
    if used.size < 3:
        return float("nan")
    return float(np.polyfit(np.log(used), np.log(fluctuation), 1)[0])


def dfa_fluctuations(
    windows: Sequence[FloatArray], scales: Sequence[int] = DFA_SCALES
) -> tuple[FloatArray, FloatArray]:
    """The box sizes the windows allow and the fluctuation F(s) at each (DFA-1, pooled)."""
    used, fluctuation = [], []
    for s in scales:
        squares = [_dfa_squares(w, s) for w in windows if w.size >= 2 * s]
        if squares:
            used.append(float(s))
            fluctuation.append(float(np.sqrt(np.mean(np.concatenate(squares)))))
    return np.asarray(used), np.asarray(fluctuation)


def _dfa_squares(x: FloatArray, s: int) -> FloatArray:
    """Mean squared residual of a line fitted to each box of ``s`` of the profile of ``x``."""
    profile = np.cumsum(x - x.mean())
    n = profile.size // s
    boxes = profile[: n * s].reshape(n, s)
    u = np.arange(s, dtype=np.float64)
    slope, intercept = np.polyfit(u, boxes.T, 1)
    residual = boxes - (np.outer(slope, u) + intercept[:, None])
    return np.asarray((residual**2).mean(axis=1), dtype=np.float64)


def wander(windows: Sequence[FloatArray], sub: int = 5, block: int = 30) -> float:
    """Standard deviation of ``sub``-bin sums around their ``block``-bin block's mean, relative."""
    deviations = []
    for w in windows:
        n = w.size // block
        blocks = w[: n * block].reshape(n, block // sub, sub).sum(axis=2)
        means = blocks.mean(axis=1, keepdims=True)
        ok = means[:, 0] > 0
        deviations.append((blocks[ok] / means[ok] - 1.0).ravel())
    return float(np.std(np.concatenate(deviations))) if deviations else float("nan")

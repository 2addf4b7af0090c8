"""The gamma distribution given by its median and P95, as a service time can be.

A calibration may find that ``strategy_analysis`` times are better described
by a gamma than by a lognormal (a lighter right tail: fewer very slow
analyses). The scenario still says it with the two numbers people read — a
median of 300 ms and a P95 of 700 ms — and ``distribution = "gamma"``; this
module turns that pair into the gamma's shape ``k`` and scale ``θ``.

The ratio P95 / median of a gamma depends on its shape alone and falls
steadily from infinity (``k → 0``) towards 1 (``k → ∞``), so the shape is
found by bisection on it, and the scale then by the median. The scenario
layer keeps to the standard library and numpy (no scipy), so the regularised
incomplete gamma function is computed here: by its series below ``x = a + 1``
and Lentz's continued fraction above (Numerical Recipes §6.2), accurate to
about 1e-13; for large shapes (``k > 1000``, i.e. a P95 within 6% of the
median) the Wilson–Hilferty cube-root approximation is used, whose relative
error there is below 1e-6.
"""

from __future__ import annotations

import math
from functools import cache

MIN_SHAPE = 1e-2
"""Shapes below this (a P95 thousands of times the median) are refused: not a service time."""

MAX_SHAPE = 1e6
"""Shapes above this (a P95 within 0.2% of the median) are refused: write a fixed time instead."""

_LARGE_SHAPE = 1e3  # from here on Wilson–Hilferty is exact to ~1e-6
_TINY = 1e-300
_EPS = 1e-15
_Z_50 = 0.0
_Z_95 = 1.6448536269514722  # the standard normal's 95th percentile (spec.Z_95)


def _log_front(a: float, x: float) -> float:
    return -x + a * math.log(x) - math.lgamma(a)


def regularized_lower(a: float, x: float) -> float:
    """P(a, x): the probability that a Gamma(a, 1) variable is below ``x``."""
    if x <= 0.0:
        return 0.0
    if x < a + 1.0:
        term = total = 1.0 / a
        n = a
        for _ in range(100_000):
            n += 1.0
            term *= x / n
            total += term
            if abs(term) < abs(total) * _EPS:
                break
        return min(1.0, total * math.exp(_log_front(a, x)))
    # Q(a, x) by the continued fraction (modified Lentz), then P = 1 - Q.
    b = x + 1.0 - a
    c = 1.0 / _TINY
    d = 1.0 / b
    h = d
    for i in range(1, 100_000):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        d = _TINY if abs(d) < _TINY else d
        c = b + an / c
        c = _TINY if abs(c) < _TINY else c
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < _EPS:
            break
    return max(0.0, 1.0 - math.exp(_log_front(a, x)) * h)


def _wilson_hilferty(a: float, z: float) -> float:
    """The Gamma(a, 1) quantile at standard normal quantile ``z`` (cube-root approximation)."""
    v = 1.0 / (9.0 * a)
    return a * max(1.0 - v + z * math.sqrt(v), 1e-3) ** 3


def _normal_quantile(p: float) -> float:
    # Only the two levels used here; spelled out to keep the scenario layer scipy-free.
    if p == 0.5:
        return _Z_50
    if p == 0.95:
        return _Z_95
    raise ValueError(f"no normal quantile tabulated for {p}")


def gamma_quantile(a: float, p: float) -> float:
    """The ``p`` quantile (0.5 or 0.95) of Gamma(a, 1), i.e. scale 1."""
    z = _normal_quantile(p)
    guess = _wilson_hilferty(a, z)
    if a >= _LARGE_SHAPE:
        return guess
    # Newton on P(a, x) = p in log x (P is steep near 0 for small shapes), kept
    # inside a bracket that bisection narrows whenever Newton would leave it.
    low, high = 0.0, math.inf
    y = math.log(max(guess, 1e-300))
    for _ in range(200):
        x = math.exp(y)
        f = regularized_lower(a, x) - p
        if f > 0:
            high = min(high, y)
        else:
            low = y if low == 0.0 else max(low, y)
        # dP/dy = density(x) * x
        slope = math.exp((a - 1.0) * math.log(x) - x - math.lgamma(a)) * x
        step = f / slope if slope > 0 else math.inf
        candidate = y - step
        if not (low < candidate < high) or not math.isfinite(candidate):
            if math.isfinite(high) and low != 0.0:
                candidate = (low + high) / 2.0
            elif math.isfinite(high):
                candidate = high - 1.0
            else:
                candidate = low + 1.0
        if abs(candidate - y) < 1e-14:
            return math.exp(candidate)
        y = candidate
    return math.exp(y)


def p95_over_median(a: float) -> float:
    """The ratio P95 / median of any gamma of shape ``a`` (it does not depend on the scale)."""
    return gamma_quantile(a, 0.95) / gamma_quantile(a, 0.5)


@cache
def gamma_shape(ratio: float) -> float:
    """The shape whose P95 / median is ``ratio`` (> 1); ValueError outside the usable range."""
    if not ratio > p95_over_median(MAX_SHAPE):
        raise ValueError(f"a P95 / median of {ratio:g} needs a gamma shape above {MAX_SHAPE:g}")
    if not ratio < p95_over_median(MIN_SHAPE):
        raise ValueError(f"a P95 / median of {ratio:g} needs a gamma shape below {MIN_SHAPE:g}")
    low, high = math.log(MIN_SHAPE), math.log(MAX_SHAPE)
    for _ in range(100):  # the ratio falls as the shape grows
        mid = (low + high) / 2.0
        if p95_over_median(math.exp(mid)) > ratio:
            low = mid
        else:
            high = mid
        if high - low < 1e-12:
            break
    return math.exp((low + high) / 2.0)


@cache
def gamma_parameters(median: float, p95: float) -> tuple[float, float]:
    """(shape, scale) of the gamma with this median and P95 (``p95 > median > 0``)."""
    shape = gamma_shape(p95 / median)
    return shape, median / gamma_quantile(shape, 0.5)

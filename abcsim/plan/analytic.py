"""Queueing theory in closed form: Erlang C, M/M/c, Pollaczek–Khinchine, Allen–Cunneen, Little.

The figures a capacity planner checks a simulation against. If data requests
reach a 32-worker API as a Poisson stream of 640/s and each holds a worker
for an exponential 40 ms (offered load a = 25.6 Erlangs, utilisation 80%),
Erlang C says what share of them wait at all, and M/M/c gives their mean
wait and the whole distribution of their response time, so its P95. A
lognormal service time is not exponential: for one server
Pollaczek–Khinchine is still exact (it needs only the service time's mean
and second moment), and for c servers Allen–Cunneen's approximation scales
the M/M/c wait by the variability of arrivals and service,
``(ca² + cs²) / 2``. Little's law, L = λW, holds for any of them and any
stable system at all.

Rates are per second and times in seconds throughout; ``mu`` is one
worker's service rate (1 / mean service time).
"""

from __future__ import annotations

import math


def _check(lam: float, mu: float, c: int) -> float:
    if lam < 0 or mu <= 0 or c < 1:
        raise ValueError(f"need lam >= 0, mu > 0, c >= 1; got {lam}, {mu}, {c}")
    rho = lam / (c * mu)
    if rho >= 1:
        raise ValueError(f"unstable: utilisation {rho:.3f} >= 1")
    return rho


def erlang_b(c: int, a: float) -> float:
    """Blocking probability of c servers offered ``a`` Erlangs with no queue (Erlang B)."""
    b = 1.0
    for k in range(1, c + 1):  # the stable recursion; a**c / c! overflows for large c
        b = a * b / (k + a * b)
    return b


def erlang_c(c: int, a: float) -> float:
    """Probability that an arrival waits, for c servers offered ``a`` < c Erlangs (Erlang C)."""
    if not 0 <= a < c:
        raise ValueError(f"need 0 <= a < c, got a={a}, c={c}")
    b = erlang_b(c, a)
    rho = a / c
    return b / (1.0 - rho * (1.0 - b))


def mmc_mean_wait(lam: float, mu: float, c: int) -> float:
    """M/M/c mean time in queue: C(c, a) / (cμ − λ)."""
    _check(lam, mu, c)
    return erlang_c(c, lam / mu) / (c * mu - lam)


def mmc_response_tail(t: float, lam: float, mu: float, c: int) -> float:
    """M/M/c P(T > t) for the response time T = W + S (wait plus an exponential service)."""
    _check(lam, mu, c)
    waits = erlang_c(c, lam / mu)
    theta = c * mu - lam
    if math.isclose(theta, mu, rel_tol=1e-12):
        both = (1.0 + mu * t) * math.exp(-mu * t)  # Erlang-2
    else:  # P(Exp(θ) + Exp(μ) > t), the hypoexponential
        both = (theta * math.exp(-mu * t) - mu * math.exp(-theta * t)) / (theta - mu)
    return (1.0 - waits) * math.exp(-mu * t) + waits * both


def mmc_response_percentile(p: float, lam: float, mu: float, c: int) -> float:
    """The ``p`` quantile of the M/M/c response time (e.g. p = 0.95 for its P95)."""
    from scipy.optimize import brentq  # type: ignore[import-untyped]  # slow to import

    _check(lam, mu, c)
    if not 0 < p < 1:
        raise ValueError(f"p must be in (0, 1), got {p}")
    high = 1.0 / mu
    while mmc_response_tail(high, lam, mu, c) > 1 - p:
        high *= 2.0
    root = brentq(lambda t: mmc_response_tail(t, lam, mu, c) - (1 - p), 0.0, high, xtol=1e-14)
    return float(root)


def mmc_wait_percentile(p: float, lam: float, mu: float, c: int) -> float:
    """The ``p`` quantile of the M/M/c wait (0 when fewer than 1 − p of arrivals wait)."""
    _check(lam, mu, c)
    waits = erlang_c(c, lam / mu)
    if waits <= 1 - p:
        return 0.0
    return math.log(waits / (1 - p)) / (c * mu - lam)


def mg1_mean_wait(lam: float, mean_s: float, second_moment_s2: float) -> float:
    """M/G/1 mean time in queue (Pollaczek–Khinchine): λ E[S²] / (2 (1 − ρ))."""
    rho = _check(lam, 1.0 / mean_s, 1)
    return lam * second_moment_s2 / (2.0 * (1.0 - rho))


def allen_cunneen_wait(lam: float, mean_s: float, c: int, ca2: float, cs2: float) -> float:
    """G/G/c mean time in queue, Allen–Cunneen: the M/M/c wait × (ca² + cs²) / 2.

    ``ca2`` and ``cs2`` are the squared coefficients of variation of the
    inter-arrival and service times (1 and 1 for M/M/c, where it is exact;
    0 for deterministic service). An approximation, good to ~10% at high load.
    """
    return mmc_mean_wait(lam, 1.0 / mean_s, c) * (ca2 + cs2) / 2.0


def littles_law(arrival_rate: float, mean_time_s: float) -> float:
    """L = λW: the mean number in a system (or queue) from its arrival rate and mean time in it."""
    return arrival_rate * mean_time_s

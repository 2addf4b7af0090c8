"""HighFrequencyUser: an algorithm whose requests beget requests.

A high-frequency user runs all week while the venue is open. Its desk's hours
(its region's session, logins jittered and ramped in over the session's
``ramp_minutes``) are when it runs at full ``rate``; outside them it keeps
``off_desk`` of it, and on its exchange's holiday the desk part shrinks to the
session's ``holiday_factor``. Its rate follows the agent type's λ(t) — the
sessions, exchange opens, releases and the market's activity A(t) — so at 14:00
UTC on a winter Tuesday a London algorithm at λ ≈ 2 sends about twice ``rate``.

Its requests are a Hawkes process: each request triggers on average
``branching`` more (Poisson), after delays drawn from a kernel with long
memory — a mix of exponentials with time constants from ``shortest_s`` to
``longest_s`` weighted to decay like a power law (Hardiman, Bercot & Bouchaud
measured such kernels, and branching ratios near 1, in real order flow). So a
fraction ``branching`` of its traffic is reactions to itself, and the
*immigrants*, the rest, are

* its own **polling**: a renewal process with gamma gaps of shape
  ``poll_shape`` > 1, near-periodic, in the user's operational time; and
* a fraction ``shared`` of them, **market events**: one stream per agent type
  (:func:`shared_events`, drawn from the market's generator), of which each
  user reacts to those that come while it runs — a surprise that makes many
  algorithms fire at once.

Requests are sampled block by block (one SimPy event per hour); a cluster
that starts in a block is drawn whole, however far its tail reaches.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import numpy as np
import simpy

from abcsim.agents.base import AgentContext, desk_sessions, renewal_points
from abcsim.market.calendar import FloatArray
from abcsim.market.intensity import Intensity, grid, trapezoid
from abcsim.scenario.spec import HawkesKernel, HftBehaviour

BLOCK_S = 3600.0
"""A user's requests are drawn an hour at a time: a cluster's generations are drawn
vectorised over a block, so longer blocks mean fewer, larger numpy calls."""
PREHISTORY_S = 3600.0
"""How far before the run a user's reactions are traced back (the kernel's tail is far shorter)."""


def kernel_terms(kernel: HawkesKernel) -> tuple[FloatArray, FloatArray]:
    """The kernel's time constants (s) and their weights (summing to 1).

    Weights ∝ τ^-exponent make Σ w·exp(−t/τ)/τ fall like t^-(1 + exponent)
    between the shortest and the longest time constant.
    """
    taus = np.geomspace(kernel.shortest_s, kernel.longest_s, kernel.terms)
    weights = taus**-kernel.exponent
    return taus, weights / weights.sum()


def hawkes_clusters(
    rng: np.random.Generator,
    immigrants: FloatArray,
    branching: float,
    taus: FloatArray,
    weights: FloatArray,
) -> FloatArray:
    """Immigrants plus all their descendants (cluster representation of a Hawkes process).

    Each event begets Poisson(``branching``) children, each after a delay drawn
    from the kernel: a term picked by ``weights``, then an exponential of that
    term's time constant. Generations are drawn whole, vectorised.
    """
    cumulative = np.cumsum(weights)
    generations = [immigrants]
    parents = immigrants
    while parents.size:
        children = rng.poisson(branching, parents.size)
        n = int(children.sum())
        term = np.minimum(np.searchsorted(cumulative, rng.random(n), side="right"), taus.size - 1)
        parents = np.repeat(parents, children) + rng.exponential(1.0, n) * taus[term]
        generations.append(parents)
    return np.concatenate(generations)


def shared_events(
    intensity: Intensity, b: HftBehaviour, rng: np.random.Generator, horizon: float
) -> FloatArray:
    """The market events an agent type's users react to together, over ``[0, horizon)``.

    A Poisson process at ``rate · (1 − branching) · shared · λ(t)`` — what one
    user at its desk would take as immigrants from the market — drawn in the
    type's operational time. Each user keeps those that come while it runs.
    """
    rate = b.rate * (1.0 - b.branching) * b.shared
    if rate <= 0 or horizon <= 0:
        return np.zeros(0)
    total = float(intensity.cumulative(horizon)) * rate
    taus = np.cumsum(rng.exponential(1.0, int(total + 6.0 * np.sqrt(total) + 16)))
    while taus[-1] < total:  # never in practice: the draw above covers six sd
        taus = np.append(taus, taus[-1] + np.cumsum(rng.exponential(1.0, 1024)))
    return intensity.inverse(taus[taus < total] / rate)


def presence(ctx: AgentContext, b: HftBehaviour) -> FloatArray:
    """How much of its rate the user runs at, per cell of λ's grid: 0 to 1.

    ``off_desk`` all week, rising (over the session's ramp) to 1 while its desk
    is in — ``off_desk + (1 − off_desk) · holiday factor`` on a holiday — and 0
    while the venue is closed for maintenance.
    """
    t = grid(ctx.calendar, ctx.intensity.step_s)
    weight = np.full(t.shape, b.off_desk)
    assert ctx.region is not None
    ramp = ctx.calendar.market.session(ctx.region).ramp_minutes * 60.0
    days = desk_sessions(ctx)
    for (login, logout), factor in zip(days.bounds, days.factor, strict=True):
        cells = slice(int(np.searchsorted(t, login)), int(np.searchsorted(t, logout)))
        desk = b.off_desk + (1.0 - b.off_desk) * factor * trapezoid(t[cells], login, logout, ramp)
        weight[cells] = np.maximum(weight[cells], desk)
    weight[ctx.calendar.closed(t)] = 0.0
    return weight


def prehistory(ctx: AgentContext, clock: Intensity, b: HftBehaviour) -> FloatArray:
    """Immigrants in the hour before the run, at the rate of its first moment.

    Their clusters reach into the run, so it starts at its stationary rate
    instead of ramping up while the first reactions build (``emit`` drops the
    requests before 0).
    """
    rate = float(clock.values[0]) * (1.0 - b.branching)
    n = ctx.rng.poisson(rate * PREHISTORY_S)
    return np.sort(ctx.rng.uniform(-PREHISTORY_S, 0.0, n))


def run(env: simpy.Environment, ctx: AgentContext) -> Generator[simpy.Event, Any, None]:
    """The user's SimPy process: a block is an event, its requests are arrays."""
    b = ctx.spec.behaviour
    assert isinstance(b, HftBehaviour)
    if b.rate <= 0:
        return
    weight = presence(ctx, b)
    clock = ctx.intensity.weighted(b.rate * weight)  # Λ of this user: its expected requests
    taus, weights = kernel_terms(b.kernel)
    own = (1.0 - b.branching) * (1.0 - b.shared)  # own immigrants per expected request
    poll_gap = 1.0 / own if own > 0 else np.inf

    def polls(n: int) -> FloatArray:
        return ctx.rng.gamma(b.poll_shape, poll_gap / b.poll_shape, n)

    step = ctx.intensity.step_s
    horizon = ctx.calendar.duration_s
    poll_tau = ctx.rng.random() * poll_gap
    # The run starts mid-market: reactions to requests from before it still come.
    ctx.emit(hawkes_clusters(ctx.rng, prehistory(ctx, clock, b), b.branching, taus, weights))
    while env.now < horizon:
        start, end = env.now, min(env.now + BLOCK_S, horizon)
        own_taus, poll_tau = renewal_points(poll_tau, float(clock.cumulative(end)), polls, poll_gap)
        market = ctx.shared[np.searchsorted(ctx.shared, start) : np.searchsorted(ctx.shared, end)]
        taken = market[ctx.rng.random(market.size) < weight[(market // step).astype(np.int64)]]
        immigrants = np.concatenate([clock.inverse(own_taus), taken])
        ctx.emit(hawkes_clusters(ctx.rng, immigrants, b.branching, taus, weights))
        yield env.timeout(end - env.now)

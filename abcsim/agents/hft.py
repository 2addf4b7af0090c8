"""HighFrequencyUser: near-periodic polling plus self-exciting bursts.

While active (its region's session, e.g. London 07:00–17:00), a
high-frequency user averages ``rate`` requests/s. Two parts:

* **polling**, ``1 − burst_share`` of the rate: a renewal process with gamma
  gaps of shape ``poll_shape`` > 1, more regular than Poisson, so its counts
  are *under*-dispersed (variance/mean ≈ 1/shape);
* **bursts**, the rest: a Hawkes process (exponential kernel, branching ratio
  ``branching``, decay ``burst_decay_s``) — one reaction triggers ~3 more
  within a second — so counts are *over*-dispersed (variance/mean ≈
  1/(1 − branching)² for windows much longer than the decay).

Both follow the agent type's λ(t) (exchange opens, news) through operational
time, normalised over each session so the session's average stays ``rate``:
λ(t) moves traffic within the session, it does not add any.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import numpy as np
import simpy

from abcsim.agents.base import BLOCK_S, AgentContext, desk_sessions, renewal_points
from abcsim.market.calendar import FloatArray
from abcsim.scenario.spec import HftBehaviour


def hawkes_clusters(
    rng: np.random.Generator, immigrants: FloatArray, branching: float, decay_s: float
) -> FloatArray:
    """Immigrants plus all their descendants (cluster representation of a Hawkes process).

    Each event begets Poisson(``branching``) children at exponential
    delays of mean ``decay_s``; generations are drawn whole, vectorised.
    """
    generations = [immigrants]
    parents = immigrants
    while parents.size:
        children = rng.poisson(branching, parents.size)
        parents = np.repeat(parents, children) + rng.exponential(decay_s, int(children.sum()))
        generations.append(parents)
    return np.concatenate(generations)


def run(env: simpy.Environment, ctx: AgentContext) -> Generator[simpy.Event, Any, None]:
    """The user's SimPy process: sessions and blocks are events, requests are arrays."""
    b = ctx.spec.behaviour
    assert isinstance(b, HftBehaviour)
    for login, logout in desk_sessions(ctx):
        if logout <= env.now:
            continue
        yield env.timeout(max(0.0, login - env.now))
        level = ctx.intensity.mean(env.now, logout)
        if level <= 0 or b.rate <= 0:
            continue
        # gaps in operational time; ``level`` turns them into the session's average rate
        poll_gap = level / (b.rate * (1.0 - b.burst_share)) if b.burst_share < 1 else np.inf
        immigrant_gap = (
            level / (b.rate * b.burst_share * (1.0 - b.branching)) if b.burst_share else np.inf
        )

        def polls(n: int, gap: float = poll_gap) -> FloatArray:
            return ctx.rng.gamma(b.poll_shape, gap / b.poll_shape, n)

        def arrivals(n: int, gap: float = immigrant_gap) -> FloatArray:
            return ctx.rng.exponential(gap, n)

        now_tau = float(ctx.intensity.cumulative(env.now))
        poll_tau = now_tau + ctx.rng.random() * poll_gap
        burst_tau = now_tau + ctx.rng.exponential(immigrant_gap)
        while env.now < logout:
            end = min(env.now + BLOCK_S, logout)
            end_tau = float(ctx.intensity.cumulative(end))
            poll_taus, poll_tau = renewal_points(poll_tau, end_tau, polls, poll_gap)
            immigrant_taus, burst_tau = renewal_points(burst_tau, end_tau, arrivals, immigrant_gap)
            bursts = hawkes_clusters(
                ctx.rng, ctx.intensity.inverse(immigrant_taus), b.branching, b.burst_decay_s
            )
            times = np.concatenate([ctx.intensity.inverse(poll_taus), bursts])
            ctx.emit(times[times < logout])
            yield env.timeout(end - env.now)

"""TradingSystemUser: a desk user who logs in for its region's session and works.

While logged in, the user sends a request, thinks, and sends the next: think
times of at least ``min_s`` and on average ``mean_s`` seconds *at baseline
activity*. Think time runs in the market's operational time Λ(t), so when
λ(t) doubles — the London–New York overlap, an exchange open, a news
release — the same user sends twice as fast: a non-homogeneous renewal
process that follows λ(t), the market's activity A(t) included. A London
user logged in 07:00–17:00 with an 8 s think time sends ~8,000 requests a
day, denser after 13:00 (New York in) than before. On its exchange's holiday
a user comes in only with the session's ``holiday_factor`` as probability.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import simpy

from abcsim.agents.base import BLOCK_S, AgentContext, desk_sessions, renewal_points
from abcsim.market.calendar import FloatArray
from abcsim.scenario.spec import TradingBehaviour


def run(env: simpy.Environment, ctx: AgentContext) -> Generator[simpy.Event, Any, None]:
    """The user's SimPy process: logins and blocks are events, requests are arrays."""
    behaviour = ctx.spec.behaviour
    assert isinstance(behaviour, TradingBehaviour)
    pause = behaviour.think_mean_s - behaviour.think_min_s

    def think(n: int) -> FloatArray:
        return behaviour.think_min_s + ctx.rng.exponential(pause, n)

    days = desk_sessions(ctx)
    present = ctx.rng.random(days.factor.size) < days.factor
    for login, logout in days.bounds[present]:
        if logout <= env.now:
            continue
        yield env.timeout(max(0.0, login - env.now))
        # the first request comes a random part of a think time after login
        tau = float(ctx.intensity.cumulative(env.now)) + ctx.rng.random() * behaviour.think_mean_s
        while env.now < logout:
            end = min(env.now + BLOCK_S, logout)
            taus, tau = renewal_points(
                tau, float(ctx.intensity.cumulative(end)), think, behaviour.think_mean_s
            )
            ctx.emit(ctx.intensity.inverse(taus))
            yield env.timeout(end - env.now)

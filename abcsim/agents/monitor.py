"""Monitor: a health probe at a fixed interval, 24/7, through maintenance.

Monitoring does not follow the market: a probe every ``interval_s`` seconds
(each moved by up to ``jitter_s`` either way, uniformly, so probes from many
monitors do not line up on the second), Saturday nights and the weekly
maintenance window included, whatever the scenario lets other agents send
while closed. Two monitors at 10 s send 720 probes an hour, every hour.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import numpy as np
import simpy

from abcsim.agents.base import AgentContext
from abcsim.scenario.spec import MonitorBehaviour

BLOCK_S = 3600.0
"""Probes are emitted an hour at a time: one SimPy event per monitor and hour."""


def run(env: simpy.Environment, ctx: AgentContext) -> Generator[simpy.Event, Any, None]:
    """The monitor's SimPy process: each hour an event, its probes one array."""
    b = ctx.spec.behaviour
    assert isinstance(b, MonitorBehaviour)
    phase = ctx.rng.random() * b.interval_s  # monitors started at different moments
    horizon = ctx.calendar.duration_s
    while env.now < horizon:
        end = min(env.now + BLOCK_S, horizon)
        # a block owns the ticks in [now, end) + jitter_s: jittered, none falls before now
        low, high = (np.ceil((x + b.jitter_s - phase) / b.interval_s) for x in (env.now, end))
        ticks = phase + np.arange(low, high) * b.interval_s
        jitter = (ctx.rng.random(ticks.size) * 2.0 - 1.0) * b.jitter_s
        ctx.emit(ticks + jitter)
        yield env.timeout(end - env.now)

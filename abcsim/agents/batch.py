"""BatchProcessingUser: scheduled jobs, each a rate-limited burst of heavy requests.

Jobs start at the scenario's triggers — a session's open or close, every
hour, end of day — each taken up with its ``probability`` and a random delay
up to ``start_jitter_s``; one tied to a session's open or close does not run on
its exchange's holidays (and runs at an early close). A job processes a
lognormal number of items (median ``items_median``, log-sd ``items_sigma``) in requests of
``items_per_request`` items, at most ``request_rate`` requests/s. A user runs
one job at a time: a job that finds it busy starts when the last one ends.
The London-open job of a 20,000-row median is ~20 requests of 1,000 rows over
10 s.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import numpy as np
import simpy

from abcsim.agents.base import AgentContext
from abcsim.market.calendar import FloatArray, TradingCalendar
from abcsim.scenario.spec import BatchBehaviour, JobTrigger

PACING_SHAPE = 16.0
"""Gamma shape of the gaps inside a job: a rate limiter's steady, slightly jittered pace."""


def trigger_times(calendar: TradingCalendar, trigger: JobTrigger) -> FloatArray:
    """``t`` of every moment a trigger fires within the horizon."""
    if trigger.at in ("open", "close"):
        assert trigger.session is not None
        days = calendar.session_days(trigger.session, trigger.weekdays)
        times: FloatArray = days.bounds[~days.holiday, 0 if trigger.at == "open" else 1]
    elif trigger.at == "every":
        assert trigger.every_minutes is not None
        times = calendar.every(trigger.every_minutes)
        weekday = (calendar.week_seconds(times) // 86400.0).astype(int)
        times = times[np.isin(weekday, trigger.weekdays)]
    else:
        assert trigger.time is not None
        times = calendar.local_times(trigger.tz, trigger.time, trigger.weekdays)
    return times[(times >= 0) & (times < calendar.duration_s)]


def job_starts(ctx: AgentContext, b: BatchBehaviour) -> FloatArray:
    """When this user's jobs are due: triggers it takes up, jittered, none while closed."""
    starts = []
    for trigger in b.triggers:
        times = trigger_times(ctx.calendar, trigger)
        taken = times[ctx.rng.random(times.size) < trigger.probability]
        starts.append(taken + ctx.rng.random(taken.size) * b.start_jitter_s)
    due = np.sort(np.concatenate(starts)) if starts else np.zeros(0)
    return due[~ctx.calendar.closed(due)]


def run(env: simpy.Environment, ctx: AgentContext) -> Generator[simpy.Event, Any, None]:
    """The user's SimPy process: each job start is an event, its requests one array."""
    b = ctx.spec.behaviour
    assert isinstance(b, BatchBehaviour)
    for due in job_starts(ctx, b):
        yield env.timeout(max(0.0, due - env.now))
        items = int(np.ceil(ctx.rng.lognormal(np.log(b.items_median), b.items_sigma)))
        n = -(-items // b.items_per_request)
        gaps = ctx.rng.gamma(PACING_SHAPE, 1.0 / (b.request_rate * PACING_SHAPE), n)
        times = env.now + np.concatenate([[0.0], np.cumsum(gaps[:-1])])
        sizes = np.full(n, b.items_per_request, dtype=np.int32)
        sizes[-1] = items - b.items_per_request * (n - 1)
        codes = ctx.mix.draw(ctx.rng, n)
        ctx.emit(times, codes, sizes)
        yield env.timeout(float(np.sum(gaps)))  # busy until the job's last request is out

"""Shared fixtures: one simulated ABC week, aggregated once; reference targets on loopback.

``serve(...)`` starts a target in a background thread on 127.0.0.1 with port
0 and stops it when the test ends. ``fixed_scenario(ms, workers)`` is smoke
with every service time fixed, so timing tests check queueing, not draws.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from abcsim.market.calendar import TradingCalendar
from abcsim.scenario import REQUEST_TYPES, Scenario, load_scenario, resolve_run
from abcsim.scenario.spec import DEFAULT_SERVICE, ServiceTime
from abcsim.simulate import simulate
from abcsim.target import RunningTarget, serve_in_thread

WEEK_SEED = 1


@dataclass
class WeekAggregate:
    """Per-second counts by agent type and request mix by agent type (open market only)."""

    scenario: Scenario
    calendar: TradingCalendar
    per_second: npt.NDArray[np.int64]  # [agent type, second]
    mix_open: npt.NDArray[np.int64]  # [agent type, request]
    closed_requests: npt.NDArray[np.int64]  # [request] counts inside the maintenance window
    events: int


@pytest.fixture(scope="session")
def abc_week() -> WeekAggregate:
    """The real abc_week scenario, 6 days from Sunday 22:00 UTC, seed 1 (about 15 s)."""
    scenario = load_scenario("abc_week")
    run = resolve_run(scenario, {}, seed=WEEK_SEED)
    calendar = TradingCalendar(scenario.market, run.start, run.duration_s)
    n_types = len(scenario.agents)
    seconds = int(np.ceil(run.duration_s))
    per_second = np.zeros((n_types, seconds), dtype=np.int64)
    mix_open = np.zeros((n_types, len(REQUEST_TYPES)), dtype=np.int64)
    closed_requests = np.zeros(len(REQUEST_TYPES), dtype=np.int64)
    events = 0
    for chunk in simulate(scenario, run):
        events += len(chunk)
        closed = calendar.closed(chunk.t)
        for code in range(n_types):
            mine = chunk.agent_type == code
            per_second[code] += np.bincount(chunk.t[mine].astype(np.int64), minlength=seconds)
            mix_open[code] += np.bincount(
                chunk.request[mine & ~closed], minlength=len(REQUEST_TYPES)
            )
        closed_requests += np.bincount(chunk.request[closed], minlength=len(REQUEST_TYPES))
    return WeekAggregate(scenario, calendar, per_second, mix_open, closed_requests, events)


Serve = Callable[..., RunningTarget]


def fixed_scenario(ms: float, *, workers: int = 4, queue_limit: int = 100) -> Scenario:
    """smoke, with every request type taking exactly ``ms`` on a worker (per item too: 0)."""
    smoke = load_scenario("smoke")
    service = tuple((request, ServiceTime(ms, ms)) for request, _ in DEFAULT_SERVICE)
    system = replace(smoke.system, service=service, workers=workers, queue_limit=queue_limit)
    return replace(smoke, system=system)


@pytest.fixture
def serve() -> Iterator[Serve]:
    """``serve(scenario, **settings)`` → a running target on 127.0.0.1; all stop after the test."""
    with ExitStack() as stack:

        def start(scenario: Scenario | str = "abc_week", **settings: Any) -> RunningTarget:
            return stack.enter_context(
                serve_in_thread(scenario, host="127.0.0.1", port=0, **settings)
            )

        yield start

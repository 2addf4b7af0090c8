"""Shared fixtures: scenarios and one simulated ABC week, aggregated once per session."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pytest

from abcsim.market.calendar import TradingCalendar
from abcsim.scenario import REQUEST_TYPES, Scenario, load_scenario, resolve_run
from abcsim.simulate import simulate

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

"""Shared fixtures: simulated ABC weeks, aggregated once; reference targets on loopback.

``serve(...)`` starts a target in a background thread on 127.0.0.1 with port
0 and stops it when the test ends. ``fixed_scenario(ms, workers)`` is smoke
with every service time fixed, so timing tests check queueing, not draws.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from abcsim.facts.counts import Counts
from abcsim.market.calendar import TradingCalendar
from abcsim.scenario import REQUEST_TYPES, Scenario, load_scenario, resolve_run
from abcsim.scenario.spec import DEFAULT_SERVICE, ServiceTime
from abcsim.schedule.columns import category_codes
from abcsim.schedule.parquet import iter_batches
from abcsim.simulate import write_schedule
from abcsim.target import RunningTarget, serve_in_thread
from tests.helpers import week_counts

WEEK_SEED = 1
WEEK_SEEDS = tuple(range(1, 11))
"""The seeds of the multi-week realism checks (seed 1 is the ``abc_week`` fixture's week)."""


@dataclass
class WeekAggregate:
    """Per-second counts by agent type and request mix by agent type (open market only)."""

    scenario: Scenario
    calendar: TradingCalendar
    per_second: npt.NDArray[np.int64]  # [agent type, second]
    mix_open: npt.NDArray[np.int64]  # [agent type, request]
    closed_requests: npt.NDArray[np.int64]  # [request] counts inside the maintenance window
    events: int
    path: Path  # the week's schedule file

    def counts(self) -> Counts:
        """All requests per second, as the facts read them."""
        return Counts("abc_week", self.calendar.start, 1, self.per_second.sum(axis=0))


@pytest.fixture(scope="session")
def abc_week(tmp_path_factory: pytest.TempPathFactory) -> WeekAggregate:
    """The real abc_week scenario, 6 days from Sunday 22:00 UTC, seed 1, simulated once into a
    schedule file (about 15 s) and aggregated from it."""
    scenario = load_scenario("abc_week")
    run = resolve_run(scenario, {}, seed=WEEK_SEED)
    path = tmp_path_factory.mktemp("week") / "abc_week.parquet"
    write_schedule(scenario, run, path)
    calendar = TradingCalendar(scenario.market, run.start, run.duration_s)
    types = tuple(a.name for a in scenario.agents)
    seconds = int(np.ceil(run.duration_s))
    per_second = np.zeros((len(types), seconds), dtype=np.int64)
    mix_open = np.zeros((len(types), len(REQUEST_TYPES)), dtype=np.int64)
    closed_requests = np.zeros(len(REQUEST_TYPES), dtype=np.int64)
    events = 0
    for batch in iter_batches(path, ("t", "agent_type", "request")):
        t = batch.column("t").to_numpy()
        agent_type = category_codes(batch.column("agent_type"), types, path)
        request = category_codes(batch.column("request"), REQUEST_TYPES, path)
        events += t.size
        closed = calendar.closed(t)
        cell = agent_type.astype(np.int64) * seconds + t.astype(np.int64)
        per_second += np.bincount(cell, minlength=per_second.size).reshape(per_second.shape)
        mix = agent_type.astype(np.int64)[~closed] * len(REQUEST_TYPES) + request[~closed]
        mix_open += np.bincount(mix, minlength=mix_open.size).reshape(mix_open.shape)
        closed_requests += np.bincount(request[closed], minlength=len(REQUEST_TYPES))
    return WeekAggregate(scenario, calendar, per_second, mix_open, closed_requests, events, path)


@pytest.fixture(scope="session")
def abc_weeks(abc_week: WeekAggregate) -> dict[int, Counts]:
    """Requests per second of abc_week's default week for each of :data:`WEEK_SEEDS`: seed 1
    from ``abc_week``, the others simulated two at a time in processes of their own (about
    70 s on two cores)."""
    weeks = {WEEK_SEED: abc_week.counts()}
    others = [seed for seed in WEEK_SEEDS if seed != WEEK_SEED]
    context = multiprocessing.get_context("spawn")  # no fork of a process that may hold threads
    with ProcessPoolExecutor(max_workers=2, mp_context=context) as pool:
        for seed, per_second in zip(others, pool.map(week_counts, others), strict=True):
            weeks[seed] = Counts(f"abc_week seed {seed}", abc_week.calendar.start, 1, per_second)
    return weeks


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

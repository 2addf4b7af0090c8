"""The week inside Locust: with ABC_SCHEDULE, each class's users follow the schedule.

An hour of abc_week (Tue 11:30-12:30 UTC, seed 1: New York's desks arriving,
the 12:00 batch jobs) is played at speed 240, four schedule minutes a second.
Locust logs each class's user count whenever it changes ("All users spawned:
{...}"); each logged count must be the schedule's count of active agents of
that kind in the minute the log line's time plays, give or take one tick of
the shape (it ticks once a second: four schedule minutes), for at least 90%
of the lines (a tick late under load is the allowance).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from abcsim.locust.active import active_agents
from abcsim.locust.profiles import SUITE_CLASSES
from abcsim.scenario import load_scenario, resolve_run
from abcsim.schedule.slicing import Window
from abcsim.simulate import write_schedule
from abcsim.target import RunningTarget
from tests.conftest import Serve, fixed_scenario
from tests.locust.runs import SPAWNED, SUITE, start_locust

SPEED = 240.0
TICK_MINUTES = round(SPEED / 60.0)

pytestmark = pytest.mark.locust  # a CI step of its own: make test-locust


def test_user_counts_follow_the_active_agents_of_each_type(serve: Serve, tmp_path: Path) -> None:
    scenario = load_scenario("abc_week")
    run = resolve_run(scenario, {}, seed=1, start="2026-01-13T11:30:00Z", hours=1)
    schedule = tmp_path / "tue.parquet"
    write_schedule(scenario, run, schedule)
    active = active_agents(
        schedule, Window(0.0, run.duration_s), tuple(a.name for a in scenario.agents)
    )
    kinds = {a.name: a.kind for a in scenario.agents}
    expected = [
        {
            cls: sum(n for t, n in zip(active.agent_types, row, strict=True) if kinds[t] == kind)
            for kind, cls in SUITE_CLASSES.items()
        }
        for row in active.counts
    ]
    assert len({tuple(e.values()) for e in expected}) >= 8  # the half hour does move

    target: RunningTarget = serve(fixed_scenario(1.0, workers=512, queue_limit=10_000))
    locust = start_locust(
        SUITE, "--headless", "--host", target.url, cwd=tmp_path,
        env={"ABC_SCHEDULE": str(schedule), "ABC_SPEED": str(SPEED)},
    )  # fmt: skip
    status, output = locust.finish()
    assert status == 0, output[-3000:]

    logged = [m.groups() for line in output.splitlines() if (m := SPAWNED.match(line))]
    assert len(logged) >= 8, output[-3000:]
    first = _when(logged[0][0])
    matched = 0
    for stamp, counts in logged:
        minute = round((_when(stamp) - first).total_seconds() * SPEED / 60.0)
        nearby = expected[max(0, minute - TICK_MINUTES) : minute + TICK_MINUTES + 1]
        matched += json.loads(counts) in nearby
    assert matched >= 0.9 * len(logged), (matched, logged, expected)


def _when(stamp: str) -> dt.datetime:
    return dt.datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f")

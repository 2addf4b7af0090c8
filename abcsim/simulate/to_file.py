"""Simulate straight to a Parquet schedule, counting as it goes.

This is what ``abcsim simulate`` does: :func:`write_schedule` streams the
chunks of :func:`~abcsim.simulate.simulate` into a
:class:`~abcsim.schedule.ScheduleWriter` (atomic: nothing is left behind on
error or Ctrl-C) and returns the schedule's :class:`ScheduleStats`.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

from abcsim.scenario.overrides import RunSettings
from abcsim.scenario.spec import Scenario
from abcsim.schedule.parquet import ScheduleMeta, ScheduleWriter
from abcsim.schedule.stats import ScheduleStats
from abcsim.simulate.engine import CHUNK_S, simulate


def write_schedule(
    scenario: Scenario,
    run: RunSettings,
    out: str | Path,
    *,
    chunk_s: float = CHUNK_S,
    progress: Callable[[float], None] | None = None,
) -> ScheduleStats:
    """Simulate ``run`` of ``scenario`` into ``out``; ``progress(t)`` after each chunk."""
    agent_types = tuple(a.name for a in scenario.agents)
    meta = ScheduleMeta(
        scenario_name=scenario.name,
        scenario_text=scenario.text,
        seed=run.seed,
        start=run.start,
        duration_s=run.duration_s,
        agent_types=agent_types,
        version=version("abcsim"),
    )
    stats = ScheduleStats(run.start, run.duration_s, agent_types)
    with ScheduleWriter(out, meta) as writer:
        for chunk in simulate(scenario, run, chunk_s):
            writer.write_chunk(chunk)
            stats.add(chunk.t, chunk.agent_type, chunk.request)
            if progress is not None:
                progress(chunk.end)
    return stats

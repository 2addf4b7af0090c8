"""abcsim: realistic synthetic traffic for the ABC trading system.

The flow: ``load_scenario`` → ``simulate`` (chunks) / ``write_schedule``
(Parquet) → ``read_schedule`` / ``schedule_stats``. See DESIGN.md.
"""

from __future__ import annotations

from abcsim.errors import AbcsimError, ScenarioError, ScheduleError
from abcsim.scenario import RunSettings, Scenario, load_scenario, parse_scenario, resolve_run
from abcsim.schedule import ScheduleChunk, ScheduleMeta, read_meta, read_schedule
from abcsim.schedule.stats import ScheduleStats, format_stats, schedule_stats
from abcsim.simulate import simulate, write_schedule

__all__ = [
    "AbcsimError",
    "RunSettings",
    "Scenario",
    "ScenarioError",
    "ScheduleChunk",
    "ScheduleError",
    "ScheduleMeta",
    "ScheduleStats",
    "format_stats",
    "load_scenario",
    "parse_scenario",
    "read_meta",
    "read_schedule",
    "resolve_run",
    "schedule_stats",
    "simulate",
    "write_schedule",
]

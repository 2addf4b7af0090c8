"""abcsim: realistic synthetic traffic for the ABC trading system.

The flow: ``load_scenario`` → ``simulate`` (chunks) / ``write_schedule``
(Parquet) → ``read_schedule`` / ``schedule_stats``. See docs/architecture.md. In a notebook,
the flow as DataFrames (:mod:`abcsim.api`): ``simulate_frame`` → ``plan_frame`` /
``replay_frame`` → ``abcsim.api.report``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from abcsim.errors import AbcsimError, ScenarioError, ScheduleError
from abcsim.scenario import RunSettings, Scenario, load_scenario, parse_scenario, resolve_run
from abcsim.schedule import ScheduleChunk, ScheduleMeta, read_meta, read_schedule
from abcsim.schedule.stats import ScheduleStats, format_stats, schedule_stats
from abcsim.simulate import simulate, write_schedule

if TYPE_CHECKING:
    from abcsim.api import plan_frame, read_results, replay_frame, simulate_frame, sweep_frame

_API = ("plan_frame", "read_results", "replay_frame", "simulate_frame", "sweep_frame")


def __getattr__(name: str) -> object:
    # The notebook API is imported on first use: it brings in the planner and the replayer,
    # which `abcsim simulate` and a Locust worker do without.
    if name == "api" or name in _API:
        api = importlib.import_module("abcsim.api")
        return api if name == "api" else getattr(api, name)
    raise AttributeError(f"module 'abcsim' has no attribute {name!r}")


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
    "plan_frame",
    "read_meta",
    "read_results",
    "read_schedule",
    "replay_frame",
    "resolve_run",
    "schedule_stats",
    "simulate",
    "simulate_frame",
    "sweep_frame",
    "write_schedule",
]

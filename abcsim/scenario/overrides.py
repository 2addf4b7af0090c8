"""Run settings and their precedence: scenario file < ``ABC_*`` environment < CLI flags.

The scenario says which week to simulate (start, days, seed); a CI job can
override that with ``ABC_SEED``, ``ABC_START`` or ``ABC_DAYS`` without
editing the file, and a flag (an argument of :func:`resolve_run`) overrides
both. The variables are read by :mod:`~abcsim.scenario.environment`: a bad one
is an error naming the variable; a bad argument is one naming the setting
(``days``), which the CLI shows as its flag (``--days``).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass

from abcsim.errors import ScenarioError, Setting
from abcsim.scenario.environment import env_value, positive_number, whole_number
from abcsim.scenario.load import parse_start
from abcsim.scenario.spec import Scenario


@dataclass(frozen=True)
class RunSettings:
    """Which slice of time to simulate, and with which seed."""

    seed: int
    start: dt.datetime
    duration_s: float


def resolve_run(
    scenario: Scenario,
    env: Mapping[str, str],
    *,
    seed: int | None = None,
    start: str | None = None,
    days: float | None = None,
    hours: float | None = None,
) -> RunSettings:
    """Merge the scenario's defaults, ``env`` and explicit settings (``None`` = not given)."""
    if days is not None and hours is not None:
        raise ScenarioError(
            Setting("days"), "", "give ", Setting("days"), " or ", Setting("hours"), ", not both"
        )
    if seed is None:
        seed = env_value(env, "ABC_SEED", whole_number(0), scenario.seed)
    elif seed < 0:
        raise ScenarioError(Setting("seed"), "", f"must be >= 0, got {seed}")
    if start is not None:
        problem = f"must be an ISO 8601 date-time, got {start!r}"
        run_start = parse_start(start, ScenarioError(Setting("start"), "", problem))
    else:
        run_start = env_value(env, "ABC_START", _date_time, scenario.start)
    if hours is not None:
        duration = _length(hours, "hours", 3600.0)
    elif days is not None:
        duration = _length(days, "days", 86400.0)
    else:
        duration = env_value(env, "ABC_DAYS", positive_number, scenario.days) * 86400.0
    return RunSettings(seed=seed, start=run_start, duration_s=duration)


def _date_time(text: str) -> dt.datetime:
    return parse_start(text, ValueError(f"must be an ISO 8601 date-time, got {text!r}"))


def _length(value: float, unit: str, seconds: float) -> float:
    if not (math.isfinite(value) and value > 0):
        raise ScenarioError(Setting(unit), "", f"must be a finite number > 0, got {value:g} {unit}")
    return value * seconds

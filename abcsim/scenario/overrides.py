"""Run settings and their precedence: scenario file < ``ABC_*`` environment < CLI flags.

The scenario says which week to simulate (start, days, seed); a CI job can
override that with ``ABC_SEED``, ``ABC_START`` or ``ABC_DAYS`` without
editing the file, and a flag overrides both. A bad environment value is an
error naming the variable.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass

from abcsim.errors import ScenarioError
from abcsim.scenario.load import parse_start
from abcsim.scenario.spec import Scenario

ENVIRONMENT = ("ABC_SEED", "ABC_START", "ABC_DAYS")


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
    """Merge the scenario's defaults, ``env`` and explicit flags (``None`` = not given)."""
    if days is not None and hours is not None:
        raise ScenarioError("command line", "--days/--hours", "give one, not both")
    run_seed = seed if seed is not None else _env_int(env, "ABC_SEED", scenario.seed)
    start_text = start if start is not None else env.get("ABC_START")
    source = "--start" if start is not None else "ABC_START"
    run_start = scenario.start
    if start_text is not None:
        error = ScenarioError(source, "", f"must be an ISO 8601 date-time, got {start_text!r}")
        run_start = parse_start(start_text, error)
    if hours is not None:
        duration, flag, given = hours * 3600.0, "--hours", f"{hours:g} hours"
    elif days is not None:
        duration, flag, given = days * 86400.0, "--days", f"{days:g} days"
    else:
        env_days = _env_float(env, "ABC_DAYS", scenario.days)
        duration, flag, given = env_days * 86400.0, "ABC_DAYS", f"{env_days:g} days"
    if not math.isfinite(duration) or duration <= 0:
        raise ScenarioError(flag, "", f"must be a finite number > 0, got {given}")
    if run_seed < 0:
        raise ScenarioError("--seed" if seed is not None else "ABC_SEED", "", "must be >= 0")
    return RunSettings(seed=run_seed, start=run_start, duration_s=duration)


def _env_int(env: Mapping[str, str], name: str, default: int) -> int:
    if name not in env:
        return default
    try:
        return int(env[name])
    except ValueError:
        raise ScenarioError(name, "", f"must be a whole number, got {env[name]!r}") from None


def _env_float(env: Mapping[str, str], name: str, default: float) -> float:
    if name not in env:
        return default
    try:
        return float(env[name])
    except ValueError:
        raise ScenarioError(name, "", f"must be a number, got {env[name]!r}") from None

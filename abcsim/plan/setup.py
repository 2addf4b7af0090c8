"""From command-line choices to a checked :class:`PreparedPlan`, before anything is modelled.

``prepare_plan`` reads the schedule's metadata (its scenario gives the
endpoints, the SLOs and ``[system]`` unless another scenario is named),
resolves the slice and the system (a ``--system`` file, then the flags), and
checks every choice, so a plan, a capacity search and a sweep all start from
the same checked inputs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from abcsim.errors import PlanError, Setting
from abcsim.plan.system import plan_system
from abcsim.scenario import Scenario, load_scenario, parse_scenario
from abcsim.scenario.spec import SystemSpec
from abcsim.schedule.parquet import ScheduleMeta, read_meta
from abcsim.schedule.slicing import Window, parse_window


@dataclass(frozen=True)
class PreparedPlan:
    """A plan whose every choice has been checked."""

    schedule: Path
    scenario: Scenario
    meta: ScheduleMeta
    window: Window
    system: SystemSpec
    scale: float
    seed: int
    speed: float = 1.0  # a replay's --speed: the slice's time compressed, its rate multiplied


def prepare_plan(
    schedule: str | Path,
    *,
    scenario: str | None = None,
    system_file: str | Path | None = None,
    window: str | None = None,
    replicas: int | None = None,
    workers: int | None = None,
    queue_limit: int | None = None,
    balancer: str | None = None,
    timeout_s: float | None = None,
    scale: float = 1.0,
    seed: int | None = None,
    speed: float = 1.0,
) -> PreparedPlan:
    """Read the schedule's metadata and resolve the scenario, slice and system."""
    if not (scale > 0 and math.isfinite(scale)):
        raise PlanError(Setting("scale"), f": must be a finite number > 0, got {scale}")
    if not (speed > 0 and math.isfinite(speed)):
        raise PlanError(Setting("speed"), f": must be a finite number > 0, got {speed}")
    if seed is not None and seed < 0:
        raise PlanError(Setting("seed"), f": must be >= 0, got {seed}")
    meta = read_meta(schedule)
    spec = (
        load_scenario(scenario) if scenario else parse_scenario(meta.scenario_text, str(schedule))
    )
    slice_ = (
        parse_window(window, meta.start, meta.duration_s)
        if window
        else Window(0.0, meta.duration_s)
    )
    system = plan_system(
        spec.system,
        system_file=system_file,
        replicas=replicas,
        workers=workers,
        queue_limit=queue_limit,
        balancer=balancer,
        timeout_s=timeout_s,
    )
    return PreparedPlan(
        schedule=Path(schedule),
        scenario=spec,
        meta=meta,
        window=slice_,
        system=system,
        scale=scale,
        seed=spec.seed if seed is None else seed,
        speed=speed,
    )

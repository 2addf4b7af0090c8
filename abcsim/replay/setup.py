"""From a replay's settings to a checked :class:`ReplayPlan`, before anything is sent.

``prepare_replay`` reads the schedule's metadata (its scenario gives the
endpoint table, the SLOs and the request timeout unless ``scenario`` names
another), resolves the window, refuses a non-loopback target that is not
allowed, and computes the busiest wall-clock second of the slice to refuse a
rate over the ceiling, and refuses to send orders to a system that is not in
performance mode. ``ABC_MAX_CONCURRENT_REQUESTS`` gives the in-flight bound
when no ``max_in_flight`` does, as in the performance suite's configuration.

A bad argument is an error naming it as :class:`~abcsim.errors.Setting`
(``speed``); ``abcsim replay`` shows it as its flag, a Locust process as its
``ABC_*`` variable.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from abcsim.errors import ReplayError, Setting
from abcsim.replay.runner import ReplayPlan
from abcsim.replay.safety import check_orders, check_rate, check_target
from abcsim.scenario import Scenario, load_scenario, parse_scenario
from abcsim.scenario.environment import env_value, whole_number
from abcsim.schedule.parquet import ScheduleMeta, read_meta
from abcsim.schedule.slicing import Window, parse_window, slice_rate_peak

DEFAULT_MAX_IN_FLIGHT = 256


@dataclass(frozen=True)
class PreparedReplay:
    """A plan that passed every check, with what the report needs to know."""

    plan: ReplayPlan
    scenario: Scenario
    meta: ScheduleMeta
    events: int
    peak_per_second: float
    max_rate: float  # the ceiling the peak was checked against


def prepare_replay(
    schedule: str | Path,
    target: str,
    *,
    env: Mapping[str, str],
    window: str | None = None,
    speed: float = 1.0,
    scale: float = 1.0,
    max_in_flight: int | None = None,
    timeout_s: float | None = None,
    lateness_s: float = 1.0,
    max_rate: float | None = None,
    allow_hosts: Sequence[str] = (),
    scenario: str | None = None,
    csv_prefix: str | None = None,
) -> PreparedReplay:
    """Check everything that can be checked before the first request.

    ``timeout_s``: seconds a request may take; by default the scenario's
    ``[system] timeout_s``, the one the planner's clients give up at.
    """
    if csv_prefix is not None:
        _writable_folder("csv_prefix", Path(csv_prefix).parent)
    _positive("speed", speed)
    _positive("scale", scale, allow_zero=True)
    if timeout_s is not None:
        _positive("timeout_s", timeout_s)
    _positive("lateness_s", lateness_s, allow_zero=True)
    if max_in_flight is not None and max_in_flight < 1:
        raise ReplayError(Setting("max_in_flight"), f": must be >= 1, got {max_in_flight}")
    meta = read_meta(schedule)
    spec = (
        load_scenario(scenario) if scenario else parse_scenario(meta.scenario_text, str(schedule))
    )
    check_target(target, (*allow_hosts, *spec.replay.allow_hosts))
    check_orders(target, spec.requests_sent, env)
    slice_ = (
        parse_window(window, meta.start, meta.duration_s)
        if window
        else Window(0.0, meta.duration_s)
    )
    in_flight = max_in_flight if max_in_flight is not None else env_in_flight(env)
    events, peak = slice_rate_peak(schedule, slice_, speed=speed, scale=scale)
    ceiling = max_rate if max_rate is not None else spec.replay.max_rate
    _positive("max_rate", ceiling)
    check_rate(peak, ceiling, speed, scale)
    plan = ReplayPlan(
        schedule=Path(schedule),
        target=target.rstrip("/"),
        window=slice_,
        endpoints=spec.endpoints,
        agent_types=meta.agent_types,
        speed=speed,
        scale=scale,
        max_in_flight=in_flight,
        timeout_s=spec.system.timeout_s if timeout_s is None else timeout_s,
        lateness_s=lateness_s,
    )
    return PreparedReplay(plan, spec, meta, events, peak, ceiling)


def env_in_flight(env: Mapping[str, str]) -> int:
    """``ABC_MAX_CONCURRENT_REQUESTS``, or 256 when it is not set."""
    return env_value(env, "ABC_MAX_CONCURRENT_REQUESTS", whole_number(1), DEFAULT_MAX_IN_FLIGHT)


def _positive(setting: str, value: float, *, allow_zero: bool = False) -> None:
    if not (value >= 0 if allow_zero else value > 0) or value != value or value == float("inf"):
        bound = ">=" if allow_zero else ">"
        raise ReplayError(Setting(setting), f": must be a finite number {bound} 0")


def _writable_folder(setting: str, folder: Path) -> None:
    """Make ``folder`` (as Locust does) and check it takes files, before any load is sent."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        problem = f": cannot create {str(folder)!r}: {exc.strerror}"
        raise ReplayError(Setting(setting), problem) from None
    if not os.access(folder, os.W_OK):
        raise ReplayError(Setting(setting), f": cannot write in {str(folder)!r}")

"""From command-line choices to a checked :class:`ReplayPlan`, before anything is sent.

``prepare_replay`` reads the schedule's metadata (its scenario gives the
endpoint table and the SLOs unless ``--scenario`` names another), resolves
the window, refuses a non-loopback target that is not allowed, and computes
the busiest wall-clock second of the slice to refuse a rate over the ceiling,
and refuses to send orders to a system that is not in performance mode.
``ABC_MAX_CONCURRENT_REQUESTS`` gives the in-flight bound when no flag does,
as in the performance suite's configuration.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from abcsim.errors import ReplayError
from abcsim.replay.runner import ReplayPlan
from abcsim.replay.safety import check_orders, check_rate, check_target
from abcsim.scenario import Scenario, load_scenario, parse_scenario
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
    timeout_s: float = 10.0,
    lateness_s: float = 1.0,
    max_rate: float | None = None,
    allow_hosts: Sequence[str] = (),
    scenario: str | None = None,
    csv_prefix: str | None = None,
) -> PreparedReplay:
    """Check everything that can be checked before the first request."""
    if csv_prefix is not None:
        _writable_folder("--csv", Path(csv_prefix).parent)
    _positive("--speed", speed)
    _positive("--scale", scale, allow_zero=True)
    _positive("--timeout", timeout_s)
    _positive("--lateness", lateness_s, allow_zero=True)
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
    if in_flight < 1:
        raise ReplayError(f"--max-in-flight: must be >= 1, got {in_flight}")
    events, peak = slice_rate_peak(schedule, slice_, speed=speed, scale=scale)
    ceiling = max_rate if max_rate is not None else spec.replay.max_rate
    _positive("--max-rate", ceiling)
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
        timeout_s=timeout_s,
        lateness_s=lateness_s,
    )
    return PreparedReplay(plan, spec, meta, events, peak, ceiling)


def env_in_flight(env: Mapping[str, str]) -> int:
    raw = env.get("ABC_MAX_CONCURRENT_REQUESTS")
    if raw is None:
        return DEFAULT_MAX_IN_FLIGHT
    try:
        return int(raw)
    except ValueError:
        raise ReplayError(
            f"ABC_MAX_CONCURRENT_REQUESTS: must be a whole number, got {raw!r}"
        ) from None


def _positive(flag: str, value: float, *, allow_zero: bool = False) -> None:
    if not (value >= 0 if allow_zero else value > 0) or value != value or value == float("inf"):
        raise ReplayError(f"{flag}: must be a finite number {'>=' if allow_zero else '>'} 0")


def _writable_folder(flag: str, folder: Path) -> None:
    """Make ``folder`` (as Locust does) and check it takes files, before any load is sent."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ReplayError(f"{flag}: cannot create {str(folder)!r}: {exc.strerror}") from None
    if not os.access(folder, os.W_OK):
        raise ReplayError(f"{flag}: cannot write in {str(folder)!r}")

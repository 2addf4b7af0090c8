"""What the ABC suite's environment variables mean in abcsim's Locust users.

The suite's deployment sets them once for the system and its load tests; they
mean the same wherever abcsim reads them:

``ABC_PERFORMANCE_MODE``
    ``true`` says the system under test runs in performance mode (orders are
    simulated, not placed). Without it, nothing that places orders
    (``trade_execution``, and ``multi_agent_workflow``, which ends in one) is
    sent to a host that is not loopback: replay and the Locust users refuse.
``ABC_MAX_CONCURRENT_REQUESTS``
    The most requests one process has in flight at once: the reference
    target's workers, replay's ``--max-in-flight``, and a cap shared by all the
    Locust users of one process (unset: as many as the users send).
``ABC_MEMORY_LIMIT``
    The memory limit of one agent process (``2G``): the target reports it,
    and the Locust suite checks the system's resident memory against it at
    the end of a run (from ``/metrics``, where the system has one).

Locust-only: ``ABC_SCENARIO`` (scenario file or built-in name; abc_week),
``ABC_SCHEDULE`` (a schedule: the week-shaped suite, or the replay user),
``ABC_WINDOW``, ``ABC_SPEED``, ``ABC_SCALE`` (the slice, as ``abcsim replay``
takes them), ``ABC_RESULTS`` (the replay's results file), ``ABC_TIMEOUT``,
``ABC_LATENESS``, ``ABC_MAX_RATE`` and ``ABC_ALLOW_HOSTS`` (comma-separated):
replay's ``--timeout``, ``--lateness``, ``--max-rate`` and ``--allow-host``.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn, TypeVar

from abcsim.errors import AbcsimError, ScenarioError
from abcsim.replay.setup import env_in_flight
from abcsim.scenario.units import parse_bytes

DEFAULT_SCENARIO = "abc_week"
_D = TypeVar("_D", float, None)


@dataclass(frozen=True)
class LocustSettings:
    """The ``ABC_*`` variables one Locust process runs with."""

    scenario: str = DEFAULT_SCENARIO
    max_concurrent: int | None = None
    memory_limit_bytes: int | None = None
    schedule: str | None = None
    window: str | None = None
    speed: float = 1.0
    scale: float = 1.0
    results: str | None = None
    timeout_s: float = 10.0
    lateness_s: float = 1.0
    max_rate: float | None = None
    allow_hosts: tuple[str, ...] = ()

    @property
    def results_path(self) -> str:
        """``ABC_RESULTS``, or ``SCHEDULE.results.parquet`` as ``abcsim replay`` names it."""
        if self.results:
            return self.results
        if self.schedule is None:
            raise ScenarioError("ABC_RESULTS", "", "set it, or ABC_SCHEDULE")
        return str(Path(self.schedule).with_suffix("")) + ".results.parquet"


def locust_settings(env: Mapping[str, str]) -> LocustSettings:
    """Read and check the ``ABC_*`` variables; a bad one is one :class:`ScenarioError`."""
    limit = env.get("ABC_MEMORY_LIMIT")
    try:
        memory = parse_bytes(limit) if limit else None
    except ValueError as exc:
        raise ScenarioError("ABC_MEMORY_LIMIT", "", str(exc)) from None
    return LocustSettings(
        scenario=env.get("ABC_SCENARIO") or DEFAULT_SCENARIO,
        max_concurrent=env_in_flight(env) if "ABC_MAX_CONCURRENT_REQUESTS" in env else None,
        memory_limit_bytes=memory,
        schedule=env.get("ABC_SCHEDULE") or None,
        window=env.get("ABC_WINDOW") or None,
        speed=_positive(env, "ABC_SPEED", 1.0),
        scale=_positive(env, "ABC_SCALE", 1.0),
        results=env.get("ABC_RESULTS") or None,
        timeout_s=_positive(env, "ABC_TIMEOUT", 10.0),
        lateness_s=_positive(env, "ABC_LATENESS", 1.0),
        max_rate=_positive(env, "ABC_MAX_RATE", None),
        allow_hosts=tuple(
            h.strip() for h in env.get("ABC_ALLOW_HOSTS", "").split(",") if h.strip()
        ),
    )


def _positive(env: Mapping[str, str], name: str, default: _D) -> float | _D:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not (value > 0 and math.isfinite(value)):
        raise ScenarioError(name, "", f"must be a number > 0, got {raw!r}")
    return value


def fail(exc: AbcsimError) -> NoReturn:
    """A bad setting met while Locust loads a locustfile: one line and exit status 2, as
    abcsim's own commands give (Locust would print a traceback)."""
    print(f"error: {exc}", file=sys.stderr)
    raise SystemExit(2)


FLAG_VARIABLES = {
    "--window": "ABC_WINDOW",
    "--speed": "ABC_SPEED",
    "--scale": "ABC_SCALE",
    "--max-rate": "ABC_MAX_RATE",
    "--max-in-flight": "ABC_MAX_CONCURRENT_REQUESTS",
    "--timeout": "ABC_TIMEOUT",
    "--lateness": "ABC_LATENESS",
    "--allow-host": "ABC_ALLOW_HOSTS",
    "--scenario": "ABC_SCENARIO",
    "--target": "--host",
}
"""``abcsim replay``'s flags and what sets the same thing in a Locust process."""


def in_locust_terms(exc: AbcsimError) -> AbcsimError:
    """A replay check's message with the flags named as a Locust user sets them:
    ``--speed 360: ...`` becomes ``ABC_SPEED 360: ...``."""
    text = str(exc)
    for flag, variable in FLAG_VARIABLES.items():
        text = re.sub(rf"(?<![\w-]){re.escape(flag)}(?![\w-])", variable, text)
    return AbcsimError(text)

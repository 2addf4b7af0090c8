"""The target's settings and where they come from: scenario < environment < flags.

The scenario's ``[system]`` says how the ABC API is deployed (32 workers, a
queue of 256, 2 GB). The suite's deployment overrides that with
``ABC_MAX_CONCURRENT_REQUESTS`` (workers) and ``ABC_MEMORY_LIMIT`` (the memory
limit the server reports, e.g. ``2G``); ``--workers`` and ``--queue-limit``
override both. Faults come only from ``--fault`` flags (or the admin endpoint).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from abcsim.errors import ScenarioError
from abcsim.scenario.spec import Scenario
from abcsim.scenario.units import parse_bytes
from abcsim.target.faults import Faults, parse_faults

ENVIRONMENT = ("ABC_MAX_CONCURRENT_REQUESTS", "ABC_MEMORY_LIMIT")


@dataclass(frozen=True)
class TargetSettings:
    """How one reference target runs."""

    workers: int
    queue_limit: int
    memory_limit_bytes: int
    faults: Faults
    seed: int

    def describe(self) -> str:
        limit_mb = self.memory_limit_bytes / 2**20
        return (
            f"{self.workers} workers, queue limit {self.queue_limit}, memory limit "
            f"{limit_mb:g} MB, faults: {self.faults.describe()}, seed {self.seed}"
        )


def resolve_target(
    scenario: Scenario,
    env: Mapping[str, str],
    *,
    workers: int | None = None,
    queue_limit: int | None = None,
    faults: Sequence[str] = (),
    seed: int | None = None,
) -> TargetSettings:
    """Merge the scenario's ``[system]``, ``env`` and explicit flags (``None`` = not given)."""
    system = scenario.system
    if workers is None:
        workers = _env_workers(env, system.workers)
    if workers < 1:
        raise ScenarioError("--workers", "", f"must be >= 1, got {workers}")
    if queue_limit is None:
        queue_limit = system.queue_limit
    if queue_limit < 0:
        raise ScenarioError("--queue-limit", "", f"must be >= 0, got {queue_limit}")
    memory = int(system.memory_limit_mb * 2**20)
    if "ABC_MEMORY_LIMIT" in env:
        try:
            memory = parse_bytes(env["ABC_MEMORY_LIMIT"])
        except ValueError as exc:
            raise ScenarioError("ABC_MEMORY_LIMIT", "", str(exc)) from None
    return TargetSettings(
        workers=workers,
        queue_limit=queue_limit,
        memory_limit_bytes=memory,
        faults=parse_faults(faults),
        seed=scenario.seed if seed is None else seed,
    )


def _env_workers(env: Mapping[str, str], default: int) -> int:
    name = "ABC_MAX_CONCURRENT_REQUESTS"
    if name not in env:
        return default
    try:
        value = int(env[name])
    except ValueError:
        value = 0
    if value < 1:
        raise ScenarioError(name, "", f"must be a whole number >= 1, got {env[name]!r}")
    return value

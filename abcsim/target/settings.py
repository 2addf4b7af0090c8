"""The target's settings and where they come from: scenario < environment < flags.

The scenario's ``[system]`` says how the ABC API is deployed (32 workers, a
queue of 256, 2 GB). The suite's deployment overrides that with
``ABC_MAX_CONCURRENT_REQUESTS`` (workers) and ``ABC_MEMORY_LIMIT`` (the memory
limit the server reports, e.g. ``2G``), read by
:mod:`~abcsim.scenario.environment`; the ``workers`` and ``queue_limit``
arguments (``--workers``, ``--queue-limit``) override both. Faults come only from
the ``faults`` argument (``--fault`` flags) or the admin endpoint.

``ABC_PERFORMANCE_MODE`` (on unless set to false, as the suite runs the system)
is reported in the health answer (``"performance_mode": true``): it is the
system's word that it simulates orders, which replay checks before it sends any.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from abcsim.errors import ScenarioError, Setting
from abcsim.scenario.environment import env_value, switch, whole_number
from abcsim.scenario.spec import Scenario
from abcsim.scenario.units import parse_bytes
from abcsim.target.faults import Faults, parse_faults


@dataclass(frozen=True)
class TargetSettings:
    """How one reference target runs."""

    workers: int
    queue_limit: int
    memory_limit_bytes: int
    faults: Faults
    seed: int
    performance_mode: bool = True  # ABC_PERFORMANCE_MODE: orders are simulated

    def describe(self) -> str:
        limit_mb = self.memory_limit_bytes / 2**20
        return (
            f"{self.workers} workers, queue limit {self.queue_limit}, memory limit "
            f"{limit_mb:g} MB, faults: {self.faults.describe()}, seed {self.seed}"
        ) + ("" if self.performance_mode else "; not in performance mode")


def resolve_target(
    scenario: Scenario,
    env: Mapping[str, str],
    *,
    workers: int | None = None,
    queue_limit: int | None = None,
    faults: Sequence[str] = (),
    seed: int | None = None,
) -> TargetSettings:
    """Merge the scenario's ``[system]``, ``env`` and explicit settings (``None`` = not given)."""
    system = scenario.system
    if workers is None:
        workers = env_value(env, "ABC_MAX_CONCURRENT_REQUESTS", whole_number(1), system.workers)
    elif workers < 1:
        raise ScenarioError(Setting("workers"), "", f"must be >= 1, got {workers}")
    if queue_limit is None:
        queue_limit = system.queue_limit
    elif queue_limit < 0:
        raise ScenarioError(Setting("queue_limit"), "", f"must be >= 0, got {queue_limit}")
    memory = env_value(env, "ABC_MEMORY_LIMIT", parse_bytes, int(system.memory_limit_mb * 2**20))
    return TargetSettings(
        workers=workers,
        queue_limit=queue_limit,
        memory_limit_bytes=memory,
        faults=parse_faults(faults),
        seed=scenario.seed if seed is None else seed,
        performance_mode=env_value(env, "ABC_PERFORMANCE_MODE", switch, True),
    )

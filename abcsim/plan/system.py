"""The system a plan models: the scenario's ``[system]``, overridden by the command line.

``abcsim plan week.parquet --replicas 3 --workers 16`` models the ABC API as
three replicas of 16 workers behind a round-robin balancer, each with the
scenario's queue limit (256 waiting) and service times; ``--system
calibrated.toml`` swaps in the ``[system]`` section a calibration wrote.
:func:`plan_system` applies the overrides and checks them (an
:class:`~abcsim.errors.PlanError` names the flag); :func:`describe_system`
says in one line what was modelled.
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

from abcsim.errors import PlanError, Setting
from abcsim.scenario.load import load_system
from abcsim.scenario.spec import BALANCERS, SystemSpec


def plan_system(
    base: SystemSpec,
    *,
    system_file: str | Path | None = None,
    replicas: int | None = None,
    workers: int | None = None,
    queue_limit: int | None = None,
    balancer: str | None = None,
    timeout_s: float | None = None,
    overhead_ms: float | None = None,
) -> SystemSpec:
    """``base`` with a ``[system]`` file's section (if given) and then the flags applied."""
    system = load_system(system_file, base) if system_file is not None else base
    changes: dict[str, object] = {}
    for name, value, low in (
        ("replicas", replicas, 1),
        ("workers", workers, 1),
        ("queue_limit", queue_limit, 0),
    ):
        if value is not None:
            if value < low:
                raise PlanError(Setting(name), f": must be >= {low}, got {value}")
            changes[name] = value
    if balancer is not None:
        if balancer not in BALANCERS:
            raise PlanError(
                Setting("balancer"), f": must be one of {', '.join(BALANCERS)}, got {balancer!r}"
            )
        changes["balancer"] = balancer
    if timeout_s is not None:
        if not (timeout_s > 0 and math.isfinite(timeout_s)):
            raise PlanError(Setting("timeout_s"), f": must be a finite number > 0, got {timeout_s}")
        changes["timeout_s"] = timeout_s
    if overhead_ms is not None:
        if not (overhead_ms >= 0 and math.isfinite(overhead_ms)):
            raise PlanError(
                Setting("overhead_ms"), f": must be a finite number >= 0, got {overhead_ms}"
            )
        changes["overhead_ms"] = overhead_ms
    return replace(system, **changes)  # type: ignore[arg-type]


def describe_system(system: SystemSpec) -> str:
    """E.g. ``2 replicas × 32 workers (round robin), queue limit 256, timeout 10 s``."""
    replicas = f"{system.replicas} replica{'s' if system.replicas != 1 else ''}"
    balancer = f" ({system.balancer.replace('_', ' ')})" if system.replicas > 1 else ""
    overhead = f", overhead {system.overhead_ms:g} ms" if system.overhead_ms else ""
    return (
        f"{replicas} × {system.workers} workers{balancer}, queue limit {system.queue_limit}, "
        f"timeout {system.timeout_s:g} s{overhead}"
    )

"""The capacity search: the smallest system that meets every SLO in the busiest hour.

``abcsim plan week.parquet --find-capacity`` answers "how many workers does
each replica need for Tuesday 13:00–14:00?" — e.g. 1 × 27 meets every
target; 1 × 26 misses ``data_collection P95 612 ms > 500 ms``; and 27 workers
hold 1.18× the hour's traffic before a target is missed (18% headroom).

The search varies one dimension: workers per replica (the replicas fixed,
the scenario's or ``--replicas``), or — when ``--workers`` fixes the workers —
the number of replicas. More capacity never makes an FCFS system slower for
the same requests with the same service times (every trial uses the same
draws, :mod:`abcsim.plan.trial`), so the search doubles until a size passes
and then bisects between the last failure and it: about 2·log₂(answer) trials.
The answer is tight by construction — one less fails, and the report shows
why. Headroom is found the same way over ``--scale``-style traffic
multiples of the hour, to 1%.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from abcsim.errors import PlanError, Setting
from abcsim.plan.setup import PreparedPlan
from abcsim.plan.trial import BusyWindow, Trial, busiest_window, run_trial, sized
from abcsim.scenario.spec import Slo, SystemSpec

LIMITS = {"workers": 4096, "replicas": 1024}
"""The largest size searched in each dimension."""

MAX_SCALE = 64.0
HEADROOM_PRECISION = 0.01


@dataclass(frozen=True)
class Capacity:
    """The answer, the size one smaller (failing) and how much more traffic the answer holds."""

    dimension: str  # "workers" (per replica) or "replicas"
    answer: Trial
    smaller: Trial | None  # None when the answer is already 1
    headroom: float  # the largest traffic scale the answer meets (>= 1)
    window: BusyWindow
    trials: int


def find_capacity(
    window: BusyWindow,
    system: SystemSpec,
    slo: Slo,
    seed: int,
    *,
    dimension: str = "workers",
    scale: float = 1.0,
    progress: Callable[[Trial], None] | None = None,
) -> Capacity:
    """The smallest ``dimension`` meeting every target of ``slo`` in ``window`` at ``scale``."""
    if dimension not in LIMITS:
        raise ValueError(f"dimension must be workers or replicas, got {dimension!r}")
    if not window.events:
        raise PlanError(Setting("find_capacity"), ": the window holds no requests")
    tried: dict[int, Trial] = {}

    def trial(value: int) -> Trial:
        if value not in tried:
            candidate = sized(system, dimension, value)
            tried[value] = run_trial(window, candidate, slo, seed, scale=scale)
            if progress is not None:
                progress(tried[value])
        return tried[value]

    limit = LIMITS[dimension]
    other = system.replicas if dimension == "workers" else system.workers
    low, high = 0, 1  # low: the largest size known to fail (0: none)
    if not trial(1).passed:
        # Below the offered load the queue grows without bound: start doubling there.
        low, high = 1, max(2, min(limit, math.ceil(trial(1).offered / other)))
    while not trial(high).passed:
        if high >= limit:
            why = ", ".join(b.what for b in trial(high).breaches)
            raise PlanError(
                Setting("find_capacity"),
                f": no size up to {limit} {dimension} meets the SLOs in the "
                f"{window.label} (misses {why})",
            )
        low, high = high, min(limit, high * 2)
    while high - low > 1:
        middle = (low + high) // 2
        if trial(middle).passed:
            high = middle
        else:
            low = middle
    answer = trial(high)
    smaller = trial(high - 1) if high > 1 else None
    headroom = _headroom(window, sized(system, dimension, high), slo, seed, scale)
    return Capacity(dimension, answer, smaller, headroom / scale, window, len(tried))


def _headroom(window: BusyWindow, system: SystemSpec, slo: Slo, seed: int, scale: float) -> float:
    """The largest traffic scale (from ``scale`` up, to 1%) that ``system`` still meets."""
    good, bad = scale, scale * 2.0
    while run_trial(window, system, slo, seed, scale=bad).passed:
        good, bad = bad, bad * 2.0
        if good >= MAX_SCALE:
            return good
    while bad / good > 1.0 + HEADROOM_PRECISION:
        middle = math.sqrt(good * bad)
        if run_trial(window, system, slo, seed, scale=middle).passed:
            good = middle
        else:
            bad = middle
    return good


def plan_capacity(
    prepared: PreparedPlan,
    *,
    dimension: str = "workers",
    progress: Callable[[Trial], None] | None = None,
) -> Capacity:
    """``--find-capacity``: the busiest hour of the plan's slice, searched."""
    window = busiest_window(prepared)
    capacity = find_capacity(
        window,
        prepared.system,
        prepared.scenario.slo,
        prepared.seed,
        dimension=dimension,
        scale=prepared.scale,
        progress=progress,
    )
    return capacity

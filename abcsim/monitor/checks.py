"""Judging the watched series at the end of a replay: CPU, memory, and leaks.

The suite's resource targets, per agent process: under 80% CPU during peak
load, under 2 GB of resident memory (``ABC_MEMORY_LIMIT``), and no gradual
memory increase. From the monitor file, for each source:

* **peak CPU** — the CPU-seconds counter's rate over ``CPU_WINDOW_S`` (5 s),
  its highest value, as a share of the cores the process may use (a watched
  pid's CPU affinity; one core for a ``/metrics`` URL, a single Python agent
  process);
* **peak memory** — the highest resident bytes;
* **a possible deadlock** — every worker busy, requests in flight and nothing
  completing for 2 s or more (:mod:`abcsim.monitor.deadlock`);
* **a leak** — resident memory after warm-up (the first ``WARM_UP_SHARE`` of
  the run, 20%), fitted with the Theil–Sen slope and its 95% interval
  (``scipy.stats.theilslopes``): a robust trend, which the allocator's steps
  and a garbage collection do not bend. It is a leak when the whole interval
  is above zero *and* the fitted growth over the run is more than
  ``LEAK_MIN_GROWTH`` of the memory (2%) and ``LEAK_MIN_BYTES`` (4 MiB): a
  slope that small is no threat at any horizon a test runs. Reported in
  MB/hour, with the time to reach the memory limit at that slope.

Each check is a :class:`ResourceVerdict`: a line for the report, and whether
it breaches (exit 1, as an SLO does).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from abcsim.monitor.columns import CPU_CORES, CPU_SECONDS, RESIDENT_BYTES, UP, read_monitor
from abcsim.monitor.deadlock import find_deadlocks

CPU_WINDOW_S = 5.0
WARM_UP_SHARE = 0.2
LEAK_MIN_GROWTH = 0.02
LEAK_MIN_BYTES = 4 * 2**20
MB = 1e6
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class ResourceLimits:
    """The thresholds: share of the allowed cores, bytes of resident memory."""

    cpu_share: float = 0.8
    memory_bytes: float = 2 * 2**30


@dataclass(frozen=True)
class Leak:
    """A memory trend: its slope (bytes per second) and 95% interval, and whether it is one."""

    slope: float
    low: float
    high: float
    start_bytes: float
    end_bytes: float
    is_leak: bool


@dataclass(frozen=True)
class ResourceVerdict:
    source: str
    check: str  # "cpu", "memory", "leak", "gaps", "deadlock"
    line: str
    breached: bool


def resource_verdicts(
    frame: pd.DataFrame, limits: ResourceLimits, schedule_start: dt.datetime = _EPOCH
) -> list[ResourceVerdict]:
    """Every check of every source in a monitor frame; times are told from ``schedule_start``."""
    verdicts: list[ResourceVerdict] = []
    for source, rows in frame.groupby("source", observed=True, sort=False):
        name = str(source)
        for stuck in find_deadlocks(rows):
            line = f"{name}: {stuck.describe(schedule_start)}"
            verdicts.append(ResourceVerdict(name, "deadlock", line, True))
        up = rows[rows["metric"] == UP]
        down = int((up["value"] == 0).sum())
        if down:
            verdicts.append(
                ResourceVerdict(name, "gaps", f"{name}: {down} of {len(up)} samples failed "
                                f"(gaps in its series)", False)
            )  # fmt: skip
        cpu = series_of(rows, CPU_SECONDS)
        if len(cpu) >= 2:
            cores = series_of(rows, CPU_CORES)
            verdicts.append(_cpu_verdict(name, cpu, int(cores.max()) if len(cores) else 1, limits))
        memory = series_of(rows, RESIDENT_BYTES)
        if len(memory):
            verdicts.append(_memory_verdict(name, memory, limits))
            leak = find_leak(memory)
            if leak is not None:
                verdicts.append(_leak_verdict(name, leak, limits))
    return verdicts


def series_of(rows: pd.DataFrame, metric: str, by: str = "wall") -> pd.Series:
    """One unlabelled series of a source's rows, indexed by ``wall`` (epoch) or ``t``."""
    chosen = rows[(rows["metric"] == metric) & (rows["labels"] == "")]
    return pd.Series(chosen["value"].to_numpy(), index=chosen[by].to_numpy()).sort_index()


def peak_cpu_cores(cpu_seconds: pd.Series, window_s: float = CPU_WINDOW_S) -> float:
    """The highest rate of a CPU-seconds counter over any ``window_s``, in cores."""
    wall = cpu_seconds.index.to_numpy(dtype=float)
    used = cpu_seconds.to_numpy(dtype=float)
    best = 0.0
    j = 0
    for i in range(len(wall)):
        while wall[i] - wall[j] > window_s:
            j += 1
        span = wall[i] - wall[j]
        if span >= 0.5 * window_s and used[i] >= used[j]:  # a restart resets the counter
            best = max(best, (used[i] - used[j]) / span)
    if best == 0.0 and wall[-1] > wall[0] and used[-1] >= used[0]:
        best = (used[-1] - used[0]) / (wall[-1] - wall[0])  # a run shorter than the window
    return best


def _cpu_verdict(
    source: str, cpu: pd.Series, cores: int, limits: ResourceLimits
) -> ResourceVerdict:
    share = peak_cpu_cores(cpu) / cores
    breached = share > limits.cpu_share
    mark = ">" if breached else "<="
    line = (
        f"{source}: peak CPU {100 * share:.0f}% of {cores} core{'s' if cores > 1 else ''} "
        f"({CPU_WINDOW_S:g}-s rate) {mark} {100 * limits.cpu_share:.0f}%"
    )
    return ResourceVerdict(source, "cpu", line, breached)


def _memory_verdict(source: str, memory: pd.Series, limits: ResourceLimits) -> ResourceVerdict:
    peak = float(memory.max())
    breached = peak > limits.memory_bytes
    mark = ">" if breached else "<="
    line = f"{source}: peak memory {peak / MB:,.1f} MB {mark} {limits.memory_bytes / MB:,.0f} MB"
    return ResourceVerdict(source, "memory", line, breached)


def find_leak(memory: pd.Series) -> Leak | None:
    """The Theil–Sen trend of resident memory after warm-up; None if too few samples."""
    from scipy import stats  # type: ignore[import-untyped]  # slow to import; only needed here

    wall = memory.index.to_numpy(dtype=float)
    if len(wall) < 8:
        return None
    after = wall >= wall[0] + WARM_UP_SHARE * (wall[-1] - wall[0])
    x, y = wall[after] - wall[0], memory.to_numpy(dtype=float)[after]
    if len(x) < 6:
        return None
    slope, intercept, low, high = stats.theilslopes(y, x, alpha=0.95)
    start, end = intercept + slope * x[0], intercept + slope * x[-1]
    growth = slope * (x[-1] - x[0])
    big = growth > max(LEAK_MIN_BYTES, LEAK_MIN_GROWTH * float(np.median(y)))
    return Leak(float(slope), float(low), float(high), float(start), float(end), low > 0 and big)


def _leak_verdict(source: str, leak: Leak, limits: ResourceLimits) -> ResourceVerdict:
    per_hour = leak.slope * 3600 / MB
    interval = f"95% interval {leak.low * 3600 / MB:,.1f} to {leak.high * 3600 / MB:,.1f}"
    if not leak.is_leak:
        line = f"{source}: no memory leak (trend {per_hour:+,.1f} MB/hour, {interval})"
        return ResourceVerdict(source, "leak", line, False)
    left = limits.memory_bytes - leak.end_bytes
    hours = left / (leak.slope * 3600) if leak.slope > 0 else math.inf
    reach = (
        "already over it"
        if left <= 0
        else f"the {limits.memory_bytes / MB:,.0f} MB limit in {_duration(hours)}"
    )
    line = f"{source}: memory leak: {per_hour:+,.1f} MB/hour ({interval}); at that slope {reach}"
    return ResourceVerdict(source, "leak", line, True)


def _duration(hours: float) -> str:
    if hours < 1:
        return f"{hours * 60:.0f} min"
    if hours < 48:
        return f"{hours:.1f} h"
    return f"{hours / 24:.0f} days"


@dataclass(frozen=True)
class ResourceReport:
    """The resource checks of one monitored run, as the report prints them."""

    verdicts: tuple[ResourceVerdict, ...]

    @property
    def lines(self) -> list[str]:
        if not self.verdicts:
            return []
        return ["Resources:", *(f"  {v.line}" for v in self.verdicts)]

    @property
    def breaches(self) -> list[str]:
        return [f"resource breached: {v.line}" for v in self.verdicts if v.breached]


def judge_monitor(
    path: str | Path, limits: ResourceLimits, schedule_start: dt.datetime = _EPOCH
) -> ResourceReport:
    """The resource checks of a monitor file."""
    return ResourceReport(tuple(resource_verdicts(read_monitor(path), limits, schedule_start)))

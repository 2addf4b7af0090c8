"""What the HTML report draws of a monitored run: resource series, the leak trend, bursts.

A replay run with ``--monitor``/``--watch-pid`` leaves ``NAME.monitor.parquet``
beside its results (:mod:`abcsim.monitor`). The report finds it there and
draws, per watched source, resident memory and CPU (cores) on the same
time axis as the latency chart, with the Theil–Sen trend of the memory
after warm-up — dashed red when it is a leak, grey when not. The run's
failure bursts (:mod:`abcsim.results.bursts`) are shaded on the outcomes chart.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from abcsim.monitor.checks import find_leak, series_of
from abcsim.monitor.columns import CPU_SECONDS, RESIDENT_BYTES, monitor_path, read_monitor
from abcsim.results.bursts import failure_bursts

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Trend:
    """A straight memory trend from ``start`` to ``end`` (epoch seconds, MB)."""

    start_s: float
    end_s: float
    start_mb: float
    end_mb: float
    is_leak: bool


@dataclass(frozen=True)
class ResourceTrace:
    """One watched source's series, epoch seconds against MB and cores."""

    source: str
    memory_s: FloatArray
    memory_mb: FloatArray
    cpu_s: FloatArray  # the middle of each interval between samples
    cpu_cores: FloatArray
    trend: Trend | None


@dataclass(frozen=True)
class BurstMark:
    start_s: float  # epoch seconds
    end_s: float
    label: str


def resource_traces(results: str | Path, schedule_start: dt.datetime) -> tuple[ResourceTrace, ...]:
    """The traces of the monitor file beside ``results``; none if there is none."""
    path = monitor_path(results)
    if not path.exists():
        return ()
    frame = read_monitor(path)
    origin = schedule_start.timestamp()
    traces = []
    for source, rows in frame.groupby("source", observed=True, sort=False):
        memory = series_of(rows, RESIDENT_BYTES, by="t")
        cpu = series_of(rows, CPU_SECONDS, by="t")
        if memory.empty and cpu.empty:
            continue
        t_cpu, used = cpu.index.to_numpy(float), cpu.to_numpy(float)
        rate = np.diff(used) / np.maximum(np.diff(t_cpu), 1e-9) if len(t_cpu) > 1 else np.empty(0)
        traces.append(
            ResourceTrace(
                source=str(source),
                memory_s=origin + memory.index.to_numpy(float),
                memory_mb=memory.to_numpy(float) / 1e6,
                cpu_s=origin + (t_cpu[1:] + t_cpu[:-1]) / 2 if len(t_cpu) > 1 else np.empty(0),
                cpu_cores=np.where(rate >= 0, rate, np.nan),  # a restart resets the counter
                trend=_trend(memory, origin),
            )
        )
    return tuple(traces)


def _trend(memory: pd.Series, origin: float) -> Trend | None:
    leak = find_leak(memory)
    if leak is None:
        return None
    t = memory.index.to_numpy(float)
    span = t[-1] - t[0]
    first = t[0] + 0.2 * span  # after the warm-up the check leaves out
    return Trend(
        origin + first,
        origin + t[-1],
        leak.start_bytes / 1e6,
        leak.end_bytes / 1e6,
        leak.is_leak,
    )


def burst_marks(results: str | Path, schedule_start: dt.datetime) -> tuple[BurstMark, ...]:
    """The run's failure bursts as shaded spans, labelled with their share of the failures."""
    origin = schedule_start.timestamp()
    return tuple(
        BurstMark(
            origin + burst.start_t,
            origin + burst.end_t,
            f"{100 * burst.share:.0f}% of failures",
        )
        for burst in failure_bursts(results)
    )

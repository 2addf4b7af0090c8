"""What a capacity planner wants first from a schedule: how much, of what, and when.

:class:`ScheduleStats` accumulates chunk by chunk (from a running simulation or
from a file, batch by batch), keeping only counts and a per-second histogram,
so it works for any horizon. :func:`format_stats` renders it as text:
events by agent type and request type, the mean rate, the peak second and
minute with when they happen, and the busiest hour (sliding, as everywhere).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from abcsim.scenario.spec import REQUEST_TYPES
from abcsim.schedule.busiest import HOUR_S, busiest_label, busiest_span
from abcsim.schedule.slicing import Window


@dataclass(frozen=True)
class Peak:
    """The busiest window of one width: its count and when it starts."""

    width_s: int
    count: int
    start_t: float

    @property
    def rate(self) -> float:
        return self.count / self.width_s


class ScheduleStats:
    """Running totals of a schedule: counts by category and requests per second."""

    def __init__(self, start: dt.datetime, duration_s: float, agent_types: Sequence[str]) -> None:
        self.start = start
        self.duration_s = duration_s
        self.agent_types = tuple(agent_types)
        self.by_agent_type = np.zeros(len(self.agent_types), dtype=np.int64)
        self.by_request = np.zeros(len(REQUEST_TYPES), dtype=np.int64)
        self.per_second = np.zeros(max(1, math.ceil(duration_s)), dtype=np.int64)

    @property
    def events(self) -> int:
        return int(self.by_agent_type.sum())

    def add(
        self,
        t: npt.NDArray[np.float64],
        agent_type: npt.NDArray[np.integer],
        request: npt.NDArray[np.integer],
    ) -> None:
        """Count rows given as times and category codes."""
        self.by_agent_type += np.bincount(agent_type, minlength=self.by_agent_type.size)
        self.by_request += np.bincount(request, minlength=self.by_request.size)
        if t.size == 0:
            return
        second = np.clip(t.astype(np.int64), 0, self.per_second.size - 1)
        # count into the chunk's own span only: cost per chunk, not per horizon
        first = int(second.min())
        counts = np.bincount(second - first)
        self.per_second[first : first + counts.size] += counts

    def peak(self, width_s: int) -> Peak:
        """The busiest ``width_s`` seconds, sliding (:mod:`abcsim.schedule.busiest`)."""
        first, last = busiest_span(self.per_second, width_s)
        return Peak(last - first, int(self.per_second[first:last].sum()), float(first))

    def when(self, t: float) -> str:
        moment = self.start + dt.timedelta(seconds=t)
        return moment.strftime("%a %Y-%m-%d %H:%M:%S UTC")


def format_stats(stats: ScheduleStats) -> str:
    """The summary as text: volumes, shares, mean and peak rates, the busiest hour."""
    total = stats.events
    days = stats.duration_s / 86400.0
    lines = [f"{total:,} requests over {days:g} days from {stats.when(0.0)}"]
    lines.append(_shares("by agent type", stats.agent_types, stats.by_agent_type, total))
    lines.append(_shares("by request", REQUEST_TYPES, stats.by_request, total))
    mean = total / stats.duration_s if stats.duration_s else 0.0
    rates = [f"mean {mean:,.1f}/s"]
    for width, label in ((1, "second"), (60, "minute")):
        peak = stats.peak(width)
        rates.append(f"peak {label} {peak.rate:,.1f}/s at {stats.when(peak.start_t)}")
    lines.append("rates: " + "\n       ".join(rates))
    hour = stats.peak(HOUR_S)
    span = Window(hour.start_t, hour.start_t + hour.width_s)
    lines.append(f"{busiest_label(stats.start, span)}: {hour.rate:,.1f}/s")
    return "\n".join(lines)


def _shares(title: str, names: Sequence[str], counts: npt.NDArray[np.int64], total: int) -> str:
    width = max(len(n) for n in names)
    rows = [
        f"  {name:<{width}} {int(c):>14,} {100.0 * c / total if total else 0.0:6.1f}%"
        for name, c in zip(names, counts, strict=True)
    ]
    return f"{title}:\n" + "\n".join(rows)


def schedule_stats(path: str | Path) -> ScheduleStats:
    """Read a schedule file batch by batch into :class:`ScheduleStats`."""
    from abcsim.schedule.columns import category_codes
    from abcsim.schedule.parquet import iter_batches, read_meta

    meta = read_meta(path)
    stats = ScheduleStats(meta.start, meta.duration_s, meta.agent_types)
    for batch in iter_batches(path, ("t", "agent_type", "request")):
        stats.add(
            batch.column("t").to_numpy(),
            category_codes(batch.column("agent_type"), stats.agent_types, path),
            category_codes(batch.column("request"), REQUEST_TYPES, path),
        )
    return stats

"""Counts: requests per bin of time, the raw material of every stylized fact.

A schedule becomes counts per second (:func:`schedule_counts`); production
traffic arrives as a CSV of ``time,count`` rows — e.g. requests per minute
from an access log — (:func:`read_counts_csv`). Both are a :class:`Counts`:
a UTC start, a bin width and one integer per bin, so every fact is computed
the same way on a simulated week and on a real one.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from abcsim.errors import ScheduleError

IntArray = npt.NDArray[np.int64]
DAY = 86400


@dataclass(frozen=True)
class Counts:
    """``values[i]`` requests in ``[start + i·step_s, start + (i+1)·step_s)``."""

    label: str
    start: dt.datetime  # UTC
    step_s: int
    values: IntArray

    @property
    def duration_s(self) -> int:
        return self.step_s * int(self.values.size)

    @property
    def total(self) -> int:
        return int(self.values.sum())

    def per(self, step_s: int) -> Counts:
        """The same counts in bins of ``step_s`` (a multiple of this one's); a partial last bin
        is dropped."""
        if step_s % self.step_s:
            raise ValueError(f"{step_s} s bins from {self.step_s} s ones")
        k = step_s // self.step_s
        n = self.values.size // k
        return Counts(self.label, self.start, step_s, self.values[: n * k].reshape(n, k).sum(1))

    def index(self, when: dt.datetime) -> int:
        """The bin that holds ``when`` (may lie outside ``values``)."""
        return int((when - self.start).total_seconds() // self.step_s)

    def window(self, begin: dt.datetime, end: dt.datetime) -> IntArray | None:
        """The bins from ``begin`` up to ``end``, or None unless all of them are inside."""
        first, last = self.index(begin), self.index(end)
        if first < 0 or last > self.values.size or last <= first:
            return None
        return self.values[first:last]

    def full_days(self) -> list[dt.date]:
        """UTC dates whose whole day the counts cover."""
        first = (self.start + dt.timedelta(seconds=DAY - 1)).date()
        end = self.start + dt.timedelta(seconds=self.duration_s)
        days = []
        day = first
        while dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), dt.UTC) <= end:
            days.append(day)
            day += dt.timedelta(days=1)
        return days


def schedule_counts(path: str | Path) -> Counts:
    """A schedule file's requests per second."""
    from abcsim.schedule.stats import schedule_stats

    stats = schedule_stats(path)
    return Counts(Path(path).name, stats.start, 1, stats.per_second.astype(np.int64))


def read_counts_csv(path: str | Path) -> Counts:
    """``time,count`` rows (ISO 8601 times, UTC if naive; one row per bin, e.g. per minute).

    The bin width is the smallest step between rows; bins with no row count 0.
    A bad row is one error naming the file, the line and the field.
    """
    source = str(path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.reader(handle))
    except (OSError, UnicodeDecodeError) as exc:
        raise ScheduleError(f"{source}: cannot read: {exc}") from None
    if not rows or [c.strip().lower() for c in rows[0]] != ["time", "count"]:
        raise ScheduleError(f"{source}: header: must be time,count")
    times, counts = [], []
    for line, row in enumerate(rows[1:], 2):
        if not row:
            continue
        if len(row) != 2:
            raise ScheduleError(f"{source}: line {line}: needs 2 fields (time,count)")
        try:
            when = dt.datetime.fromisoformat(row[0].strip())
        except ValueError:
            raise ScheduleError(f"{source}: line {line}: time: not ISO 8601: {row[0]!r}") from None
        when = when.replace(tzinfo=dt.UTC) if when.tzinfo is None else when.astimezone(dt.UTC)
        try:
            count = int(row[1])
        except ValueError:
            raise ScheduleError(f"{source}: line {line}: count: not a whole number") from None
        if count < 0:
            raise ScheduleError(f"{source}: line {line}: count: must be >= 0, got {count}")
        times.append(when.timestamp())
        counts.append(count)
    if len(times) < 2:
        raise ScheduleError(f"{source}: needs at least two rows")
    seconds = np.asarray(times)
    order = np.argsort(seconds, kind="stable")
    seconds, values = seconds[order], np.asarray(counts, dtype=np.int64)[order]
    steps = np.diff(seconds)
    if (steps == 0).any():
        raise ScheduleError(f"{source}: time: the same time twice")
    step = round(float(steps.min()))
    if step < 1 or np.any(
        np.abs((seconds - seconds[0]) / step - np.round((seconds - seconds[0]) / step)) > 1e-6
    ):
        raise ScheduleError(f"{source}: time: rows are not on one grid of whole seconds")
    if not (60 % step == 0 or (step % 60 == 0 and 3600 % step == 0)):
        raise ScheduleError(
            f"{source}: time: rows {step} s apart; bins must divide a minute or an hour "
            "(1 s, 10 s, 60 s, 5 min, ...)"
        )
    slots = np.round((seconds - seconds[0]) / step).astype(np.int64)
    binned = np.zeros(int(slots[-1]) + 1, dtype=np.int64)
    binned[slots] = values
    start = dt.datetime.fromtimestamp(seconds[0], dt.UTC)
    return Counts(Path(path).name, start, step, binned)

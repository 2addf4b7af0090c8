"""The busiest stretch of a schedule: one search for the summary, the planner and the benches.

"The busiest hour" must mean one thing wherever it is printed: the 3,600
whole seconds, **sliding** (they may start at any second), holding the most
requests. An hour aligned to the clock can cut a burst in two — the New York
open at 13:30 UTC splits between 13:00–14:00 and 14:00–15:00 — and would
understate the peak that capacity is for. A stretch shorter than the width
asked for is its own busiest stretch, and is labelled as what it is
(:func:`busiest_label`), never as an hour.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import numpy as np
import numpy.typing as npt

from abcsim.schedule.slicing import Window, iter_slice

HOUR_S = 3600

IntArray = npt.NDArray[np.int64]


def per_second_counts(path: str | Path, window: Window) -> IntArray:
    """Requests of ``window`` in each whole second from its start (read block by block)."""
    bins = max(1, math.ceil(window.length))
    counts = np.zeros(bins, np.int64)
    for block in iter_slice(path, window):
        second = np.clip((block.t - window.start).astype(np.int64), 0, bins - 1)
        counts += np.bincount(second, minlength=bins)
    return counts


def busiest_span(per_second: IntArray, width_s: int = HOUR_S) -> tuple[int, int]:
    """``[first, last)`` seconds of the sliding ``width_s`` with the most requests.

    The first such stretch wins a tie; a series shorter than ``width_s`` is
    its own busiest stretch.
    """
    width = max(1, min(width_s, per_second.size))
    cumulative = np.concatenate([[0], np.cumsum(per_second)])
    first = int(np.argmax(cumulative[width:] - cumulative[:-width]))
    return first, first + width


def busiest_window(path: str | Path, window: Window, width_s: int = HOUR_S) -> Window:
    """The busiest sliding ``width_s`` seconds of ``window`` in the schedule at ``path``."""
    first, last = busiest_span(per_second_counts(path, window), width_s)
    return Window(window.start + first, min(window.start + last, window.end))


def span_label(start: dt.datetime, at: float, length: float) -> str:
    """E.g. ``Tue 13:00-14:00 UTC`` or ``Tue 00:00-Wed 00:00 UTC`` (schedule seconds)."""
    a = start + dt.timedelta(seconds=at)
    b = start + dt.timedelta(seconds=at + length)
    end = f"{b:%H:%M}" if a.date() == b.date() else f"{b:%a %H:%M}"
    return f"{a:%a %H:%M}-{end} UTC"


def busiest_label(start: dt.datetime, span: Window, width_s: int = HOUR_S) -> str:
    """``busiest hour Tue 13:04-14:04 UTC``, or ``whole window ...`` when it is shorter."""
    what = "busiest hour" if width_s == HOUR_S else f"busiest {width_s:,} s"
    if span.length < width_s:
        what = "whole window"
    return f"{what} {span_label(start, span.start, span.length)}"

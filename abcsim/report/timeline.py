"""The run over time: a results frame reduced to time bins, small enough to draw a week.

A replay of the ABC week holds 50 million rows; a chart needs a few thousand
points per line. So every chart of the HTML report and the PNGs is drawn from
bins of the schedule's clock (``schedule_start + t``, UTC), never from rows:
requests per minute by agent type, outcomes per bin, and the P50/P95/P99 of
latency per request type and of the replayer's send lag. For the week that is
1-minute arrival bins (8,640) and 5-minute latency bins (1,728); for ten
minutes of smoke's afternoon (about 10,000 requests), 1-second and 10-second bins.

Bin widths come from a ladder of round durations (1 s … 1 day), aligned to the
UTC clock, the narrowest that keeps both the number of bins and the rows per
bin in bounds. Everything is vectorised: one ``bincount`` per count, one
``lexsort`` for all percentiles of all groups.

Percentiles use the rank rule of :mod:`abcsim.results.stats` (Locust's: the
value at 0-based position ``int(n·p)`` of the sorted values) over *answered*
requests (outcome ``ok``); refusals, errors, timeouts and drops are counted as
outcomes, not ranked. A bin's percentile is drawn only when it holds more than
``1/(1 − p)`` values — fewer, and its "P99" is just its largest value.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from abcsim.results.columns import OUTCOMES
from abcsim.scenario.spec import REQUEST_TYPES

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

BIN_WIDTHS_S: tuple[float, ...] = (
    *(1.0, 2.0, 5.0, 10.0, 15.0, 30.0),
    *(60.0 * m for m in (1, 2, 5, 10, 15, 30)),
    *(3600.0 * h for h in (1, 2, 3, 6, 12, 24)),
)
"""The round widths a bin may have, narrowest first."""

ARRIVAL_BINS = 10_000
"""At most this many arrival bins: a 6-day week at one minute (8,640)."""

ARRIVAL_ROWS_PER_BIN = 5.0
"""At least this many requests in an average arrival bin: fewer draws noise, not a pattern."""

LATENCY_BINS = 2_000
"""At most this many latency bins (a week at 5 minutes): 18 lines of them stay light in SVG."""

LATENCY_ROWS_PER_BIN = 100.0
"""At least this many answered requests in an average latency bin, so a P99 has some to rank."""

LATENCY_FRACTIONS: tuple[float, ...] = (0.5, 0.95, 0.99)
LAG_FRACTIONS: tuple[float, ...] = (0.5, 0.99, 1.0)


@dataclass(frozen=True)
class Bins:
    """``count`` bins of ``width_s`` seconds from ``start_s`` (Unix seconds, UTC)."""

    start_s: float
    width_s: float
    count: int

    def start_of(self, i: float) -> float:
        """Unix seconds at ``i`` bins from the first start (``i + 0.5``: a bin's middle)."""
        return self.start_s + self.width_s * i

    def index(self, epoch_s: FloatArray) -> IntArray:
        """The bin of each instant; instants outside the bins go to the first or last."""
        raw = np.floor((epoch_s - self.start_s) / self.width_s)
        index: IntArray = np.clip(np.nan_to_num(raw, nan=0.0), 0, self.count - 1).astype(np.int64)
        return index

    @property
    def label(self) -> str:
        """``"5 s"``, ``"1 min"``, ``"2 h"``."""
        w = self.width_s
        if w < 60:
            return f"{w:g} s"
        return f"{w / 60:g} min" if w < 3600 else f"{w / 3600:g} h"


def choose_bins(
    first_s: float, last_s: float, rows: int, *, most: int, rows_per_bin: float
) -> Bins:
    """The narrowest ladder width giving at most ``most`` bins over ``[first_s, last_s)`` and
    ``rows_per_bin`` rows in an average one, aligned to the UTC clock (1-minute bins on minutes)."""
    span = max(last_s - first_s, 1.0)
    wanted = max(span / most, span * rows_per_bin / max(rows, 1))
    width = next((w for w in BIN_WIDTHS_S if w >= wanted), BIN_WIDTHS_S[-1])
    start = math.floor(first_s / width) * width
    count = max(math.ceil((last_s - start) / width), 1)
    return Bins(start, width, count)


def category_codes(column: pd.Series, names: tuple[str, ...]) -> IntArray:
    """Codes of a categorical (or string) column in the order of ``names``; -1 for others."""
    values = column.astype("category").cat.set_categories(list(names))
    codes: IntArray = np.asarray(values.cat.codes, dtype=np.int64)
    return codes


def binned_counts(groups: IntArray, bins: IntArray, n_groups: int, n_bins: int) -> IntArray:
    """``[group, bin]`` row counts; rows of group -1 are left out."""
    keep = groups >= 0
    cell = groups[keep] * n_bins + bins[keep]
    counts: IntArray = np.bincount(cell, minlength=n_groups * n_bins).reshape(n_groups, n_bins)
    return counts


@dataclass(frozen=True)
class Percentiles:
    """Percentiles per group and bin: ``values[group, fraction, bin]``, NaN where too few."""

    groups: tuple[str, ...]
    fractions: tuple[float, ...]
    values: FloatArray
    counts: IntArray  # [group, bin]: how many values each was ranked from


def binned_percentiles(
    values: FloatArray,
    groups: IntArray,
    bins: IntArray,
    names: tuple[str, ...],
    n_bins: int,
    fractions: tuple[float, ...],
) -> Percentiles:
    """Percentiles of ``values`` in every (group, bin) cell, by one sort of all of them.

    Rows whose value is NaN or whose group is -1 are left out.
    """
    keep = (groups >= 0) & ~np.isnan(values)
    cell = groups[keep] * n_bins + bins[keep]
    kept = values[keep]
    order = np.lexsort((kept, cell))  # by cell, then by value within it
    ranked = kept[order]
    counts = np.bincount(cell, minlength=len(names) * n_bins)
    starts = np.cumsum(counts) - counts
    out = np.full((len(names) * n_bins, len(fractions)), np.nan)
    for j, p in enumerate(fractions):
        # Locust's rank int(n·p), capped at n - 1 (results.stats.percentile_ranks), per cell.
        rank = np.minimum((counts * p).astype(np.int64), counts - 1)
        enough = counts > (1.0 / (1.0 - p) if p < 1.0 else 0.0)
        out[enough, j] = ranked[(starts + rank)[enough]]
    shaped = out.reshape(len(names), n_bins, len(fractions)).transpose(0, 2, 1)
    return Percentiles(names, fractions, shaped, counts.reshape(len(names), n_bins))


@dataclass(frozen=True)
class Timeline:
    """What the report draws over time, all in bins of the schedule's UTC clock."""

    arrival_bins: Bins
    agent_types: tuple[str, ...]
    arrivals: IntArray  # [agent type, arrival bin] requests scheduled
    outcomes: IntArray  # [outcome (OUTCOMES order), arrival bin]
    latency_bins: Bins
    latency_ms: Percentiles  # per request type, answered requests only
    send_lag_ms: Percentiles | None  # None for a plan: a model sends on time

    @property
    def arrivals_per_minute(self) -> FloatArray:
        return np.asarray(self.arrivals * (60.0 / self.arrival_bins.width_s), dtype=np.float64)


def build_timeline(
    frame: pd.DataFrame,
    schedule_start: dt.datetime,
    window: tuple[float, float],
    *,
    speed: float = 1.0,
    measured: bool = True,
) -> Timeline:
    """Bin a results frame over ``window`` (schedule seconds from ``schedule_start``).

    ``measured``: a replay, whose ``sent - t`` is the generator's lag (divided
    by ``speed``: ``sent`` and ``t`` are schedule seconds, the lag is real).
    """
    epoch = schedule_start.timestamp()
    first, last = epoch + window[0], epoch + window[1]
    t = frame["t"].to_numpy(dtype=np.float64)
    when = epoch + t
    outcome = category_codes(frame["outcome"], OUTCOMES)
    ok = outcome == OUTCOMES.index("ok")

    arrival_bins = choose_bins(
        first, last, len(frame), most=ARRIVAL_BINS, rows_per_bin=ARRIVAL_ROWS_PER_BIN
    )
    arrival_index = arrival_bins.index(when)
    agent_types = tuple(str(c) for c in frame["agent_type"].astype("category").cat.categories)
    agent_type = category_codes(frame["agent_type"], agent_types)
    arrivals = binned_counts(agent_type, arrival_index, len(agent_types), arrival_bins.count)
    outcomes = binned_counts(outcome, arrival_index, len(OUTCOMES), arrival_bins.count)

    latency_bins = choose_bins(
        first, last, int(ok.sum()), most=LATENCY_BINS, rows_per_bin=LATENCY_ROWS_PER_BIN
    )
    latency_index = latency_bins.index(when)
    request = category_codes(frame["request"], REQUEST_TYPES)
    latency = np.where(ok, frame["latency"].to_numpy(dtype=np.float64) * 1000.0, np.nan)
    latency_ms = binned_percentiles(
        latency, request, latency_index, REQUEST_TYPES, latency_bins.count, LATENCY_FRACTIONS
    )
    send_lag_ms = None
    if measured:
        lag = (frame["sent"].to_numpy(dtype=np.float64) - t) * 1000.0 / speed
        every = np.zeros(len(frame), dtype=np.int64)
        send_lag_ms = binned_percentiles(
            lag, every, latency_index, ("all",), latency_bins.count, LAG_FRACTIONS
        )
    return Timeline(
        arrival_bins, agent_types, arrivals, outcomes, latency_bins, latency_ms, send_lag_ms
    )

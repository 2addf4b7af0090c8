"""The run second by second, as Locust's ``_stats_history.csv`` would have logged it.

Locust appends one row to ``PREFIX_stats_history.csv`` every second while it
runs. abcsim has no need to poll while replaying: the results file holds every
request's scheduled time and latency, so :func:`stats_history` rebuilds the
same rows after the run, and exactly. For a one-hour replay of Monday's
London–New York overlap that is 3,601 rows, one per second from 0 to 3,600.

Row ``k`` (``k = 0 … ceil(duration)``) describes the run at second ``k``: the
requests whose response ended before then (a request never sent counts at its
scheduled time). Its columns are those Locust writes, with Locust's meanings:

* **User Count** — requests in flight at that instant (sent, not yet
  answered). abcsim has no Locust users; in an open-loop replay the
  concurrency is what the target actually feels, as a Locust user's one
  request in flight is.
* **Requests/s, Failures/s** — Locust's *current* rates: the mean per second
  over the ten whole seconds ending two seconds before the row
  (``[k - 12, k - 2)``, clipped at the start), which Locust uses so that a
  second still filling up does not drag the rate down.
* **Percentiles** — by default (Aggregated rows only) *cumulative* since the
  start, as Locust writes them; with ``full_history`` (Locust's
  ``--csv-full-history``: a row per endpoint too) over the trailing ten
  seconds ``[k - 10, k)``, Locust's "current" window. "N/A" before the first
  request.
* **Total …** — cumulative counts, median, average, min, max and content
  size since the start.

The percentiles here are whole milliseconds, as the CSV prints them, and still
exact: rounding is monotone, so the k-th smallest rounded value is the rounded
k-th smallest value. That lets each row be answered from a histogram of
rounded values (updated second by second) rather than by re-sorting
everything seen so far.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from abcsim.results.stats import (
    AGGREGATED,
    PERCENTILES,
    BoolArray,
    Endpoints,
    FloatArray,
    IntArray,
    RequestTable,
    ResponseTime,
    RunClock,
    percentile_ranks,
    request_table,
)

CURRENT_WINDOW_S = 10
"""Locust's window for "current" percentiles and rates."""

RATE_LAG_S = 2
"""Locust leaves the last two seconds out of its current rates."""

_BLOCK = 1024


@dataclass(frozen=True)
class HistoryRow:
    """One row of ``_stats_history.csv``: one endpoint (or Aggregated) at one second of the run."""

    second: int  # run seconds since the start
    users: int  # requests in flight
    method: str
    name: str
    rps: float
    fail_per_s: float
    percentiles_ms: tuple[int, ...] | None  # None before the first answer ("N/A")
    requests: int
    failures: int
    median_ms: int
    avg_ms: float
    min_ms: float  # NaN until a response time is known
    max_ms: float
    avg_bytes: float


class _Ranks:
    """A histogram of value codes that finds the k-th smallest in O(√bins), not O(bins).

    Two levels: counts per code and per block of 1,024 codes, so a query
    scans the block totals, then one block.
    """

    def __init__(self, bins: int) -> None:
        blocks = max(1, -(-bins // _BLOCK))
        self.fine = np.zeros(blocks * _BLOCK, dtype=np.int64)
        self.coarse = np.zeros(blocks, dtype=np.int64)
        self.n = 0

    def add(self, codes: IntArray, sign: int = 1) -> None:
        if codes.size:
            np.add.at(self.fine, codes, sign)
            np.add.at(self.coarse, codes // _BLOCK, sign)
            self.n += sign * int(codes.size)

    def kth(self, ranks: IntArray) -> IntArray:
        """The code of the value at each 0-based rank (all ranks < n)."""
        cumulative = np.cumsum(self.coarse)
        block = np.searchsorted(cumulative, ranks, side="right")
        out = np.empty(ranks.size, dtype=np.int64)
        for i, (b, rank) in enumerate(zip(block.tolist(), ranks.tolist(), strict=True)):
            before = int(cumulative[b] - self.coarse[b])
            inside = np.cumsum(self.fine[b * _BLOCK : (b + 1) * _BLOCK])
            out[i] = b * _BLOCK + int(np.searchsorted(inside, rank - before, side="right"))
        return out


def _per_second(seconds: IntArray, k: int, weights: FloatArray | None = None) -> FloatArray:
    """Sums per second (counts without weights), with a 0 in front: ``prefix[k]`` = before k."""
    sums = np.bincount(seconds, weights=weights, minlength=k).astype(np.float64)
    prefix: FloatArray = np.concatenate([[0.0], np.cumsum(sums)])
    return prefix


def _current_rate(prefix: FloatArray, k: int) -> float:
    high = k - RATE_LAG_S
    low = max(k - RATE_LAG_S - CURRENT_WINDOW_S, 0)
    if high <= low:
        return 0.0
    return float(prefix[high] - prefix[low]) / (high - low)


def _in_flight(table: RequestTable, rows: int) -> IntArray:
    sent = ~np.isnan(table.start)
    starts = np.sort(table.start[sent])
    ends = np.sort(table.end[sent])
    at = np.arange(rows, dtype=np.float64)
    # sent at or before k, minus answered at or before k
    flight: IntArray = np.searchsorted(starts, at, side="right") - np.searchsorted(
        ends, at, side="right"
    )
    return flight


def _group_rows(
    method: str,
    name: str,
    table: RequestTable,
    mask: BoolArray | slice,
    seconds: int,
    users: IntArray,
    current_percentiles: bool,
) -> list[HistoryRow]:
    second = np.clip(np.floor(table.end[mask]), 0, seconds - 1).astype(np.int64)
    ms = table.ms[mask]
    failed = table.failed[mask]
    timed = ~np.isnan(ms)
    t_second, t_ms = second[timed], ms[timed]

    requests = _per_second(second, seconds)
    failures = _per_second(second[failed], seconds)
    n_timed = _per_second(t_second, seconds)
    ms_sum = _per_second(t_second, seconds, t_ms)
    size_sum = _per_second(second, seconds, table.bytes[mask])
    low = np.full(seconds, np.inf)
    high = np.full(seconds, -np.inf)
    np.minimum.at(low, t_second, t_ms)
    np.maximum.at(high, t_second, t_ms)
    low, high = np.minimum.accumulate(low), np.maximum.accumulate(high)

    levels, codes = np.unique(np.rint(t_ms).astype(np.int64), return_inverse=True)
    codes = codes.reshape(-1)
    order = np.argsort(t_second, kind="stable")
    bounds = np.searchsorted(t_second[order], np.arange(seconds + 1))

    def codes_of(s: int) -> IntArray:
        picked: IntArray = codes[order[bounds[s] : bounds[s + 1]]]
        return picked

    def query(ranks: _Ranks) -> tuple[int, ...]:
        if ranks.n == 0:
            return (0,) * len(PERCENTILES)  # Locust's value with no response times
        found = levels[ranks.kth(percentile_ranks(ranks.n))]
        return tuple(int(v) for v in found)

    everything, window = _Ranks(levels.size), _Ranks(levels.size)
    rows: list[HistoryRow] = []
    cumulative: tuple[int, ...] = query(everything)
    current = cumulative
    for k in range(seconds + 1):
        if k >= 1:
            arrived = codes_of(k - 1)
            everything.add(arrived)
            if arrived.size:
                cumulative = query(everything)
            if current_percentiles:
                window.add(arrived)
                left = codes_of(k - 1 - CURRENT_WINDOW_S) if k > CURRENT_WINDOW_S else arrived[:0]
                window.add(left, -1)
                if arrived.size or left.size:
                    current = query(window)
        total = int(requests[k])
        shown = current if current_percentiles else cumulative
        # N/A until something was answered: a failure has no time (and is not 0 ms)
        timed_so_far = (window if current_percentiles else everything).n
        count = int(n_timed[k])
        rows.append(
            HistoryRow(
                second=k,
                users=int(users[k]),
                method=method,
                name=name,
                rps=_current_rate(requests, k),
                fail_per_s=_current_rate(failures, k),
                percentiles_ms=shown if timed_so_far else None,
                requests=total,
                failures=int(failures[k]),
                median_ms=cumulative[0],
                avg_ms=float(ms_sum[k]) / count if count else 0.0,
                min_ms=float(low[k - 1]) if count else math.nan,
                max_ms=float(high[k - 1]) if count else math.nan,
                avg_bytes=float(size_sum[k]) / total if total else 0.0,
            )
        )
    return rows


def stats_history(
    frame: pd.DataFrame,
    endpoints: Endpoints,
    *,
    clock: RunClock | None = None,
    duration_s: float | None = None,
    response_time: ResponseTime = "latency",
    full_history: bool = False,
) -> list[HistoryRow]:
    """Rows of ``_stats_history.csv`` rebuilt from a results frame; see the module docstring.

    In Locust's order: each second's endpoint rows (``full_history`` only,
    sorted by name and method), then its Aggregated row. Pass the same
    ``duration_s`` as to :func:`~abcsim.results.digest.results_stats`.
    """
    clock = clock or RunClock()
    table = request_table(frame, endpoints, clock=clock, response_time=response_time)
    duration = table.last_end() if duration_s is None else float(duration_s)
    seconds = max(1, math.ceil(duration))
    users = _in_flight(table, seconds + 1)
    groups: list[tuple[str, str, BoolArray | slice]] = []
    if full_history:
        order = sorted(range(len(table.keys)), key=lambda g: (table.keys[g][1], table.keys[g][0]))
        for g in order:
            mask = table.group == g
            if mask.any():
                groups.append((*table.keys[g], mask))
    groups.append(("", AGGREGATED, slice(None)))
    per_group = [
        _group_rows(method, name, table, mask, seconds, users, current_percentiles=full_history)
        for method, name, mask in groups
    ]
    return [group[k] for k in range(seconds + 1) for group in per_group]

"""Failure bursts: when a run's errors came together, in plain words and figures.

"2% errors" hides whether the system failed a little all along or fell over
for 40 s at the New York open. :func:`failure_bursts` counts, second by second
of the run, the requests answered and the failures (``http_error``,
``timeout``, ``connection_error``; the replayer's own drops are not the
system's failures), and finds the seconds whose failures stand out from the
run's usual failure rate by more than ``Z`` binomial standard deviations —
the usual rate being that of the seconds outside the bursts found so far
(three rounds), so a burst does not raise the bar it is measured against. Elevated
seconds no more than ``JOIN_S`` apart form one burst; a burst needs at least
``MIN_FAILURES`` failures. Each :class:`Burst` says when (schedule time, so
UTC), how long, how many of the run's failures it holds, and which kinds
(request type and error) they were::

    94% of the 1,002 failures came in the 20 s from Tue 14:30:05 to 14:30:25 UTC
    (HTTP 503 on data_collection 88%, HTTP 503 on risk_analysis 12%)
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from abcsim.results.digest import not_sent
from abcsim.results.parquet import open_results, read_results_meta

Z = 4.0
JOIN_S = 2
MIN_FAILURES = 5
FAILED = ("http_error", "timeout", "connection_error")
_COLUMNS = ["t", "request", "outcome", "error"]


@dataclass(frozen=True)
class Burst:
    """Failures that came together: from ``start_t`` to ``end_t`` (schedule seconds)."""

    start_t: float
    end_t: float
    failures: int
    share: float  # of the run's failures
    run_failures: int
    kinds: tuple[tuple[str, int], ...]  # "HTTP 503 on data_collection", most first

    def describe(self, schedule_start: dt.datetime) -> str:
        """The burst in plain words: share, count, when, how long, which kinds."""
        begin = schedule_start + dt.timedelta(seconds=self.start_t)
        end = schedule_start + dt.timedelta(seconds=self.end_t)
        kinds = ", ".join(
            f"{kind} {100 * count / self.failures:.0f}%" for kind, count in self.kinds[:3]
        )
        return (
            f"{100 * self.share:.0f}% of the {self.run_failures:,} failures came in the "
            f"{self.end_t - self.start_t:,.0f} s from {begin:%a %H:%M:%S} to {end:%H:%M:%S} UTC "
            f"({kinds})"
        )


def failure_bursts(path: str | Path) -> list[Burst]:
    """The failure bursts of a results file (see the module doc); none if it has few failures."""
    meta = read_results_meta(path)
    counts = _PerSecond(meta.window[0], meta.speed)
    for batch in open_results(path).iter_batches(columns=_COLUMNS):
        counts.add(batch.to_pandas())
    return counts.bursts()


def frame_bursts(frame: pd.DataFrame, window_start: float = 0.0, speed: float = 1.0) -> list[Burst]:
    """The failure bursts of a results frame (columns t, request, outcome, error)."""
    counts = _PerSecond(window_start, speed)
    counts.add(frame)
    return counts.bursts()


class _PerSecond:
    """Requests and failures per second of run time, and the failures' kinds per second."""

    def __init__(self, window_start: float, speed: float) -> None:
        self.start, self.speed = window_start, speed
        self.sent = np.zeros(0, np.int64)
        self.failed = np.zeros(0, np.int64)
        self.kinds: dict[int, Counter[str]] = {}

    def add(self, frame: pd.DataFrame) -> None:
        frame = frame[~not_sent(frame)]  # a stop's unsent events and cut-off requests
        outcome = frame["outcome"].astype(str).to_numpy()
        answered = (outcome != "dropped") & frame["t"].notna().to_numpy()
        second = np.floor((frame["t"].to_numpy(np.float64) - self.start) / self.speed)
        second = np.maximum(second, 0).astype(np.int64)
        self._grow(int(second.max()) + 1 if len(second) else 0)
        np.add.at(self.sent, second[answered], 1)
        failed = np.isin(outcome, FAILED)
        np.add.at(self.failed, second[failed], 1)
        labels = frame["error"].astype(str) + " on " + frame["request"].astype(str)
        for s, kind in zip(second[failed].tolist(), labels[failed].tolist(), strict=True):
            self.kinds.setdefault(s, Counter())[kind] += 1

    def _grow(self, size: int) -> None:
        if size > self.sent.size:
            self.sent = np.concatenate([self.sent, np.zeros(size - self.sent.size, np.int64)])
            self.failed = np.concatenate([self.failed, np.zeros(size - self.failed.size, np.int64)])

    def bursts(self) -> list[Burst]:
        total = int(self.failed.sum())
        if total < MIN_FAILURES:
            return []
        elevated = np.zeros(self.sent.size, bool)
        for _ in range(3):  # the usual rate, from the seconds that are not (yet) a burst
            quiet = ~elevated
            rate = self.failed[quiet].sum() / max(int(self.sent[quiet].sum()), 1)
            rate = min(max(rate, 1.0 / max(int(self.sent.sum()), 1)), 0.999)
            spread = np.sqrt(self.sent * rate * (1.0 - rate))
            elevated = (self.failed >= 2) & (self.failed > self.sent * rate + Z * spread + 1.0)
        return [self._burst(a, b, total) for a, b in _runs(elevated) if self._enough(a, b)]

    def _enough(self, first: int, last: int) -> bool:
        return int(self.failed[first : last + 1].sum()) >= MIN_FAILURES

    def _burst(self, first: int, last: int, total: int) -> Burst:
        failures = int(self.failed[first : last + 1].sum())
        kinds: Counter[str] = Counter()
        for second in range(first, last + 1):
            kinds.update(self.kinds.get(second, Counter()))
        return Burst(
            start_t=self.start + first * self.speed,
            end_t=self.start + (last + 1) * self.speed,
            failures=failures,
            share=failures / total,
            run_failures=total,
            kinds=tuple(kinds.most_common()),
        )


def _runs(elevated: npt.NDArray[np.bool_]) -> list[tuple[int, int]]:
    """Runs of elevated seconds, joined across gaps of at most ``JOIN_S`` seconds."""
    seconds = np.flatnonzero(elevated)
    runs: list[tuple[int, int]] = []
    for second in seconds.tolist():
        if runs and second - runs[-1][1] <= JOIN_S + 1:
            runs[-1] = (runs[-1][0], second)
        else:
            runs.append((second, second))
    return runs

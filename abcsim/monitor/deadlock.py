"""A possible deadlock: every worker busy, requests in flight, and nothing completing.

Agents that call agents can take every worker of a service with requests
that each wait for another worker: then nothing moves until timeouts fire.
From a scraped ``/metrics`` series, a sample is *stuck* when the workers
busy equal the workers (``*_workers_busy`` ≥ ``*_workers``), requests are in
flight (``*_in_flight`` > 0) and no request completed since the sample
before (the count of a ``*_request_duration_seconds`` histogram did not
move). Stuck samples spanning at least ``MIN_STUCK_S`` seconds are a possible
deadlock, reported with when it began (schedule time, so UTC) and how long
nothing moved. Any exporter that names its series with those suffixes is
read the same way; a source without them is not judged.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

MIN_STUCK_S = 2.0
_SUFFIXES = {
    "busy": "_workers_busy",
    "workers": "_workers",
    "in_flight": "_in_flight",
    "completed": "_request_duration_seconds_count",
}


@dataclass(frozen=True)
class Stuck:
    """A stretch in which nothing completed with every worker busy."""

    start_t: float  # schedule seconds
    seconds: float
    workers: int
    in_flight: int

    def describe(self, schedule_start: dt.datetime) -> str:
        began = schedule_start + dt.timedelta(seconds=self.start_t)
        return (
            f"possible deadlock from {began:%a %H:%M:%S} UTC for {self.seconds:.0f} s: all "
            f"{self.workers} workers busy, {self.in_flight} requests in flight, none completed"
        )


def find_deadlocks(rows: pd.DataFrame) -> list[Stuck]:
    """The stuck stretches of one source's samples (see the module doc)."""
    table = _by_sample(rows)
    if table is None or len(table) < 2:
        return []
    done = table["completed"].to_numpy()
    stuck = np.zeros(len(table), bool)
    stuck[1:] = (
        (table["busy"].to_numpy()[1:] >= table["workers"].to_numpy()[1:])
        & (table["in_flight"].to_numpy()[1:] > 0)
        & (done[1:] <= done[:-1])
    )
    t = table.index.to_numpy(dtype=float)
    found = []
    i = 0
    while i < len(t):
        if not stuck[i]:
            i += 1
            continue
        j = i
        while j + 1 < len(t) and stuck[j + 1]:
            j += 1
        begun = t[i - 1]  # nothing completed since the sample before the first stuck one
        if t[j] - begun >= MIN_STUCK_S:
            window = table.iloc[i : j + 1]
            found.append(
                Stuck(
                    float(begun),
                    float(t[j] - begun),
                    int(window["workers"].max()),
                    int(window["in_flight"].max()),
                )
            )
        i = j + 1
    return found


def _by_sample(rows: pd.DataFrame) -> pd.DataFrame | None:
    """busy, workers, in_flight and completed (summed over labels), one row per sample t."""
    columns = {}
    for key, suffix in _SUFFIXES.items():
        chosen = rows[rows["metric"].astype(str).str.endswith(suffix)]
        if key == "workers":  # *_workers, not *_workers_busy
            chosen = chosen[~chosen["metric"].astype(str).str.endswith("_workers_busy")]
        if chosen.empty:
            return None
        columns[key] = chosen.groupby("t")["value"].sum()
    return pd.DataFrame(columns).dropna()

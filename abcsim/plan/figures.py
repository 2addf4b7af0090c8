"""How loaded the system was: utilisation, queue length and CPU, for the run and its busiest hour.

Beside the latency table a planner wants to know *why*: on Tuesday the 32
workers of each replica were 41% busy on average but 88% in the busiest hour
(13:00–14:00 UTC, the London–New York overlap with the 08:30 New York data
release), where the queue held 3.2 requests on average and 140 at its peak.

Figures are gathered per second of the window as blocks are decided (so a
whole week needs a few arrays of 600,000 seconds, not the requests), each
request counted at its arrival second:

* **utilisation** — worker-seconds used ÷ worker-seconds available
  (replicas × workers × seconds);
* **CPU per replica** — busy workers per replica on average, in cores: a
  worker computing a risk figure keeps one core busy (an estimate: a worker
  waiting on a database would not);
* **mean queue length** — per replica, time-average requests waiting:
  seconds spent queueing ÷ seconds (Little's law, L = λW);
* **peak queue length** — the most requests waiting in one replica's queue
  seen by any request's join.

The busiest hour is the 3,600 s (whole seconds, sliding) with the most arrivals
(:func:`abcsim.schedule.busiest.busiest_span`, as everywhere else).
Its theory line compares the simulated waits with Erlang C (M/M/c) and
Allen–Cunneen (G/G/c) for that hour's arrival rate, spell moments and
arrival variability, per replica, each workflow stage counted as a visit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from abcsim.plan.analytic import allen_cunneen_wait, erlang_c, mmc_mean_wait
from abcsim.plan.fcfs import Served
from abcsim.plan.predict import TIMEOUT, PlanRows
from abcsim.plan.workload import Workload
from abcsim.schedule.busiest import busiest_span

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class LoadFigures:
    """The load of one stretch of the run."""

    label: str
    start: float  # schedule seconds
    seconds: float
    requests: int
    refused: int
    timed_out: int
    utilisation: float
    cpu_cores: float  # per replica
    mean_queue: float  # per replica
    peak_queue: int
    visits: int
    waited: int  # requests that queued at least once
    wait_s: float  # seconds spent queueing, all requests
    spell_mean_s: float
    spell_cs2: float
    arrival_ca2: float


@dataclass(frozen=True)
class Theory:
    """Closed-form waits for a stretch, per replica, beside the simulated ones."""

    arrival_rate: float  # visits per second per replica
    utilisation: float
    erlang_c: float  # M/M/c probability of waiting
    mmc_wait_s: float
    allen_cunneen_wait_s: float
    simulated_waited: float  # share of requests that queued
    simulated_wait_s: float  # mean wait per visit


class LoadCounter:
    """Per-second sums over a window, fed decided blocks; figures for any stretch of it."""

    def __init__(self, start: float, seconds: float, *, replicas: int, workers: int) -> None:
        self.start = start
        self.seconds = seconds
        self.replicas = replicas
        self.workers = workers
        bins = max(1, math.ceil(seconds)) + 1  # scaled copies may land up to a second past the end
        self._arrivals = np.zeros(bins, np.int64)
        self._refused = np.zeros(bins, np.int64)
        self._timed_out = np.zeros(bins, np.int64)
        self._visits = np.zeros(bins, np.int64)
        self._waited = np.zeros(bins, np.int64)
        self._busy = np.zeros(bins)
        self._busy2 = np.zeros(bins)
        self._wait = np.zeros(bins)
        self._gap = np.zeros(bins)
        self._gap2 = np.zeros(bins)
        self._gaps = np.zeros(bins, np.int64)
        self._peak = np.zeros(bins, np.int64)
        self._last_t = math.nan

    def add(self, work: Workload, served: Served, rows: PlanRows) -> None:
        if not len(work):
            return
        bins = self._arrivals.size
        second = np.clip((work.t - self.start).astype(np.int64), 0, bins - 1)
        admitted = ~served.refused
        self._arrivals += np.bincount(second, minlength=bins)
        self._refused += np.bincount(second[~admitted], minlength=bins)
        self._timed_out += np.bincount(second[rows.outcome == TIMEOUT], minlength=bins)
        later = work.later.sum(axis=1) if work.later.size else np.zeros(0)
        later2 = (work.later**2).sum(axis=1) if work.later.size else np.zeros(0)
        busy = work.first.copy()
        busy2 = work.first**2
        busy[work.workflow] += later
        busy2[work.workflow] += later2
        visits = np.ones(len(work), np.int64)
        visits[work.workflow] += work.later.shape[1]
        s = second[admitted]
        self._visits += np.bincount(s, weights=visits[admitted], minlength=bins).astype(np.int64)
        self._busy += np.bincount(s, weights=busy[admitted], minlength=bins)
        self._busy2 += np.bincount(s, weights=busy2[admitted], minlength=bins)
        self._wait += np.bincount(s, weights=rows.wait[admitted], minlength=bins)
        self._waited += np.bincount(s[served.queue[admitted] > 0], minlength=bins)
        np.maximum.at(self._peak, second, served.queue)
        times = work.t if math.isnan(self._last_t) else np.concatenate([[self._last_t], work.t])
        gaps = np.diff(times)
        gap_second = second[-gaps.size :] if gaps.size else second[:0]
        self._gap += np.bincount(gap_second, weights=gaps, minlength=bins)
        self._gap2 += np.bincount(gap_second, weights=gaps**2, minlength=bins)
        self._gaps += np.bincount(gap_second, minlength=bins)
        self._last_t = float(work.t[-1])

    def busiest_hour(self) -> tuple[int, int]:
        """[first, last) second of the busiest hour (the whole window if shorter)."""
        return busiest_span(self._arrivals)

    def figures(self, label: str, first: int = 0, last: int | None = None) -> LoadFigures:
        """The figures of seconds ``[first, last)`` of the window (default: all of it)."""
        stop = self._arrivals.size if last is None else last
        span = slice(first, stop)
        seconds = min(float(stop - first), self.seconds) if last is not None else self.seconds
        seconds = max(seconds, 1e-9)
        busy = float(self._busy[span].sum())
        visits = int(self._visits[span].sum())
        mean = busy / visits if visits else math.nan
        cs2 = (float(self._busy2[span].sum()) / visits) / mean**2 - 1.0 if visits else math.nan
        gaps = int(self._gaps[span].sum())
        gap_mean = float(self._gap[span].sum()) / gaps if gaps else math.nan
        ca2 = (float(self._gap2[span].sum()) / gaps) / gap_mean**2 - 1.0 if gaps > 1 else math.nan
        per_replica = seconds * self.replicas
        return LoadFigures(
            label=label,
            start=self.start + first,
            seconds=seconds,
            requests=int(self._arrivals[span].sum()),
            refused=int(self._refused[span].sum()),
            timed_out=int(self._timed_out[span].sum()),
            utilisation=busy / (per_replica * self.workers),
            cpu_cores=busy / per_replica,
            mean_queue=float(self._wait[span].sum()) / per_replica,
            peak_queue=int(self._peak[span].max()) if stop > first else 0,
            visits=visits,
            waited=int(self._waited[span].sum()),
            wait_s=float(self._wait[span].sum()),
            spell_mean_s=mean,
            spell_cs2=cs2,
            arrival_ca2=ca2,
        )


def theory(figures: LoadFigures, replicas: int, workers: int) -> Theory | None:
    """Erlang C and Allen–Cunneen for a stretch's rates (None if idle or overloaded)."""
    if not figures.visits or not math.isfinite(figures.spell_mean_s):
        return None
    lam = figures.visits / figures.seconds / replicas
    mu = 1.0 / figures.spell_mean_s
    rho = lam / (workers * mu)
    if rho >= 1.0:
        return None
    ca2 = figures.arrival_ca2 if math.isfinite(figures.arrival_ca2) else 1.0
    admitted = figures.requests - figures.refused
    return Theory(
        arrival_rate=lam,
        utilisation=rho,
        erlang_c=erlang_c(workers, lam / mu),
        mmc_wait_s=mmc_mean_wait(lam, mu, workers),
        allen_cunneen_wait_s=allen_cunneen_wait(
            lam, figures.spell_mean_s, workers, ca2, figures.spell_cs2
        ),
        simulated_waited=figures.waited / admitted if admitted else math.nan,
        simulated_wait_s=figures.wait_s / figures.visits,
    )

"""Long single-queue runs of the fast path, streamed block by block, for the theory tests."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from abcsim.plan.fcfs import FcfsModel
from abcsim.plan.workload import workload_from_arrays

FloatArray = npt.NDArray[np.float64]
BLOCK = 500_000
BATCHES = 50
"""Batch means: 50 consecutive batches of n/50 requests (20,000 or more, far longer than
the queue's memory at these loads), nearly independent, so their spread gives the
standard error of the mean wait."""


@dataclass(frozen=True)
class QueueRun:
    """What a run of n Poisson arrivals to c workers measured."""

    n: int
    mean_wait: float
    wait_se: float  # standard error of the mean wait, by batch means (BATCHES batches)
    p95_response: float
    little_l: float  # time-average number in the system over [0, T], T the last arrival
    little_lambda_w: float  # (arrivals / T) × mean response time


def service_times(kind: str, rng: np.random.Generator, n: int) -> FloatArray:
    """Mean-1 service times: ``exponential``, ``fixed`` or ``lognormal:SIGMA``."""
    if kind == "exponential":
        return rng.exponential(1.0, n)
    if kind == "fixed":
        return np.ones(n)
    name, _, sigma = kind.partition(":")
    assert name == "lognormal", kind
    s = float(sigma)
    return rng.lognormal(-s * s / 2.0, s, n)


def service_second_moment(kind: str) -> float:
    """E[S²] of :func:`service_times`' distribution (mean 1)."""
    if kind == "exponential":
        return 2.0
    if kind == "fixed":
        return 1.0
    s = float(kind.partition(":")[2])
    return float(np.exp(s * s))


def run_queue(*, rate: float, workers: int, service: str, n: int, seed: int) -> QueueRun:
    """n Poisson arrivals at ``rate`` through ``workers`` FCFS workers, no queue limit.

    Module-level and picklable: the theory tests run several in parallel processes.
    """
    rng = np.random.default_rng(seed)
    model = FcfsModel(workers=workers, queue_limit=2**62)
    responses = np.empty(n)
    ends = np.empty(n)
    waits = np.empty(n)
    clock = 0.0
    done = 0
    for first in range(0, n, BLOCK):
        size = min(BLOCK, n - first)
        t = clock + np.cumsum(rng.exponential(1.0 / rate, size))
        clock = float(t[-1])
        spells = service_times(service, rng, size)
        for work, served in model.feed(workload_from_arrays(t, spells)):
            ends[done : done + len(work)] = served.end
            responses[done : done + len(work)] = served.end - work.t
            waits[done : done + len(work)] = served.end - work.t - work.first
            done += len(work)
    assert done == n and not model.finish(), "without workflows every block is done at once"
    batches = np.array([b.mean() for b in np.array_split(waits, BATCHES)])
    horizon = clock
    # ∫₀ᵀ N(t) dt: each request contributes its time in the system before T.
    inside = float(responses.sum() - np.maximum(ends - horizon, 0.0).sum())
    rank = int(0.95 * n)
    return QueueRun(
        n=n,
        mean_wait=float(waits.mean()),
        wait_se=float(batches.std(ddof=1) / np.sqrt(BATCHES)),
        p95_response=float(np.partition(responses, rank)[rank]),
        little_l=inside / horizon,
        little_lambda_w=n / horizon * float(responses.mean()),
    )

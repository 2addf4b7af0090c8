"""One trial: the busiest hour of a schedule on one size of system at one traffic scale.

The capacity search and the sweep ask the same question many times — does
Tuesday's busiest hour (13:00–14:00 UTC, the London–New York overlap) meet
every SLO on 2 replicas × 24 workers? at 1.3× the traffic? — so the hour is
found and read into memory once (:func:`busiest_window`) and each trial
(:func:`run_trial`) models it afresh, in memory, with no results file. A
trial starts :data:`WARMUP_S` before the hour so the queue is as loaded as
the run up to it would leave it, and judges only the requests scheduled
inside the hour. Every trial draws its service times from the same seed, so
sizes are compared on the same requests with the same times (common random
numbers): a size passes or fails because of its capacity, not its luck.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from abcsim.plan.engine import decide
from abcsim.plan.predict import HTTP_ERROR, OK, plan_frame
from abcsim.plan.setup import PreparedPlan
from abcsim.results.slo import Breach, check_slos
from abcsim.results.stats import exact_percentiles, to_ms
from abcsim.scenario.spec import Slo, SystemSpec
from abcsim.schedule.busiest import busiest_label
from abcsim.schedule.busiest import busiest_window as busiest_window_of
from abcsim.schedule.slicing import EventBlock, Window, iter_slice, scaled_in_order

WARMUP_S = 900.0
"""Modelled before the busiest hour, unjudged: its queue carries into the hour."""


@dataclass(frozen=True)
class BusyWindow:
    """The busiest hour of a plan's slice, with the warm-up before it, in memory."""

    hour: Window
    start: float  # where modelling starts (the warm-up's start)
    blocks: tuple[EventBlock, ...]
    label: str

    @property
    def events(self) -> int:
        return sum(len(b) for b in self.blocks)


def busiest_window(prepared: PreparedPlan) -> BusyWindow:
    """The busiest 3,600 s of the slice (the whole slice if shorter), with its warm-up."""
    hour = busiest_window_of(prepared.schedule, prepared.window)
    start = max(prepared.window.start, hour.start - WARMUP_S)
    blocks = tuple(b for b in iter_slice(prepared.schedule, Window(start, hour.end)) if len(b))
    return BusyWindow(hour, start, blocks, busiest_label(prepared.meta.start, hour))


@dataclass(frozen=True)
class Trial:
    """How one size at one scale did in the busiest hour."""

    replicas: int
    workers: int
    scale: float
    requests: int
    offered: float  # Erlangs: worker-seconds asked for per second
    utilisation: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    error_rate: float
    breaches: tuple[Breach, ...]
    request_p95_ms: dict[str, float] = field(default_factory=dict)  # the SLO'd request types

    @property
    def passed(self) -> bool:
        return not self.breaches

    @property
    def size(self) -> str:
        return f"{self.replicas} × {self.workers}"


def run_trial(
    window: BusyWindow, system: SystemSpec, slo: Slo, seed: int, *, scale: float = 1.0
) -> Trial:
    """Model the warm-up and the hour on ``system`` at ``scale``; judge the hour."""
    hour = window.hour
    judged = []
    busy = offered = 0.0
    for done in decide(scaled_in_order(window.blocks, scale), system, seed):
        inside = done.work.t >= hour.start
        if not inside.any():
            continue
        admitted = inside & (done.rows.outcome != HTTP_ERROR)
        offered += float(done.work.busy[inside].sum())
        busy += float(done.rows.service[admitted].sum())
        judged.append((done.work, done.rows, inside))
    frame = plan_frame((w.take(m), r.take(m)) for w, r, m in judged)
    # answered requests only, as every report counts them: a refusal is an error, not a 0 ms
    answered = frame["outcome"].cat.codes.to_numpy() == OK
    latency = frame["latency"].to_numpy(dtype=np.float64)[answered]
    p50, p95, p99 = exact_percentiles(to_ms(latency), (0.5, 0.95, 0.99))
    failed = int((~answered).sum())
    requests = frame["request"].to_numpy()[answered]
    request_p95 = {
        request: float(exact_percentiles(to_ms(latency[requests == request]), (0.95,))[0])
        for request, _ in slo.p95_ms
    }
    seconds = max(hour.length, 1e-9)
    return Trial(
        replicas=system.replicas,
        workers=system.workers,
        scale=scale,
        requests=len(frame),
        offered=offered / seconds,
        utilisation=busy / (seconds * system.replicas * system.workers),
        p50_ms=float(p50),
        p95_ms=float(p95),
        p99_ms=float(p99),
        error_rate=failed / len(frame) if len(frame) else math.nan,
        breaches=tuple(check_slos(slo, frame)),
        request_p95_ms=request_p95,
    )


def sized(system: SystemSpec, dimension: str, value: int) -> SystemSpec:
    """``system`` with ``value`` replicas or workers per replica."""
    return replace(system, **{dimension: value})  # type: ignore[arg-type]

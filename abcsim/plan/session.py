"""A whole plan as the CLI runs it: model the slice and stream the predicted rows to a file.

``abcsim plan week.parquet --window 'Tue 00:00..Wed 00:00' --replicas 2``
predicts Tuesday on two replicas. :func:`run_plan` streams the slice block by
block through the model (:func:`abcsim.plan.engine.decide`) into a results
file (``source = plan``) — memory is bounded by a block and the per-second
load counters, not by the week — and returns what only a model knows:
utilisation, mean and peak queue length and a CPU estimate per replica, for
the whole run and its busiest hour. At a replay's ``--speed`` the slice is
compressed as the replay compresses it, so a plan and a replay of the same
``--speed`` and ``--scale`` model and measure the same requests at the same
moments (joined on ``event_id``). The report stage
(:func:`abcsim.report.report` with ``planned=``) prints them beside the
replay's own summary and SLO verdict.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from pathlib import Path

from abcsim.plan.engine import decide
from abcsim.plan.figures import LoadCounter, LoadFigures
from abcsim.plan.predict import plan_batch
from abcsim.plan.setup import PreparedPlan
from abcsim.plan.system import describe_system
from abcsim.results import ResultsMeta, ResultsWriter
from abcsim.schedule.busiest import busiest_label, span_label
from abcsim.schedule.slicing import EventBlock, Window, iter_slice


@dataclass(frozen=True)
class PlanRun:
    """What a plan modelled: where its results went and how loaded the system was."""

    prepared: PreparedPlan
    results: Path
    events: int
    elapsed_s: float
    whole: LoadFigures
    busiest: LoadFigures | None  # None when the window is no longer than an hour


def run_plan(prepared: PreparedPlan, out: str | Path) -> PlanRun:
    """Model the slice and write ``out``; see the module docstring."""
    window = prepared.window
    system = prepared.system
    speed = prepared.speed
    counter = LoadCounter(
        window.start, window.length / speed, replicas=system.replicas, workers=system.workers
    )
    began = time.perf_counter()
    events = 0
    blocks = iter_slice(prepared.schedule, window, scale=prepared.scale)
    if speed != 1.0:
        blocks = (compressed(block, window.start, speed) for block in blocks)
    with ResultsWriter(out, plan_meta(prepared)) as writer:
        for done in decide(blocks, system, prepared.seed):
            rows = plan_batch(
                done.work, done.rows, prepared.meta.agent_types, origin=window.start, speed=speed
            )
            writer.write(rows)
            counter.add(done.work, done.served, done.rows)
            events += len(done.work)
    elapsed = time.perf_counter() - began
    start = prepared.meta.start
    whole = counter.figures(f"whole run ({span_label(start, window.start, window.length)})")
    first, last = counter.busiest_hour()
    busiest = None
    if speed == 1.0 and last - first < window.length:
        span = Window(window.start + first, window.start + last)
        busiest = counter.figures(busiest_label(start, span), first, last)
    return PlanRun(prepared, Path(out), events, elapsed, whole, busiest)


def compressed(block: EventBlock, origin: float, speed: float) -> EventBlock:
    """``block`` with its times compressed ``speed`` times towards ``origin``, as a replay
    at ``--speed`` sends them."""
    t = origin + (block.t - origin) / speed
    return EventBlock(
        block.event_id, t, block.agent_id, block.agent_type, block.request, block.size
    )


def plan_meta(prepared: PreparedPlan) -> ResultsMeta:
    """The results file's metadata: a model of the system, over the plan's window."""
    window = prepared.window
    return ResultsMeta(
        source="plan",
        target=f"model: {describe_system(prepared.system)}",
        scenario_name=prepared.scenario.name,
        scenario_text=prepared.meta.scenario_text,
        seed=prepared.seed,
        schedule_start=prepared.meta.start,
        wall_start=dt.datetime.now(dt.UTC),
        window=(window.start, window.end),
        speed=prepared.speed,
        scale=prepared.scale,
    )

"""Running the model: schedule blocks in, decided requests out.

For each block of the schedule (65,536 requests, a few minutes of a busy
Tuesday) the engine draws the service times (:mod:`abcsim.plan.workload`),
feeds the fast FCFS model (:mod:`abcsim.plan.fcfs`) and hands back each block
once every request in it has finished, with its results columns
(:mod:`abcsim.plan.predict`). Memory is bounded by the block, as for the
simulation and the replay. ``reference=True`` runs the SimPy model instead
(whole slice at once; slow — for checking and benchmarks).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from abcsim.plan.fcfs import FcfsModel, Served
from abcsim.plan.predict import PlanRows, plan_rows
from abcsim.plan.reference import ReferenceModel
from abcsim.plan.workload import ServiceDraws, Workload
from abcsim.scenario.spec import SystemSpec
from abcsim.schedule.slicing import EventBlock


@dataclass(frozen=True)
class Decided:
    """One block of requests with what the model decided for each."""

    work: Workload
    served: Served
    rows: PlanRows


def decide(
    blocks: Iterable[EventBlock], system: SystemSpec, seed: int, *, reference: bool = False
) -> Iterator[Decided]:
    """Every request of ``blocks`` (in time order) through the model of ``system``."""
    draws = ServiceDraws(system, seed)
    limits = (system.timeout_s, system.overhead_ms / 1000.0)
    if reference:
        works = [draws.workload(block) for block in blocks]
        if not works:
            return
        whole = concat_workloads(works)
        served = ReferenceModel(
            replicas=system.replicas,
            workers=system.workers,
            queue_limit=system.queue_limit,
            balancer=system.balancer,
        ).serve(whole)
        yield Decided(whole, served, plan_rows(whole, served, *limits))
        return
    model = FcfsModel(
        replicas=system.replicas,
        workers=system.workers,
        queue_limit=system.queue_limit,
        balancer=system.balancer,
    )
    for block in blocks:
        for work, served in model.feed(draws.workload(block)):
            yield Decided(work, served, plan_rows(work, served, *limits))
    for work, served in model.finish():
        yield Decided(work, served, plan_rows(work, served, *limits))


def concat_workloads(works: list[Workload]) -> Workload:
    """Several workloads as one, in the order given."""
    return Workload(
        event_id=np.concatenate([w.event_id for w in works]),
        t=np.concatenate([w.t for w in works]),
        agent_type=np.concatenate([w.agent_type for w in works]),
        request=np.concatenate([w.request for w in works]),
        first=np.concatenate([w.first for w in works]),
        workflow=np.concatenate([w.workflow for w in works]),
        later=np.concatenate([w.later for w in works]),
    )

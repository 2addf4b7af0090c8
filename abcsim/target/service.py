"""The service-time model: how long each request holds a worker.

A ``risk_analysis`` of one position takes a lognormal time with the scenario's
median (200 ms) and P95 (600 ms); a batch job's 1,000-position request adds
``per_item_ms`` for each position beyond the first. A ``multi_agent_workflow``
is four stages — data, strategy, risk, execution — each drawn from its own
type's distribution and each served by a worker in turn.

Pure and seedable: each request type draws from its own
:class:`numpy.random.Generator`, spawned from one seed, so the same seed gives
each type the same sequence of service times whatever the other types' traffic
(which request of a type gets which time depends only on the order they
arrive). The capacity planner reads
the same :class:`~abcsim.scenario.spec.SystemSpec`, so the target is an M/G/c
system whose parameters the planner knows exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from abcsim.scenario.spec import WORKFLOW_STAGES, ServiceTime, SystemSpec


@dataclass(frozen=True)
class Stage:
    """One spell on a worker: which request type's distribution it was drawn from, and how long."""

    request: str
    seconds: float


def stage_requests(request: str) -> tuple[str, ...]:
    """The request types a request is served as: itself, or a workflow's four stages."""
    return WORKFLOW_STAGES if request == "multi_agent_workflow" else (request,)


def draw_ms(service: ServiceTime, size: int, rng: np.random.Generator) -> float:
    """One service time in ms for a request of ``size`` items (size 1 is the plain lognormal)."""
    # Always draw, even when sigma is 0 (a fixed time): the stream then stays aligned
    # whatever the distribution, so changing one type's spread never reshuffles another's.
    base = float(rng.lognormal(math.log(service.median_ms), service.sigma))
    if service.sigma == 0.0:
        base = service.median_ms  # exp(log(x)) is not always exactly x
    return base + service.per_item_ms * max(size - 1, 0)


class ServiceModel:
    """Draws the stages of each request from a scenario's ``[system]`` service times."""

    def __init__(self, system: SystemSpec, seed: int | np.random.SeedSequence) -> None:
        sequence = (
            seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
        )
        self._service = dict(system.service)
        # One stream per request type: a burst of batch risk runs leaves the times the
        # data requests draw unchanged.
        self._rngs = {
            request: np.random.default_rng(child)
            for request, child in zip(
                self._service, sequence.spawn(len(self._service)), strict=True
            )
        }

    def stages(self, request: str, size: int) -> tuple[Stage, ...]:
        """The worker spells of one request, in the order they are served."""
        return tuple(
            Stage(stage, draw_ms(self._service[stage], size, self._rngs[stage]) / 1000.0)
            for stage in stage_requests(request)
        )

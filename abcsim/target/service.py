"""The target's service times: the worker spells of each request as it arrives.

The distribution itself — lognormal or gamma by median and P95, plus
``per_item_ms`` per item beyond the first, a workflow as its four stages —
lives in :mod:`abcsim.scenario.service`, shared with the capacity planner, so
the target is a system whose parameters the planner knows exactly. Here the
target draws one request at a time: a ``risk_analysis`` for 10 positions
arriving now gets one spell on a worker; a ``multi_agent_workflow`` gets four
(data, strategy, risk, execution), each from its own type's stream.

Pure and seedable: each request type draws from its own
:class:`numpy.random.Generator`, spawned from one seed, so the same seed gives
each type the same sequence of service times whatever the other types' traffic
(which request of a type gets which time depends only on the order they
arrive).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from abcsim.scenario.service import draw_ms, service_streams, stage_requests
from abcsim.scenario.spec import SystemSpec

__all__ = ["ServiceModel", "Stage", "draw_ms", "stage_requests"]


@dataclass(frozen=True)
class Stage:
    """One spell on a worker: which request type's distribution it was drawn from, and how long."""

    request: str
    seconds: float


class ServiceModel:
    """Draws the stages of each request from a scenario's ``[system]`` service times."""

    def __init__(self, system: SystemSpec, seed: int | np.random.SeedSequence) -> None:
        self._service = dict(system.service)
        self._rngs = service_streams(system, seed)

    def stages(self, request: str, size: int) -> tuple[Stage, ...]:
        """The worker spells of one request, in the order they are served."""
        return tuple(
            Stage(stage, draw_ms(self._service[stage], size, self._rngs[stage]) / 1000.0)
            for stage in stage_requests(request)
        )

"""The target's service times: the worker spells of each request as it arrives.

The distribution itself — lognormal or gamma by median and P95, plus
``per_item_ms`` per item beyond the first, a workflow as its four stages —
lives in :mod:`abcsim.scenario.service`, shared with the capacity planner, so
the target is a system whose parameters the planner knows exactly. Here each
request gets its spells as it arrives: a ``risk_analysis`` for 10 positions
arriving now gets one spell on a worker; a ``multi_agent_workflow`` gets four
(data, strategy, risk, execution), each from its own type's stream. A type's
times are drawn :data:`DRAWN_AHEAD` (256) at a time and handed out in arrival
order — one numpy call per 256 requests — and are the same numbers one draw
per request would give.

Pure and seedable: each request type draws from its own
:class:`numpy.random.Generator`, spawned from one seed, so the same seed gives
each type the same sequence of service times whatever the other types' traffic
(which request of a type gets which time depends only on the order they
arrive).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from abcsim.scenario.service import draw_ms, sample_ms, service_streams, stage_requests
from abcsim.scenario.spec import ServiceTime, SystemSpec

__all__ = ["ServiceModel", "Stage", "draw_ms", "stage_requests"]

DRAWN_AHEAD = 256
"""Service times each type draws at once: one numpy call per 256 requests, not one
per request, where numpy's per-call cost is most of the draw's."""


@dataclass(frozen=True)
class Stage:
    """One spell on a worker: which request type's distribution it was drawn from, and how long."""

    request: str
    seconds: float


class _Stream:
    """One request type's service times, in the order its requests arrive.

    The times are drawn :data:`DRAWN_AHEAD` at a time with
    :func:`~abcsim.scenario.service.sample_ms`, whose draws are the same numbers
    as one :func:`~abcsim.scenario.service.draw_ms` per request, so each request
    gets the time it would have got drawn alone (and the planner's time for it).
    """

    def __init__(self, service: ServiceTime, rng: np.random.Generator) -> None:
        self._service = service
        self._rng = rng
        self._ahead: list[float] = []  # one-item times, the next at the end

    def draw_ms(self, size: int) -> float:
        """The next request's service time in ms for ``size`` items (as ``draw_ms``)."""
        if not self._ahead:
            ones = np.ones(DRAWN_AHEAD, dtype=np.int64)
            self._ahead = sample_ms(self._service, ones, self._rng).tolist()[::-1]
        return self._ahead.pop() + self._service.per_item_ms * max(size - 1, 0)


class ServiceModel:
    """Draws the stages of each request from a scenario's ``[system]`` service times."""

    def __init__(self, system: SystemSpec, seed: int | np.random.SeedSequence) -> None:
        rngs = service_streams(system, seed)
        self._streams = {
            request: _Stream(service, rngs[request]) for request, service in system.service
        }

    def stages(self, request: str, size: int) -> tuple[Stage, ...]:
        """The worker spells of one request, in the order they are served."""
        return tuple(
            Stage(stage, self._streams[stage].draw_ms(size) / 1000.0)
            for stage in stage_requests(request)
        )

"""The service-time distribution: how long each request holds a worker.

A ``risk_analysis`` of one position takes a lognormal time with the scenario's
median (200 ms) and P95 (600 ms) — or a gamma with them, if the scenario says
``distribution = "gamma"``; a batch job's 1,000-position request adds
``per_item_ms`` for each position beyond the first. A ``multi_agent_workflow``
is four stages — data, strategy, risk, execution — each drawn from its own
type's distribution and each served by a worker in turn.

Both the reference target (256 times of a type at once, handed out as its
requests arrive) and the capacity planner (a whole schedule at once) draw with
:func:`sample_ms`, so the target is a system whose parameters the planner
knows exactly; :func:`draw_ms` is the same draw for a single request.
Each request type draws from its own :class:`numpy.random.Generator`
(:func:`service_streams`), spawned from one seed: the same seed gives each
type the same sequence of service times whatever the other types' traffic,
and numpy's vectorised draws are the same numbers as one-at-a-time draws, so
the planner given the target's seed gives each request the time the target
drew for it, as long as the requests of each type arrived in schedule order.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from abcsim.scenario.spec import WORKFLOW_STAGES, ServiceTime, SystemSpec

WORKFLOW = "multi_agent_workflow"


def stage_requests(request: str) -> tuple[str, ...]:
    """The request types a request is served as: itself, or a workflow's four stages."""
    return WORKFLOW_STAGES if request == WORKFLOW else (request,)


def draw_ms(service: ServiceTime, size: int, rng: np.random.Generator) -> float:
    """One service time in ms for a request of ``size`` items (size 1 is the plain distribution).

    The same number :func:`sample_ms` would give this request in its turn: the
    one-request reference that the target's and the planner's block draws match.
    """
    if service.fixed or service.distribution == "lognormal":
        # Always draw, even for a fixed time: see sample_ms.
        base = float(rng.lognormal(math.log(service.median_ms), service.sigma))
        if service.fixed:
            base = service.median_ms
    else:
        shape, scale = service.gamma
        base = float(rng.gamma(shape, scale))
    return base + service.per_item_ms * max(size - 1, 0)


def sample_ms(
    service: ServiceTime, sizes: npt.NDArray[np.integer], rng: np.random.Generator
) -> npt.NDArray[np.float64]:
    """Service times in ms for requests of the given sizes, drawn in order from ``rng``.

    The same numbers, in the same order, as one :func:`draw_ms` per request.
    """
    n = int(sizes.size)
    if service.fixed or service.distribution == "lognormal":
        # Always draw, even for a fixed time: the stream then stays aligned whatever
        # the distribution, so changing one type's spread never reshuffles another's.
        base = rng.lognormal(math.log(service.median_ms), service.sigma, n)
        if service.fixed:
            base = np.full(n, service.median_ms)  # exp(log(x)) is not always exactly x
    else:
        shape, scale = service.gamma
        base = rng.gamma(shape, scale, n)
    extra = np.maximum(sizes.astype(np.float64) - 1.0, 0.0)
    ms: npt.NDArray[np.float64] = base + service.per_item_ms * extra
    return ms


def service_streams(
    system: SystemSpec, seed: int | np.random.SeedSequence
) -> dict[str, np.random.Generator]:
    """One generator per request type with a service time, spawned from ``seed``.

    One stream per type: a burst of batch risk runs leaves the times the data
    requests draw unchanged.
    """
    sequence = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    requests = [request for request, _ in system.service]
    return {
        request: np.random.default_rng(child)
        for request, child in zip(requests, sequence.spawn(len(requests)), strict=True)
    }


def service_seed(seed: int) -> np.random.SeedSequence:
    """The root of the service-time streams of a target (or plan) run with ``seed``.

    The reference target spawns three children from its seed — service times,
    faults, payloads — and draws service times from the first; a plan given the
    same seed starts from the same root.
    """
    return np.random.SeedSequence(seed).spawn(3)[0]

"""The workload: the schedule's requests with the worker time each will need.

The planner sees the London open as 40,000 arrivals, each already holding its
service time: a ``data_collection`` for 20 symbols arriving at t = 13:30:00.120
needs 44 ms on a worker; a ``multi_agent_workflow`` needs four spells (data,
strategy, risk, execution), each queued for separately. The times are drawn
here, vectorised, from the scenario's ``[system]`` distributions, one stream
per request type as the reference target draws them
(:mod:`abcsim.scenario.service`): a workflow takes its stage times from the
stages' streams at its arrival, as the target does, and a request that will
be refused still draws (the target draws before it queues), so given the
target's seed each request gets the time the target gave it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from abcsim.scenario.service import WORKFLOW, sample_ms, service_seed, service_streams
from abcsim.scenario.spec import REQUEST_TYPES, WORKFLOW_STAGES, SystemSpec
from abcsim.schedule.slicing import EventBlock

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

WORKFLOW_CODE = REQUEST_TYPES.index(WORKFLOW)


@dataclass(frozen=True)
class Workload:
    """Requests sorted by arrival, with their worker spells in seconds.

    ``first`` is each request's first (for most, only) spell; the rows of
    ``later`` are the remaining spells of each workflow, in the order the
    workflows arrive (``workflow`` marks them).
    """

    event_id: IntArray
    t: FloatArray
    agent_type: npt.NDArray[np.int8]
    request: npt.NDArray[np.int8]
    first: FloatArray
    workflow: BoolArray
    later: FloatArray  # [workflows, stages - 1]

    def __len__(self) -> int:
        return int(self.t.size)

    @property
    def busy(self) -> FloatArray:
        """Each request's total time on workers."""
        total = self.first.copy()
        total[self.workflow] += self.later.sum(axis=1)
        return total

    @property
    def visits(self) -> int:
        """Times requests join a queue: one per request, one more per later workflow stage."""
        return len(self) + int(self.later.size)

    def take(self, mask: BoolArray) -> Workload:
        """The requests where ``mask`` is true, in order, with their spells."""
        return Workload(
            event_id=self.event_id[mask],
            t=self.t[mask],
            agent_type=self.agent_type[mask],
            request=self.request[mask],
            first=self.first[mask],
            workflow=self.workflow[mask],
            later=self.later[mask[self.workflow]],
        )

    def spells(self) -> FloatArray:
        """Every worker spell: the first ones, then the workflows' later stages."""
        return np.concatenate([self.first, self.later.ravel()])


class ServiceDraws:
    """Draws workloads block after block from one seed, the streams carrying on between blocks."""

    def __init__(self, system: SystemSpec, seed: int) -> None:
        self._service = dict(system.service)
        self._rngs = service_streams(system, service_seed(seed))

    def workload(self, block: EventBlock, size: npt.NDArray[np.integer] | None = None) -> Workload:
        """The block's requests with their spells (``size`` defaults to the block's)."""
        sizes = block.size if size is None else size
        codes = block.request
        n = len(block)
        first = np.zeros(n)
        workflow = codes == WORKFLOW_CODE
        later = np.zeros((int(workflow.sum()), len(WORKFLOW_STAGES) - 1))
        seen = np.zeros(n, dtype=bool)
        for request, service in self._service.items():
            code = REQUEST_TYPES.index(request)
            own = codes == code
            # Requests of this type and workflows draw from this stream in arrival order.
            users = np.flatnonzero(own | workflow) if request in WORKFLOW_STAGES else None
            index = users if users is not None else np.flatnonzero(own)
            draws = sample_ms(service, sizes[index], self._rngs[request]) / 1000.0
            mine = own[index]
            first[index[mine]] = draws[mine]
            seen[index[mine]] = True
            if users is not None:
                stage = WORKFLOW_STAGES.index(request)
                spells = draws[~mine]
                if stage == 0:
                    first[workflow] = spells
                else:
                    later[:, stage - 1] = spells
        seen |= workflow
        if not seen.all():
            missing = REQUEST_TYPES[int(codes[~seen][0])]
            raise ValueError(f"no service time for request type {missing!r}")
        return Workload(
            event_id=block.event_id,
            t=block.t,
            agent_type=block.agent_type,
            request=codes,
            first=first,
            workflow=workflow,
            later=later,
        )


def workload_from_arrays(
    t: FloatArray,
    first: FloatArray,
    later: FloatArray | None = None,
    workflow: BoolArray | None = None,
) -> Workload:
    """A workload given directly (tests, analytic checks): arrivals and spells in seconds."""
    n = int(t.size)
    flags = np.zeros(n, dtype=bool) if workflow is None else workflow
    rest = np.zeros((int(flags.sum()), len(WORKFLOW_STAGES) - 1)) if later is None else later
    return Workload(
        event_id=np.arange(n, dtype=np.int64),
        t=t,
        agent_type=np.zeros(n, np.int8),
        request=np.where(flags, WORKFLOW_CODE, 0).astype(np.int8),
        first=first,
        workflow=flags,
        later=rest,
    )

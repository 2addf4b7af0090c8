"""The reference model: the same system in SimPy, one process per request, written plainly.

It is the model the fast path (:mod:`abcsim.plan.fcfs`) must agree with,
request for request: a data request arriving at 13:30:00.120 at replica 2,
whose 32 workers are busy and whose queue holds 17, joins a SimPy
``Resource`` queue as the reference target's request joins its FIFO deque;
a workflow's process takes a worker for each stage in turn, re-joining the
back of the queue between stages; a request finding the queue at its limit
is refused. Nothing here is clever, so that it is easy to believe — and slow
(tens of thousands of requests a second): use it to check, not to plan.

Arrivals are scheduled at time 0 with their absolute times as delays, so
they land exactly on the schedule's ``t`` (no sum of relative delays), and
the fast path's arithmetic (start + service) is SimPy's (now + delay): the
two agree to the last bit except where ties between events at one instant
are broken differently, which continuous service times make vanishingly rare.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator
from typing import Any

import numpy as np
import simpy

from abcsim.plan.fcfs import ROUND_ROBIN, SHORTEST_QUEUE, Served
from abcsim.plan.workload import Workload


class ReferenceModel:
    """replicas × workers, FIFO queues of at most ``queue_limit`` waiting, in SimPy."""

    def __init__(
        self,
        *,
        replicas: int = 1,
        workers: int,
        queue_limit: int,
        balancer: str = ROUND_ROBIN,
    ) -> None:
        if balancer not in (ROUND_ROBIN, SHORTEST_QUEUE):
            raise ValueError(f"unknown balancer {balancer!r}")
        self.replicas = replicas
        self.workers = workers
        self.queue_limit = queue_limit
        self.balancer = balancer

    def serve(self, work: Workload) -> Served:
        """Simulate the whole workload; what happened to each request, in its order."""
        n = len(work)
        if n and float(work.t[0]) < 0:
            raise ValueError("arrival times must be >= 0")
        env = simpy.Environment()
        pools = [simpy.Resource(env, capacity=self.workers) for _ in range(self.replicas)]
        in_system = [0] * self.replicas
        end = np.full(n, math.nan)
        queue = np.zeros(n, np.int32)
        replica = np.zeros(n, np.int16)
        later = dict(zip(np.flatnonzero(work.workflow).tolist(), work.later.tolist(), strict=True))
        first = work.first.tolist()
        arrivals = 0

        def request(i: int, r: int) -> Generator[simpy.Event, Any, None]:
            pool = pools[r]
            waited = 0
            for spell in (first[i], *later.get(i, ())):
                claim = pool.request()
                if not claim.triggered:  # no free worker: it is at the back of the queue
                    waited = max(waited, len(pool.queue))
                yield claim
                yield env.timeout(spell)
                pool.release(claim)
            end[i] = env.now
            queue[i] = waited
            in_system[r] -= 1

        def arrive(i: int) -> None:
            nonlocal arrivals
            if self.balancer == SHORTEST_QUEUE:
                r = in_system.index(min(in_system))
            else:
                r = arrivals % self.replicas
            arrivals += 1
            replica[i] = r
            pool = pools[r]
            if pool.count >= self.workers and len(pool.queue) >= self.queue_limit:
                queue[i] = len(pool.queue)
                return  # refused: 503 at once
            in_system[r] += 1
            env.process(request(i, r))

        def arrival(i: int) -> Callable[[simpy.Event], None]:
            return lambda _: arrive(i)

        for i, at in enumerate(work.t.tolist()):
            env.timeout(at).callbacks.append(arrival(i))
        env.run()
        return Served(end, queue, replica)

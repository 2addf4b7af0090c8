"""The fast path: an exact first-come, first-served multi-server recursion over sorted arrivals.

At the London open 40,000 requests reach a 32-worker API in an hour. Served
FCFS, a request starts at the later of its arrival and the moment the
earliest of the 32 workers comes free, and then holds that worker for its
service time. Keeping the workers' free-times in a heap, that one line
(Kiefer–Wolfowitz) decides every request in arrival order, in O(log c) per
request, with no event queue and no process per request — the classic fast
path: about two million requests a second in plain Python on one core.

What else the reference target does is exact here too:

* **Queue limit.** FCFS start times never decrease, so the requests waiting
  at any moment are the last ones admitted whose start is still ahead: a
  deque of start times, trimmed from the left, holds exactly them. A request
  that finds no free worker and ``queue_limit`` waiting is refused (503).
* **Workflows.** A workflow's later stage re-joins the back of the queue
  when its previous stage ends — an arrival known only once that stage is
  decided. Such re-joins wait in a heap of their own and are merged, in time
  order, with the schedule's arrivals (a re-join at the same instant as an
  arrival goes first); the recursion then holds for the merged stream.
  Later stages are never refused (the target admits them unconditionally).
* **Replicas.** Round robin fixes each request's replica by its position, so
  the replicas are independent FCFS pools. Join-shortest-queue sends each
  request to the replica with the fewest requests in it (waiting or in
  service, a workflow counting until its last stage ends), the lowest-
  numbered among equals: the replicas' departures are kept in one more heap
  so the counts are exact at each arrival.
* **Timeouts** change nothing here: the server is not told that a client
  gave up, so the queue is the same; the results mark the request timed out.

Nothing is approximated, so no case needs the SimPy model
(:mod:`abcsim.plan.reference`), which exists to show that this is so. The
model streams: state (free-times, waiting, workflows in progress) carries
from one block of arrivals to the next, and a block is handed back once
every request in it has finished.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from abcsim.plan.workload import Workload

FloatArray = npt.NDArray[np.float64]

ROUND_ROBIN = "round_robin"
SHORTEST_QUEUE = "shortest_queue"


@dataclass(frozen=True)
class Served:
    """What happened to each request of a workload, in its order.

    ``end`` is when its last spell ended (NaN: refused, 503); ``queue`` the
    most requests waiting in its replica's queue, itself included, at any of
    its joins (0 if it never waited); ``replica`` where the balancer sent it.
    """

    end: FloatArray
    queue: npt.NDArray[np.int32]
    replica: npt.NDArray[np.int16]

    @property
    def refused(self) -> npt.NDArray[np.bool_]:
        refused: npt.NDArray[np.bool_] = np.isnan(self.end)
        return refused

    @staticmethod
    def concat(parts: Iterable[Served]) -> Served:
        items = list(parts)
        return Served(
            np.concatenate([p.end for p in items]),
            np.concatenate([p.queue for p in items]).astype(np.int32),
            np.concatenate([p.replica for p in items]).astype(np.int16),
        )


class _Pool:
    """One replica: its workers' free-times (a heap) and the start times of those waiting."""

    __slots__ = ("free", "waiting")

    def __init__(self, workers: int) -> None:
        self.free = [0.0] * workers  # all free since the beginning of time: a valid heap
        self.waiting: deque[float] = deque()


class _Block:
    """A workload's outputs, filled as its requests are decided; done when nothing is pending."""

    __slots__ = ("end", "pending", "queue", "replica", "work")

    def __init__(self, work: Workload, replica: npt.NDArray[np.int16] | None) -> None:
        n = len(work)
        self.work = work
        self.end: list[float] = [math.nan] * n
        self.queue: list[int] = [0] * n
        self.replica = replica if replica is not None else np.zeros(n, np.int16)
        self.pending = 0

    def served(self) -> Served:
        return Served(np.array(self.end), np.array(self.queue, np.int32), self.replica)


# A workflow between stages: (join time, seq, next stage, its spells, block, row, queue, replica).
_Rejoin = tuple[float, int, int, tuple[float, ...], _Block, int, int, int]


class FcfsModel:
    """The system of replicas × workers, fed blocks of arrivals in time order.

    >>> model = FcfsModel(replicas=2, workers=32, queue_limit=256)   # doctest: +SKIP
    >>> for block in workloads:
    ...     for work, served in model.feed(block):
    ...         write(work, served)
    >>> for work, served in model.finish():
    ...     write(work, served)
    """

    def __init__(
        self,
        *,
        replicas: int = 1,
        workers: int,
        queue_limit: int,
        balancer: str = ROUND_ROBIN,
    ) -> None:
        if replicas < 1 or workers < 1 or queue_limit < 0:
            raise ValueError(f"need replicas, workers >= 1, queue_limit >= 0: {locals()}")
        if balancer not in (ROUND_ROBIN, SHORTEST_QUEUE):
            raise ValueError(f"unknown balancer {balancer!r}")
        self.replicas = replicas
        self.workers = workers
        self.queue_limit = queue_limit
        self.balancer = balancer if replicas > 1 else ROUND_ROBIN
        self._pools = [_Pool(workers) for _ in range(replicas)]
        # Round robin: one re-join heap per replica (they never meet); shortest queue: one.
        self._rejoins: list[list[_Rejoin]] = [[] for _ in range(replicas)]
        self._in_system = [0] * replicas  # shortest queue only
        self._departures: list[tuple[float, int]] = []  # shortest queue only
        self._seq = itertools.count()
        self._arrived = 0
        self._last_t = -math.inf
        self._blocks: deque[_Block] = deque()

    # -- feeding -------------------------------------------------------------------

    def feed(self, work: Workload) -> list[tuple[Workload, Served]]:
        """Decide a block of arrivals (after every earlier one); return the blocks now finished."""
        n = len(work)
        if n:
            if work.t[0] < self._last_t or (n > 1 and bool(np.any(np.diff(work.t) < 0))):
                raise ValueError("arrivals must be fed in time order")
            self._last_t = float(work.t[-1])
        rest: list[tuple[float, ...] | None] = [None] * n
        for row, spells in zip(
            np.flatnonzero(work.workflow).tolist(), work.later.tolist(), strict=True
        ):
            if spells:
                rest[row] = tuple(spells)
        t = work.t.tolist()
        first = work.first.tolist()
        if self.balancer == SHORTEST_QUEUE:
            block = _Block(work, np.zeros(n, np.int16))
            self._blocks.append(block)
            self._shortest_queue(block, t, first, rest)
        else:
            replica = ((self._arrived + np.arange(n)) % self.replicas).astype(np.int16)
            block = _Block(work, replica)
            self._blocks.append(block)
            step = self.replicas
            for r in range(step):
                k = (r - self._arrived) % step  # this replica's first row in the block
                self._one_pool(
                    r, block, range(k, n, step), t[k::step], first[k::step], rest[k::step]
                )
        self._arrived += n
        return self._finished()

    def finish(self) -> list[tuple[Workload, Served]]:
        """Run every workflow still in progress to its end; return the remaining blocks."""
        for r in range(self.replicas):
            self._drain(r if self.balancer == ROUND_ROBIN else 0, math.inf)
        return self._finished()

    def serve(self, work: Workload) -> Served:
        """A whole workload at once (a fresh model): what happened to each request."""
        return Served.concat(s for _, s in [*self.feed(work), *self.finish()])

    def _finished(self) -> list[tuple[Workload, Served]]:
        done = []
        while self._blocks and self._blocks[0].pending == 0:
            block = self._blocks.popleft()
            done.append((block.work, block.served()))
        return done

    # -- the recursion -----------------------------------------------------------------

    def _one_pool(
        self,
        r: int,
        block: _Block,
        rows: Iterable[int],
        t: list[float],
        first: list[float],
        rest: list[tuple[float, ...] | None],
    ) -> None:
        """Round robin (or one replica): replica ``r``'s arrivals, in order."""
        pool = self._pools[r]
        free, waiting = pool.free, pool.waiting
        rejoins = self._rejoins[r]
        limit = self.queue_limit
        end, queue = block.end, block.queue
        heapreplace, popleft, wait = heapq.heapreplace, waiting.popleft, waiting.append
        seq = self._seq
        for j, a, s, later in zip(rows, t, first, rest, strict=True):
            if rejoins and rejoins[0][0] <= a:
                self._drain(r, a)
            m = free[0]
            if m <= a:  # a worker is free, so nobody is waiting either
                done = a + s
                q = 0
            else:
                while waiting and waiting[0] <= a:
                    popleft()
                q = len(waiting)
                if q >= limit:
                    queue[j] = q
                    continue  # refused: end stays NaN
                wait(m)
                q += 1
                done = m + s
            heapreplace(free, done)
            if later is None:
                end[j] = done
                queue[j] = q
            else:
                block.pending += 1
                heapq.heappush(rejoins, (done, next(seq), 0, later, block, j, q, r))

    def _shortest_queue(
        self,
        block: _Block,
        t: list[float],
        first: list[float],
        rest: list[tuple[float, ...] | None],
    ) -> None:
        """Join-shortest-queue: each arrival to the replica with the fewest requests in it."""
        pools = self._pools
        counts = self._in_system
        departures = self._departures
        rejoins = self._rejoins[0]
        limit = self.queue_limit
        end, queue, replica = block.end, block.queue, block.replica
        heapreplace, heappush, heappop = heapq.heapreplace, heapq.heappush, heapq.heappop
        seq = self._seq
        for j, (a, s, later) in enumerate(zip(t, first, rest, strict=True)):
            if rejoins and rejoins[0][0] <= a:
                self._drain(0, a)
            while departures and departures[0][0] <= a:
                counts[heappop(departures)[1]] -= 1
            r = counts.index(min(counts))
            replica[j] = r
            pool = pools[r]
            free, waiting = pool.free, pool.waiting
            m = free[0]
            if m <= a:
                done = a + s
                q = 0
            else:
                while waiting and waiting[0] <= a:
                    waiting.popleft()
                q = len(waiting)
                if q >= limit:
                    queue[j] = q
                    continue
                waiting.append(m)
                q += 1
                done = m + s
            heapreplace(free, done)
            counts[r] += 1
            if later is None:
                end[j] = done
                queue[j] = q
                heappush(departures, (done, r))
            else:
                block.pending += 1
                heappush(rejoins, (done, next(seq), 0, later, block, j, q, r))

    def _drain(self, heap: int, until: float) -> None:
        """Serve the workflow stages re-joining at or before ``until`` (they go first on ties)."""
        rejoins = self._rejoins[heap]
        shortest = self.balancer == SHORTEST_QUEUE
        while rejoins and rejoins[0][0] <= until:
            at, seq, k, spells, block, j, q, r = heapq.heappop(rejoins)
            pool = self._pools[r]
            free, waiting = pool.free, pool.waiting
            m = free[0]
            if m <= at:
                done = at + spells[k]
            else:
                while waiting and waiting[0] <= at:
                    waiting.popleft()
                waiting.append(m)
                q = max(q, len(waiting))
                done = m + spells[k]
            heapq.heapreplace(free, done)
            if k + 1 < len(spells):
                heapq.heappush(rejoins, (done, seq, k + 1, spells, block, j, q, r))
            else:
                block.end[j] = done
                block.queue[j] = q
                block.pending -= 1
                if shortest:
                    heapq.heappush(self._departures, (done, r))

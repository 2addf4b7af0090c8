"""The worker pool: ``workers`` workers behind one first-come, first-served queue.

At the London open a burst of 300 data requests reaches a 32-worker API: 32
are served at once, the rest wait in arrival order, and once the queue holds
``queue_limit`` requests the next is refused (the server answers 503 at once)
rather than waiting without bound. That is the M/G/c/K system the capacity
planner models, so the order must be strictly FIFO: the queue is an explicit
deque of futures and a finishing worker is handed straight to the oldest
waiter (``asyncio.Semaphore`` promises no such fairness, and a request arriving
just as a worker frees up could overtake the queue).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class QueueFull(Exception):  # noqa: N818 - a condition, not a failure of the server
    """The queue already holds ``queue_limit`` waiting requests."""


class WorkerPool:
    """``workers`` workers, a FIFO queue of at most ``queue_limit`` waiters."""

    def __init__(self, workers: int, queue_limit: int) -> None:
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        if queue_limit < 0:
            raise ValueError(f"queue_limit must be >= 0, got {queue_limit}")
        self.workers = workers
        self.queue_limit = queue_limit
        self._busy = 0
        self._waiters: deque[asyncio.Future[None]] = deque()

    @property
    def busy(self) -> int:
        """Workers serving a request now."""
        return self._busy

    @property
    def queued(self) -> int:
        """Requests waiting for a worker now."""
        return len(self._waiters)

    async def acquire(self, *, admit: bool = True) -> None:
        """Wait in line for a worker; raise :class:`QueueFull` if the line is full.

        ``admit=False`` skips the limit: a workflow's later stage was admitted
        already and a real orchestrator would not drop it half done.
        """
        if self._busy < self.workers and not self._waiters:
            self._busy += 1
            return
        if admit and len(self._waiters) >= self.queue_limit:
            raise QueueFull
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()  # handed a worker as we were cancelled: pass it on
            elif waiter in self._waiters:  # release() may have skipped it already
                self._waiters.remove(waiter)
            raise

    def release(self) -> None:
        """Hand the worker to the oldest waiter, or free it."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)  # the worker changes hands: busy stays the same
                return
        self._busy -= 1

    @asynccontextmanager
    async def worker(self, *, admit: bool = True) -> AsyncIterator[None]:
        """Hold a worker for the ``async with`` block."""
        await self.acquire(admit=admit)
        try:
            yield
        finally:
            self.release()

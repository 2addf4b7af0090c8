"""Replay a schedule against a live system, open loop, on an absolute clock.

Each event is due at ``t0 + (t − window.start) / speed`` on the event loop's
monotonic clock — computed from ``t`` every time, never by adding up sleeps,
so lateness cannot accumulate. At its due time the request goes out whether
or not earlier ones have answered (open loop: a slow system does not slow
the load down, as it would a closed-loop Locust user). If ``max_in_flight``
requests are already out, it waits in a FIFO; if it cannot go out within
``lateness_s`` of its due time, it is recorded as ``dropped`` — never
silently skipped. ``latency`` runs from the due time, so time spent waiting
for a slot, or a stalled server, shows in the figures (wrk2's correction of
coordinated omission).

Stopping (Ctrl-C, SIGTERM), at any point: nothing new is sent; requests in
flight get a short grace period (a second signal cuts it), then are cut off
and recorded as timeouts; every event not yet sent is recorded as dropped
("stopped"), so the results still hold exactly one row per scheduled event
of the slice.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import gc
import signal
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import pyarrow as pa

from abcsim.replay.client import Client, reason
from abcsim.replay.headers import NO_HEADERS, Headers
from abcsim.replay.http import HttpClient, Origin
from abcsim.replay.recorder import CONNECTION_ERROR, TIMEOUT, LiveFigures, Recorder
from abcsim.replay.templates import Row, Templates
from abcsim.replay.tls import DEFAULT_TLS, TlsSettings, tls_context
from abcsim.scenario.spec import DEFAULT_PAYLOADS, Endpoint, PayloadSpec, Release
from abcsim.schedule.slicing import EventBlock, Window, iter_slice

LEAD_S = 0.25
"""The clock starts this long after set-up, so the first requests are not late by design."""

STOP_GRACE_S = 2.0
"""How long requests in flight may still finish after a stop."""

_clock = time.monotonic  # what every recorded or compared time is read from
_YIELD_EVERY = 256  # events sent back to back before a late dispatcher lets the loop breathe
_BATCH_ROWS = 8192  # schedule rows decoded at a time, inside the loop: keep it short


@dataclass(frozen=True)
class ReplayPlan:
    """What to replay, where, and how hard."""

    schedule: Path
    target: str
    window: Window
    endpoints: tuple[tuple[str, Endpoint], ...]
    agent_types: tuple[str, ...]
    speed: float = 1.0
    scale: float = 1.0
    max_in_flight: int = 256
    timeout_s: float = 10.0
    lateness_s: float = 1.0
    shard: tuple[int, int] = (0, 1)
    start_at: float | None = None  # wall-clock (time.time()) when window.start plays
    headers: Headers = NO_HEADERS  # extra headers on every request; repr shows names only
    tls: TlsSettings = DEFAULT_TLS
    # what the request templates draw on: the schedule's seed and start, the payload model
    seed: int = 0
    schedule_start: dt.datetime = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    payloads: PayloadSpec = DEFAULT_PAYLOADS
    releases: tuple[Release, ...] = ()

    def templates(self) -> Templates:
        """The endpoints' request templates, compiled for this target."""
        return Templates(
            self.endpoints,
            self.agent_types,
            seed=self.seed,
            schedule_start=self.schedule_start,
            payloads=self.payloads,
            releases=self.releases,
            headers=self.headers.items,
        )


@dataclass(frozen=True)
class Progress:
    """A snapshot for the progress line."""

    schedule_elapsed: float
    schedule_total: float
    sent_per_s: float
    in_flight: int
    live: LiveFigures


@dataclass(frozen=True)
class ReplayRun:
    """How a replay ended: rows written, whether it was stopped, its length, and how many
    requests went again on a fresh connection (a server closed an idle one as they left)."""

    events: int
    interrupted: bool
    wall_s: float
    resent: int = 0


class RowSink(Protocol):
    """Where a replay's rows go: a results file, or a worker's pipe to its parent."""

    rows: int

    def write(self, batch: pa.RecordBatch) -> None: ...


Event = tuple[float, int, float, int, int, Row]  # due, event id, t, agent type, request, values


class _Dispatcher:
    """Sends events at their due times with a bounded number in flight."""

    def __init__(
        self,
        plan: ReplayPlan,
        templates: Templates,
        client: Client,
        recorder: Recorder,
        t0: float,
    ) -> None:
        self.plan = plan
        self.templates = templates
        self.client = client
        self.recorder = recorder
        self.t0 = t0
        self.loop = asyncio.get_running_loop()
        self.in_flight = 0
        self.sent = 0
        self.waiting: deque[Event] = deque()
        self.tasks: set[asyncio.Task[None]] = set()

    async def play(self, blocks: Iterator[EventBlock]) -> None:
        """Send every event of ``blocks`` on time, then wait for the last answers."""
        await self._dispatch(blocks)
        await self._drain()

    async def _dispatch(self, blocks: Iterator[EventBlock]) -> None:
        plan = self.plan
        for block in blocks:
            due_times = (self.t0 + (block.t - plan.window.start) / plan.speed).tolist()
            rows = zip(
                block.event_id.tolist(),
                block.t.tolist(),
                block.agent_type.tolist(),
                block.request.tolist(),
                self.templates.rows(block),
                strict=True,
            )
            for i, (event_id, t, agent_type, request, values) in enumerate(rows):
                due = due_times[i]
                try:
                    if due > _clock():
                        # Never early, and never a busy wait: a spin on the last fraction
                        # of a ms took a core from the target at 5,000/s. asyncio's timers
                        # fire on the first loop pass after their time (epoll waits whole
                        # ms), which at high rates is the next answer's arrival.
                        while (delay := due - _clock()) > 0.0:
                            await asyncio.sleep(delay)
                    elif i % _YIELD_EVERY == 0:
                        await asyncio.sleep(0)  # behind: still let answers and signals in
                except asyncio.CancelledError:
                    self.recorder.never_sent(block.take(np.arange(i, len(block))), "stopped")
                    raise
                now = _clock()
                self._expire_waiting(now)
                event = (due, event_id, t, agent_type, request, values)
                if now - due > plan.lateness_s:
                    self._drop(event, f"late: not sent within {plan.lateness_s:g} s of its time")
                elif self.in_flight < plan.max_in_flight:
                    self._launch(event)
                else:
                    self.waiting.append(event)

    def _launch(self, event: Event) -> None:
        self.in_flight += 1
        self.sent += 1
        task = self.loop.create_task(self._request(*event))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _request(
        self, due: float, event_id: int, t: float, agent_type: int, request: int, values: Row
    ) -> None:
        sent = _clock()
        status, outcome, nbytes, error = 0, TIMEOUT, 0, "stopped before the response"
        try:
            answer = await self.client.send(request, values)
            status, outcome, nbytes, error = (
                answer.status,
                answer.outcome,
                answer.nbytes,
                answer.error,
            )
        except asyncio.CancelledError:
            pass  # cut off by a stop: recorded as the timeout set above
        except Exception as exc:  # whatever the client did not foresee still ends as a row
            status, outcome, nbytes, error = 0, CONNECTION_ERROR, 0, reason(exc)
        finally:
            end = _clock()
            self.recorder.ended(
                event_id=event_id,
                t=t,
                agent_type=agent_type,
                request=request,
                due=due,
                sent=sent,
                end=end,
                status=status,
                outcome=outcome,
                nbytes=nbytes,
                error=error,
            )
            self.in_flight -= 1
            self._release(end)

    def _release(self, now: float) -> None:
        """A slot is free: send the oldest waiting event that is still within budget."""
        self._expire_waiting(now)
        while self.waiting and self.in_flight < self.plan.max_in_flight:
            self._launch(self.waiting.popleft())

    def _expire_waiting(self, now: float) -> None:
        budget = self.plan.lateness_s
        while self.waiting and now - self.waiting[0][0] > budget:
            self._drop(
                self.waiting.popleft(),
                f"no free slot within {budget:g} s ({self.plan.max_in_flight} in flight at most)",
            )

    def _drop(self, event: Event, why: str) -> None:
        _, event_id, t, agent_type, request, _ = event
        self.recorder.never_sent_one(event_id, t, agent_type, request, why)

    async def _drain(self) -> None:
        """Wait for every request in flight or waiting to end."""
        while self.tasks or self.waiting:
            self._release(_clock())
            if self.tasks:
                await asyncio.wait(set(self.tasks), timeout=0.05)
            else:
                await asyncio.sleep(0.01)

    async def stop(self, now: asyncio.Event) -> None:
        """After a stop: drop what waits; what is in flight gets a grace period, or not if
        ``now`` is set (a second Ctrl-C); the rest is cut off."""
        for event in self.waiting:
            self._drop(event, "stopped")
        self.waiting.clear()
        deadline = _clock() + STOP_GRACE_S
        impatient = self.loop.create_task(now.wait())
        while self.tasks and not now.is_set() and _clock() < deadline:
            await asyncio.wait(
                {*self.tasks, impatient},
                timeout=deadline - _clock(),
                return_when=asyncio.FIRST_COMPLETED,
            )
        impatient.cancel()
        for task in list(self.tasks):
            task.cancel()
        if self.tasks:
            await asyncio.wait(set(self.tasks))


async def replay_async(
    plan: ReplayPlan,
    writer: RowSink,
    progress: Callable[[Progress], None] | None = None,
    parent_watch: int | None = None,
) -> ReplayRun:
    """Replay ``plan`` into ``writer``; see the module docstring.

    ``parent_watch``: a file descriptor that becomes readable when the process that
    started this one is gone (a worker's parent sentinel): then it stops, as on SIGTERM.
    """
    loop = asyncio.get_running_loop()
    began = time.perf_counter()
    blocks = iter_slice(
        plan.schedule, plan.window, scale=plan.scale, shard=plan.shard, batch_rows=_BATCH_ROWS
    )
    # the dispatcher keeps at most max_in_flight requests out, so the client never
    # holds more connections than that
    origin = Origin.parse(plan.target)
    context = tls_context(plan.tls) if origin.scheme == "https" else None  # once per replay
    http = HttpClient(origin, timeout_s=plan.timeout_s, ssl_context=context)
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="results-writer")

    try:
        templates = plan.templates()
        client = Client(http, templates)
        start_at = plan.start_at if plan.start_at is not None else time.time() + LEAD_S
        t0 = _clock() + (start_at - time.time())
        recorder = Recorder(plan.agent_types, plan.window.start, plan.speed, t0)
        dispatcher = _Dispatcher(plan, templates, client, recorder, t0)

        async def write_recorded() -> None:
            batches = recorder.take()
            if batches:  # one shielded call: a stop never loses half of what was taken
                await asyncio.shield(loop.run_in_executor(executor, _write_all, writer, batches))

        # Set-up left ~90,000 long-lived objects (pandas, pyarrow); a full
        # collection walking them stalls the loop ~50 ms, and the requests due meanwhile
        # then leave in a burst. Freeze them out of the collector before the clock runs.
        gc.collect()
        gc.freeze()
        play = loop.create_task(dispatcher.play(blocks))
        stopping, stop_now = asyncio.Event(), asyncio.Event()

        def on_signal() -> None:
            if stopping.is_set():
                stop_now.set()
            stopping.set()
            play.cancel()

        stop_signals = (signal.SIGINT, signal.SIGTERM)
        for signum in stop_signals:
            loop.add_signal_handler(signum, on_signal)
        if parent_watch is not None:
            watched = parent_watch

            def on_parent_gone() -> None:
                loop.remove_reader(watched)  # readable from now on: once is enough
                on_signal()

            loop.add_reader(watched, on_parent_gone)
        finished = asyncio.Event()

        async def housekeeping() -> None:
            last_sent, last_time = 0, _clock()
            ticks = 0
            while not finished.is_set():
                with contextlib.suppress(TimeoutError):
                    # rows go to the results journal twice a second, so a kill -9 loses
                    # well under a second of them; the progress line stays once a second
                    await asyncio.wait_for(finished.wait(), 0.5)
                await write_recorded()
                ticks += 1
                if progress is not None and not finished.is_set() and ticks % 2 == 0:
                    now = _clock()
                    elapsed = min(max(0.0, (now - t0) * plan.speed), plan.window.length)
                    rate = (dispatcher.sent - last_sent) / (now - last_time)
                    last_sent, last_time = dispatcher.sent, now
                    live = recorder.live()
                    progress(
                        Progress(elapsed, plan.window.length, rate, dispatcher.in_flight, live)
                    )

        keeper = loop.create_task(housekeeping())

        def on_keeper_done(task: asyncio.Task[None]) -> None:
            if not task.cancelled() and task.exception() is not None:
                on_signal()  # rows cannot be kept (a full disk): stop sending; raised below

        keeper.add_done_callback(on_keeper_done)
        try:
            await play
        except asyncio.CancelledError:
            if not stopping.is_set():
                raise
            await dispatcher.stop(stop_now)
            for block in blocks:  # the rest of the slice was never sent
                recorder.never_sent(block, "stopped")
        finally:
            for signum in stop_signals:
                loop.remove_signal_handler(signum)
            finished.set()
            gc.unfreeze()
            await keeper  # re-raises what went wrong in it (a full disk, say)
            await write_recorded()
            executor.shutdown(wait=True)
    finally:
        http.close()
    return ReplayRun(writer.rows, stopping.is_set(), time.perf_counter() - began, http.resent)


def _write_all(writer: RowSink, batches: list[pa.RecordBatch]) -> None:
    for batch in batches:
        writer.write(batch)


def replay(
    plan: ReplayPlan,
    writer: RowSink,
    progress: Callable[[Progress], None] | None = None,
    parent_watch: int | None = None,
) -> ReplayRun:
    """Run :func:`replay_async` in a fresh event loop."""
    # asyncio's own loop, not uvloop (which the target uses): uvloop rounds timers to
    # whole milliseconds and often wakes early, so on-time sends would need a spin that
    # burns a core at moderate rates; asyncio's timers are never early.
    return asyncio.run(replay_async(plan, writer, progress, parent_watch))

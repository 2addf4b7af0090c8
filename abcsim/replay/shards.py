"""Replay in N processes, one shard of agents each, merged into one results file.

One Python process holds a few thousand requests a second; ``--workers 2``
uses both cores of a 2-core load generator. Shard ``k`` replays the agents
with ``agent_id % N == k`` (a user's requests stay in one process, in order)
against a clock all shards share: they are given the same wall-clock start,
so shard 0's 09:30:00.000 request and shard 1's leave together. Each worker
hands its rows to the parent twice a second, as it would write them itself,
and the parent writes them to the one results file — journalled, so a
``kill -9`` of the parent loses no more than a single process's replay would
(:mod:`abcsim.results.parquet`), and no worker keeps a file of its own.
Ctrl-C reaches every worker (same process group); each stops cleanly and
hands over its last rows. A parent that dies outright takes its workers with
it: each watches its parent's sentinel and stops sending the moment it closes.
"""

from __future__ import annotations

import multiprocessing as mp
import multiprocessing.connection
import os
import queue
import signal
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TypeAlias

import pyarrow as pa

from abcsim.errors import ReplayError
from abcsim.parquet_stream import ParquetStream
from abcsim.replay.recorder import LiveFigures
from abcsim.replay.runner import Progress, ReplayPlan, ReplayRun, replay

PARENT_EXIT_S = 1.0
"""How long a stopped worker waits to learn whether its parent died (then its part goes)."""

SPAWN_LEAD_S = 3.0
"""Time for N fresh interpreters to import abcsim before the shared clock starts."""


Update: TypeAlias = Progress | ReplayRun | pa.RecordBatch
"""What a worker tells its parent: progress, rows, and at the end how its run went."""


class _ToParent:
    """A worker's :class:`~abcsim.replay.runner.RowSink`: rows go to the parent's file."""

    def __init__(self, shard: int, updates: mp.Queue[tuple[int, Update]]) -> None:
        self.rows = 0
        self._shard = shard
        self._updates = updates

    def write(self, batch: pa.RecordBatch) -> None:
        self._updates.put((self._shard, batch))
        self.rows += batch.num_rows


def _worker(plan: ReplayPlan, updates: mp.Queue[tuple[int, Update]]) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # until the loop installs its own handler
    # A parent killed outright (kill -9, the OOM killer) closes its end of the sentinel
    # pipe: the loop stops sending at once and, with no one left to merge it, the part
    # goes. (Not PR_SET_PDEATHSIG: it fires again as each of a dying parent's threads
    # exits, and one landing after the loop has let go of SIGTERM kills mid-write.)
    parent_process = mp.parent_process()
    sentinel = parent_process.sentinel if parent_process is not None else None
    shard = plan.shard[0]
    sink = _ToParent(shard, updates)
    run = replay(plan, sink, lambda p: updates.put((shard, p)), parent_watch=sentinel)
    if run.interrupted and _parent_gone(PARENT_EXIT_S):
        updates.cancel_join_thread()  # no one reads: exit now, do not wait on the pipe
        return
    updates.put((shard, run))


def _parent_gone(wait_s: float) -> bool:
    """Whether the process that started this one has died, waiting up to ``wait_s``.

    Its sentinel closes once the last of its threads is gone; ``getppid()`` is no
    proof (a dying parent's other threads keep its pid a moment after the death
    signal), and a SIGTERM to the whole group (the parent alive) must merge as usual.
    """
    parent = mp.parent_process()
    return parent is not None and bool(mp.connection.wait([parent.sentinel], timeout=wait_s))


def replay_sharded(
    plan: ReplayPlan,
    writer: ParquetStream,
    workers: int,
    progress: Callable[[Progress], None] | None = None,
) -> ReplayRun:
    """Replay ``plan`` in ``workers`` processes into ``writer``."""
    if workers <= 1:
        return replay(plan, writer, progress)
    context = mp.get_context("spawn")
    updates: mp.Queue[tuple[int, Update]] = context.Queue()
    start_at = plan.start_at if plan.start_at is not None else time.time() + SPAWN_LEAD_S
    processes = []
    for shard in range(workers):
        shard_plan = replace(
            plan,
            shard=(shard, workers),
            start_at=start_at,
            max_in_flight=max(1, plan.max_in_flight // workers),
        )
        process = context.Process(
            target=_worker,
            args=(shard_plan, updates),
            daemon=True,
        )
        process.start()
        processes.append(process)
    runs = _collect(processes, updates, writer, progress)
    failed = [(k, p.exitcode) for k, p in enumerate(processes) if p.exitcode != 0]
    if failed:
        shards = ", ".join(f"shard {k} exited with status {code}" for k, code in failed)
        raise ReplayError(f"replay worker failed ({shards}); {writer.path} holds the others' rows")
    return ReplayRun(
        events=writer.rows,
        interrupted=any(r.interrupted for r in runs.values()),
        wall_s=max((r.wall_s for r in runs.values()), default=0.0),
        resent=sum(r.resent for r in runs.values()),
    )


def _collect(
    processes: Sequence[mp.process.BaseProcess],
    updates: mp.Queue[tuple[int, Update]],
    writer: ParquetStream,
    progress: Callable[[Progress], None] | None,
) -> dict[int, ReplayRun]:
    """Write the workers' rows, and gather progress and final figures, until every
    worker has exited.

    A Ctrl-C at the terminal reaches the workers directly (same process group);
    a signal sent to this process alone (SIGTERM from a CI timeout, ``kill``)
    is passed on to them, so they stop cleanly and their rows are merged.
    """
    latest: dict[int, Progress] = {}
    runs: dict[int, ReplayRun] = {}

    def pass_on(signum: int, frame: object) -> None:
        for process in processes:
            if process.pid is not None and process.is_alive():
                os.kill(process.pid, signal.SIGINT)

    previous = {s: signal.signal(s, pass_on) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        while any(p.is_alive() for p in processes) or not updates.empty():
            try:
                shard, update = updates.get(timeout=0.2)
            except queue.Empty:
                continue
            if isinstance(update, pa.RecordBatch):
                writer.write(update)
            elif isinstance(update, ReplayRun):
                runs[shard] = update
            else:
                latest[shard] = update
                if progress is not None and len(latest) == len(processes):
                    progress(_combine(list(latest.values())))
        for process in processes:
            process.join()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return runs


def _combine(parts: list[Progress]) -> Progress:
    """One progress line from every shard's: sums, and the worst P95 and lag."""
    return Progress(
        schedule_elapsed=min(p.schedule_elapsed for p in parts),
        schedule_total=parts[0].schedule_total,
        sent_per_s=sum(p.sent_per_s for p in parts),
        in_flight=sum(p.in_flight for p in parts),
        live=LiveFigures(
            done=sum(p.live.done for p in parts),
            errors=sum(p.live.errors for p in parts),
            dropped=sum(p.live.dropped for p in parts),
            p95_s=max(p.live.p95_s for p in parts),
            lag_p99_s=max(p.live.lag_p99_s for p in parts),
        ),
    )

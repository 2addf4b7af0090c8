"""A whole replay as the CLI runs it: send on the clock and stream every result to a file.

:func:`run_replay` starts the clock a moment from now, sends from one process
or several (sharded by agent), and writes the results file — streamed, valid
even after Ctrl-C, one row per scheduled event, and journalled so that a
``kill -9`` loses no more than the last second (:mod:`abcsim.results.parquet`).
What the run says (Locust's tables, the SLO verdict, the exit status) is the report stage's job:
``abcsim replay`` ends with one call to :func:`abcsim.report.report` on the file.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from abcsim.monitor import MonitorSettings, Sampler, monitor_path
from abcsim.replay.runner import LEAD_S, Progress, ReplayRun
from abcsim.replay.setup import PreparedReplay
from abcsim.replay.shards import SPAWN_LEAD_S, replay_sharded
from abcsim.results import ResultsMeta, ResultsWriter


def run_replay(
    prepared: PreparedReplay,
    out: str | Path,
    *,
    workers: int = 1,
    progress: Callable[[Progress], None] | None = None,
    monitor: MonitorSettings | None = None,
) -> ReplayRun:
    """Replay and write ``out``; see the module docstring. With ``monitor``, its sources
    are sampled meanwhile into :func:`~abcsim.monitor.monitor_path` of ``out``."""
    # the clock starts a moment from now (longer for N processes to start): that moment
    # is the run's wall-clock start in the results, the CSVs and the req/s figures
    lead = LEAD_S + (SPAWN_LEAD_S if workers > 1 else 0.0)
    start_at = time.time() + lead
    plan = replace(prepared.plan, start_at=start_at)
    watching = (
        Sampler(
            monitor,
            monitor_path(out),
            clock_start=start_at,
            window_start=plan.window.start,
            speed=plan.speed,
        )
        if monitor
        else contextlib.nullcontext()
    )
    with watching, ResultsWriter(out, replay_meta(prepared, start_at)) as writer:
        run = replay_sharded(plan, writer, workers, progress)
        if run.interrupted:
            writer.stopped()
        writer.note("resent", str(run.resent))
        return run


def replay_meta(prepared: PreparedReplay, start_at: float) -> ResultsMeta:
    """The results file's metadata for a replay whose clock starts at ``start_at`` (epoch s)."""
    plan = prepared.plan
    return ResultsMeta(
        source="replay",
        target=plan.target,
        scenario_name=prepared.scenario.name,
        scenario_text=prepared.meta.scenario_text,
        seed=prepared.meta.seed,
        schedule_start=prepared.meta.start,
        wall_start=dt.datetime.fromtimestamp(start_at, dt.UTC),
        window=(plan.window.start, plan.window.end),
        speed=plan.speed,
        scale=plan.scale,
        replay_settings=prepared.settings_record,
    )

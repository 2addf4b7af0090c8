"""A whole replay as the CLI runs it: send, record, then report as Locust would.

:func:`run_replay` writes the results file (streamed, valid even after
Ctrl-C), then reads it back for the end-of-run report: Locust's console
tables, the same split by agent type, the Locust CSVs if asked, and the SLO
verdict that sets the exit status (0 all targets hold, 1 one breached).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from abcsim.replay.runner import LEAD_S, Progress, ReplayRun
from abcsim.replay.setup import PreparedReplay
from abcsim.replay.shards import SPAWN_LEAD_S, replay_sharded
from abcsim.report import report
from abcsim.results import ResultsMeta, ResultsWriter


@dataclass(frozen=True)
class ReplayReport:
    """What the replay did and what to tell the user."""

    run: ReplayRun
    results: Path
    lines: tuple[str, ...]
    breaches: tuple[str, ...]
    exit_status: int


def run_replay(
    prepared: PreparedReplay,
    out: str | Path,
    *,
    workers: int = 1,
    csv_prefix: str | None = None,
    name_width: int = 80,
    progress: Callable[[Progress], None] | None = None,
) -> ReplayReport:
    """Replay, write ``out``, and build the end-of-run report."""
    # the clock starts a moment from now (longer for N processes to start): that moment
    # is the run's wall-clock start in the results, the CSVs and the req/s figures
    lead = LEAD_S + (SPAWN_LEAD_S if workers > 1 else 0.0)
    start_at = time.time() + lead
    plan = replace(prepared.plan, start_at=start_at)
    with ResultsWriter(out, replay_meta(prepared, start_at)) as writer:
        run = replay_sharded(plan, writer, workers, progress)
    return replay_report(prepared, out, run, csv_prefix=csv_prefix, name_width=name_width)


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
    )


def replay_report(
    prepared: PreparedReplay,
    out: str | Path,
    run: ReplayRun,
    *,
    csv_prefix: str | None = None,
    name_width: int = 80,
) -> ReplayReport:
    """The report stage on the results file ``out``, whichever engine wrote it (this
    process, N local processes, or Locust's master and workers)."""
    summary = report(out, prepared.scenario, csv_prefix=csv_prefix, name_width=name_width)
    return ReplayReport(
        run=run,
        results=Path(out),
        lines=summary.lines,
        breaches=summary.breaches,
        exit_status=summary.exit_status,
    )

"""One results file's summary and SLO verdict, as the end of a replay or a plan prints them.

``report("tue.results.parquet")`` reads the file and its metadata: the scenario
inside it gives the endpoint table and the SLOs (unless one is passed), the
window, speed and wall-clock start give the run's clock. A replay's run lasts
from its clock's start to its last answer (Locust's rule); a plan's, its window.

Two conventions hold for every report, measured or predicted: response times
and their percentiles are of answered requests (failures are counted, not
timed), and events a stopped run never got to are not requests
(:func:`abcsim.results.digest.not_sent`); both are said under the tables.
The file is read in batches into a :class:`~abcsim.results.digest.Digest`, so a
whole week's results are summed up in the memory of their answered times;
only Locust's per-second history (``csv_prefix``) reads the whole frame. A plan's
run adds the model's load figures (``planned=``, :mod:`~abcsim.report.planner`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from abcsim.monitor import ResourceReport, judge_monitor, monitor_path, resource_limits
from abcsim.parquet_stream import encode_metadata
from abcsim.report.breaches import format_breaches
from abcsim.report.locust_console import summary_lines
from abcsim.report.locust_csv import write_locust_csvs
from abcsim.results import (
    HistoryRow,
    ResultsMeta,
    RunClock,
    check_digest,
    digest_file,
    digest_frame,
    digest_stats,
    read_results,
    read_results_meta,
    slo_exit_status,
    stats_history,
)
from abcsim.results.bursts import Burst, failure_bursts, frame_bursts
from abcsim.results.columns import ended_lines
from abcsim.results.digest import not_sent
from abcsim.results.void import EXIT_VOID, void_reason
from abcsim.scenario import Scenario, parse_scenario

if TYPE_CHECKING:  # the planner is imported only when a plan's figures are reported
    from abcsim.plan.session import PlanRun

CONVENTION = (
    "Response times are of answered requests; failures (refusals, errors, timeouts, drops) "
    "are counted in # fails, not timed."
)


@dataclass(frozen=True)
class Report:
    """What to print and how to exit, and the results it was made from."""

    lines: tuple[str, ...]
    breaches: tuple[str, ...]
    exit_status: int  # 0 met, 1 breached, 3 void (the generator fell behind)
    events: int  # every row of the results, sent or not
    results: str | Path | pd.DataFrame = field(compare=False, repr=False)

    @cached_property
    def frame(self) -> pd.DataFrame:
        """The whole results as a frame, read when first asked for (a week is gigabytes)."""
        return (
            self.results if isinstance(self.results, pd.DataFrame) else read_results(self.results)
        )


def report(
    results: str | Path | pd.DataFrame,
    scenario: Scenario | None = None,
    *,
    csv_prefix: str | None = None,
    name_width: int = 80,
    planned: PlanRun | None = None,
    env: Mapping[str, str] | None = None,
) -> Report:
    """Summarise the results file ``results`` (or a results frame carrying its metadata, as
    :mod:`abcsim.api` gives them); see the module docstring.

    A results file with a monitor file beside it (``replay --monitor``) is judged on its
    resources too, against ``[slo] cpu_share`` and ``env``'s ``ABC_MEMORY_LIMIT``.
    """
    if isinstance(results, pd.DataFrame):
        meta, source = frame_meta(results), "results frame"
    else:
        meta, source = read_results_meta(results), str(results)
    spec = scenario or parse_scenario(meta.scenario_text, source)
    clock, duration = run_clock(meta)
    digest = (
        digest_frame(results, clock=clock, leave_out_not_sent=True)
        if isinstance(results, pd.DataFrame)
        else digest_file(results, clock=clock, leave_out_not_sent=True)
    )
    stats = digest_stats(digest, spec.endpoints, duration_s=duration)
    by_type = digest_stats(digest, spec.endpoints, duration_s=stats.duration_s, by="agent_type")
    lines = [*summary_lines(stats, name_width=name_width, by_agent_type=by_type), CONVENTION]
    lines += ended_lines(meta)  # a run cut off with its writer says so
    if digest.not_sent:
        lines.append(
            f"{digest.not_sent:,} events not sent: the run was stopped before them "
            "(not counted as requests)"
        )
    if planned is not None:
        from abcsim.report.planner import load_lines

        lines += ["", *load_lines(planned)]
    if any(c.failures for c in digest.cells.values()):
        bursts = (
            frame_bursts(results, meta.window[0], meta.speed)
            if isinstance(results, pd.DataFrame)
            else failure_bursts(results)
        )
        lines += burst_lines(bursts, meta.schedule_start)
    if csv_prefix:
        write_locust_csvs(csv_prefix, stats, _history(results, spec, clock, stats.duration_s))
    breaches = check_digest(spec.slo, digest)
    status = slo_exit_status(breaches)
    resources = ResourceReport(())
    if not isinstance(results, pd.DataFrame) and monitor_path(results).exists():
        limits = resource_limits(spec, env or {})
        resources = judge_monitor(monitor_path(results), limits, meta.schedule_start)
        lines += resources.lines
        if resources.breaches and status == 0:
            status = 1  # a resource ceiling gates the run as an SLO does
    void = void_reason(digest, meta)
    if void is not None:
        lines.append(
            f"SLO verdict void: the generator, not the system, was the bottleneck ({void}); "
            "the system was not offered the load as scheduled"
        )
        status = EXIT_VOID
    return Report(
        lines=tuple(lines),
        breaches=(*format_breaches(breaches), *resources.breaches),
        exit_status=status,
        events=digest.rows + digest.not_sent,
        results=results,
    )


def burst_lines(bursts: list[Burst], schedule_start: dt.datetime) -> list[str]:
    """The failure bursts, in plain words; nothing when the failures came spread out."""
    if not bursts:
        return []
    return ["Failure bursts:", *(f"  {b.describe(schedule_start)}" for b in bursts)]


def run_clock(meta: ResultsMeta) -> tuple[RunClock, float | None]:
    """The run's clock, and its length if known before its last answer: a plan's is its
    window at its speed; a replay's is Locust's, from its start to its last answer (None)."""
    duration = None
    if meta.source == "plan":
        duration = (meta.window[1] - meta.window[0]) / meta.speed
    return RunClock.from_meta(meta), duration


def _history(
    results: str | Path | pd.DataFrame, spec: Scenario, clock: RunClock, duration_s: float
) -> list[HistoryRow]:
    """Locust's second-by-second history: it needs every row's times, so the whole frame."""
    frame = results if isinstance(results, pd.DataFrame) else read_results(results)
    frame = frame[~not_sent(frame)]
    return stats_history(frame, spec.endpoints, clock=clock, duration_s=duration_s)


def frame_meta(frame: pd.DataFrame) -> ResultsMeta:
    """A results frame's metadata: the file's fields as strings in ``frame.attrs``, where
    :func:`abcsim.api.read_results` puts them (strings, so ``to_parquet`` keeps them too)."""
    fields = {str(k): str(v) for k, v in frame.attrs.items()}
    return ResultsMeta.from_metadata(encode_metadata(fields), "results frame (its attrs)")

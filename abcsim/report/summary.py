"""One results file's summary and SLO verdict, as the end of a replay or a plan prints them.

``report("tue.results.parquet")`` reads the file and its metadata: the scenario
inside it gives the endpoint table and the SLOs (unless one is passed), the
window, speed and wall-clock start give the run's clock. A replay's run lasts
from its clock's start to its last answer (Locust's rule); a plan's, its window.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from abcsim.results import (
    RunClock,
    check_slos,
    format_breaches,
    read_results,
    read_results_meta,
    results_stats,
    slo_exit_status,
    stats_history,
    summary_lines,
    write_locust_csvs,
)
from abcsim.scenario import Scenario, parse_scenario


@dataclass(frozen=True)
class Report:
    """What to print and how to exit."""

    lines: tuple[str, ...]
    breaches: tuple[str, ...]
    exit_status: int
    frame: pd.DataFrame = field(compare=False, repr=False)  # the results, read once

    @property
    def events(self) -> int:
        return len(self.frame)


def report(
    results: str | Path,
    scenario: Scenario | None = None,
    *,
    csv_prefix: str | None = None,
    name_width: int = 80,
) -> Report:
    """Summarise the results file ``results``; see the module docstring."""
    frame = read_results(results)
    meta = read_results_meta(results)
    spec = scenario or parse_scenario(meta.scenario_text, str(results))
    clock = RunClock.from_meta(meta)
    window = meta.window[1] - meta.window[0]
    duration = window / meta.speed if meta.source == "plan" else None
    stats = results_stats(frame, spec.endpoints, clock=clock, duration_s=duration)
    by_type = results_stats(
        frame, spec.endpoints, clock=clock, duration_s=stats.duration_s, by="agent_type"
    )
    lines = summary_lines(stats, name_width=name_width, by_agent_type=by_type)
    if csv_prefix:
        history = stats_history(frame, spec.endpoints, clock=clock, duration_s=stats.duration_s)
        write_locust_csvs(csv_prefix, stats, history)
    breaches = check_slos(spec.slo, frame)
    return Report(
        lines=tuple(lines),
        breaches=tuple(format_breaches(breaches)),
        exit_status=slo_exit_status(breaches),
        frame=frame,
    )

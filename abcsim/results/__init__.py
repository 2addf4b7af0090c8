"""Results: the table of what happened to every scheduled request, and what it says.

One row per scheduled event, measured by a replay or predicted by the planner
(:mod:`~abcsim.results.columns`), streamed to Parquet (:mod:`~abcsim.results.parquet`),
summed up as Locust's statistics (:mod:`~abcsim.results.stats`,
:mod:`~abcsim.results.history`), printed and written as Locust prints and
writes them (:mod:`~abcsim.results.locust_console`, :mod:`~abcsim.results.locust_csv`)
and checked against the scenario's SLOs (:mod:`~abcsim.results.slo`).

What a replay does when it ends (``elapsed``: the run's wall-clock seconds)::

    frame = read_results("monday.parquet")
    clock = RunClock.from_meta(read_results_meta("monday.parquet"))
    stats = results_stats(frame, scenario.endpoints, clock=clock, duration_s=elapsed)
    by_type = results_stats(
        frame, scenario.endpoints, clock=clock, duration_s=elapsed, by="agent_type"
    )
    for line in summary_lines(stats, name_width=terminal_name_width(), by_agent_type=by_type):
        print(line)
    history = stats_history(frame, scenario.endpoints, clock=clock, duration_s=elapsed)
    write_locust_csvs("ci/monday", stats, history)
    breaches = check_slos(scenario.slo, frame)
    for line in format_breaches(breaches):
        print(line)
    sys.exit(slo_exit_status(breaches))
"""

from __future__ import annotations

from abcsim.results.columns import (
    OUTCOMES,
    RESULTS_COLUMNS,
    RESULTS_SCHEMA,
    ResultsMeta,
    results_batch,
)
from abcsim.results.history import HistoryRow, stats_history
from abcsim.results.locust_console import (
    error_report_lines,
    percentile_table_lines,
    stats_table_lines,
    summary_lines,
    terminal_name_width,
)
from abcsim.results.locust_csv import (
    EXCEPTIONS_CSV_COLUMNS,
    FAILURES_CSV_COLUMNS,
    STATS_CSV_COLUMNS,
    STATS_HISTORY_CSV_COLUMNS,
    write_locust_csvs,
)
from abcsim.results.parquet import ResultsWriter, read_results, read_results_meta
from abcsim.results.slo import Breach, check_slos, format_breaches, slo_exit_status
from abcsim.results.stats import (
    PERCENTILES,
    EntryStats,
    ErrorStats,
    RunClock,
    RunStats,
    exact_percentiles,
    results_stats,
    stats_by_agent_type,
)

__all__ = [
    "EXCEPTIONS_CSV_COLUMNS",
    "FAILURES_CSV_COLUMNS",
    "OUTCOMES",
    "PERCENTILES",
    "RESULTS_COLUMNS",
    "RESULTS_SCHEMA",
    "STATS_CSV_COLUMNS",
    "STATS_HISTORY_CSV_COLUMNS",
    "Breach",
    "EntryStats",
    "ErrorStats",
    "HistoryRow",
    "ResultsMeta",
    "ResultsWriter",
    "RunClock",
    "RunStats",
    "check_slos",
    "error_report_lines",
    "exact_percentiles",
    "format_breaches",
    "percentile_table_lines",
    "read_results",
    "read_results_meta",
    "results_batch",
    "results_stats",
    "slo_exit_status",
    "stats_by_agent_type",
    "stats_history",
    "stats_table_lines",
    "summary_lines",
    "terminal_name_width",
    "write_locust_csvs",
]

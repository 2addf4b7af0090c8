"""Results: the table of what happened to every scheduled request, and its numbers.

One row per scheduled event, measured by a replay or predicted by the planner
(:mod:`~abcsim.results.columns`), streamed to Parquet (:mod:`~abcsim.results.parquet`),
summed up as Locust's statistics (:mod:`~abcsim.results.stats`,
:mod:`~abcsim.results.history`) and checked against the scenario's SLOs
(:mod:`~abcsim.results.slo`). Printing them — Locust's console tables and CSVs,
the SLO verdict's lines — is the report stage's (:mod:`abcsim.report`), which
reads this package and is never read by it.

The numbers of a replay that has ended (``elapsed``: the run's wall-clock seconds)::

    frame = read_results("monday.parquet")
    clock = RunClock.from_meta(read_results_meta("monday.parquet"))
    stats = results_stats(frame, scenario.endpoints, clock=clock, duration_s=elapsed)
    history = stats_history(frame, scenario.endpoints, clock=clock, duration_s=elapsed)
    breaches = check_slos(scenario.slo, frame)  # [Breach("overall P95", 2140.0, 2000.0, "ms")]
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
from abcsim.results.digest import (
    Digest,
    digest_file,
    digest_frame,
    digest_stats,
    results_stats,
    stats_by_agent_type,
)
from abcsim.results.history import HistoryRow, stats_history
from abcsim.results.parquet import ResultsWriter, read_results, read_results_meta
from abcsim.results.slo import (
    Breach,
    Verdict,
    check_digest,
    check_slos,
    digest_verdicts,
    slo_exit_status,
    slo_verdicts,
)
from abcsim.results.stats import (
    PERCENTILES,
    EntryStats,
    ErrorStats,
    RunClock,
    RunStats,
    exact_percentiles,
)

__all__ = [
    "OUTCOMES",
    "PERCENTILES",
    "RESULTS_COLUMNS",
    "RESULTS_SCHEMA",
    "Breach",
    "Digest",
    "EntryStats",
    "ErrorStats",
    "HistoryRow",
    "ResultsMeta",
    "ResultsWriter",
    "RunClock",
    "RunStats",
    "Verdict",
    "check_digest",
    "check_slos",
    "digest_file",
    "digest_frame",
    "digest_stats",
    "digest_verdicts",
    "exact_percentiles",
    "read_results",
    "read_results_meta",
    "results_batch",
    "results_stats",
    "slo_exit_status",
    "slo_verdicts",
    "stats_by_agent_type",
    "stats_history",
]

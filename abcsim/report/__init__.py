"""The last stage of the flow: what a results file says, printed and gated.

Replay and plan write results files of one schema; :func:`report` reads one
back (or takes its frame) and gives Locust's console summary, the same by
agent type, Locust's CSVs if asked, the SLO breaches and the exit status
(0 every target holds, 1 one is breached). ``abcsim report RESULTS`` runs it on a
file that already exists: a replay on Locust's master, yesterday's CI run;
``--against OTHER`` sets two runs side by side (:mod:`~abcsim.report.compare`).

The printers are its modules: Locust's console tables
(:mod:`~abcsim.report.locust_console`), Locust's CSV files
(:mod:`~abcsim.report.locust_csv`), the SLO verdict's lines
(:mod:`~abcsim.report.breaches`), the planner's load, capacity, sweep and
calibration tables (:mod:`~abcsim.report.planner`), the sweep plot
(:mod:`~abcsim.report.sweep_plot`), and the HTML page and PNGs
(:mod:`~abcsim.report.html`, :mod:`~abcsim.report.pngs`, from
:mod:`~abcsim.report.content`); the numbers they print come from
:mod:`abcsim.results`.
"""

from __future__ import annotations

from abcsim.report.breaches import format_breaches
from abcsim.report.compare import Difference, compare, comparison_lines
from abcsim.report.html import write_html
from abcsim.report.locust_console import (
    error_report_lines,
    percentile_table_lines,
    stats_table_lines,
    summary_lines,
    terminal_name_width,
)
from abcsim.report.locust_csv import (
    EXCEPTIONS_CSV_COLUMNS,
    FAILURES_CSV_COLUMNS,
    STATS_CSV_COLUMNS,
    STATS_HISTORY_CSV_COLUMNS,
    write_locust_csvs,
)
from abcsim.report.pngs import write_pngs
from abcsim.report.summary import Report, report

__all__ = [
    "EXCEPTIONS_CSV_COLUMNS",
    "FAILURES_CSV_COLUMNS",
    "STATS_CSV_COLUMNS",
    "STATS_HISTORY_CSV_COLUMNS",
    "Difference",
    "Report",
    "compare",
    "comparison_lines",
    "error_report_lines",
    "format_breaches",
    "percentile_table_lines",
    "report",
    "stats_table_lines",
    "summary_lines",
    "terminal_name_width",
    "write_html",
    "write_locust_csvs",
    "write_pngs",
]

"""Locust-compatible CSV files: ``PREFIX_stats.csv``, ``_stats_history.csv``, ``_failures.csv``.

The ABC team's dashboards and CI scripts read what ``locust --csv PREFIX``
writes. ``abcsim replay --csv PREFIX`` writes the same four files with exactly
the headers of Locust 2.x (the tests compare them with a real Locust run), so
a job that graphs ``Requests/s`` or fails on the ``95%`` column of the
Aggregated row keeps working when the load comes from a simulated trading week
instead of a fixed request mix.

Values follow Locust's conventions: counts as integers; the median and the
percentiles as whole milliseconds (exact here, rounded; Locust's are its
histogram buckets), "N/A" for percentiles of a row with no requests; averages,
minimum, maximum and rates as Python floats; the history's rates as Locust's
``f"{x:2f}"``; times as Unix seconds (history) or ISO 8601 UTC (failures);
the Aggregated row with an empty Type. ``_exceptions.csv`` holds only its
header: a replay catches no Python exceptions in user code, there is none.

Each file is written to a temporary file beside it and renamed into place, so
a dashboard polling the folder never reads half a file.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from abcsim.errors import AbcsimError
from abcsim.parquet_stream import publish
from abcsim.report.locust_console import PERCENTILE_LABELS
from abcsim.report.output import check_folder
from abcsim.results.history import HistoryRow
from abcsim.results.stats import EntryStats, RunStats

STATS_CSV_COLUMNS: tuple[str, ...] = (
    "Type",
    "Name",
    "Request Count",
    "Failure Count",
    "Median Response Time",
    "Average Response Time",
    "Min Response Time",
    "Max Response Time",
    "Average Content Size",
    "Requests/s",
    "Failures/s",
    *PERCENTILE_LABELS,
)

STATS_HISTORY_CSV_COLUMNS: tuple[str, ...] = (
    "Timestamp",
    "User Count",
    "Type",
    "Name",
    "Requests/s",
    "Failures/s",
    *PERCENTILE_LABELS,
    "Total Request Count",
    "Total Failure Count",
    "Total Median Response Time",
    "Total Average Response Time",
    "Total Min Response Time",
    "Total Max Response Time",
    "Total Average Content Size",
)

FAILURES_CSV_COLUMNS: tuple[str, ...] = (
    "Method",
    "Name",
    "Error",
    "Occurrences",
    "First Seen",
    "Last Seen",
)

EXCEPTIONS_CSV_COLUMNS: tuple[str, ...] = ("Count", "Message", "Traceback", "Nodes")

Cell = str | int | float
Row = list[Cell]


def _ms(value: float) -> float | int:
    return 0 if math.isnan(value) else value  # Locust writes 0 when there is no time


def _whole_ms(value: float) -> int:
    return 0 if math.isnan(value) else round(value)


def _stats_row(entry: EntryStats) -> Row:
    # N/A, not 0, when nothing was answered: a system that failed every request is not fast
    percentiles: list[Cell] = (
        [_whole_ms(p) for p in entry.percentiles_ms]
        if entry.timed
        else ["N/A"] * len(entry.percentiles_ms)
    )
    return [
        entry.method,
        entry.name,
        entry.requests,
        entry.failures,
        _whole_ms(entry.median_ms),
        0.0 if math.isnan(entry.avg_ms) else entry.avg_ms,
        _ms(entry.min_ms),
        _ms(entry.max_ms),
        entry.avg_bytes,
        entry.rps,
        entry.fail_per_s,
        *percentiles,
    ]


def stats_csv_rows(stats: RunStats) -> list[Row]:
    """``_stats.csv`` data rows: one per endpoint, sorted as Locust sorts, then Aggregated."""
    return [_stats_row(entry) for entry in (*stats.entries, stats.total)]


def history_csv_rows(history: Iterable[HistoryRow], wall_start: dt.datetime) -> list[Row]:
    """``_stats_history.csv`` data rows, stamped with Unix seconds from ``wall_start``."""
    start = wall_start.timestamp()
    rows: list[Row] = []
    for row in history:
        percentiles: Sequence[Cell] = (
            row.percentiles_ms
            if row.percentiles_ms is not None
            else ["N/A"] * len(PERCENTILE_LABELS)
        )
        rows.append(
            [
                int(start + row.second),
                row.users,
                row.method,
                row.name,
                f"{row.rps:2f}",
                f"{row.fail_per_s:2f}",
                *percentiles,
                row.requests,
                row.failures,
                row.median_ms,
                row.avg_ms,
                _ms(row.min_ms),
                _ms(row.max_ms),
                row.avg_bytes if row.requests else 0,
            ]
        )
    return rows


def utc_timestamp(when: dt.datetime) -> str:
    """Locust's time format for the failures file: ``2025-03-10T13:00:05Z`` (whole seconds)."""
    whole = dt.datetime.fromtimestamp(int(when.timestamp()), dt.UTC)
    return whole.strftime("%Y-%m-%dT%H:%M:%SZ")


def failures_csv_rows(stats: RunStats) -> list[Row]:
    """``_failures.csv`` data rows, one per endpoint and error, in order of first occurrence."""
    start = stats.clock.wall_start
    return [
        [
            error.method,
            error.name,
            error.error,
            error.occurrences,
            utc_timestamp(start + dt.timedelta(seconds=error.first_seen_s)),
            utc_timestamp(start + dt.timedelta(seconds=error.last_seen_s)),
        ]
        for error in stats.errors
    ]


def _write_csv(path: Path, header: Sequence[str], rows: Iterable[Row]) -> None:
    try:
        handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    except OSError as exc:
        raise AbcsimError(f"{path}: cannot write: {exc.strerror or exc}") from None
    try:
        # csv's default "\r\n" line ends, as Locust's files have them
        with os.fdopen(handle, "w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow(header)
            writer.writerows(rows)
        publish(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def csv_paths(prefix: str | Path) -> tuple[Path, Path, Path, Path]:
    """The four files Locust's ``--csv PREFIX`` writes: stats, history, failures, exceptions."""
    base = str(prefix)
    return (
        Path(base + "_stats.csv"),
        Path(base + "_stats_history.csv"),
        Path(base + "_failures.csv"),
        Path(base + "_exceptions.csv"),
    )


def write_locust_csvs(
    prefix: str | Path, stats: RunStats, history: Sequence[HistoryRow]
) -> tuple[Path, Path, Path, Path]:
    """Write the four CSVs next to ``prefix`` (its folder is made if missing, as Locust does)."""
    paths = csv_paths(prefix)
    check_folder(paths[0].parent)
    stats_path, history_path, failures_path, exceptions_path = paths
    _write_csv(stats_path, STATS_CSV_COLUMNS, stats_csv_rows(stats))
    _write_csv(
        history_path, STATS_HISTORY_CSV_COLUMNS, history_csv_rows(history, stats.clock.wall_start)
    )
    _write_csv(failures_path, FAILURES_CSV_COLUMNS, failures_csv_rows(stats))
    _write_csv(exceptions_path, EXCEPTIONS_CSV_COLUMNS, [])
    return paths

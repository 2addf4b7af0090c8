"""The end-of-run summary in Locust 2.x's console layout, as lists of lines.

The team reads a load test as Locust prints it when a run ends, so abcsim
prints the same three tables, column for column: the request table (Type,
Name, # reqs, # fails with %, Avg, Min, Max, Med, req/s, failures/s, the
Aggregated row under a separator), the response-time percentiles, and the
error report. For a replay of the ABC week's busiest hour::

    Type     Name                                        # reqs      # fails |    Avg     Min ...
    --------|-------------------------------------------|-------|-------------|-------|-------...
    POST     /api/v1/agents/data-collection                 812     3(0.37%) |     48      11 ...
    ...
    --------|-------------------------------------------|-------|-------------|-------|-------...
             Aggregated                                    2035     9(0.44%) |    171       2 ...

Functions return lines and never print (Locust's own seam between formatting
and logging), so the replayer, the planner and tests share them. Numbers are
converted as Locust converts them: Avg, Min and Max are truncated to whole
milliseconds (Python's ``%d``), the median and percentiles — which Locust
rounds into its histogram — are rounded. The one visible difference is the
percentile table's title: Locust says "approximated"; ours are exact.

``name_width`` is Locust's ``STATS_NAME_WIDTH``: 80 when the output is not a
terminal, else the terminal's width less 80, between 0 and 80
(:func:`terminal_name_width`).
"""

from __future__ import annotations

import math
import os

from abcsim.results.stats import PERCENTILES, EntryStats, ResponseTime, RunStats

NAME_WIDTH = 80
"""Locust's ``STATS_NAME_WIDTH`` when output is not a terminal."""

TYPE_WIDTH = 8
"""Locust's ``STATS_TYPE_WIDTH``."""

_MEASURES: dict[ResponseTime, str] = {
    "latency": "latency from the scheduled time",
    "service": "service time from the send",
}


def terminal_name_width() -> int:
    """Locust's name-column width for the terminal this process writes to."""
    try:
        columns = os.get_terminal_size().columns
    except OSError:  # not a terminal: a CI log or a pipe
        return NAME_WIDTH
    return max(min(columns - 80, 80), 0)


def percentile_label(fraction: float) -> str:
    """``0.5`` → ``50%``, ``0.999`` → ``99.9%``, as Locust heads its columns."""
    percent = fraction * 100
    return f"{int(percent) if percent.is_integer() else round(percent, 6)}%"


PERCENTILE_LABELS: tuple[str, ...] = tuple(percentile_label(p) for p in PERCENTILES)


def _ms(value: float, *, rounded: bool = False) -> int:
    if math.isnan(value):
        return 0  # no response time at all: Locust shows 0
    return round(value) if rounded else int(value)


# -- the request table -----------------------------------------------------------


def _stats_line(cells: tuple[str, str, str, str, str, str, str, str, str, str], wide: int) -> str:
    kind, name, reqs, fails, avg, low, high, med, rps, fps = cells
    return (
        f"{kind:<{TYPE_WIDTH}} {name:<{wide}} {reqs:>7} {fails:>12} "
        f"|{avg:>7} {low:>7} {high:>7}{med:>7} | {rps:>7} {fps:>11}"
    )


def _stats_row(entry: EntryStats, wide: int) -> str:
    return _stats_line(
        (
            f"{entry.method} " if entry.method else "",
            entry.name,
            str(entry.requests),
            f"{entry.failures}({entry.fail_ratio * 100:.2f}%)",
            str(_ms(entry.avg_ms)),
            str(_ms(entry.min_ms)),
            str(_ms(entry.max_ms)),
            str(_ms(entry.median_ms, rounded=True)),
            f"{entry.rps:.2f}",
            f"{entry.fail_per_s:.2f}",
        ),
        wide,
    )


def stats_table_lines(stats: RunStats, *, name_width: int = NAME_WIDTH) -> list[str]:
    """The request table: header, separator, a row per endpoint, separator, Aggregated."""
    # Locust gives the name column what it saves by compacting the others.
    wide = name_width - TYPE_WIDTH + 4
    header = _stats_line(
        ("Type", "Name", "# reqs", "# fails", "Avg", "Min", "Max", "Med", "req/s", "failures/s"),
        wide,
    )
    widths = (TYPE_WIDTH, wide, 7, 13, 7, 7, 7, 7, 8, 11)
    separator = "|".join("-" * w for w in widths)
    rows = [_stats_row(entry, wide) for entry in stats.entries]
    return [header, separator, *rows, separator, _stats_row(stats.total, wide)]


# -- the percentile table --------------------------------------------------------


def _percentile_line(kind: str, name: str, cells: list[str], name_width: int) -> str:
    first, *rest = cells
    return f"{kind:<{TYPE_WIDTH}} {name:<{name_width}} {first:>8} " + " ".join(
        f"{cell:>6}" for cell in rest
    )


def _percentile_row(entry: EntryStats, name_width: int) -> str:
    cells = [str(_ms(p, rounded=True)) for p in entry.percentiles_ms] + [str(entry.requests)]
    return _percentile_line(entry.method, entry.name, cells, name_width)


def percentile_title(stats: RunStats) -> str:
    """Our title for Locust's "Response time percentiles (approximated)"."""
    return f"Response time percentiles (exact, {_MEASURES[stats.response_time]})"


def percentile_table_lines(
    stats: RunStats, *, name_width: int = NAME_WIDTH, title: str | None = None
) -> list[str]:
    """Title, header, separator, a row per entry with response times, separator, Aggregated."""
    header = _percentile_line("Type", "Name", [*PERCENTILE_LABELS, "# reqs"], name_width)
    separator = "|".join(
        ["-" * TYPE_WIDTH, "-" * name_width, "-" * 8, *(["-" * 6] * len(PERCENTILES))]
    )
    # As Locust: only rows that have response times to rank.
    rows = [_percentile_row(e, name_width) for e in stats.entries if e.timed]
    lines = [title or percentile_title(stats), header, separator, *rows, separator]
    if stats.total.timed:
        lines.append(_percentile_row(stats.total, name_width))
    return lines


# -- the error report ------------------------------------------------------------


def error_report_lines(stats: RunStats, *, name_width: int = NAME_WIDTH) -> list[str]:
    """Title, header, separator, a line per distinct error, separator, a blank line."""
    separator = "-" * 18 + "|" + "-" * (80 + name_width - 19)
    rows = [f"{error.occurrences:<18} {error.label:<100}" for error in stats.errors]
    header = f"{'# occurrences':<18} {'Error':<100}"
    return ["Error report", header, separator, *rows, separator, ""]


# -- the whole summary -----------------------------------------------------------


def summary_lines(
    stats: RunStats, *, name_width: int = NAME_WIDTH, by_agent_type: RunStats | None = None
) -> list[str]:
    """What Locust prints when a run ends, plus (given) the same split by agent type.

    ``by_agent_type`` is ``digest_stats(..., by="agent_type")``: a row per
    agent type (trading, hft, batch) in both tables.
    """
    lines = [*stats_table_lines(stats, name_width=name_width), ""]
    lines += [*percentile_table_lines(stats, name_width=name_width), ""]
    if stats.errors:  # Locust prints the error report only when there were errors
        lines += error_report_lines(stats, name_width=name_width)
    if by_agent_type is not None:
        lines += ["By agent type", *stats_table_lines(by_agent_type, name_width=name_width), ""]
        title = percentile_title(by_agent_type).replace("percentiles", "percentiles by agent type")
        lines += [
            *percentile_table_lines(by_agent_type, name_width=name_width, title=title),
            "",
        ]
    return lines

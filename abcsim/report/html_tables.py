"""The report's tables as HTML: Locust's statistics, the SLO verdicts, two runs compared.

The cells are the console's, number for number: Avg, Min and Max truncated to
whole milliseconds, the median and percentiles rounded, rates to two decimals
(:mod:`~abcsim.report.locust_console`'s rules, Locust's own). A replay of
Tuesday's overlap shows ``POST /api/v1/agents/data-collection 725 0(0.00%) |
57 3 280 47 | 120.67 0.00`` in the terminal and the same ten cells here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

from abcsim.report.content import Comparison
from abcsim.report.locust_console import PERCENTILE_LABELS, percentile_title
from abcsim.results import EntryStats, RunStats, Verdict


def _ms(value: float, *, rounded: bool = False) -> str:
    """As the console prints a time: 0 when there is none, else truncated (or rounded)."""
    if math.isnan(value):
        return "0"
    return str(round(value) if rounded else int(value))


def table(
    head: Sequence[str], rows: Sequence[Sequence[str]], *, css: str = "", foot: int = 0
) -> str:
    """A table; the last ``foot`` rows set apart (Locust's Aggregated row)."""
    cells = "".join(f"<th>{escape(h)}</th>" for h in head)
    body = ["<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows]
    split = len(body) - foot
    footer = f"<tfoot>{''.join(body[split:])}</tfoot>" if foot else ""
    return (
        f'<table class="{css}"><thead><tr>{cells}</tr></thead>'
        f"<tbody>{''.join(body[:split])}</tbody>{footer}</table>"
    )


def _stats_row(entry: EntryStats) -> list[str]:
    return [
        escape(entry.method),
        escape(entry.name),
        str(entry.requests),
        f"{entry.failures}({entry.fail_ratio * 100:.2f}%)",
        _ms(entry.avg_ms),
        _ms(entry.min_ms),
        _ms(entry.max_ms),
        _ms(entry.median_ms, rounded=True),
        f"{entry.rps:.2f}",
        f"{entry.fail_per_s:.2f}",
    ]


def stats_table(stats: RunStats, *, css: str = "stats") -> str:
    """Locust's request table: a row per endpoint (or agent type), then Aggregated."""
    head = ("Type", "Name", "# reqs", "# fails", "Avg", "Min", "Max", "Med", "req/s", "failures/s")
    rows = [_stats_row(e) for e in (*stats.entries, stats.total)]
    return table(head, rows, css=css, foot=1)


def percentile_table(stats: RunStats, *, title: str | None = None, css: str = "stats") -> str:
    """Locust's percentile table: rows that have times, then Aggregated (if it has)."""
    head = ("Type", "Name", *PERCENTILE_LABELS, "# reqs")
    timed = [e for e in stats.entries if e.timed]
    total = [stats.total] if stats.total.timed else []
    rows = [
        [
            escape(e.method),
            escape(e.name),
            *(_ms(p, rounded=True) for p in e.percentiles_ms),
            str(e.requests),
        ]
        for e in (*timed, *total)
    ]
    caption = f"<h3>{escape(title or percentile_title(stats))}</h3>"
    return caption + table(head, rows, css=css, foot=len(total))


def errors_table(stats: RunStats) -> str:
    """Locust's error report: occurrences of each error on each endpoint."""
    if not stats.errors:
        return "<p>No errors.</p>"
    rows = [[str(e.occurrences), escape(e.label)] for e in stats.errors]
    return "<h3>Error report</h3>" + table(("# occurrences", "Error"), rows, css="errors")


def slo_table(verdicts: Sequence[Verdict]) -> str:
    """Each applicable target: the run's figure, the target, pass or breach."""
    if not verdicts:
        return "<p>The scenario sets no SLO that applies to this run.</p>"
    rows = []
    for v in verdicts:
        digits = 2 if v.unit == "%" else 0
        unit = "%" if v.unit == "%" else f" {v.unit}"
        figure = "no samples" if math.isnan(v.figure) else f"{v.figure:,.{digits}f}{unit}"
        word = v.word
        rows.append(
            [
                escape(v.what),
                figure,
                f"&le; {v.threshold:,.{digits}f}{unit}",
                f'<span class="verdict {word}">{word}</span>',
            ]
        )
    return table(("SLO", "this run", "target", "verdict"), rows, css="slo")


def _pair(first: float, second: float, beyond: bool | None, unit: str = "") -> str:
    if math.isnan(first) or math.isnan(second):
        return "—"
    mark = "?" if beyond is None else ("*" if beyond else "")
    change = f" ({second / first - 1:+.0%})" if first > 0 and unit != "%" else ""
    return f"{first:,.1f}{unit} → {second:,.1f}{unit}{change} {mark}".rstrip()


def comparison_table(comparison: Comparison) -> str:
    """Per request type: events, P50/P95/P99 and error rate of both runs, ``*`` beyond noise."""
    if not comparison.differences:
        return "<p>The two runs share no event.</p>"
    percentiles = comparison.differences[0].percentiles
    head = ("request", "events", *(f"P{q.p:g} ms" for q in percentiles), "errors")
    rows = [
        [
            escape(d.request),
            f"{d.events:,}",
            *(_pair(q.first_ms, q.second_ms, q.beyond_noise) for q in d.percentiles),
            _pair(100 * d.first_errors, 100 * d.second_errors, d.errors_beyond_noise, "%"),
        ]
        for d in comparison.differences
    ]
    return table(head, rows, css="comparison")

"""The HTML report: one self-contained page of a run, readable from disk with no network.

``abcsim report tue.results.parquet --html tue.html`` writes a page that an
engineer opens from CI's artefacts or a wiki: when traffic came (with the
market's closures, exchange opens and releases marked), the request mix,
latency percentiles and the replayer's send lag over time, outcomes over time,
Locust's table, the SLO verdicts and — with ``against`` — measured beside
predicted. The numbers are :mod:`~abcsim.report.content`'s, the charts
:mod:`~abcsim.report.charts`', the tables :mod:`~abcsim.report.html_tables`'.

Why Plotly: the arrival and latency charts are for zooming (from the week to
the minute after the CPI release), which Plotly's date axes do on a drag with
no code of ours; plotly.js comes inlined from the ``plotly`` package, once
per page (4.8 MB), so the page works offline and behind any proxy; and the
data are bins, not rows, sent as base64 typed arrays — a week of 2 million
or 50 million rows makes a page of about 5.6 MB, where Vega-Lite would carry
its data as JSON text. A Content-Security-Policy lets the page load nothing.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

from abcsim.report.charts import (
    CONFIG,
    arrivals_figure,
    comparison_figure,
    latency_figure,
    mix_figure,
    outcomes_figure,
    resources_figure,
    send_lag_figure,
)
from abcsim.report.content import (
    CHART_CONVENTION,
    ReportContent,
    Results,
    report_content,
)
from abcsim.report.html_tables import (
    comparison_table,
    errors_table,
    percentile_table,
    slo_table,
    stats_table,
)
from abcsim.report.locust_console import percentile_title
from abcsim.report.output import check_file, write_whole
from abcsim.report.summary import CONVENTION
from abcsim.results import ResultsMeta
from abcsim.scenario import Scenario

SECTIONS: tuple[tuple[str, str], ...] = (
    ("arrivals", "Arrival pattern"),
    ("mix", "Request mix"),
    ("latency", "Latency over time"),
    ("resources", "Resources"),
    ("send-lag", "Send lag"),
    ("outcomes", "Errors and outcomes"),
    ("statistics", "Statistics"),
    ("slo", "SLO verdicts"),
    ("comparison", "Predicted vs measured"),
)
"""Each section's element id and heading, in page order (``resources`` only for a monitored
replay, ``comparison`` only with ``against``)."""

POLICY = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data: blob:"
)
"""Nothing but what the page holds: no request can leave it, whatever a script tries."""

STYLE = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto;
       max-width: 1280px; padding: 0 24px 48px; color: #222; }
header { border-bottom: 1px solid #ddd; margin-bottom: 8px; }
h1 { font-size: 22px; margin: 20px 0 6px; }
h2 { font-size: 18px; margin: 28px 0 6px; border-bottom: 1px solid #eee; }
h3 { font-size: 15px; margin: 16px 0 4px; }
nav a { margin-right: 14px; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 8px 0; }
dl.facts dt { color: #666; } dl.facts dd { margin: 0; }
p.convention { background: #f6f8fa; border-left: 3px solid #1f77b4; padding: 6px 10px; }
table { border-collapse: collapse; margin: 6px 0 14px; font-variant-numeric: tabular-nums; }
th, td { padding: 3px 9px; border-bottom: 1px solid #eee; text-align: right; white-space: nowrap; }
th:nth-child(-n+2), td:nth-child(-n+2) { text-align: left; }
thead th { border-bottom: 2px solid #ccc; }
tfoot td { border-top: 2px solid #ccc; font-weight: 600; }
.verdict { padding: 1px 8px; border-radius: 3px; color: #fff; font-weight: 600; }
.verdict.pass { background: #2ca02c; } .verdict.breach { background: #d62728; }
.verdict.unverified { background: #ff7f0e; }
.chart { width: 100%; }
"""


def write_html(
    out: str | Path,
    results: Results | ReportContent,
    *,
    scenario: Scenario | None = None,
    against: Results | None = None,
    meta: ResultsMeta | None = None,
    against_meta: ResultsMeta | None = None,
) -> Path:
    """Write the report of ``results`` (a file, its frame with ``meta``, or the
    :func:`~abcsim.report.content.report_content` of one) to ``out``.

    ``scenario`` gives the endpoints and SLOs instead of the file's own (and,
    for a frame without ``meta``, the schedule's start); ``against`` is
    another run of the same events, e.g. the plan of the slice a replay sent.
    The page is written whole or not at all; its path is returned.
    """
    target = check_file(out)  # before the work: a bad path fails in a second, not a minute
    content = (
        results
        if isinstance(results, ReportContent)
        else report_content(
            results, scenario=scenario, against=against, meta=meta, against_meta=against_meta
        )
    )
    return write_whole(target, render_html(content).encode("utf-8"))


def render_html(content: ReportContent) -> str:
    """The whole page as text."""
    from plotly.offline import get_plotlyjs

    body = "".join(_section(key, title, html) for key, title, html in _sections(content))
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{POLICY}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(content.title)}</title><style>{STYLE}</style>"
        f"<script>{get_plotlyjs()}</script></head>\n<body>{_header(content)}{body}</body></html>\n"
    )


def _header(content: ReportContent) -> str:
    facts = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in content.facts)
    links = "".join(
        f'<a href="#{key}">{escape(title)}</a>'
        for key, title in SECTIONS
        if key != "comparison" or content.comparison is not None
    )
    return (
        f'<header><h1>{escape(content.title)}</h1><dl class="facts">{facts}</dl>'
        f'<p class="convention">{escape(CONVENTION)} {escape(CHART_CONVENTION)}</p>'
        f"<nav>{links}</nav></header>"
    )


def _section(key: str, title: str, html: str) -> str:
    return f'<section id="{key}"><h2>{escape(title)}</h2>{html}</section>\n'


def _chart(figure: Any, key: str) -> str:
    import plotly.io as pio

    html: str = pio.to_html(
        figure, include_plotlyjs=False, full_html=False, div_id=f"{key}-chart", config=CONFIG
    )
    return f'<div class="chart">{html}</div>'


def _sections(content: ReportContent) -> list[tuple[str, str, str]]:
    timeline = content.timeline
    lag = send_lag_figure(timeline)
    parts = {
        "arrivals": _chart(arrivals_figure(timeline, content.marks), "arrivals")
        + "<p>Requests scheduled per minute, by agent type, over the schedule's clock. "
        "Shaded: the weekly maintenance window; dotted lines: exchange opens (green) and "
        "releases (red). Drag to zoom into any hour; double-click to zoom out.</p>",
        "mix": _chart(mix_figure(content.mix), "mix"),
        "latency": _chart(latency_figure(timeline), "latency")
        + "<p>Percentiles per bin are drawn where the bin holds enough answered requests "
        "to rank (a P99 needs more than 100).</p>",
        "send-lag": _chart(lag, "send-lag")
        + "<p>How late the load generator sent each request after its scheduled time "
        "(real time). Latency counts this lag: it is measured from the scheduled time.</p>"
        if lag is not None
        else "<p>None: this is a plan, and a model sends every request on time.</p>",
        "outcomes": _chart(outcomes_figure(timeline, content.bursts), "outcomes")
        + (
            "<p>Shaded: failure bursts, seconds whose failures stood out from the run's "
            "usual failure rate (the summary says when, how many and which).</p>"
            if content.bursts
            else ""
        ),
        "statistics": stats_table(content.stats)
        + percentile_table(content.stats)
        + errors_table(content.stats)
        + "<h3>By agent type</h3>"
        + stats_table(content.by_agent_type)
        + percentile_table(
            content.by_agent_type,
            title=percentile_title(content.by_agent_type).replace(
                "percentiles", "percentiles by agent type"
            ),
        ),
        "slo": slo_table(content.verdicts),
    }
    if content.resources:
        parts["resources"] = (
            _chart(resources_figure(content.resources), "resources")
            + "<p>What --monitor scraped and --watch-pid sampled during the replay, on the "
            "same clock as the latency above: resident memory, CPU in cores (dotted, right "
            "axis) and the memory's trend after warm-up (dashed red: a leak).</p>"
        )
    if content.comparison is not None:
        c = content.comparison
        parts["comparison"] = (
            f"<p>{escape(c.first)} → {escape(c.second)}, joined on event_id. "
            "* beyond run-to-run noise (95%: order-statistic intervals of each percentile "
            "apart; errors: two-proportion z-test); ? too few requests to say.</p>"
            + comparison_table(c)
            + (_chart(comparison_figure(c), "comparison") if c.differences else "")
        )
    return [(key, title, parts[key]) for key, title in SECTIONS if key in parts]

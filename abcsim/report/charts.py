"""The report's interactive charts: Plotly figures of a run's bins, marks and comparison.

Each function turns part of a :class:`~abcsim.report.content.ReportContent`
into one Plotly figure; :mod:`~abcsim.report.html` lays them out. Time runs on
a UTC date axis of the schedule's clock (milliseconds since the epoch, which
Plotly's date axes take as they are), so the CPI release of 13 January 2026
sits at 13:30 whatever the replay's speed. Drag on a time chart to zoom its
time axis (values stay fitted), double-click to zoom out; the buttons above it
jump to the last hour, six hours or day.

Bins are evenly spaced, so a trace's times are its first bin and step
(``x0``, ``dx``), never an array; values go as float32 typed arrays (Plotly
encodes numpy arrays in base64): a week's 1-minute arrivals for four agent
types cost about 190 kB.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from abcsim.report.content import Comparison
from abcsim.report.marks import CLOSED, OPEN, Mark
from abcsim.report.resources import BurstMark, ResourceTrace
from abcsim.report.timeline import Bins, Percentiles, Timeline
from abcsim.results.columns import OUTCOMES

Figure = Any  # plotly.graph_objects.Figure: plotly ships no type hints

HEIGHT = 430
PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
)  # fmt: skip
OUTCOME_COLOURS = {
    "ok": "#2ca02c",
    "http_error": "#d62728",
    "timeout": "#ff7f0e",
    "connection_error": "#9467bd",
    "dropped": "#7f7f7f",
}
MARK_COLOURS = {OPEN: "#2ca02c", "release": "#d62728"}
DASHES = {0.5: "dot", 0.95: "solid", 0.99: "dash", 1.0: "longdashdot"}

CONFIG: dict[str, Any] = {"displaylogo": False, "responsive": True}
"""Plotly's options for every chart: no link to Plotly's site."""


def _go() -> Any:
    import plotly.graph_objects as go  # imported when a report is drawn: a second to load

    return go


def _f32(values: npt.ArrayLike) -> npt.NDArray[np.float32]:
    return np.asarray(values, dtype=np.float32)


def _steps(bins: Bins, *, centres: bool = False) -> dict[str, float]:
    """A trace's x as its first value and step: bins are evenly spaced, so no x array is sent."""
    first = bins.start_of(0.5 if centres else 0.0) * 1000.0
    return {"x0": first, "dx": bins.width_s * 1000.0}


def _percent(p: float) -> str:
    return "max" if p == 1.0 else f"P{p * 100:g}"


def _layout(figure: Figure, title: str, y_title: str, *, time: bool = True) -> None:
    figure.update_layout(
        title={"text": title, "x": 0.01, "font": {"size": 15}},
        template="plotly_white",
        height=HEIGHT,
        margin={"l": 60, "r": 20, "t": 80, "b": 40},
        # Under the chart: above it are the zoom buttons.
        legend={"orientation": "h", "y": -0.18, "yanchor": "top", "x": 0, "xanchor": "left"},
        hovermode="x unified" if time else "closest",
        yaxis={"title": {"text": y_title}},
    )
    if time:
        figure.update_xaxes(
            type="date",
            rangeselector={
                "buttons": [
                    {"count": 1, "label": "1 h", "step": "hour", "stepmode": "backward"},
                    {"count": 6, "label": "6 h", "step": "hour", "stepmode": "backward"},
                    {"count": 1, "label": "1 day", "step": "day", "stepmode": "backward"},
                    {"step": "all", "label": "all"},
                ],
                "y": 1.0,
                "yanchor": "bottom",
            },
        )
        # Drag zooms time only; the values axis refits to what is shown.
        figure.update_yaxes(fixedrange=True)


def arrivals_figure(timeline: Timeline, marks: tuple[Mark, ...]) -> Figure:
    """Requests per minute by agent type, stacked; the market's closures, opens, releases marked."""
    go = _go()
    bins = timeline.arrival_bins
    figure = go.Figure()
    rates = timeline.arrivals_per_minute
    for i, name in enumerate(timeline.agent_types):
        figure.add_trace(
            go.Scatter(
                **_steps(bins),
                y=_f32(rates[i]),
                name=name,
                mode="lines",
                line={"width": 0.8, "shape": "hv", "color": PALETTE[i % len(PALETTE)]},
                stackgroup="arrivals",
                hovertemplate="%{y:,.0f}/min",
            )
        )
    _layout(figure, f"Requests per minute by agent type ({bins.label} bins)", "requests / min")
    _mark(figure, marks)
    return figure


def _mark(figure: Figure, marks: tuple[Mark, ...]) -> None:
    """Closures as shaded bands, opens and releases as labelled vertical lines."""
    for mark in marks:
        x0 = mark.start_s * 1000.0
        if mark.kind == CLOSED and mark.end_s is not None:
            figure.add_vrect(
                x0=x0,
                x1=mark.end_s * 1000.0,
                fillcolor="#888888",
                opacity=0.15,
                line_width=0,
                annotation_text=mark.label,
                annotation_position="top left",
                annotation_font_size=10,
            )
            continue
        colour = MARK_COLOURS.get(mark.kind, "#555555")
        figure.add_vline(x=x0, line={"color": colour, "width": 1, "dash": "dot"}, opacity=0.8)
        figure.add_annotation(
            x=x0,
            y=1.0,
            yref="paper",
            text=mark.label,
            textangle=-90,
            xanchor="right",
            yanchor="top",
            showarrow=False,
            font={"size": 10, "color": colour},
        )


def mix_figure(mix: tuple[tuple[str, int], ...]) -> Figure:
    """Each request type's share of the requests scheduled."""
    go = _go()
    total = sum(n for _, n in mix) or 1
    names = [name for name, _ in mix]
    counts = np.array([n for _, n in mix], dtype=np.float64)
    figure = go.Figure(
        go.Bar(
            x=_f32(100.0 * counts / total),
            y=names,
            orientation="h",
            marker={"color": [PALETTE[i % len(PALETTE)] for i in range(len(mix))]},
            customdata=counts,
            text=[f"{100.0 * n / total:.1f}%" for n in counts],
            textposition="auto",
            hovertemplate="%{y}: %{x:.2f}% (%{customdata:,.0f} requests)<extra></extra>",
        )
    )
    _layout(figure, f"Request mix ({total:,} requests)", "", time=False)
    figure.update_layout(height=80 + 40 * len(mix), margin={"t": 50}, showlegend=False)
    figure.update_xaxes(title={"text": "% of requests"})
    figure.update_yaxes(autorange="reversed")
    return figure


def latency_figure(timeline: Timeline) -> Figure:
    """P50/P95/P99 of latency per request type and bin (answered requests), log scale.

    The buttons show one percentile of every request type at a time (P95 first), or all.
    """
    go = _go()
    latency = timeline.latency_ms
    figure = go.Figure()
    x = _steps(timeline.latency_bins, centres=True)
    shown: list[tuple[int, float]] = []  # (group, fraction) of each trace
    for g, name in enumerate(latency.groups):
        if not latency.counts[g].any():
            continue
        for j, p in enumerate(latency.fractions):
            figure.add_trace(_percentile_trace(go, x, latency, g, j, PALETTE[g % len(PALETTE)]))
            shown.append((g, p))
            figure.data[-1].visible = p == 0.95
            figure.data[-1].name = f"{name} {_percent(p)}"
            figure.data[-1].legendgroup = name
    _layout(
        figure,
        f"Latency percentiles per request type, answered requests ({timeline.latency_bins.label}"
        " bins)",
        "latency (ms, log)",
    )
    figure.update_yaxes(type="log")
    buttons = [
        {
            "label": _percent(p),
            "method": "restyle",
            "args": [{"visible": [q == p for _, q in shown]}],
        }
        for p in latency.fractions
    ]
    buttons.append({"label": "all", "method": "restyle", "args": [{"visible": True}]})
    figure.update_layout(
        updatemenus=[
            {
                "type": "buttons",
                "direction": "right",
                "buttons": buttons,
                "active": latency.fractions.index(0.95),
                "x": 1.0,
                "xanchor": "right",
                "y": 1.0,
                "yanchor": "bottom",
                "pad": {"b": 2},
            }
        ]
    )
    return figure


def _percentile_trace(
    go: Any, x: dict[str, float], data: Percentiles, g: int, j: int, colour: str
) -> Any:
    return go.Scatter(
        **x,
        y=_f32(data.values[g, j]),
        mode="lines+markers",
        marker={"size": 3},
        line={"color": colour, "width": 1.3, "dash": DASHES.get(data.fractions[j], "solid")},
        customdata=data.counts[g].astype(np.int32),
        hovertemplate="%{y:,.1f} ms (n=%{customdata:,})",
    )


def send_lag_figure(timeline: Timeline) -> Figure | None:
    """How late the replayer sent: P50, P99 and the largest of ``sent - t`` per bin, in ms."""
    lag = timeline.send_lag_ms
    if lag is None:
        return None
    go = _go()
    figure = go.Figure()
    x = _steps(timeline.latency_bins, centres=True)
    for j, p in enumerate(lag.fractions):
        figure.add_trace(_percentile_trace(go, x, lag, 0, j, PALETTE[j]))
        figure.data[-1].name = _percent(p)
    _layout(
        figure,
        f"Send lag: sent − scheduled, real ms ({timeline.latency_bins.label} bins)",
        "send lag (ms)",
    )
    return figure


def resources_figure(traces: tuple[ResourceTrace, ...]) -> Figure:
    """Each watched source's resident memory (MB) and CPU (cores, right axis), with the
    memory's trend after warm-up: dashed red when it is a leak, dotted grey when not."""
    go = _go()
    figure = go.Figure()
    for trace in traces:
        figure.add_trace(
            go.Scatter(
                x=trace.memory_s * 1000.0,
                y=_f32(trace.memory_mb),
                name=f"{trace.source} memory (MB)",
                mode="lines",
                hovertemplate="%{y:,.1f} MB",
            )
        )
        if trace.cpu_s.size:
            figure.add_trace(
                go.Scatter(
                    x=trace.cpu_s * 1000.0,
                    y=_f32(trace.cpu_cores),
                    name=f"{trace.source} CPU (cores)",
                    mode="lines",
                    yaxis="y2",
                    line={"width": 1, "dash": "dot"},
                    hovertemplate="%{y:.2f} cores",
                )
            )
        if trace.trend is not None:
            trend = trace.trend
            figure.add_trace(
                go.Scatter(
                    x=[trend.start_s * 1000.0, trend.end_s * 1000.0],
                    y=[trend.start_mb, trend.end_mb],
                    name=f"{trace.source} {'leak' if trend.is_leak else 'trend'}",
                    mode="lines",
                    line={
                        "width": 2,
                        "dash": "dash" if trend.is_leak else "dot",
                        "color": "#d62728" if trend.is_leak else "#888888",
                    },
                    hoverinfo="skip",
                )
            )
    _layout(figure, "Resources of the system under test", "resident memory (MB)")
    figure.update_layout(
        yaxis2={
            "title": {"text": "CPU (cores)"},
            "overlaying": "y",
            "side": "right",
            "rangemode": "tozero",
            "showgrid": False,
        },
        margin={"r": 60},
    )
    return figure


def outcomes_figure(timeline: Timeline, bursts: tuple[BurstMark, ...] = ()) -> Figure:
    """Requests per bin by outcome, stacked, and the share that failed (right axis); the
    run's failure bursts shaded."""
    go = _go()
    bins = timeline.arrival_bins
    figure = go.Figure()
    counts = timeline.outcomes
    for k, outcome in enumerate(OUTCOMES):
        if not counts[k].any() and outcome != "ok":
            continue
        figure.add_trace(
            go.Scatter(
                **_steps(bins),
                y=_f32(counts[k]),
                name=outcome,
                mode="lines",
                line={"width": 0.8, "shape": "hv", "color": OUTCOME_COLOURS[outcome]},
                stackgroup="outcomes",
                hovertemplate="%{y:,.0f}",
            )
        )
    total = counts.sum(axis=0)
    failed = np.where(total > 0, 100.0 * (total - counts[0]) / np.maximum(total, 1), np.nan)
    figure.add_trace(
        go.Scatter(
            **_steps(bins),
            y=_f32(failed),
            name="failed %",
            mode="lines",
            yaxis="y2",
            line={"width": 1.2, "color": "#000000", "shape": "hv"},
            hovertemplate="%{y:.2f}% failed",
        )
    )
    _layout(figure, f"Outcomes per {bins.label} bin", "requests per bin")
    figure.update_layout(
        yaxis2={
            "title": {"text": "failed (%)"},
            "overlaying": "y",
            "side": "right",
            "rangemode": "tozero",
            "range": [0, max(1.0, 1.1 * float(np.nanmax(failed, initial=0.0)))],
            "fixedrange": True,
            "showgrid": False,
        },
        margin={"r": 60},
    )
    for burst in bursts:
        figure.add_vrect(
            x0=burst.start_s * 1000.0,
            x1=burst.end_s * 1000.0,
            fillcolor="#d62728",
            opacity=0.12,
            line_width=0,
            annotation_text=f"burst: {burst.label}",
            annotation_position="top left",
            annotation_font_size=10,
        )
    return figure


def comparison_figure(comparison: Comparison) -> Figure:
    """P50/P95/P99 per request type of both runs, side by side (log scale)."""
    go = _go()
    figure = go.Figure()
    names = [d.request for d in comparison.differences]
    for j in range(len(comparison.differences[0].percentiles) if names else 0):
        p = comparison.differences[0].percentiles[j].p
        for run, label, opacity in ((0, comparison.first, 0.45), (1, comparison.second, 1.0)):
            values = [
                d.percentiles[j].first_ms if run == 0 else d.percentiles[j].second_ms
                for d in comparison.differences
            ]
            figure.add_trace(
                go.Bar(
                    x=names,
                    y=_f32(values),
                    name=f"P{p:g} {label}",
                    marker={"color": PALETTE[j], "opacity": opacity},
                    offsetgroup=f"{j}-{run}",
                    hovertemplate="%{x}: %{y:,.1f} ms",
                )
            )
    _layout(
        figure, f"Latency percentiles: {comparison.first} vs {comparison.second}", "", time=False
    )
    figure.update_layout(barmode="group", hovermode="closest", margin={"t": 110})
    figure.update_yaxes(type="log", title={"text": "latency (ms, log)"})
    return figure

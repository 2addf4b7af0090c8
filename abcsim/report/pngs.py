"""The report's main charts as static PNGs, for CI artefacts and wiki pages.

``abcsim report tue.results.parquet --png charts/`` writes ``arrivals.png``,
``mix.png``, ``latency.png``, ``send_lag.png`` (a replay only: a plan sends on
time), ``outcomes.png`` and, with ``--against``, ``comparison.png`` — the HTML
report's charts drawn with matplotlib from the same bins
(:mod:`~abcsim.report.content`). Every picture is drawn in memory before any
file is written, and each file is written whole.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from abcsim.report.charts import DASHES, MARK_COLOURS, OUTCOME_COLOURS, PALETTE
from abcsim.report.content import Comparison, ReportContent, Results, report_content
from abcsim.report.marks import CLOSED, Mark
from abcsim.report.output import check_folder, write_whole
from abcsim.report.timeline import Bins, Percentiles, Timeline
from abcsim.results import ResultsMeta
from abcsim.results.columns import OUTCOMES
from abcsim.scenario import Scenario

Axes = Any  # matplotlib.axes.Axes, drawn on through its untyped-enough API
MPL_DASHES = {"dot": ":", "solid": "-", "dash": "--", "longdashdot": "-."}


def write_pngs(
    folder: str | Path,
    results: Results | ReportContent,
    *,
    scenario: Scenario | None = None,
    against: Results | None = None,
    meta: ResultsMeta | None = None,
    against_meta: ResultsMeta | None = None,
) -> list[Path]:
    """Draw the main charts of ``results`` into ``folder`` (made if missing); their paths.

    ``results`` and the options are :func:`~abcsim.report.html.write_html`'s.
    """
    out = check_folder(folder)
    content = (
        results
        if isinstance(results, ReportContent)
        else report_content(
            results, scenario=scenario, against=against, meta=meta, against_meta=against_meta
        )
    )
    pictures = render_pngs(content)
    return [write_whole(out / name, data) for name, data in pictures.items()]


def render_pngs(content: ReportContent) -> dict[str, bytes]:
    """Each chart's file name and PNG bytes."""
    timeline = content.timeline
    charts: dict[str, Callable[[Axes], None]] = {
        "arrivals.png": lambda ax: _arrivals(ax, timeline, content.marks),
        "mix.png": lambda ax: _mix(ax, content.mix),
        "latency.png": lambda ax: _latency(ax, timeline),
        "outcomes.png": lambda ax: _outcomes(ax, timeline),
    }
    lag = timeline.send_lag_ms
    if lag is not None:
        charts["send_lag.png"] = lambda ax: _send_lag(ax, lag, timeline.latency_bins)
    comparison = content.comparison
    if comparison is not None and comparison.differences:
        charts["comparison.png"] = lambda ax: _comparison(ax, comparison)
    return {name: _draw(draw) for name, draw in charts.items()}


def _draw(draw: Callable[[Axes], None]) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    # Concise date labels ("13:30", "Jan 13"): read when the axis is drawn, so set throughout.
    with matplotlib.rc_context({"date.converter": "concise"}):
        figure, ax = plt.subplots(figsize=(12, 4.8))
        try:
            draw(ax)
            figure.tight_layout()
            figure.savefig(buffer, format="png", dpi=100)
        finally:
            plt.close(figure)
    return buffer.getvalue()


def _times(bins: Bins, *, centres: bool = False) -> list[dt.datetime]:
    # Naive UTC datetimes: matplotlib's date axis then labels them as they are.
    shift = 0.5 if centres else 0.0
    return [_naive(bins.start_of(i + shift)) for i in range(bins.count)]


def _naive(epoch_s: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(epoch_s, dt.UTC).replace(tzinfo=None)


def _time_axis(ax: Axes, title: str, y_label: str) -> None:
    ax.set(title=title, xlabel="schedule time (UTC)", ylabel=y_label)
    ax.grid(alpha=0.3)
    # Beside the axes, not on them: the marks' labels run down from the top.
    if ax.get_legend_handles_labels()[0]:  # an empty run has nothing to name
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))


def _arrivals(ax: Axes, timeline: Timeline, marks: tuple[Mark, ...]) -> None:
    bins = timeline.arrival_bins
    x = _times(bins)
    colours = [PALETTE[i % len(PALETTE)] for i in range(len(timeline.agent_types))]
    ax.stackplot(
        x,
        timeline.arrivals_per_minute,
        labels=timeline.agent_types,
        colors=colours,
        step="post",
        alpha=0.85,
    )
    for mark in marks:
        start = _naive(mark.start_s)
        if mark.kind == CLOSED and mark.end_s is not None:
            end = _naive(mark.end_s)
            ax.axvspan(start, end, color="grey", alpha=0.15, lw=0)
            continue
        colour = MARK_COLOURS.get(mark.kind, "#555555")
        ax.axvline(start, color=colour, lw=0.8, ls=":")
        ax.annotate(
            mark.label,
            (start, 1.0),
            xycoords=("data", "axes fraction"),
            rotation=90,
            va="top",
            ha="right",
            fontsize=7,
            color=colour,
        )
    _time_axis(ax, f"Requests per minute by agent type ({bins.label} bins)", "requests / min")


def _mix(ax: Axes, mix: tuple[tuple[str, int], ...]) -> None:
    if not mix:  # a run stopped before its first request
        ax.text(0.5, 0.5, "no requests", ha="center", va="center", transform=ax.transAxes)
        return
    total = sum(n for _, n in mix) or 1
    names = [name for name, _ in mix][::-1]
    shares = [100.0 * n / total for _, n in mix][::-1]
    colours = [PALETTE[i % len(PALETTE)] for i in range(len(mix))][::-1]
    ax.barh(names, shares, color=colours)
    for y, share in enumerate(shares):
        ax.annotate(
            f"{share:.1f}%",
            (share, y),
            xytext=(3, 0),
            textcoords="offset points",
            va="center",
            fontsize=8,
        )
    ax.set(title=f"Request mix ({total:,} requests)", xlabel="% of requests")


def _latency(ax: Axes, timeline: Timeline) -> None:
    latency = timeline.latency_ms
    x = _times(timeline.latency_bins, centres=True)
    for g, name in enumerate(latency.groups):
        if not latency.counts[g].any():
            continue
        for j, p in enumerate(latency.fractions):
            ax.plot(
                x,
                latency.values[g, j],
                color=PALETTE[g % len(PALETTE)],
                ls=MPL_DASHES[DASHES[p]],
                lw=1.2 if p == 0.95 else 0.8,
                label=f"{name} P{p * 100:g}" if p == 0.95 else None,
            )
    ax.set_yscale("log")
    _time_axis(
        ax,
        f"Latency of answered requests, P50 (dotted), P95, P99 (dashed), "
        f"{timeline.latency_bins.label} bins",
        "latency (ms, log)",
    )


def _send_lag(ax: Axes, lag: Percentiles, bins: Bins) -> None:
    x = _times(bins, centres=True)
    for j, p in enumerate(lag.fractions):
        label = "max" if p == 1.0 else f"P{p * 100:g}"
        ax.plot(x, lag.values[0, j], color=PALETTE[j], lw=1.0, marker=".", ms=3, label=label)
    _time_axis(ax, f"Send lag: sent − scheduled ({bins.label} bins)", "ms")


def _outcomes(ax: Axes, timeline: Timeline) -> None:
    bins = timeline.arrival_bins
    x = _times(bins)
    shown = [k for k, o in enumerate(OUTCOMES) if o == "ok" or timeline.outcomes[k].any()]
    ax.stackplot(
        x,
        timeline.outcomes[shown],
        labels=[OUTCOMES[k] for k in shown],
        colors=[OUTCOME_COLOURS[OUTCOMES[k]] for k in shown],
        step="post",
    )
    _time_axis(ax, f"Outcomes per {bins.label} bin", "requests per bin")
    total = timeline.outcomes.sum(axis=0)
    failed = np.where(total > 0, 100.0 * (total - timeline.outcomes[0]) / np.maximum(total, 1), 0)
    right = ax.twinx()
    (line,) = right.plot(x, failed, color="black", lw=0.9, drawstyle="steps-post")
    right.set_ylabel("failed (%)")
    right.set_ylim(bottom=0, top=max(float(failed.max()) * 1.1, 1.0))
    handles, labels = ax.get_legend_handles_labels()
    ax.legend(
        [*handles, line],
        [*labels, "failed %"],
        fontsize=8,
        loc="upper left",
        bbox_to_anchor=(1.07, 1.0),
    )


def _comparison(ax: Axes, comparison: Comparison) -> None:
    names = [d.request for d in comparison.differences]
    fractions = [q.p for q in comparison.differences[0].percentiles]
    width = 0.8 / (2 * len(fractions))
    x = np.arange(len(names))
    for j, p in enumerate(fractions):
        for run, label, alpha in ((0, comparison.first, 0.45), (1, comparison.second, 1.0)):
            values = [
                d.percentiles[j].first_ms if run == 0 else d.percentiles[j].second_ms
                for d in comparison.differences
            ]
            offset = (2 * j + run - len(fractions) + 0.5) * width
            ax.bar(
                x + offset, values, width, color=PALETTE[j], alpha=alpha, label=f"P{p:g} {label}"
            )
    ax.set_xticks(x, names, fontsize=8)
    ax.set_yscale("log")
    ax.set(
        title=f"Latency percentiles: {comparison.first} vs {comparison.second}",
        ylabel="latency (ms, log)",
    )
    ax.legend(fontsize=7, ncols=3)
    ax.grid(alpha=0.3, axis="y")

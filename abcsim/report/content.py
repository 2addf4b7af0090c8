"""What a report shows, computed once from a results file: the figures behind every page.

The HTML report and the PNGs draw the same things — the run over time in
bins (:mod:`~abcsim.report.timeline`), the market's marks
(:mod:`~abcsim.report.marks`), the request mix, Locust's table, the SLO
verdicts and, given another run of the same events, the comparison — so
:func:`report_content` computes them once and both writers only lay them out.

No statistic is computed here a second way: the run's
:class:`~abcsim.results.Digest` gives the table (with the clock and duration
the console summary uses, :func:`~abcsim.report.summary.run_clock`) and the
verdicts (:func:`~abcsim.results.digest_verdicts`, as the console's), the
comparison is :func:`~abcsim.report.compare.compare`'s. For a replay of
Tuesday's overlap with ``--against tue.plan.parquet``, the page's numbers are
the ones ``abcsim report`` printed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from abcsim.errors import ResultsError
from abcsim.report.compare import Difference, compare
from abcsim.report.marks import Mark, market_marks
from abcsim.report.resources import BurstMark, ResourceTrace, burst_marks, resource_traces
from abcsim.report.summary import frame_meta, run_clock
from abcsim.report.timeline import Timeline, build_timeline
from abcsim.results import (
    RESULTS_COLUMNS,
    ResultsMeta,
    RunClock,
    RunStats,
    Verdict,
    digest_frame,
    digest_stats,
    digest_verdicts,
    read_results,
    read_results_meta,
)
from abcsim.results.digest import not_sent
from abcsim.scenario import REQUEST_TYPES, Scenario, parse_scenario

Results = str | Path | pd.DataFrame
"""A results file, or its frame already read (with its :class:`ResultsMeta` given apart)."""

CHART_CONVENTION = (
    "Latency percentiles in the charts, as in the tables, are over answered requests "
    "(outcome ok), from the scheduled time to the end of the response; refusals, HTTP "
    "errors, timeouts and dropped requests are their own rates, never ranked."
)


@dataclass(frozen=True)
class Run:
    """A results table, what its file says about itself (if known) and a name for it."""

    frame: pd.DataFrame
    meta: ResultsMeta | None
    name: str

    @property
    def source(self) -> str:
        return self.meta.source if self.meta else "results"

    @property
    def label(self) -> str:
        """``"plan (tue.plan.parquet)"``."""
        return f"{self.source} ({self.name})" if self.meta else self.name


def load_run(results: Results, meta: ResultsMeta | None = None, name: str = "results") -> Run:
    """Read a results file and its metadata, or wrap a frame (``meta`` as given)."""
    if isinstance(results, pd.DataFrame):
        missing = [c for c in RESULTS_COLUMNS if c not in results.columns]
        if missing:
            raise ResultsError(
                f"{name}: column {missing[0]!r}: missing (not an abcsim results frame)"
            )
        if meta is None and results.attrs:  # a frame from abcsim.api carries its metadata
            meta = frame_meta(results)
        return Run(results, meta, name)
    return Run(read_results(results), meta or read_results_meta(results), Path(results).name)


@dataclass(frozen=True)
class Comparison:
    """:func:`~abcsim.report.compare.compare` of two runs of the same events."""

    first: str  # labels: the earlier run or the prediction …
    second: str  # … and this run
    differences: tuple[Difference, ...]


@dataclass(frozen=True)
class ReportContent:
    """Everything the report shows; see the module docstring."""

    title: str
    facts: tuple[tuple[str, str], ...]  # the header: what, where, when
    source: str  # "replay", "plan" or "results" (a frame without metadata)
    timeline: Timeline
    marks: tuple[Mark, ...]
    mix: tuple[tuple[str, int], ...]  # request type, requests scheduled
    stats: RunStats
    by_agent_type: RunStats
    verdicts: tuple[Verdict, ...]
    comparison: Comparison | None
    resources: tuple[ResourceTrace, ...] = ()  # a monitored replay's series
    bursts: tuple[BurstMark, ...] = ()  # when failures came together


def report_content(
    results: Results,
    *,
    scenario: Scenario | None = None,
    against: Results | None = None,
    meta: ResultsMeta | None = None,
    against_meta: ResultsMeta | None = None,
    names: tuple[str, str] = ("results", "against"),
    path: Path | None = None,
) -> ReportContent:
    """Read (or take) a run and compute what its report shows.

    ``names`` name frames passed without a file (e.g. the paths they were read from);
    ``path`` is the file a frame was read from, beside which a monitor file may be.
    """
    run = load_run(results, meta, names[0])
    if path is None and not isinstance(results, pd.DataFrame):
        path = Path(results)
    spec = _scenario(run, scenario)
    start = run.meta.schedule_start if run.meta else spec.start
    window = _window(run)
    speed = run.meta.speed if run.meta else 1.0
    # As the console summary: events a stopped run never got to are not part of it.
    stopped = not_sent(run.frame)
    counted = run.frame[~stopped] if stopped.any() else run.frame
    timeline = build_timeline(counted, start, window, speed=speed, measured=run.source != "plan")
    clock, duration = run_clock(run.meta) if run.meta else (RunClock(), None)
    digest = digest_frame(counted, clock=clock)  # once: the tables and the verdicts read it
    stats = digest_stats(digest, spec.endpoints, duration_s=duration)
    by_type = digest_stats(digest, spec.endpoints, duration_s=stats.duration_s, by="agent_type")
    comparison = None
    if against is not None:
        other = load_run(against, against_meta, names[1])
        comparison = Comparison(other.label, run.label, compare(other.frame, run.frame))
    return ReportContent(
        title=f"abcsim {run.source}: {spec.name}, {_when(start, window)}",
        facts=_facts(run, spec, start, window, int(stopped.sum())),
        source=run.source,
        timeline=timeline,
        marks=market_marks(spec, start, window),
        mix=_mix(counted),
        stats=stats,
        by_agent_type=by_type,
        verdicts=tuple(digest_verdicts(spec.slo, digest)),
        comparison=comparison,
        resources=resource_traces(path, start) if path else (),
        bursts=burst_marks(path, start) if path and stats.total.failures else (),
    )


def _scenario(run: Run, scenario: Scenario | None) -> Scenario:
    if scenario is not None:
        return scenario
    if run.meta is None:
        raise ResultsError(f"{run.name}: a results frame needs its metadata or a scenario")
    return parse_scenario(run.meta.scenario_text, run.name)


def _window(run: Run) -> tuple[float, float]:
    if run.meta is not None:
        return run.meta.window
    t = run.frame["t"]
    return (float(t.min()), float(t.max()) + 1.0) if len(t) else (0.0, 1.0)


def _mix(frame: pd.DataFrame) -> tuple[tuple[str, int], ...]:
    counts = frame["request"].astype(str).value_counts()
    return tuple((r, int(counts[r])) for r in REQUEST_TYPES if counts.get(r, 0))


def _utc(when: dt.datetime) -> str:
    return f"{when.astimezone(dt.UTC):%a %Y-%m-%d %H:%M:%S} UTC"


def _when(start: dt.datetime, window: tuple[float, float]) -> str:
    first = start + dt.timedelta(seconds=window[0])
    last = start + dt.timedelta(seconds=window[1])
    same_day = first.date() == last.date()
    return (
        f"{first:%a %d %b %Y %H:%M}–{last:%H:%M} UTC"
        if same_day
        else (f"{first:%a %d %b %Y %H:%M} – {last:%a %d %b %Y %H:%M} UTC")
    )


def _facts(
    run: Run, spec: Scenario, start: dt.datetime, window: tuple[float, float], stopped: int
) -> tuple[tuple[str, str], ...]:
    facts = [
        ("source", run.source),
        ("file", run.name),
        ("scenario", spec.name),
        (
            "window",
            f"{_utc(start + dt.timedelta(seconds=window[0]))} → "
            f"{_utc(start + dt.timedelta(seconds=window[1]))}",
        ),
        ("events", f"{len(run.frame):,}"),
    ]
    if run.meta is not None:
        meta = run.meta
        facts += [
            ("target", meta.target),
            ("seed", str(meta.seed)),
            ("speed", f"{meta.speed:g}x"),
            ("scale", f"{meta.scale:g}x"),
            ("run began", _utc(meta.wall_start)),
        ]
    if stopped:
        facts.append(("not sent", f"{stopped:,} events: the run was stopped before them"))
    return tuple(facts)

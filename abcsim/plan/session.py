"""A whole plan as the CLI runs it: model the slice, write the results, report as a replay would.

``abcsim plan week.parquet --window 'Tue 00:00..Wed 00:00' --replicas 2``
predicts Tuesday on two replicas. :func:`prepare_plan` checks every choice
before anything runs; :func:`run_plan` streams the predicted rows into a
results file (``source = plan``), reads it back for the replay's own
end-of-run report — Locust's tables, the split by agent type, the SLO
verdict that sets the exit status (0 all targets hold, 1 one breached) — and
adds what only a model knows: utilisation, mean and peak queue length and a
CPU estimate per replica, for the whole run and its busiest hour, with the
closed-form queueing figures beside the simulated ones.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from dataclasses import dataclass
from pathlib import Path

from abcsim.errors import PlanError
from abcsim.plan.engine import decide
from abcsim.plan.figures import LoadCounter, LoadFigures, theory
from abcsim.plan.predict import plan_batch
from abcsim.plan.system import describe_system, plan_system
from abcsim.report import report
from abcsim.results import ResultsMeta, ResultsWriter
from abcsim.scenario import Scenario, load_scenario, parse_scenario
from abcsim.scenario.spec import SystemSpec
from abcsim.schedule.parquet import ScheduleMeta, read_meta
from abcsim.schedule.slicing import Window, iter_slice, parse_window


@dataclass(frozen=True)
class PreparedPlan:
    """A plan whose every choice has been checked."""

    schedule: Path
    scenario: Scenario
    meta: ScheduleMeta
    window: Window
    system: SystemSpec
    scale: float
    seed: int


def prepare_plan(
    schedule: str | Path,
    *,
    scenario: str | None = None,
    system_file: str | Path | None = None,
    window: str | None = None,
    replicas: int | None = None,
    workers: int | None = None,
    queue_limit: int | None = None,
    balancer: str | None = None,
    timeout_s: float | None = None,
    scale: float = 1.0,
    seed: int | None = None,
) -> PreparedPlan:
    """Read the schedule's metadata and resolve the scenario, slice and system."""
    if not (scale > 0 and math.isfinite(scale)):
        raise PlanError(f"--scale: must be a finite number > 0, got {scale}")
    if seed is not None and seed < 0:
        raise PlanError(f"--seed: must be >= 0, got {seed}")
    meta = read_meta(schedule)
    spec = (
        load_scenario(scenario) if scenario else parse_scenario(meta.scenario_text, str(schedule))
    )
    slice_ = (
        parse_window(window, meta.start, meta.duration_s)
        if window
        else Window(0.0, meta.duration_s)
    )
    system = plan_system(
        spec.system,
        system_file=system_file,
        replicas=replicas,
        workers=workers,
        queue_limit=queue_limit,
        balancer=balancer,
        timeout_s=timeout_s,
    )
    return PreparedPlan(
        schedule=Path(schedule),
        scenario=spec,
        meta=meta,
        window=slice_,
        system=system,
        scale=scale,
        seed=spec.seed if seed is None else seed,
    )


@dataclass(frozen=True)
class PlanReport:
    """What the plan predicted and what to tell the user."""

    results: Path
    events: int
    elapsed_s: float
    lines: tuple[str, ...]
    breaches: tuple[str, ...]
    exit_status: int
    whole: LoadFigures
    busiest: LoadFigures


def run_plan(prepared: PreparedPlan, out: str | Path, *, name_width: int = 80) -> PlanReport:
    """Model the slice, write ``out``, and build the end-of-run report."""
    window = prepared.window
    system = prepared.system
    meta = ResultsMeta(
        source="plan",
        target=f"model: {describe_system(system)}",
        scenario_name=prepared.scenario.name,
        scenario_text=prepared.meta.scenario_text,
        seed=prepared.seed,
        schedule_start=prepared.meta.start,
        wall_start=dt.datetime.now(dt.UTC),
        window=(window.start, window.end),
        speed=1.0,
        scale=prepared.scale,
    )
    counter = LoadCounter(
        window.start, window.length, replicas=system.replicas, workers=system.workers
    )
    began = time.perf_counter()
    events = 0
    blocks = iter_slice(prepared.schedule, window, scale=prepared.scale)
    with ResultsWriter(out, meta) as writer:
        for done in decide(blocks, system, prepared.seed):
            writer.write(plan_batch(done.work, done.rows, prepared.meta.agent_types))
            counter.add(done.work, done.served, done.rows)
            events += len(done.work)
    elapsed = time.perf_counter() - began
    summary = report(out, prepared.scenario, name_width=name_width)
    start = prepared.meta.start
    whole = counter.figures(f"whole run ({span_label(start, window.start, window.length)})")
    first, last = counter.busiest_hour()
    busiest = counter.figures(
        f"busiest hour ({span_label(start, window.start + first, last - first)})", first, last
    )
    return PlanReport(
        results=Path(out),
        events=events,
        elapsed_s=elapsed,
        lines=(*summary.lines, *load_lines(prepared, events, whole, busiest)),
        breaches=summary.breaches,
        exit_status=summary.exit_status,
        whole=whole,
        busiest=busiest,
    )


def _when(start: dt.datetime, seconds: float) -> dt.datetime:
    return start + dt.timedelta(seconds=seconds)


def span_label(start: dt.datetime, at: float, length: float) -> str:
    """E.g. ``Tue 13:00-14:00 UTC`` or ``Tue 00:00-Wed 00:00 UTC``."""
    a, b = _when(start, at), _when(start, at + length)
    end = f"{b:%H:%M}" if a.date() == b.date() else f"{b:%a %H:%M}"
    return f"{a:%a %H:%M}-{end} UTC"


def load_lines(
    prepared: PreparedPlan, events: int, whole: LoadFigures, busiest: LoadFigures
) -> list[str]:
    """The model's own figures: the load table and the busiest hour's theory line."""
    system = prepared.system
    lines = [
        f"Planned {events:,} requests on {describe_system(system)} (seed {prepared.seed})",
        *figures_table([whole, busiest]),
    ]
    closed = theory(busiest, system.replicas, system.workers)
    if closed is None:
        lines.append("Theory, busiest hour: no steady state (idle, or offered load >= capacity)")
    else:
        lines += [
            f"Theory, busiest hour, per replica ({closed.arrival_rate:,.1f} visits/s, "
            f"each workflow stage a visit; utilisation {100 * closed.utilisation:.1f}%):",
            f"  M/M/c (Erlang C): {100 * closed.erlang_c:.1f}% wait, mean wait "
            f"{1000 * closed.mmc_wait_s:,.1f} ms | Allen-Cunneen G/G/c: mean wait "
            f"{1000 * closed.allen_cunneen_wait_s:,.1f} ms | simulated: "
            f"{100 * closed.simulated_waited:.1f}% wait, mean wait "
            f"{1000 * closed.simulated_wait_s:,.1f} ms",
        ]
    lines.append("")
    return lines


def figures_table(rows: list[LoadFigures]) -> list[str]:
    """The load table: requests, refused, timeouts, utilisation, queue, CPU per replica."""
    width = max(len(f.label) for f in rows)
    header = (
        f"{'':<{width}} {'requests':>11} {'refused':>9} {'timeouts':>9} {'util':>7} "
        f"{'mean queue':>11} {'peak queue':>11} {'CPU/replica':>12}"
    )
    out = [header]
    for f in rows:
        out.append(
            f"{f.label:<{width}} {f.requests:>11,} {f.refused:>9,} {f.timed_out:>9,} "
            f"{100 * f.utilisation:>6.1f}% {f.mean_queue:>11.2f} {f.peak_queue:>11,} "
            f"{f.cpu_cores:>7.1f} cores"
        )
    return out

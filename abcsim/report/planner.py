"""What only a model knows, printed: the planner's load table, capacity answer, sweep and fit.

A replay and a plan share the summary and the SLO verdict
(:mod:`~abcsim.report.summary`); a plan adds the load it predicts — utilisation,
queue and CPU per replica for the run and its busiest hour, with the closed
forms beside the simulated waits — and ``--find-capacity``, ``--sweep`` and
``abcsim calibrate`` each have their own table. All of them follow the report's
one convention: latency percentiles are of answered requests; refusals,
timeouts and errors are their own rate.

Two figures need words beside them. Utilisation counts each request's work at
its arrival second, so a saturated hour can carry more work than it has
worker-seconds (the rest spills into the next hour): it is shown capped at
100% and called saturated. And Erlang C assumes Poisson arrivals; the
schedule's arrivals are burstier (their squared coefficient of variation,
ca², is printed), so more requests queue in the simulation than M/M/c says —
Allen–Cunneen's G/G/c correction takes ca² into account.
"""

from __future__ import annotations

from abcsim.plan.calibrate import Calibration
from abcsim.plan.capacity import MAX_SCALE, Capacity
from abcsim.plan.figures import LoadFigures, theory
from abcsim.plan.session import PlanRun
from abcsim.plan.sweep import Sweep
from abcsim.plan.system import describe_system
from abcsim.plan.trial import Trial
from abcsim.report.breaches import format_breaches


def utilisation_text(utilisation: float) -> str:
    """``87.3%``, or ``100% (saturated)`` when the work offered exceeds the workers."""
    if utilisation >= 1.0:
        return "100% (saturated)"
    return f"{100 * utilisation:.1f}%"


def figures_table(rows: list[LoadFigures]) -> list[str]:
    """The load table: requests, refused, timeouts, utilisation, queue, CPU per replica."""
    width = max(len(f.label) for f in rows)
    header = (
        f"{'':<{width}} {'requests':>11} {'refused':>9} {'timeouts':>9} {'util':>16} "
        f"{'mean queue':>11} {'peak queue':>11} {'CPU/replica':>12}"
    )
    out = [header]
    for f in rows:
        out.append(
            f"{f.label:<{width}} {f.requests:>11,} {f.refused:>9,} {f.timed_out:>9,} "
            f"{utilisation_text(f.utilisation):>16} {f.mean_queue:>11.2f} {f.peak_queue:>11,} "
            f"{f.cpu_cores:>7.1f} cores"
        )
    return out


def load_lines(run: PlanRun) -> list[str]:
    """The model's own figures: the load table and the busiest stretch's theory line."""
    prepared = run.prepared
    system = prepared.system
    rows = [run.whole] if run.busiest is None else [run.whole, run.busiest]
    lines = [
        f"Planned {run.events:,} requests on {describe_system(system)} (seed {prepared.seed})",
        *figures_table(rows),
    ]
    stretch = rows[-1]
    name = "busiest hour" if run.busiest is not None else "whole run"
    closed = theory(stretch, system.replicas, system.workers)
    if closed is None:
        lines.append(f"Theory, {name}: no steady state (idle, or offered load >= capacity)")
    else:
        lines += [
            f"Theory, {name}, per replica ({closed.arrival_rate:,.1f} visits/s, each workflow "
            f"stage a visit; utilisation {100 * closed.utilisation:.1f}%):",
            f"  M/M/c (Erlang C, Poisson arrivals): {100 * closed.erlang_c:.1f}% wait, mean wait "
            f"{1000 * closed.mmc_wait_s:,.1f} ms",
            f"  Allen-Cunneen G/G/c (arrivals ca² {stretch.arrival_ca2:.2f}, service cs² "
            f"{stretch.spell_cs2:.2f}): mean wait {1000 * closed.allen_cunneen_wait_s:,.1f} ms",
            f"  simulated on the schedule's own arrivals: {100 * closed.simulated_waited:.1f}% "
            f"wait, mean wait {1000 * closed.simulated_wait_s:,.1f} ms",
        ]
        if stretch.arrival_ca2 > 1.5:
            lines.append(
                "  (arrivals burstier than Poisson, ca² > 1: more requests queue than "
                "Erlang C predicts)"
            )
    lines.append("")
    return lines


def capacity_lines(capacity: Capacity) -> list[str]:
    """The capacity answer: the size, the one smaller and why it fails, the headroom."""
    answer, smaller = capacity.answer, capacity.smaller
    unit = "workers per replica" if capacity.dimension == "workers" else "replicas"
    value = answer.workers if capacity.dimension == "workers" else answer.replicas
    lines = [
        f"Capacity for the {capacity.window.label} ({answer.requests:,} requests, "
        f"offered load {answer.offered:,.1f} workers busy; {capacity.trials} sizes tried):",
        f"  answer: {value} {unit} — {_verdict(answer)}",
    ]
    if smaller is not None:
        lines.append(f"  one smaller: {_verdict(smaller)}")
        lines += [f"    {line}" for line in format_breaches(smaller.breaches)]
    if capacity.headroom >= MAX_SCALE:
        lines.append(f"  headroom: holds at least {MAX_SCALE:g}x the hour's traffic")
    else:
        lines.append(
            f"  headroom: holds {capacity.headroom:.2f}x the hour's traffic "
            f"(+{100 * (capacity.headroom - 1):.0f}%) before a target is missed"
        )
    return lines


def _verdict(trial: Trial) -> str:
    state = "meets every SLO" if trial.passed else f"misses {len(trial.breaches)} SLO(s)"
    return (
        f"{trial.size}: {state}; utilisation {utilisation_text(trial.utilisation)}, P95 "
        f"{trial.p95_ms:,.0f} ms, P99 {trial.p99_ms:,.0f} ms, errors {100 * trial.error_rate:.2f}%"
    )


def sweep_lines(sweep: Sweep) -> list[str]:
    """The sweep as a table, a row per value, each with the SLOs it misses."""
    lines = [
        f"Sweep of {sweep.spec.name} over the {sweep.window.label} "
        "(percentiles of answered requests):",
        f"{'size':>10} {'scale':>6} {'requests':>10} {'util':>16} {'P50 ms':>8} {'P95 ms':>8} "
        f"{'P99 ms':>8} {'errors':>7}  SLOs",
    ]
    for t in sweep.trials:
        verdict = (
            "met"
            if t.passed
            else "; ".join(
                b.replace("SLO breached: ", "").replace("SLO unverified: ", "unverified: ")
                for b in format_breaches(t.breaches)
            )
        )
        lines.append(
            f"{t.size:>10} {t.scale:>6.2f} {t.requests:>10,} "
            f"{utilisation_text(t.utilisation):>16} {t.p50_ms:>8,.0f} {t.p95_ms:>8,.0f} "
            f"{t.p99_ms:>8,.0f} {100 * t.error_rate:>6.2f}%  {verdict}"
        )
    if not sweep.met:
        lines.append(f"no {sweep.spec.name} in the sweep meets every SLO")
    return lines


def calibration_lines(calibration: Calibration) -> list[str]:
    """The fit: a row per request type, then the notes."""
    lines = [
        f"{'request':<20} {'requests':>9} {'chosen':>10} {'median ms':>10} {'P95 ms':>9} "
        f"{'per item':>9} {'AIC lognormal':>14} {'AIC gamma':>12}"
    ]
    for fit in calibration.fits:
        s = fit.service
        lines.append(
            f"{fit.request:<20} {fit.samples:>9,} {fit.chosen:>10} {s.median_ms:>10.4g} "
            f"{s.p95_ms:>9.4g} {s.per_item_ms:>9.4g} {fit.lognormal_aic:>14,.1f} "
            f"{fit.gamma_aic:>12,.1f}"
        )
    for request, why in calibration.kept:
        lines.append(f"{request:<20} kept the scenario's: {why}")
    lines += [f"note: {note}" for note in calibration.notes]
    return lines

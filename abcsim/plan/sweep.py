"""A sweep: the busiest hour over a range of sizes or traffic scales, as a table and a plot.

``--sweep workers=16:48:4`` shows how Tuesday's busiest hour would feel on
16, 20, … 48 workers per replica; ``--sweep scale=0.5:2:0.25`` how the
current system copes with half to twice the traffic (e.g. a volatile day):
latency percentiles, utilisation, error rate and the SLO verdict per row, and
the same as a PNG plot — P50/P95/P99 on a log axis against the swept value,
the overall P95 target as a line, utilisation below.

A range is ``START:STOP[:STEP]``, both ends included (``replicas=1:6``: 1 to
6 by 1), or a comma list (``workers=8,16,32``). Every row uses the same
requests and service times (:mod:`abcsim.plan.trial`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from abcsim.errors import PlanError
from abcsim.plan.session import PreparedPlan
from abcsim.plan.trial import BusyWindow, Trial, busiest_window, run_trial, sized
from abcsim.results.slo import format_breaches
from abcsim.scenario.spec import Slo, SystemSpec

SWEEPABLE = ("workers", "replicas", "scale")
MAX_POINTS = 200


@dataclass(frozen=True)
class SweepSpec:
    """What to vary and through which values."""

    name: str  # one of SWEEPABLE
    values: tuple[float, ...]


def parse_sweep(text: str) -> SweepSpec:
    """``workers=16:48:4``, ``replicas=1:6``, ``scale=0.5:2:0.25`` or ``workers=8,16,32``."""
    name, sep, spec = text.partition("=")
    name = name.strip()
    if not sep or name not in SWEEPABLE:
        raise PlanError(
            f"--sweep: expected NAME=START:STOP[:STEP] with NAME one of "
            f"{', '.join(SWEEPABLE)}, got {text!r}"
        )
    try:
        if "," in spec:
            values = [float(v) for v in spec.split(",")]
        else:
            parts = [float(v) for v in spec.split(":")]
            if len(parts) not in (2, 3):
                raise ValueError
            start, stop = parts[0], parts[1]
            step = parts[2] if len(parts) == 3 else (1.0 if name != "scale" else 0.25)
            if step <= 0 or stop < start:
                raise ValueError
            count = math.floor((stop - start) / step + 1e-9) + 1
            if count > MAX_POINTS:
                raise PlanError(f"--sweep: {count} points; at most {MAX_POINTS}")
            values = [start + i * step for i in range(count)]
    except ValueError:
        raise PlanError(f"--sweep: cannot read the values in {text!r}") from None
    if len(values) > MAX_POINTS:
        raise PlanError(f"--sweep: {len(values)} points; at most {MAX_POINTS}")
    for value in values:
        whole = name != "scale"
        if not math.isfinite(value) or value <= 0 or (whole and not value.is_integer()):
            kind = "whole numbers >= 1" if whole else "numbers > 0"
            raise PlanError(f"--sweep: {name} must be {kind}, got {value:g}")
    return SweepSpec(name, tuple(values))


def run_sweep(
    window: BusyWindow,
    system: SystemSpec,
    slo: Slo,
    seed: int,
    spec: SweepSpec,
    *,
    scale: float = 1.0,
    progress: Callable[[Trial], None] | None = None,
) -> list[Trial]:
    """One trial per value of the sweep, in order."""
    trials = []
    for value in spec.values:
        if spec.name == "scale":
            trial = run_trial(window, system, slo, seed, scale=scale * value)
        else:
            trial = run_trial(window, sized(system, spec.name, int(value)), slo, seed, scale=scale)
        if progress is not None:
            progress(trial)
        trials.append(trial)
    return trials


def sweep_lines(spec: SweepSpec, trials: list[Trial], label: str) -> list[str]:
    """The sweep as a table, a row per value."""
    lines = [
        f"Sweep of {spec.name} over the {label}:",
        f"{'size':>10} {'scale':>6} {'requests':>10} {'util':>7} {'P50 ms':>8} {'P95 ms':>8} "
        f"{'P99 ms':>8} {'errors':>7}  SLOs",
    ]
    for t in trials:
        verdict = (
            "met"
            if t.passed
            else "; ".join(
                b.replace("SLO breached: ", "").replace("SLO unverified: ", "unverified: ")
                for b in format_breaches(t.breaches)
            )
        )
        lines.append(
            f"{t.size:>10} {t.scale:>6.2f} {t.requests:>10,} {100 * t.utilisation:>6.1f}% "
            f"{t.p50_ms:>8,.0f} {t.p95_ms:>8,.0f} {t.p99_ms:>8,.0f} "
            f"{100 * t.error_rate:>6.2f}%  {verdict}"
        )
    return lines


def sweep_plot(
    spec: SweepSpec, trials: list[Trial], path: str | Path, *, label: str, slo: Slo
) -> Path:
    """Latency percentiles and utilisation against the swept value, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")  # files only: no display on a CI machine
    import matplotlib.pyplot as plt

    x = np.array(spec.values)
    figure, (top, bottom) = plt.subplots(
        2, 1, figsize=(8, 6), sharex=True, height_ratios=(2, 1), layout="constrained"
    )
    for name, values in (
        ("P50", [t.p50_ms for t in trials]),
        ("P95", [t.p95_ms for t in trials]),
        ("P99", [t.p99_ms for t in trials]),
    ):
        top.plot(x, values, marker="o", label=name)
    if slo.overall_p95_ms is not None:
        top.axhline(slo.overall_p95_ms, color="red", linestyle="--", label="P95 target")
    failed = [v for v, t in zip(x, trials, strict=True) if not t.passed]
    if failed:
        top.scatter(failed, [t.p95_ms for t in trials if not t.passed], marker="x", color="red",
                    zorder=3, label="misses an SLO")  # fmt: skip
    top.set_yscale("log")
    top.set_ylabel("latency (ms)")
    top.set_title(f"{label}: sweep of {spec.name}")
    top.legend()
    top.grid(True, which="both", alpha=0.3)
    bottom.plot(x, [100 * t.utilisation for t in trials], marker="o", color="tab:green")
    bottom.set_ylabel("utilisation (%)")
    bottom.set_xlabel(spec.name if spec.name != "workers" else "workers per replica")
    bottom.grid(True, alpha=0.3)
    out = Path(path)
    try:
        figure.savefig(out, dpi=100)
    except OSError as exc:
        raise PlanError(f"{out}: cannot write the plot ({exc})") from None
    finally:
        plt.close(figure)
    return out


def plan_sweep(
    prepared: PreparedPlan,
    spec: SweepSpec,
    plot: str | Path,
    *,
    progress: Callable[[Trial], None] | None = None,
) -> tuple[list[Trial], list[str]]:
    """``--sweep``: each value on the busiest hour of the slice; table lines, PNG at ``plot``."""
    window = busiest_window(prepared)
    slo = prepared.scenario.slo
    trials = run_sweep(
        window, prepared.system, slo, prepared.seed, spec, scale=prepared.scale, progress=progress
    )
    lines = sweep_lines(spec, trials, window.label)
    written = sweep_plot(spec, trials, plot, label=window.label, slo=slo)
    return trials, [*lines, f"plot: {written}"]

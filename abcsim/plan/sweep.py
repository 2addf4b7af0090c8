"""A sweep: the busiest hour over a range of sizes or traffic scales.

``--sweep workers=16:48:4`` shows how Tuesday's busiest hour would feel on
16, 20, … 48 workers per replica; ``--sweep scale=0.5:2:0.25`` how the
current system copes with half to twice the traffic (e.g. a volatile day):
latency percentiles (of answered requests), utilisation, error rate and the
SLO verdict per value. The report stage prints it as a table and, with
``--plot``, draws it (:mod:`abcsim.report.planner`, :mod:`abcsim.report.sweep_plot`).

A range is ``START:STOP[:STEP]``, both ends included (``replicas=1:6``: 1 to
6 by 1), or a comma list (``workers=8,16,32``). Every row uses the same
requests and service times (:mod:`abcsim.plan.trial`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from abcsim.errors import PlanError, Setting
from abcsim.plan.setup import PreparedPlan
from abcsim.plan.trial import BusyWindow, Trial, busiest_window, run_trial, sized
from abcsim.scenario.spec import Slo, SystemSpec

SWEEPABLE = ("workers", "replicas", "scale")
SWEEP = Setting("sweep")
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
            SWEEP,
            f": expected NAME=START:STOP[:STEP] with NAME one of "
            f"{', '.join(SWEEPABLE)}, got {text!r}",
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
                raise PlanError(SWEEP, f": {count} points; at most {MAX_POINTS}")
            values = [start + i * step for i in range(count)]
    except ValueError:
        raise PlanError(SWEEP, f": cannot read the values in {text!r}") from None
    if len(values) > MAX_POINTS:
        raise PlanError(SWEEP, f": {len(values)} points; at most {MAX_POINTS}")
    for value in values:
        whole = name != "scale"
        if not math.isfinite(value) or value <= 0 or (whole and not value.is_integer()):
            kind = "whole numbers >= 1" if whole else "numbers > 0"
            raise PlanError(SWEEP, f": {name} must be {kind}, got {value:g}")
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


@dataclass(frozen=True)
class Sweep:
    """The trials of a sweep, in the order of its values, and what they were judged on."""

    spec: SweepSpec
    trials: tuple[Trial, ...]
    window: BusyWindow
    slo: Slo

    @property
    def met(self) -> bool:
        """Whether any value of the sweep meets every SLO (else the sweep exits 1)."""
        return any(t.passed for t in self.trials)


def plan_sweep(
    prepared: PreparedPlan,
    spec: SweepSpec,
    *,
    progress: Callable[[Trial], None] | None = None,
) -> Sweep:
    """``--sweep``: each value on the busiest hour of the slice."""
    window = busiest_window(prepared)
    slo = prepared.scenario.slo
    trials = run_sweep(
        window, prepared.system, slo, prepared.seed, spec, scale=prepared.scale, progress=progress
    )
    return Sweep(spec, tuple(trials), window, slo)

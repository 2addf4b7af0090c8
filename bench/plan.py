"""Benchmark the planner's fast path on abc_week's busiest day, beside the SimPy reference model.

What it measures, in one run, pinned to one CPU core (``os.sched_setaffinity``):

1. **the week** — :func:`abcsim.simulate.write_schedule` of abc_week (6 days,
   seed 1) into a temporary folder (not timed for the plan; ``--hours`` simulates
   just that many hours from Thursday 00:00 UTC instead);
2. **the busiest day** — the UTC calendar day with the most requests (about 10.7
   million), and its busiest hour (about 0.9 million, around the New York open);
3. on the busiest day, with the scenario's ``[system]`` (1 replica × 32 workers,
   queue limit 256, timeout 10 s), best of ``--repeat``:
   * **model** — the FCFS recursion alone (:class:`abcsim.plan.fcfs.FcfsModel`),
     the workloads drawn beforehand;
   * **engine** — service-time draws + model + results columns
     (:func:`abcsim.plan.engine.decide` over blocks already in memory);
   * **plan** — :func:`abcsim.plan.run_plan` end to end: the schedule read from
     Parquet, the results file written, then (timed separately) the report;
4. on the busiest hour, the same workload through the **model** and through the
   **SimPy reference** (:class:`abcsim.plan.reference.ReferenceModel`, one process
   per request), checked to give the same end time to every request, and the
   ratio of their requests/s.

Target: the fast path plans at least 500,000 requests/s on one core. All
numbers are measured in this run; nothing is hard-coded.

Run from the project root::

    python bench/plan.py              # the full week simulated first (~20 s), then ~2 min
    python bench/plan.py --hours 4    # Thursday 00:00-04:00 only: quicker, smaller
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from abcsim.plan import FcfsModel, ReferenceModel, ServiceDraws, prepare_plan, run_plan
from abcsim.plan.engine import concat_workloads, decide
from abcsim.plan.fcfs import Served
from abcsim.plan.workload import Workload
from abcsim.report import report
from abcsim.scenario import load_scenario, resolve_run
from abcsim.scenario.spec import SystemSpec
from abcsim.schedule import read_meta
from abcsim.schedule.busiest import busiest_window, per_second_counts
from abcsim.schedule.slicing import EventBlock, Window, iter_slice
from abcsim.simulate import write_schedule

TARGET_RATE = 500_000.0
SEED = 1


@dataclass(frozen=True)
class Timing:
    label: str
    requests: int
    wall_s: float
    note: str = ""

    @property
    def rate(self) -> float:
        return self.requests / self.wall_s


def best_of(repeat: int, label: str, requests: int, run: Callable[[], object]) -> Timing:
    walls = []
    for _ in range(repeat):
        began = time.perf_counter()
        run()
        walls.append(time.perf_counter() - began)
    return Timing(label, requests, min(walls), f"best of {repeat}" if repeat > 1 else "1 run")


def busiest_day(path: Path) -> Window:
    """The calendar day (UTC) of the schedule with the most requests."""
    meta = read_meta(path)
    per_second = per_second_counts(path, Window(0.0, meta.duration_s))
    midnight = meta.start.replace(hour=0, minute=0, second=0, microsecond=0)
    offset = int((meta.start - midnight).total_seconds())
    days = (np.arange(per_second.size) + offset) // 86_400
    best = int(np.argmax(np.bincount(days, weights=per_second)))
    low = max(0.0, best * 86_400.0 - offset)
    return Window(low, min(meta.duration_s, low + 86_400.0))


def load_blocks(path: Path, window: Window) -> list[EventBlock]:
    return [b for b in iter_slice(path, window) if len(b)]


def draw(blocks: list[EventBlock], system: SystemSpec) -> list[Workload]:
    draws = ServiceDraws(system, SEED)
    return [draws.workload(b) for b in blocks]


def model_of(system: SystemSpec) -> FcfsModel:
    return FcfsModel(
        replicas=system.replicas,
        workers=system.workers,
        queue_limit=system.queue_limit,
        balancer=system.balancer,
    )


def run_model(works: list[Workload], system: SystemSpec) -> Served:
    model = model_of(system)
    parts = [s for w in works for _, s in model.feed(w)]
    parts += [s for _, s in model.finish()]
    return Served.concat(parts)


def run_engine(blocks: list[EventBlock], system: SystemSpec) -> int:
    return sum(len(d.work) for d in decide(blocks, system, SEED))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--hours", type=float, help="Simulate only this many hours of Thursday.")
    parser.add_argument("--repeat", type=int, default=2, help="Runs of each fast measurement.")
    parser.add_argument(
        "--reference-minutes",
        type=float,
        default=60.0,
        help="Minutes of the busiest hour given to the SimPy model (it is slow).",
    )
    parser.add_argument("--cpu", type=int, default=0, help="The core to pin to.")
    args = parser.parse_args(argv)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {args.cpu})  # one core, arrow's threads included
    scenario = load_scenario("abc_week")
    system = scenario.system
    print(
        f"python {platform.python_version()} on {platform.machine()}, "
        f"pinned to CPU {args.cpu} of {os.cpu_count()}"
    )
    with tempfile.TemporaryDirectory(prefix="abcsim-bench-plan-") as folder:
        path = Path(folder) / "week.parquet"
        if args.hours:
            run = resolve_run(scenario, {}, seed=SEED, start="2026-01-15T00:00", hours=args.hours)
        else:
            run = resolve_run(scenario, {}, seed=SEED)
        began = time.perf_counter()
        write_schedule(scenario, run, path)
        took = time.perf_counter() - began
        print(f"simulated abc_week ({run.duration_s / 3600:g} h) in {took:.1f} s")
        day = busiest_day(path)
        hour = busiest_window(path, day)
        start = read_meta(path).start
        when = start + dt.timedelta(seconds=day.start)
        hour_at = start + dt.timedelta(seconds=hour.start)
        print(f"busiest day: {when:%a %Y-%m-%d} ({day.length / 3600:g} h), ", end="")
        print(f"its busiest hour from {hour_at:%H:%M:%S} UTC")
        print(f"system: {system.replicas} replica x {system.workers} workers, ", end="")
        print(f"queue limit {system.queue_limit}, timeout {system.timeout_s:g} s")
        print()

        blocks = load_blocks(path, day)
        n_day = sum(len(b) for b in blocks)
        works = draw(blocks, system)
        timings = [
            best_of(args.repeat, "model, busiest day", n_day, lambda: run_model(works, system)),
            best_of(args.repeat, "engine, busiest day", n_day, lambda: run_engine(blocks, system)),
        ]
        window = f"{day.start}..{day.end}"
        out = Path(folder) / "day.plan.parquet"
        prepared = prepare_plan(path, window=window)
        began = time.perf_counter()
        planned = run_plan(prepared, out)
        report(planned.results, prepared.scenario, planned=planned)
        total = time.perf_counter() - began
        end_to_end = ("plan end to end (Parquet in/out)", planned.events, planned.elapsed_s)
        timings.append(Timing(*end_to_end, "1 run"))
        reading = ("  + the report (read back, stats)", planned.events, total - planned.elapsed_s)
        timings.append(Timing(*reading, "1 run"))

        minutes = min(args.reference_minutes * 60.0, hour.length)
        part = Window(hour.start, hour.start + minutes)
        hour_works = draw(load_blocks(path, part), system)
        whole = concat_workloads(hour_works)
        n_hour = len(whole)
        fast_served: list[Served] = []
        fast = best_of(
            args.repeat, "model, busiest hour", n_hour,
            lambda: fast_served.append(run_model(hour_works, system)),
        )  # fmt: skip
        slow_served: list[Served] = []
        began = time.perf_counter()
        slow_served.append(
            ReferenceModel(
                replicas=system.replicas,
                workers=system.workers,
                queue_limit=system.queue_limit,
                balancer=system.balancer,
            ).serve(whole)
        )
        slow = Timing("SimPy reference, busiest hour", n_hour, time.perf_counter() - began, "1 run")
        a, b = fast_served[-1], slow_served[-1]
        same = bool(
            np.array_equal(a.refused, b.refused)
            and np.allclose(a.end, b.end, rtol=0, atol=1e-9, equal_nan=True)
        )
        timings += [fast, slow]

    print(f"{'measurement':<36} {'requests':>11} {'wall s':>8} {'requests/s':>12}  note")
    for t in timings:
        print(f"{t.label:<36} {t.requests:>11,} {t.wall_s:>8.2f} {t.rate:>12,.0f}  {t.note}")
    print()
    ratio = fast.rate / slow.rate
    print(f"fast path vs SimPy reference on the same {minutes / 60:g} min: {ratio:,.1f}x")
    print(f"  same end time for every request (to 1e-9 s): {same}")
    print(f"  refused (503) by both: {int(a.refused.sum()):,} of {n_hour:,}")
    engine = timings[1]
    plan = timings[2]
    print()
    print(f"{'target':<36} {'measured':>12} {'goal':>12}  result")
    for label, rate in (("engine, busiest day", engine.rate), ("plan end to end", plan.rate)):
        verdict = "PASS" if rate >= TARGET_RATE else "FAIL"
        print(f"{label:<36} {rate:>12,.0f} {'>= 500,000':>12}  {verdict}")
    return 0 if engine.rate >= TARGET_RATE and same else 1


if __name__ == "__main__":
    sys.exit(main())

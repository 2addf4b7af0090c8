"""Benchmark the memory of planning and reporting the whole abc_week (50 million requests).

What it measures, in one run, each command in a process of its own (peak
resident memory from ``os.wait4``, the kernel's figure for that process):

1. **the week** — abc_week (6 days, seed 1) simulated into a temporary folder;
2. **plan** — ``abcsim plan week.parquet``: the model streams the week into a
   results file, then the report stage sums it up (:class:`abcsim.results.Digest`);
3. **report** — ``abcsim report`` on that results file alone;
4. **baseline** — the same statistics the way the report stage took them
   before the digest: the whole results file read as one DataFrame, then
   Locust's table and the SLO check on it.

Target: the whole-week plan, report included, peaks under 1 GiB. The ratio
to the baseline is printed; all figures are measured in this run.

Run from the project root (about 3 minutes; the baseline needs ~10 GB)::

    python bench/plan_memory.py
    python bench/plan_memory.py --hours 24   # a day: quicker, smaller
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from abcsim.scenario import load_scenario, resolve_run
from abcsim.simulate import write_schedule

GOAL_BYTES = 1 << 30
SEED = 1

BASELINE = """
import sys
from abcsim.results import RunClock, check_slos, read_results, read_results_meta, results_stats
from abcsim.scenario import parse_scenario
path = sys.argv[1]
meta = read_results_meta(path)
spec = parse_scenario(meta.scenario_text, path)
frame = read_results(path)
clock = RunClock.from_meta(meta)
stats = results_stats(frame, spec.endpoints, clock=clock)
results_stats(frame, spec.endpoints, clock=clock, by="agent_type")
check_slos(spec.slo, frame)
print(stats.total.requests)
"""


def peak_of(command: list[str]) -> tuple[int, float]:
    """Run ``command``; its peak resident memory (bytes) and wall seconds."""
    began = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - began
    if os.waitstatus_to_exitcode(status) not in (0, 1):  # 1: an SLO breached, still a report
        assert process.stderr is not None
        sys.exit(f"{' '.join(command)} failed: {process.stderr.read().decode()[-500:]}")
    return usage.ru_maxrss * 1024, wall  # Linux reports kilobytes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--hours", type=float, help="Simulate only this many hours.")
    args = parser.parse_args(argv)
    scenario = load_scenario("abc_week")
    run = resolve_run(scenario, {}, seed=SEED, hours=args.hours)
    abcsim = [sys.executable, "-m", "abcsim"]
    with tempfile.TemporaryDirectory(prefix="abcsim-bench-memory-") as folder:
        week = Path(folder) / "week.parquet"
        results = Path(folder) / "week.plan.parquet"
        began = time.perf_counter()
        write_schedule(scenario, run, week)
        took = time.perf_counter() - began
        print(f"simulated abc_week ({run.duration_s / 3600:g} h) in {took:.1f} s")
        plan = [*abcsim, "plan", str(week), "-o", str(results)]
        baseline = [sys.executable, "-c", BASELINE, str(results)]
        rows = [
            ("abcsim plan (model + report)", peak_of(plan)),
            ("abcsim report (the digest)", peak_of([*abcsim, "report", str(results)])),
            ("baseline: whole frame + stats", peak_of(baseline)),
        ]
        size = results.stat().st_size
    print(f"results file: {size / 1e9:.2f} GB")
    print(f"{'process':<32} {'peak MB':>9} {'wall s':>8}")
    for label, (peak, wall) in rows:
        print(f"{label:<32} {peak / 1e6:>9,.0f} {wall:>8.1f}")
    planned, reported, before = (peak for _, (peak, _) in rows)
    print(f"report vs baseline: {before / reported:.1f}x less memory")
    verdict = "PASS" if planned < GOAL_BYTES else "FAIL"
    print(f"whole-week plan peak {planned / 2**30:.2f} GiB, goal < 1 GiB: {verdict}")
    return 0 if planned < GOAL_BYTES else 1


if __name__ == "__main__":
    sys.exit(main())

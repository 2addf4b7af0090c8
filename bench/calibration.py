"""The calibration loop against the reference target: replay lightly, calibrate, predict, verify.

What the ABC team would do with staging, done against ``abcsim target`` on
127.0.0.1 (run as a separate process, so the replayer and the server each
have a core):

1. the target serves a scenario whose ``[system]`` has 8 workers (queue limit
   1,000) and three request types in use — ``data_collection`` (lognormal,
   median 20 ms, P95 60 ms), ``risk_analysis`` (a *gamma*, median 50 ms,
   P95 120 ms) and ``trade_execution`` (lognormal, 30 / 90 ms) — sent 50/25/25,
   sizes 1, as Poisson arrivals;
2. **calibrate**: measure the overhead every request pays outside the workers
   (HTTP, JSON, the client) as the median service time of a 20 s light replay
   against the same API doing no work (every service time 0.001 ms) — as one
   would time a no-op endpoint on staging; then replay 60 s at ~20%
   utilisation against the real target, and :func:`abcsim.plan.calibrate_file`
   takes that overhead off and fits each type (lognormal vs gamma, AIC);
3. **predict**: plan 600 s of the same traffic at ~50%, 70% and 85% utilisation
   on the calibrated system (and, for comparison, on the true one plus the
   same overhead);
4. **measure**: replay 60 s at each of those loads against the target;
5. compare P95 latency per request type: predicted within 10% of measured at
   70% and below, within 20% at 85%.

Utilisation is the true offered load (arrival rate × the configured mean
service time ÷ 8 workers).

Seeds: schedules 11 (calibration), 12–14 (replays), 22–24 (plans); the
target's seed is the scenario's. About five minutes::

    python bench/calibration.py
    python bench/calibration.py --seconds 30      # quicker, noisier
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from abcsim.plan import calibrate_file, prepare_plan, run_plan, system_toml
from abcsim.replay import prepare_replay, run_replay
from abcsim.report.planner import calibration_lines
from abcsim.results import read_results
from abcsim.results.stats import exact_percentiles, to_ms
from abcsim.scenario import REQUEST_TYPES, load_scenario, parse_scenario
from abcsim.schedule import ScheduleChunk, ScheduleMeta, ScheduleWriter

WORKERS = 8
SYSTEM = f"""[system]
workers = {WORKERS}
queue_limit = 1000
[system.service]
data_collection = {{ median_ms = 20, p95_ms = 60 }}
risk_analysis = {{ median_ms = 50, p95_ms = 120, distribution = "gamma" }}
trade_execution = {{ median_ms = 30, p95_ms = 90 }}
"""
MIX = {"data_collection": 0.5, "risk_analysis": 0.25, "trade_execution": 0.25}
LOADS = (0.5, 0.7, 0.85)
CALIBRATION_LOAD = 0.2
TOLERANCE = {0.5: 0.10, 0.7: 0.10, 0.85: 0.20}


def scenario_text() -> str:
    text = load_scenario("smoke").text
    return text[: text.index("\n[system]\n") + 1] + SYSTEM


def mean_service_s(text: str) -> float:
    system = parse_scenario(text).system
    return sum(share * system.service_time(r).mean_ms for r, share in MIX.items()) / 1000.0


def poisson_schedule(path: Path, text: str, *, rate: float, seconds: float, seed: int) -> Path:
    """Poisson arrivals at ``rate``/s for ``seconds``, request types drawn by :data:`MIX`."""
    rng = np.random.default_rng(seed)
    t = np.cumsum(rng.exponential(1.0 / rate, int(rate * seconds * 1.2) + 100))
    t = t[t < seconds]
    n = t.size
    codes = np.array([REQUEST_TYPES.index(r) for r in MIX], np.int8)
    request = codes[rng.choice(len(MIX), n, p=list(MIX.values()))]
    smoke = parse_scenario(text)
    chunk = ScheduleChunk(
        event_id=np.arange(n, dtype=np.int64),
        t=t,
        agent_id=(np.arange(n) % 16).astype(np.int32),
        agent_type=np.zeros(n, np.int8),
        request=request,
        size=np.ones(n, np.int32),
        agent_types=("trading",),
        end=seconds,
    )
    meta = ScheduleMeta(smoke.name, text, 0, smoke.start, seconds, ("trading",))
    with ScheduleWriter(path, meta) as writer:
        writer.write_chunk(chunk)
    return path


def p95_by_type(path: Path) -> dict[str, float]:
    frame = read_results(path)
    out = {}
    for request in MIX:
        latency = frame.loc[frame["request"] == request, "latency"].to_numpy(np.float64)
        out[request] = float(exact_percentiles(to_ms(latency), (0.95,))[0])
    return out


def no_op_text() -> str:
    """The same API with every service time 0.001 ms: what is left is the overhead."""
    text = load_scenario("smoke").text
    services = "\n".join(f"{r} = {{ median_ms = 0.001, p95_ms = 0.001 }}" for r in MIX)
    head = f"[system]\nworkers = {WORKERS}\nqueue_limit = 1000\n[system.service]\n"
    return text[: text.index("\n[system]\n") + 1] + head + services + "\n"


def overhead_ms(root: Path, seconds: float) -> float:
    """Median service time of a light replay (50 requests/s) against the no-op API."""
    text = no_op_text()
    scenario = root / "no-op.toml"
    scenario.write_text(text)
    target, url = start_target(scenario)
    try:
        schedule = poisson_schedule(root / "no-op.parquet", text, rate=50, seconds=seconds, seed=10)
        run_replay(prepare_replay(schedule, url, env={}), root / "no-op.results.parquet")
    finally:
        target.terminate()
        target.wait(timeout=10)
    service = read_results(root / "no-op.results.parquet")["service"].to_numpy(np.float64)
    return round(1000.0 * float(np.median(service)), 3)


def start_target(scenario: Path) -> tuple[subprocess.Popen[str], str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("ABC_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "abcsim", "target", "--scenario", str(scenario), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=environ,
    )
    assert process.stdout is not None
    url = process.stdout.readline().strip()
    if not url.startswith("http://127.0.0.1:"):
        process.terminate()
        raise SystemExit(f"the target did not start (said {url!r})")
    return process, url


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=60.0, help="Length of each replay.")
    args = parser.parse_args(argv)
    text = scenario_text()
    mean_s = mean_service_s(text)
    print(f"target: {WORKERS} workers, mean service {1000 * mean_s:.1f} ms; mix {MIX}")
    with tempfile.TemporaryDirectory(prefix="abcsim-bench-calibration-") as folder:
        root = Path(folder)
        scenario = root / "scenario.toml"
        scenario.write_text(text)
        overhead = overhead_ms(root, 20.0)
        print(f"overhead outside the workers (no-op replay, median): {overhead:.3f} ms")
        target, url = start_target(scenario)
        try:
            rate = CALIBRATION_LOAD * WORKERS / mean_s
            light = poisson_schedule(
                root / "light.parquet", text, rate=rate, seconds=args.seconds, seed=11
            )
            run_replay(prepare_replay(light, url, env={}), root / "light.results.parquet")
            calibration = calibrate_file(
                root / "light.results.parquet", schedule=light, overhead_ms=overhead
            )
            system_file = root / "calibrated.toml"
            system_file.write_text(system_toml(calibration))
            print(f"calibrated from a {args.seconds:g} s replay at {CALIBRATION_LOAD:.0%}:")
            for line in calibration_lines(calibration):
                print(f"  {line}")
            measured = {}
            for k, load in enumerate(LOADS):
                rate = load * WORKERS / mean_s
                loaded = poisson_schedule(
                    root / f"load{k}.parquet", text, rate=rate, seconds=args.seconds, seed=12 + k
                )
                out = root / f"load{k}.results.parquet"
                run_replay(prepare_replay(loaded, url, env={}), out)
                measured[load] = p95_by_type(out)
        finally:
            target.terminate()
            target.wait(timeout=10)
        predicted: dict[str, dict[float, dict[str, float]]] = {"calibrated": {}, "true": {}}
        for k, load in enumerate(LOADS):
            rate = load * WORKERS / mean_s
            long = poisson_schedule(
                root / f"plan{k}.parquet", text, rate=rate, seconds=10 * args.seconds, seed=22 + k
            )
            true_file = root / "true.toml"
            true_file.write_text(
                SYSTEM.replace("[system]\n", f"[system]\noverhead_ms = {overhead}\n")
            )
            for name, system in (("calibrated", system_file), ("true", true_file)):
                out = root / f"plan{k}.{name}.parquet"
                run_plan(prepare_plan(long, system_file=system), out)
                predicted[name][load] = p95_by_type(out)

    print()
    print(
        f"{'load':>5} {'request':<18} {'measured P95':>13} {'predicted':>10} {'error':>7} "
        f"{'limit':>6}  {'true-system plan':>16} {'error':>7}"
    )
    passed = True
    for load in LOADS:
        for request in MIX:
            real = measured[load][request]
            guess = predicted["calibrated"][load][request]
            exact = predicted["true"][load][request]
            error = guess / real - 1.0
            ok = math.isfinite(error) and abs(error) <= TOLERANCE[load]
            passed &= ok
            print(
                f"{load:>5.0%} {request:<18} {real:>10,.1f} ms {guess:>7,.1f} ms {error:>+7.1%} "
                f"{TOLERANCE[load]:>6.0%}  {exact:>13,.1f} ms {exact / real - 1:>+7.1%}"
                f"  {'ok' if ok else 'MISSED'}"
            )
    print()
    print(f"calibration loop: {'PASS' if passed else 'FAIL'} (predicted P95 within the limits)")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())

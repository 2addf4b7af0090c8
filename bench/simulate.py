"""Benchmark the trading-week simulation against a naive one-SimPy-event-per-request model.

What it measures, in one run (``abc_week`` scenario unless ``--scenario`` says otherwise):

1. **week** — the real job: :func:`abcsim.simulate.write_schedule` over the scenario's
   week (6 days from its default start) into a Parquet file in a temporary folder.
   Measured first and cold, as the CLI would run it (includes the lazy
   ``exchange_calendars`` lookups).
2. **real, 1 h** — :func:`abcsim.simulate.simulate` iterated (no file) over the busy
   slice Tue 2026-01-13 13:00–14:00 UTC (London and New York desks both in, the
   08:30 New York data release at 13:30). Best of ``--repeat`` runs, after one
   warm-up run.
3. **naive, 1 h** — the same slice with a straightforward SimPy model: one process
   per agent (same agents, regions, sessions, seeds, market activity and per-agent
   rates), one ``env.timeout`` per request, every draw a scalar from the agent's
   numpy ``Generator``, λ(t) read per request with ``Intensity.at``, each request
   appended to Python lists; a high-frequency user's polls, its reactions to
   shared market events and every Hawkes child are one SimPy process or timeout
   each; a monitor's probes one timeout each. Sessions, job starts, a user's
   presence at its desk and the market (activity, shared events) come from the
   real helpers (they are per session or per run, not per request). Best of
   ``--naive-repeat`` runs. A second, *lean* variant reads λ(t) from the same
   table as a Python list: ``Intensity.at`` on a scalar costs several µs, about
   half of the naive model's time, so the lean one is the tougher baseline (its
   ratio is printed for information).
4. the ratio real/naive events/s on that slice; both runs include their set-up
   (calendar, λ tables, agents), and the exchange-calendar lookups for the slice's
   dates are cached by the warm-up run for both;
5. peak memory as ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` (resident set of the
   whole process: after the week run, which goes first, and at the very end), plus
   the Arrow memory pool's peak for information.

Targets: ratio >= 10x, 6-day week < 30 s, peak memory < 1 GiB.

Run from the project root::

    python bench/simulate.py            # full 6-day week (~1 minute on 2 cores)
    python bench/simulate.py --quick    # 1-day "week", one run per slice measurement
    python bench/simulate.py --days 2 --repeat 5
"""

from __future__ import annotations

import argparse
import bisect
import math
import os
import platform
import resource
import sys
import tempfile
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import simpy

from abcsim.agents import AgentContext
from abcsim.agents.base import desk_sessions
from abcsim.agents.batch import PACING_SHAPE, job_starts
from abcsim.agents.hft import kernel_terms, presence
from abcsim.market.calendar import DAY, WEEK, FloatArray, TradingCalendar
from abcsim.scenario import REQUEST_TYPES, RunSettings, Scenario, load_scenario, resolve_run
from abcsim.scenario.spec import BatchBehaviour, HftBehaviour, MonitorBehaviour, TradingBehaviour
from abcsim.simulate import simulate, write_schedule
from abcsim.simulate.engine import agent_contexts

SLICE_START = "2026-01-13T13:00:00Z"
SLICE_HOURS = 1.0
WEEK_DAYS = 6.0
RATIO_TARGET = 10.0
WEEK_TARGET_S = 30.0
MEMORY_TARGET_BYTES = 1024**3
_EPOCH_WEEKDAY_S = 3 * DAY  # 1970-01-01 was a Thursday: shifts Unix time onto a Monday-based week


# ----------------------------------------------------------------------------- measurements
@dataclass(frozen=True)
class Measurement:
    """One timed run: how many requests it produced, by agent type, and how long it took."""

    label: str
    events: int
    by_type: tuple[int, ...]
    wall_s: float
    note: str = ""

    @property
    def rate(self) -> float:
        return self.events / self.wall_s if self.wall_s > 0 else math.inf


def best_of(runs: list[Measurement], n: int) -> Measurement:
    """The fastest of ``n`` repeated runs (same output each time: the runs are seeded)."""
    best = min(runs, key=lambda m: m.wall_s)
    note = f"best of {n}" if n > 1 else "1 run"
    return Measurement(best.label, best.events, best.by_type, best.wall_s, note)


def peak_rss_bytes() -> int:
    """``ru_maxrss`` of this process in bytes (Linux reports KiB, macOS bytes)."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(rss) if sys.platform == "darwin" else int(rss) * 1024


def measure_week(scenario: Scenario, run: RunSettings, folder: Path) -> tuple[Measurement, int]:
    """The real job: simulate ``run`` straight to Parquet; also returns the file's size."""
    out = folder / "week.parquet"
    start = time.perf_counter()
    stats = write_schedule(scenario, run, out)
    wall = time.perf_counter() - start
    by_type = tuple(int(n) for n in stats.by_agent_type)
    days = run.duration_s / DAY
    label = f"real  {days:g} d -> Parquet (write_schedule)"
    return Measurement(label, stats.events, by_type, wall, "cold, 1 run"), out.stat().st_size


def measure_real(scenario: Scenario, run: RunSettings) -> Measurement:
    """The real engine over ``run``, chunks counted and dropped."""
    by_type = np.zeros(len(scenario.agents), dtype=np.int64)
    start = time.perf_counter()
    for chunk in simulate(scenario, run):
        by_type += np.bincount(chunk.agent_type, minlength=by_type.size)
    wall = time.perf_counter() - start
    counts = tuple(int(n) for n in by_type)
    return Measurement("real  1 h slice (simulate)", sum(counts), counts, wall)


def measure_naive(scenario: Scenario, run: RunSettings, lean: bool = False) -> Measurement:
    """The naive one-event-per-request model over ``run``."""
    start = time.perf_counter()
    schedule = naive_simulate(scenario, run, lean)
    wall = time.perf_counter() - start
    type_of = np.repeat(np.arange(len(scenario.agents)), [a.count for a in scenario.agents])
    by_type = np.bincount(
        type_of[np.asarray(schedule.agent_id, dtype=np.int64)], minlength=len(scenario.agents)
    )
    counts = tuple(int(n) for n in by_type)
    label = "naive 1 h, λ from a list (lean)" if lean else "naive 1 h slice (1 SimPy event/request)"
    return Measurement(label, len(schedule), counts, wall)


# ----------------------------------------------------------------------------- naive baseline
class NaiveSchedule:
    """The naive model's output: one Python list append per column per request.

    SimPy fires events in time order and each request is recorded when its own
    event fires, so the rows come out sorted by ``t``; ``event_id`` is the index.
    """

    def __init__(self) -> None:
        self.t: list[float] = []
        self.agent_id: list[int] = []
        self.request: list[int] = []
        self.size: list[int] = []

    def __len__(self) -> int:
        return len(self.t)


class NaiveAgent:
    """One agent of the naive model: scalar draws, one request at a time."""

    def __init__(
        self,
        env: simpy.Environment,
        ctx: AgentContext,
        out: NaiveSchedule,
        epoch: float,
        lean: bool = False,
    ) -> None:
        self.env = env
        self.ctx = ctx
        self.rng = ctx.rng
        self.out = out
        self.cumulative: list[float] = ctx.mix.cumulative.tolist()
        mix = ctx.mix
        self.size_low: list[float] = mix.size_low.tolist()
        self.size_high: list[float] = mix.size_high.tolist()
        self.size_scale: list[float] = mix.size_scale.tolist()
        self.size_power: list[float] = mix.size_power.tolist()
        self.size_round: list[float] = mix.size_round.tolist()
        self.allowed_when_closed: list[bool] = ctx.mix.allowed_when_closed.tolist()
        self.closed_fraction = ctx.mix.closed_fraction
        self.horizon = ctx.calendar.duration_s
        week = ctx.calendar.market.week
        # the weekly maintenance window, as plain floats, checked per request
        self.week_offset = epoch + _EPOCH_WEEKDAY_S - week.close.seconds
        self.closed_length = (week.open.seconds - week.close.seconds) % WEEK

        # λ(now) is looked up per request: through ``Intensity.at`` (numpy on a scalar),
        # or, ``lean``, straight from the same table as a Python list
        self.lam: Callable[[], float] = self._lam_lean if lean else self._lam_at
        self._values: list[float] = ctx.intensity.values.tolist()
        self._step = ctx.intensity.step_s

    def _lam_at(self) -> float:
        return float(self.ctx.intensity.at(np.asarray(self.env.now, dtype=np.float64)))

    def _lam_lean(self) -> float:
        cell = min(int(self.env.now // self._step), len(self._values) - 1)
        return self._values[max(cell, 0)]

    def send(self, code: int | None = None, size: int | None = None) -> None:
        """Record one request at ``env.now``, drawing its type and size if not given."""
        t = float(self.env.now)
        rng = self.rng
        if code is None:
            code = min(bisect.bisect_right(self.cumulative, rng.random()), len(REQUEST_TYPES) - 1)
        if size is None:
            size = self.draw_size(code)
        if not 0.0 <= t < self.horizon:
            return
        if (t + self.week_offset) % WEEK < self.closed_length:
            if not self.allowed_when_closed[code]:
                return
            if self.closed_fraction < 1.0 and rng.random() >= self.closed_fraction:
                return
        out = self.out
        out.t.append(t)
        out.agent_id.append(self.ctx.agent_id)
        out.request.append(code)
        out.size.append(size)

    def draw_size(self, code: int) -> int:
        """One size, as ``RequestMix.sizes`` draws it, with scalar arithmetic."""
        low, high, rng = self.size_low[code], self.size_high[code], self.rng
        u = rng.random()
        power = self.size_power[code]
        if power < 0:
            excess = self.size_scale[code] * ((1.0 - u) ** power - 1.0)
        else:
            excess = u * self.size_scale[code]
        size = min(math.floor(low + excess), high)
        if self.size_round[code] > 0 and rng.random() < self.size_round[code] and size >= 10:
            magnitude = 10.0 ** math.floor(math.log10(size))
            size = round(size / magnitude) * magnitude
        return int(min(max(size, low), high))


NaiveProcess = Generator[simpy.Event, Any, None]


def naive_trading(env: simpy.Environment, agent: NaiveAgent) -> NaiveProcess:
    """Request, think, request: think time ``min + Exp(mean - min)`` at λ = 1, divided by λ(now)."""
    b = agent.ctx.spec.behaviour
    assert isinstance(b, TradingBehaviour)
    rng = agent.rng
    pause = b.think_mean_s - b.think_min_s
    days = desk_sessions(agent.ctx)
    for (login, logout), factor in zip(days.bounds.tolist(), days.factor.tolist(), strict=True):
        if rng.random() >= factor or logout <= env.now:
            continue
        yield env.timeout(max(0.0, login - env.now))
        yield env.timeout(rng.random() * b.think_mean_s / agent.lam())
        while env.now < logout:
            agent.send()
            yield env.timeout((b.think_min_s + rng.exponential(pause)) / agent.lam())


class NaiveHft:
    """A high-frequency user's parts: its own rate per cell and its kernel, as Python lists."""

    def __init__(self, agent: NaiveAgent, b: HftBehaviour) -> None:
        self.agent, self.b = agent, b
        self.weight: list[float] = presence(agent.ctx, b).tolist()
        taus, weights = kernel_terms(b.kernel)
        self.taus: list[float] = taus.tolist()
        self.cumulative: list[float] = np.cumsum(weights).tolist()

    def rate(self) -> float:
        """Requests/s of this user now: rate · λ(now) · its presence."""
        agent = self.agent
        cell = min(max(int(agent.env.now // agent._step), 0), len(self.weight) - 1)
        return self.b.rate * agent.lam() * self.weight[cell]

    def children(self, env: simpy.Environment) -> None:
        """Poisson(branching) reactions to the request just sent, one SimPy process each."""
        for _ in range(int(self.agent.rng.poisson(self.b.branching))):
            env.process(self.child(env))

    def child(self, env: simpy.Environment) -> NaiveProcess:
        rng = self.agent.rng
        term = min(bisect.bisect_right(self.cumulative, rng.random()), len(self.taus) - 1)
        yield env.timeout(rng.exponential(self.taus[term]))
        self.agent.send()
        self.children(env)


def naive_hft(env: simpy.Environment, agent: NaiveAgent) -> NaiveProcess:
    """Its own polls (one timeout each) and its reactions to the shared market events."""
    b = agent.ctx.spec.behaviour
    assert isinstance(b, HftBehaviour)
    user = NaiveHft(agent, b)
    env.process(_hft_shared(env, user))
    own = (1.0 - b.branching) * (1.0 - b.shared)
    if own <= 0:
        return
    gap = 1.0 / own  # in expected requests of this user
    rng = agent.rng
    yield env.timeout(rng.random() * gap / max(user.rate(), 1e-9))
    while env.now < agent.horizon:
        if user.rate() <= 0:  # closed, or away with no off-desk rate: look again a cell later
            yield env.timeout(agent._step)
            continue
        agent.send()
        user.children(env)
        yield env.timeout(rng.gamma(b.poll_shape, gap / b.poll_shape) / user.rate())


def _hft_shared(env: simpy.Environment, user: NaiveHft) -> NaiveProcess:
    """The shared market events this user takes (with its presence as probability)."""
    agent = user.agent
    for at in agent.ctx.shared.tolist():
        if at >= agent.horizon:
            return
        yield env.timeout(max(0.0, at - env.now))
        cell = min(int(at // agent._step), len(user.weight) - 1)
        if agent.rng.random() < user.weight[cell]:
            agent.send()
            user.children(env)


def naive_monitor(env: simpy.Environment, agent: NaiveAgent) -> NaiveProcess:
    """One timeout per probe: the interval, jittered."""
    b = agent.ctx.spec.behaviour
    assert isinstance(b, MonitorBehaviour)
    rng = agent.rng
    tick = rng.random() * b.interval_s
    while tick < agent.horizon:
        at = tick + (rng.random() * 2.0 - 1.0) * b.jitter_s
        yield env.timeout(max(0.0, at - env.now))
        agent.send()
        tick += b.interval_s


def naive_batch(env: simpy.Environment, agent: NaiveAgent) -> NaiveProcess:
    """Each job: lognormal items, one request per ``items_per_request``, gamma-paced."""
    b = agent.ctx.spec.behaviour
    assert isinstance(b, BatchBehaviour)
    rng = agent.rng
    pace = 1.0 / (b.request_rate * PACING_SHAPE)
    for due in job_starts(agent.ctx, b).tolist():
        yield env.timeout(max(0.0, due - env.now))
        items = math.ceil(rng.lognormal(math.log(b.items_median), b.items_sigma))
        n = -(-items // b.items_per_request)
        for i in range(n):
            last = items - b.items_per_request * (n - 1)
            agent.send(size=b.items_per_request if i < n - 1 else last)
            yield env.timeout(rng.gamma(PACING_SHAPE, pace))


NAIVE: dict[str, Callable[[simpy.Environment, NaiveAgent], NaiveProcess]] = {
    "trading": naive_trading,
    "hft": naive_hft,
    "batch": naive_batch,
    "monitor": naive_monitor,
}


def _no_sink(
    agent_id: int, t: FloatArray, request: npt.NDArray[np.int8], size: npt.NDArray[np.int32]
) -> None:
    raise AssertionError("the naive model records requests itself")


def naive_simulate(scenario: Scenario, run: RunSettings, lean: bool = False) -> NaiveSchedule:
    """Run the naive model: same calendar, intensities, agents, regions and seeds as the real one.

    ``lean`` reads λ(t) from a Python list instead of calling ``Intensity.at``.
    """
    calendar = TradingCalendar(scenario.market, run.start, run.duration_s)
    env = simpy.Environment()
    out = NaiveSchedule()
    epoch = calendar.start.timestamp()
    for ctx in agent_contexts(scenario, run, calendar, _no_sink):
        env.process(NAIVE[ctx.spec.kind](env, NaiveAgent(env, ctx, out, epoch, lean)))
    env.run(until=run.duration_s)
    return out


# ----------------------------------------------------------------------------- report
def _mib(n: int) -> str:
    return f"{n / 1024**2:,.0f} MiB"


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def report(
    scenario: Scenario,
    week: Measurement,
    week_file_bytes: int,
    real: Measurement,
    naives: list[Measurement],
    memory: tuple[int, int, int],
    week_days: float,
) -> bool:
    """Print the table and the targets; True if every target that applies passes.

    ``naives[0]`` is the baseline the ratio target is judged on; ``memory`` is
    (ru_maxrss after the week run, ru_maxrss at the end, Arrow pool peak), bytes.
    """
    rss_after_week, rss_end, arrow_peak = memory
    agents = ", ".join(f"{a.count} {a.name}" for a in scenario.agents)
    print(
        f"abcsim simulate benchmark: {scenario.name} ({agents}); Python "
        f"{platform.python_version()}, SimPy {simpy.__version__}, NumPy {np.__version__}, "
        f"{os.cpu_count()} CPUs"
    )
    print(f"1 h slice: {SLICE_START} + 1 h; the week from the scenario's start")
    print()
    types = " / ".join(a.name for a in scenario.agents)
    print(f"{'run':<40} {'events':>11} {'wall s':>7} {'events/s':>11}  by type: {types}")
    for m in (week, real, *naives):
        split = " / ".join(f"{n:,}" for n in m.by_type)
        print(f"{m.label:<40} {m.events:>11,} {m.wall_s:>7.2f} {m.rate:>11,.0f}  {split}  {m.note}")
    print(f"  week file: {_mib(week_file_bytes)} Parquet (zstd)")
    for naive in naives:
        diff = 100.0 * (naive.events - real.events) / real.events if real.events else math.nan
        print(f"  {naive.label}: {diff:+.2f}% events vs real on the same slice")
    print()
    print(f"{'target':<40} {'measured':>11} {'goal':>9}  result")
    ok = True
    for i, naive in enumerate(naives):
        ratio = real.rate / naive.rate
        passed = ratio >= RATIO_TARGET
        ok = ok and (passed or i > 0)
        what = "ratio real/naive events/s" if i == 0 else "  same, vs lean naive (info)"
        print(f"{what:<40} {ratio:>10.1f}x {'>= 10x':>9}  {_verdict(passed)}")
    if week_days == WEEK_DAYS:
        week_ok = week.wall_s < WEEK_TARGET_S
        verdict = _verdict(week_ok)
    else:
        week_ok = True
        projected = week.wall_s * WEEK_DAYS / week_days
        verdict = f"n/a: ran {week_days:g} d (x{WEEK_DAYS / week_days:g} ~ {projected:.0f} s)"
    print(f"{'6-day week wall time':<40} {week.wall_s:>9.1f} s {'< 30 s':>9}  {verdict}")
    mem_ok = rss_end < MEMORY_TARGET_BYTES
    what = "peak RSS, whole process (ru_maxrss)"
    print(f"{what:<40} {_mib(rss_end):>11} {'< 1 GiB':>9}  {_verdict(mem_ok)}")
    print(f"  ru_maxrss right after the week run, which goes first: {_mib(rss_after_week)}")
    print(f"  Arrow memory pool peak in the week run (outside the Python heap): {_mib(arrow_peak)}")
    return ok and week_ok and mem_ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--scenario", default="abc_week", help="scenario name or TOML path")
    parser.add_argument("--days", type=float, default=WEEK_DAYS, help="length of the week run")
    parser.add_argument("--quick", action="store_true", help="1-day week run, no repeats")
    parser.add_argument("--repeat", type=int, default=3, help="real 1 h slice: best of N runs")
    parser.add_argument("--naive-repeat", type=int, default=2, help="naive slice: best of N runs")
    parser.add_argument("--no-lean", action="store_true", help="skip the lean naive variant")
    args = parser.parse_args(argv)
    days = 1.0 if args.quick else args.days
    repeat = 1 if args.quick else max(1, args.repeat)
    naive_repeat = 1 if args.quick else max(1, args.naive_repeat)

    scenario = load_scenario(args.scenario)
    week_run = resolve_run(scenario, {}, days=days)
    slice_run = resolve_run(scenario, {}, start=SLICE_START, hours=SLICE_HOURS)

    print(f"running: week ({days:g} d), 1 h slice: real x{repeat} + warm-up, naive x{naive_repeat}")
    with tempfile.TemporaryDirectory(prefix="abcsim-bench-") as folder:
        week, week_bytes = measure_week(scenario, week_run, Path(folder))
    rss_after_week = peak_rss_bytes()
    arrow_peak = int(pa.default_memory_pool().max_memory() or 0)

    measure_real(scenario, slice_run)  # warm-up: exchange-calendar lookups for these dates
    real = best_of([measure_real(scenario, slice_run) for _ in range(repeat)], repeat)
    naives = [
        best_of([measure_naive(scenario, slice_run) for _ in range(naive_repeat)], naive_repeat)
    ]
    if not args.no_lean:
        lean = [measure_naive(scenario, slice_run, lean=True) for _ in range(naive_repeat)]
        naives.append(best_of(lean, naive_repeat))
    print()
    memory = (rss_after_week, peak_rss_bytes(), arrow_peak)
    ok = report(scenario, week, week_bytes, real, naives, memory, days)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

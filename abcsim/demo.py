"""The whole flow in about a minute, on one machine: what ``abcsim demo`` shows a newcomer.

1. **Simulate** a Tuesday of the scenario (abc_week's is 13 January 2026, a
   US CPI day): about eight million requests.
2. Find its **busiest hour** (sliding, :mod:`abcsim.schedule.busiest`) and
   **compress** it into ``seconds`` (60 by default): ``--speed 60`` alone
   would send 60 times the hour's request rate, so the hour is also thinned by
   the same factor (``--scale 1/60``): the requests go out at the hour's real
   rate, with its shape — the open, the release, the bursts — in a minute.
3. **Plan** exactly that load on the scenario's ``[system]`` (the planner
   compresses the slice as the replay will send it).
4. Start the **reference target** (the scenario's ``[system]`` as a real HTTP
   server) in this process on a free loopback port, and **replay** the load
   against it.
5. Set **predicted beside measured** per request type (joined on
   ``event_id``; differences beyond run-to-run noise marked), and write the
   **HTML report** of the replay with the plan as its comparison.

Nothing leaves 127.0.0.1. The target serves from a thread of this process:
at the hour's real rate (a few hundred requests a second) that costs the
replayer little, and a newcomer has nothing to start or stop.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from abcsim.plan import prepare_plan, run_plan
from abcsim.replay import Progress, prepare_replay, run_replay
from abcsim.report import Difference, Report, compare, comparison_lines, report
from abcsim.report.html import write_html
from abcsim.report.output import check_folder
from abcsim.results import read_results
from abcsim.scenario import Scenario, load_scenario, resolve_run
from abcsim.schedule.busiest import busiest_label, busiest_window
from abcsim.schedule.parquet import read_meta
from abcsim.schedule.slicing import Window
from abcsim.simulate import write_schedule
from abcsim.target import serve_in_thread

TUESDAY = 1


@dataclass(frozen=True)
class DemoSettings:
    """What the demo runs: the scenario, how long the compressed hour lasts, where files go."""

    scenario: str = "abc_week"
    seconds: float = 60.0
    folder: Path = Path("demo")
    seed: int | None = None


@dataclass(frozen=True)
class DemoFiles:
    """Every file the demo wrote."""

    schedule: Path
    plan: Path
    replay: Path
    html: Path

    def all(self) -> tuple[tuple[str, Path], ...]:
        return (
            ("schedule (the simulated day)", self.schedule),
            ("plan of the busiest hour (predicted)", self.plan),
            ("replay of the busiest hour (measured)", self.replay),
            ("HTML report (open it in a browser)", self.html),
        )


@dataclass(frozen=True)
class DemoResult:
    """What the demo found: the hour, the replay's report and its comparison with the plan."""

    files: DemoFiles
    hour_label: str
    measured: Report
    differences: tuple[Difference, ...]

    def comparison_lines(self) -> list[str]:
        return comparison_lines(self.differences, "predicted (plan)", "measured (replay)")


def demo_day(scenario: Scenario) -> str:
    """The scenario's first Tuesday 00:00 UTC (its start if it has none), ISO 8601."""
    start = scenario.start.astimezone(dt.UTC)
    midnight = start.replace(hour=0, minute=0, second=0, microsecond=0)
    days = (TUESDAY - midnight.weekday()) % 7
    tuesday = midnight + dt.timedelta(days=days)
    if tuesday < start:
        tuesday += dt.timedelta(days=7)
    end = start + dt.timedelta(days=scenario.days)
    return (tuesday if tuesday + dt.timedelta(days=1) <= end else start).isoformat()


def run_demo(
    settings: DemoSettings,
    say: Callable[[str], None] = lambda line: None,
    progress: Callable[[Progress], None] | None = None,
) -> DemoResult:
    """Run the steps of the module docstring; ``say`` hears each step as it starts."""
    scenario = load_scenario(settings.scenario)
    folder = check_folder(settings.folder)
    files = DemoFiles(
        schedule=folder / "day.parquet",
        plan=folder / "busiest-hour.plan.parquet",
        replay=folder / "busiest-hour.results.parquet",
        html=folder / "report.html",
    )

    run = resolve_run(scenario, {}, seed=settings.seed, start=demo_day(scenario), days=1)
    say(f"1/5 simulating {scenario.name}, {run.start:%a %d %b %Y} (seed {run.seed})")
    write_schedule(scenario, run, files.schedule)

    meta = read_meta(files.schedule)
    hour = busiest_window(files.schedule, Window(0.0, meta.duration_s))
    speed = hour.length / settings.seconds
    scale = 1.0 / speed
    window = f"{hour.start!r}..{hour.end!r}"
    label = busiest_label(meta.start, hour)
    say(
        f"2/5 its {label}, compressed into {settings.seconds:g} s: --speed {speed:g} "
        f"--scale {scale:.4g} (the hour's own request rate, its shape in a minute)"
    )

    say("3/5 planning it on the scenario's [system] (a queueing model, no live system)")
    prepared_plan = prepare_plan(files.schedule, window=window, speed=speed, scale=scale)
    run_plan(prepared_plan, files.plan)

    with serve_in_thread(scenario, host="127.0.0.1", port=0) as target:
        say(f"4/5 replaying it against the reference target on {target.url}")
        prepared = prepare_replay(
            files.schedule, target.url, env={}, window=window, speed=speed, scale=scale
        )
        run_replay(prepared, files.replay, progress=progress)
    measured = report(files.replay, scenario)

    say("5/5 predicted vs measured, and the HTML report")
    differences = compare(read_results(files.plan), measured.frame)
    write_html(files.html, files.replay, scenario=scenario, against=files.plan)
    return DemoResult(files, label, measured, differences)

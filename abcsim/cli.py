"""The ``abcsim`` command: thin click commands over the library.

Each command parses its flags, calls one library function and prints. Any
:class:`~abcsim.errors.AbcsimError` becomes one line on stderr and exit
status 2, the settings it names spelled as flags (:func:`flag`); Ctrl-C exits
130 after the library has cleaned up.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import time
from pathlib import Path
from typing import Any

import click

from abcsim.errors import AbcsimError
from abcsim.market.releases import coverage_note
from abcsim.scenario import builtin_scenarios, load_scenario, resolve_run
from abcsim.schedule.stats import format_stats, schedule_stats
from abcsim.simulate import write_schedule

FLAGS = {
    "allow_hosts": "--allow-host",
    "csv_prefix": "--csv",
    "faults": "--fault",
    "headers": "--header",
    "lateness_s": "--lateness",
    "system_file": "--system",
    "timeout_s": "--timeout",
}
"""Library settings whose flag is not their name with dashes."""


def flag(setting: str) -> str:
    """The flag that gives a library setting: ``max_in_flight`` → ``--max-in-flight``."""
    return FLAGS.get(setting) or "--" + setting.replace("_", "-")


class _Group(click.Group):
    """Reports abcsim's own errors as one line and exit status 2."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except AbcsimError as exc:
            click.echo(f"error: {exc.render(flag)}", err=True)
            ctx.exit(2)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            ctx.exit(130)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="abcsim")
def main() -> None:
    """abcsim: realistic synthetic traffic for the ABC trading system.

    \b
    Quick start:
      abcsim demo                                   # the whole flow in about a minute
      abcsim simulate abc_week --out week.parquet   # the 24/6 trading week
      abcsim inspect week.parquet                   # rates, peaks, busiest hour
    """


@main.command()
@click.option(
    "--scenario", default="abc_week", show_default=True, help="Scenario file or built-in name."
)
@click.option(
    "--seconds",
    type=click.FloatRange(min=5.0, max=3600.0),
    default=60.0,
    show_default=True,
    help="The busiest hour, replayed in this many seconds at its real request rate.",
)
@click.option(
    "--out",
    "folder",
    type=click.Path(file_okay=False),
    default="demo",
    show_default=True,
    help="Folder for every file it writes.",
)
@click.option("--seed", type=click.IntRange(min=0), help="Random seed [scenario's].")
@click.option("--quiet", "-q", is_flag=True, help="No progress line during the replay.")
def demo(scenario: str, seconds: float, folder: str, seed: int | None, quiet: bool) -> None:
    """The whole flow on one machine in about a minute: simulate, plan, replay, report.

    Simulates a Tuesday of the scenario, finds its busiest hour, plans it on
    the scenario's [system], replays it compressed into --seconds (at the
    hour's real request rate) against the reference target started in this
    process on a free 127.0.0.1 port, prints predicted vs measured per request
    type and writes an HTML report. Nothing leaves this machine.

    \b
    Examples:
      abcsim demo
      abcsim demo --seconds 30 --out /tmp/demo
      abcsim demo --scenario smoke
    """
    from abcsim.demo import DemoSettings, run_demo

    def say(line: str) -> None:
        click.echo(line, err=True)

    progress = None if quiet else ProgressLine(every=5)
    settings = DemoSettings(scenario, seconds, Path(folder), seed)
    result = run_demo(settings, say, progress)
    if progress is not None:
        progress.close()
    click.echo(f"Measured: the {result.hour_label}, replayed in {seconds:g} s")
    for line in (*result.measured.lines, *result.measured.breaches):
        click.echo(line)
    if not result.measured.breaches:
        click.echo("SLOs: every target of the scenario met")
    click.echo("")
    for line in result.comparison_lines():
        click.echo(line)
    click.echo("")
    for what, path in result.files.all():
        click.echo(f"{what}: {path}")


@main.command()
@click.argument("scenario")
@click.option(
    "--out", "-o", type=click.Path(dir_okay=False), help="Schedule file [SCENARIO.parquet]."
)
@click.option("--seed", type=click.IntRange(min=0), help="Random seed [scenario's; env ABC_SEED].")
@click.option(
    "--start", help="Start, ISO 8601 UTC, e.g. 2026-07-05T22:00 [scenario's; env ABC_START]."
)
@click.option("--days", type=float, help="Length in days [scenario's; env ABC_DAYS].")
@click.option("--hours", type=float, help="Length in hours (instead of --days).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar or summary.")
def simulate(
    scenario: str,
    out: str | None,
    seed: int | None,
    start: str | None,
    days: float | None,
    hours: float | None,
    quiet: bool,
) -> None:
    """Simulate SCENARIO's trading week into a Parquet schedule.

    SCENARIO is a TOML file or a built-in name (abcsim scenarios lists them).

    \b
    Examples:
      abcsim simulate scenarios/abc_week.toml --days 6 --seed 1 --out week.parquet
      abcsim simulate smoke --hours 3
      ABC_SEED=7 abcsim simulate hft_stress --start 2026-07-05T22:00 --days 1
    """
    spec = load_scenario(scenario)
    run = resolve_run(spec, os.environ, seed=seed, start=start, days=days, hours=hours)
    target = out or f"{spec.name}.parquet"
    began = time.perf_counter()
    if quiet:
        stats = write_schedule(spec, run, target)
    else:
        with click.progressbar(
            length=int(run.duration_s), label=f"simulating {spec.name}", file=sys.stderr
        ) as bar:
            done = 0

            def advance(t: float) -> None:
                nonlocal done
                bar.update(int(t) - done)
                done = int(t)

            stats = write_schedule(spec, run, target, progress=advance)
    elapsed = time.perf_counter() - began
    end = run.start + dt.timedelta(seconds=run.duration_s)
    if note := coverage_note(spec.market.releases, run.start, end):
        click.echo(note, err=True)  # once the run has succeeded: a failed one says only why
    if not quiet:
        click.echo(
            f"wrote {target} (seed {run.seed}) in {elapsed:.1f} s, "
            f"{stats.events / max(elapsed, 1e-9):,.0f} events/s"
        )
        click.echo(format_stats(stats))


@main.command()
@click.argument("schedule", type=click.Path(dir_okay=False))
@click.option("--facts", is_flag=True, help="Stylized facts: shape, memory, releases, holidays.")
@click.option(
    "--against",
    type=click.Path(dir_okay=False),
    help="Facts of another schedule or a time,count CSV beside them (implies --facts).",
)
@click.option(
    "--plot",
    type=click.Path(dir_okay=False),
    help="Also draw the facts to a PNG (implies --facts).",
)
@click.option(
    "--flat-hours",
    default="9-12",
    show_default=True,
    callback=lambda ctx, param, value: _hour_range(value),
    help="UTC hours where the smooth rate is flat, for the memory facts.",
)
def inspect(
    schedule: str,
    facts: bool,
    against: str | None,
    plot: str | None,
    flat_hours: tuple[int, int],
) -> None:
    """Summarise a schedule: volumes, mean and peak rates, busiest hour; or its stylized facts.

    --facts measures what makes traffic look like a market: hour-of-day shape and
    the 22:00-06:00 share, day-to-day variation, over-dispersion, autocorrelation
    and a Hurst exponent in flat hours, the response to each release, holidays,
    and a Hawkes fit of high-frequency users. --against compares, side by side,
    with another schedule or with production counts (a CSV of time,count rows,
    e.g. requests per minute from an access log).

    \b
    Examples:
      abcsim inspect week.parquet
      abcsim inspect week.parquet --facts --plot week.png
      abcsim inspect week.parquet --against prod_counts.csv
    """
    if not (facts or against or plot):
        click.echo(format_stats(schedule_stats(schedule)))
        return
    from abcsim.facts import compare

    if sys.stderr.isatty():  # a note for people waiting; never noise in a pipeline's stderr
        click.echo("measuring stylized facts...", err=True)
    click.echo(compare(schedule, against=against, plot=plot, flat_hours=flat_hours))
    if plot:
        click.echo(f"wrote {plot}", err=True)


def _hour_range(text: str) -> tuple[int, int]:
    """``"9-12"`` → (9, 12); anything else is one clear error."""
    try:
        first, last = (int(part) for part in text.split("-"))
    except ValueError:
        first, last = -1, -1
    if not 0 <= first < last <= 24:
        raise AbcsimError(f"--flat-hours: must be two UTC hours like 9-12, got {text!r}")
    return first, last


@main.command()
def scenarios() -> None:
    """List the built-in scenarios (usable by name wherever a scenario file is asked)."""
    for name in builtin_scenarios():
        spec = load_scenario(name)
        click.echo(f"{name:<12} {spec.description}")


@main.command()
@click.option(
    "--scenario", default="abc_week", show_default=True, help="Scenario file or built-in name."
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port", type=click.IntRange(0, 65535), default=8080, show_default=True, help="0: a free one."
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    help="Workers [scenario's [system]; env ABC_MAX_CONCURRENT_REQUESTS].",
)
@click.option(
    "--queue-limit", type=click.IntRange(min=0), help="Most requests waiting [scenario's]."
)
@click.option(
    "--fault", "faults", multiple=True, metavar="NAME=VALUE", help="Inject a fault (repeatable)."
)
def target(
    scenario: str,
    host: str,
    port: int,
    workers: int | None,
    queue_limit: int | None,
    faults: tuple[str, ...],
) -> None:
    """Serve a stand-in ABC trading API (the reference target) until Ctrl-C.

    It serves the scenario's endpoints as an M/G/c queue with the service times
    of its [system] section, plus GET /health, GET /metrics (Prometheus) and
    /_admin/faults. Prints the URL it serves on.

    \b
    Faults (NAME=VALUE; see README):
      error_rate=0.02  spike_rate=0.05  spike_ms=800  stall=10:20
      reset_rate=0.01  leak_bytes=64K
    \b
    Examples:
      abcsim target --port 0
      abcsim target --scenario scenarios/abc_week.toml --workers 8 --fault error_rate=0.02
    """
    # Imported here so the other commands never pay for the server's imports.
    from abcsim.target import RunningTarget, run_target

    def ready(running: RunningTarget) -> None:
        click.echo(running.url)
        click.echo(f"{running.describe()}; Ctrl-C stops", err=True)

    run_target(
        load_scenario(scenario),
        os.environ,
        host=host,
        port=port,
        workers=workers,
        queue_limit=queue_limit,
        faults=faults,
        on_ready=ready,
    )
    click.echo("abcsim target: stopped", err=True)


@main.command()
@click.argument("schedule", type=click.Path(dir_okay=False))
@click.option(
    "--target", "-t", required=True, help="Base URL of the system, e.g. http://127.0.0.1:8080."
)
@click.option("--window", "-w", help="Slice: 'Tue 13:00..Tue 14:00', seconds '3600..7200' or ISO.")
@click.option(
    "--speed",
    type=float,
    default=1.0,
    show_default=True,
    help="60 plays an hour in a minute, at 60x the rate (--scale 0.0167 keeps the real rate).",
)
@click.option(
    "--scale", type=float, default=1.0, show_default=True, help="0.5 halves, 2 doubles the traffic."
)
@click.option(
    "--max-in-flight", type=int, help="Requests out at once [env ABC_MAX_CONCURRENT_REQUESTS; 256]."
)
@click.option("--timeout", type=float, help="Seconds per request [scenario's [system] timeout_s].")
@click.option(
    "--lateness",
    type=float,
    default=1.0,
    show_default=True,
    help="Seconds a request may wait for a slot before it is dropped.",
)
@click.option(
    "--max-rate",
    type=float,
    help="Refuse a slice whose busiest second exceeds this [scenario; 5000].",
)
@click.option(
    "--out", "-o", type=click.Path(dir_okay=False), help="Results file [SCHEDULE.results.parquet]."
)
@click.option("--csv", "csv_prefix", help="Also write Locust CSVs: PREFIX_stats.csv, ...")
@click.option(
    "--allow-host", multiple=True, help="A non-loopback host replay may send to (repeatable)."
)
@click.option("--scenario", help="Endpoints and SLOs from this scenario, not the schedule's own.")
@click.option(
    "--engine",
    type=click.Choice(["abcsim", "locust"]),
    default="abcsim",
    show_default=True,
    help="Who sends: abcsim's own client, or a local Locust master and workers.",
)
@click.option(
    "--processes",
    type=click.IntRange(min=1),
    help="Sending processes, sharded by agent [1; locust: 2].",
)
@click.option(
    "--workers",
    "old_workers",
    type=click.IntRange(min=1),
    hidden=True,
    help="Deprecated spelling of --processes.",
)
@click.option(
    "--header",
    "headers",
    multiple=True,
    help="'Name: value' on every request (repeatable); ${VAR} is taken from the environment.",
)
@click.option("--ca-file", type=str, help="Trust this PEM CA (only it) for an https:// target.")
@click.option("--client-cert", type=str, help="PEM client certificate, for mutual TLS.")
@click.option("--client-key", type=str, help="PEM key of --client-cert [in its file].")
@click.option("--insecure", is_flag=True, help="Verify no TLS certificate (warned, recorded).")
@click.option("--health-path", help="The preflight's path [the scenario's health_check].")
@click.option(
    "--allow-orders-without-performance-mode",
    "allow_orders",
    is_flag=True,
    help="Send orders to a system whose health does not say performance mode (warned).",
)
@click.option(
    "--monitor",
    "monitor_urls",
    multiple=True,
    help="Scrape this Prometheus /metrics URL during the run (repeatable).",
)
@click.option("--watch-pid", "watch_pids", type=int, multiple=True, help="Sample this process's "
              "CPU and memory, children included (repeatable).")  # fmt: skip
@click.option(
    "--monitor-interval", type=float, default=1.0, show_default=True, help="Seconds per sample."
)
@click.option("--quiet", "-q", is_flag=True, help="No progress line.")
@click.pass_context
def replay(
    ctx: click.Context,
    schedule: str,
    target: str,
    window: str | None,
    speed: float,
    scale: float,
    max_in_flight: int | None,
    timeout: float | None,
    lateness: float,
    max_rate: float | None,
    out: str | None,
    csv_prefix: str | None,
    allow_host: tuple[str, ...],
    scenario: str | None,
    engine: str,
    processes: int | None,
    old_workers: int | None,
    headers: tuple[str, ...],
    ca_file: str | None,
    client_cert: str | None,
    client_key: str | None,
    insecure: bool,
    health_path: str | None,
    allow_orders: bool,
    monitor_urls: tuple[str, ...],
    watch_pids: tuple[int, ...],
    monitor_interval: float,
    quiet: bool,
) -> None:
    """Replay SCHEDULE against a live system at its scheduled times.

    Open loop on an absolute clock; latency is measured from each request's
    scheduled time. Ends with Locust's summary and the scenario's SLO check:
    exit 0 when every target holds, 1 when one is breached, 2 on bad input,
    3 when the verdict is void (the replayer fell behind: late or unsent
    requests), 130 when stopped early (Ctrl-C, SIGTERM; the summary is still printed).

    Before the clock starts, one GET of the system's health endpoint (same
    TLS and headers) checks it is up; orders (trade_execution, workflows) go
    only to a system whose health answer says "performance_mode": true.

    --monitor URL scrapes the system's Prometheus metrics and --watch-pid PID
    samples a local process, every --monitor-interval, into NAME.monitor.parquet
    beside the results; at the end peak CPU (< 80% of its cores), peak memory
    (< ABC_MEMORY_LIMIT) and a memory leak (a Theil-Sen trend) are judged with
    the SLOs: a breach exits 1.

    --processes N shards the load by agent over N processes; --engine locust
    sends it from a local Locust master and N workers instead (pip install
    'abcsim[locust]'), as a run over many machines would (see README).

    \b
    Examples:
      abcsim replay week.parquet --target http://127.0.0.1:8080 --window 'Tue 13:00..Tue 14:00'
      abcsim replay week.parquet -t http://127.0.0.1:8080 -w 'Tue 13:00..Tue 14:00' \
          --speed 60 --csv ci/tue
      abcsim replay week.parquet -t http://127.0.0.1:8080 --engine locust --processes 2
      abcsim replay week.parquet -t https://staging.abc.internal --allow-host staging.abc.internal
      abcsim replay week.parquet -t http://127.0.0.1:8080 --monitor http://127.0.0.1:8080/metrics
    """
    from abcsim.monitor import monitor_settings
    from abcsim.replay import prepare_replay, run_replay
    from abcsim.replay.tls import TlsSettings
    from abcsim.report import report, terminal_name_width

    tls = TlsSettings(ca_file, client_cert, client_key, insecure)
    monitor = monitor_settings(monitor_urls, watch_pids, monitor_interval)
    if monitor and engine == "locust":
        raise AbcsimError("--monitor, --watch-pid: abcsim's engine only, not --engine locust")
    if insecure:
        click.echo("warning: --insecure: the target's TLS certificate is not verified", err=True)
    if allow_orders:
        click.echo(
            "WARNING: --allow-orders-without-performance-mode: orders go out even if the "
            "system does not say it simulates them",
            err=True,
        )
    prepared = prepare_replay(
        schedule,
        target,
        env=os.environ,
        window=window,
        speed=speed,
        scale=scale,
        max_in_flight=max_in_flight,
        timeout_s=timeout,
        lateness_s=lateness,
        max_rate=max_rate,
        allow_hosts=allow_host,
        scenario=scenario,
        csv_prefix=csv_prefix,
        headers=headers,
        tls=tls,
        health_path=health_path,
        allow_orders_without_performance_mode=allow_orders,
    )
    results = out or str(Path(schedule).with_suffix("")) + ".results.parquet"
    plan = prepared.plan
    click.echo(
        f"replaying {prepared.events:,} requests of {schedule} to {plan.target} "
        f"(peak {prepared.peak_per_second:,.0f}/s, {plan.window.length / plan.speed:,.0f} s)",
        err=True,
    )
    if plan.speed != 1.0:
        click.echo(speed_note(plan.speed, plan.scale), err=True)
    if old_workers is not None:
        click.echo("note: --workers is now --processes (--workers will go)", err=True)
        processes = processes or old_workers
    if engine == "locust":
        from abcsim.locust.launch import locust_log, replay_on_locust

        click.echo(
            f"on Locust: a master and {processes or 2} workers; their log: {locust_log(results)}",
            err=True,
        )
        run = replay_on_locust(
            prepared, results, processes=processes or 2, env=os.environ, scenario=scenario
        )
    else:
        progress = None if quiet else ProgressLine()
        run = run_replay(
            prepared, results, workers=processes or 1, progress=progress, monitor=monitor
        )
        if progress is not None:
            progress.close()
    summary = report(
        results,
        prepared.scenario,
        csv_prefix=csv_prefix,
        name_width=terminal_name_width(),
        env=os.environ,
    )
    for line in (*summary.lines, *summary.breaches):
        click.echo(line)
    if run.resent:
        click.echo(
            f"resent: {run.resent:,} request(s) on a fresh connection: the server closed an "
            "idle keep-alive connection as they went out (safe: idempotent or Idempotency-Key)",
            err=True,
        )
    if run.interrupted:  # a partial run proves nothing either way
        click.echo(f"stopped early: {run.events:,} results in {results}", err=True)
        ctx.exit(130)
    click.echo(f"done: {run.events:,} results in {results}", err=True)
    ctx.exit(summary.exit_status)


def speed_note(speed: float, scale: float) -> str:
    """What --speed does to the request rate, and how --scale keeps the real one."""
    rate = speed * scale
    if abs(rate - 1.0) < 1e-9:
        return f"--speed {speed:g} with --scale {scale:g}: the schedule's own request rate"
    return (
        f"--speed {speed:g} sends {rate:g}x the schedule's request rate; "
        f"add --scale {scale / speed:.4g} to keep the real rate, time compressed"
    )


class ProgressLine:
    """The replay's progress on stderr: redrawn in place on a terminal, every 10 s in a log."""

    def __init__(self, every: int = 10) -> None:
        self._tty = sys.stderr.isatty()
        self._count = 0
        self._every = every

    def __call__(self, p: Any) -> None:
        self._count += 1
        line = (
            f"{p.schedule_elapsed:,.0f}/{p.schedule_total:,.0f} s  {p.sent_per_s:,.0f} req/s  "
            f"in flight {p.in_flight}  errors {p.live.errors:,}  dropped {p.live.dropped:,}  "
            f"P95 {1000 * p.live.p95_s:,.0f} ms  send lag P99 {1000 * p.live.lag_p99_s:.1f} ms"
        )
        if self._tty:
            click.echo("\r" + line.ljust(118), nl=False, err=True)
        elif self._count % self._every == 0:
            click.echo(line, err=True)

    def close(self) -> None:
        if self._tty and self._count:
            click.echo(err=True)


@main.command()
@click.argument("results", type=click.Path(dir_okay=False))
@click.option("--csv", "csv_prefix", help="Also write Locust CSVs: PREFIX_stats.csv, ...")
@click.option("--scenario", help="Endpoints and SLOs from this scenario, not the file's own.")
@click.option(
    "--against",
    type=click.Path(dir_okay=False),
    help="Another results file of the same events (a plan, an earlier replay), side by side.",
)
@click.option(  # plain text, not click.Path: a bad path is one "error:" line, as abcsim's are
    "--html",
    "html_out",
    metavar="FILE",
    help="Also write a self-contained HTML report that opens offline, e.g. --html tue.html.",
)
@click.option(
    "--png",
    "png_dir",
    metavar="DIR",
    help="Also draw the main charts as PNGs into DIR (made if missing), e.g. --png ci/charts.",
)
@click.pass_context
def report(
    ctx: click.Context,
    results: str,
    csv_prefix: str | None,
    scenario: str | None,
    against: str | None,
    html_out: str | None,
    png_dir: str | None,
) -> None:
    """Summarise an existing RESULTS file and gate on its SLOs, as replay and plan end.

    Works on any results file: a replay (abcsim's engine or Locust's master), a
    plan. Exit 0 when every SLO holds, 1 when one is breached, 2 on bad input,
    3 when a replay's verdict is void (the replayer fell behind).
    --against sets P50/P95/P99 and error rates per request type of the two runs
    side by side (joined on event_id), marking differences beyond run-to-run noise.

    \b
    Examples:
      abcsim report week.results.parquet
      abcsim report tue.results.parquet --csv ci/tue     # Locust's CSVs for CI
      abcsim report tue.results.parquet --against tue.plan.parquet   # measured vs predicted
      abcsim report tue.results.parquet --against tue.plan.parquet --html tue.html --png charts
    """
    from abcsim.report import compare, comparison_lines, terminal_name_width, write_html, write_pngs
    from abcsim.report import report as summarise
    from abcsim.report.content import report_content
    from abcsim.report.output import check_file, check_folder
    from abcsim.results import read_results, read_results_meta

    # Bad output paths fail now, not after a week's rows have been read.
    html_path = check_file(html_out) if html_out else None
    png_path = check_folder(png_dir, make=False) if png_dir else None
    spec = load_scenario(scenario) if scenario else None
    summary = summarise(
        results, spec, csv_prefix=csv_prefix, name_width=terminal_name_width(), env=os.environ
    )
    for line in (*summary.lines, *summary.breaches):
        click.echo(line)
    other = None
    if against:
        other = read_results(against)  # read once: the comparison and the HTML both use it
        differences = compare(other, summary.frame)
        for line in comparison_lines(differences, against, results):
            click.echo(line)
    click.echo(f"{summary.events:,} results in {results}", err=True)
    if html_path or png_path:
        content = report_content(  # once for both, from the frames already read
            summary.frame,
            scenario=spec,
            meta=read_results_meta(results),
            against=other,
            against_meta=read_results_meta(against) if against else None,
            names=(Path(results).name, Path(against or "against").name),
            path=Path(results),
        )
        if html_path:
            click.echo(f"HTML report in {write_html(html_path, content)}", err=True)
        if png_path:
            pngs = write_pngs(png_path, content)
            listed = ", ".join(p.name for p in pngs)
            click.echo(f"{len(pngs)} charts in {png_path}: {listed}", err=True)
    ctx.exit(summary.exit_status)


@main.command()
def locustfile() -> None:
    """Print the path of abcsim's replay locustfile (for Locust's master and workers).

    \b
    Examples:
      ABC_SCHEDULE=week.parquet locust -f "$(abcsim locustfile)" --master --expect-workers 4
      ABC_SCHEDULE=week.parquet locust -f "$(abcsim locustfile)" --worker --master-host HOST
    """
    from abcsim.locust import LOCUSTFILES

    click.echo(LOCUSTFILES["replay"])


@main.command()
@click.argument("schedule", type=click.Path(dir_okay=False))
@click.option(
    "--scenario", help="Endpoints, SLOs and [system] from this scenario, not the schedule's."
)
@click.option(
    "--system", "system_file", type=click.Path(dir_okay=False), help="[system] from this TOML file."
)
@click.option("--window", "-w", help="Slice: 'Tue 13:00..Tue 14:00', seconds '3600..7200' or ISO.")
@click.option("--replicas", type=int, help="Replicas [scenario's [system]].")
@click.option("--workers", type=int, help="Workers per replica [scenario's].")
@click.option("--queue-limit", type=int, help="Most requests waiting per replica [scenario's].")
@click.option(
    "--balancer",
    type=click.Choice(["round_robin", "shortest_queue"]),
    help="Load balancer across replicas [scenario's; round_robin].",
)
@click.option("--timeout", type=float, help="Seconds a client waits [scenario's; 10].")
@click.option(
    "--scale", type=float, default=1.0, show_default=True, help="0.5 halves, 2 doubles the traffic."
)
@click.option(
    "--speed",
    type=float,
    default=1.0,
    show_default=True,
    help="Model the slice as replay --speed sends it: compressed, its rate multiplied.",
)
@click.option("--seed", type=int, help="Seed of the service times [scenario's].")
@click.option(
    "--out", "-o", type=click.Path(dir_okay=False), help="Results file [SCHEDULE.plan.parquet]."
)
@click.option(
    "--find-capacity", is_flag=True, help="Smallest size meeting every SLO in the busiest hour."
)
@click.option("--sweep", "sweep_spec", help="Vary workers, replicas or scale: 'workers=8:64:8'.")
@click.option(
    "--plot", type=click.Path(dir_okay=False), help="Also draw the sweep to this PNG file."
)
@click.pass_context
def plan(
    ctx: click.Context,
    schedule: str,
    scenario: str | None,
    system_file: str | None,
    window: str | None,
    replicas: int | None,
    workers: int | None,
    queue_limit: int | None,
    balancer: str | None,
    timeout: float | None,
    scale: float,
    speed: float,
    seed: int | None,
    out: str | None,
    find_capacity: bool,
    sweep_spec: str | None,
    plot: str | None,
) -> None:
    """Predict SCHEDULE on a queueing model of the system: no live system needed.

    Writes a results file like a replay's (source = plan) and prints the same
    summary and SLO verdict, plus utilisation, queue length and CPU per replica
    for the run and its busiest hour. Exit 0 when every SLO holds, 1 when one is
    breached, 2 on bad input. --find-capacity and --sweep model the busiest
    hour instead (no results file); a sweep exits 1 when no value in it meets
    every SLO. Latency percentiles are of answered requests: refusals, errors
    and timeouts are the error rate.

    A workflow's stages are modelled one after another, each giving its worker
    back before the next takes one. Nested calls that hold their worker while
    waiting for the next (agents calling agents) can deadlock a pool; this model
    cannot show that: replay against the system (the target's --fault nested=on)
    with --monitor, which reports a possible deadlock.

    \b
    Examples:
      abcsim plan week.parquet -w 'Tue 00:00..Wed 00:00' --replicas 2 --workers 24
      abcsim plan week.parquet --system staging.toml --scale 1.5
      abcsim plan week.parquet --find-capacity              # workers per replica
      abcsim plan week.parquet --find-capacity --workers 16 # replicas of 16 workers
      abcsim plan week.parquet --sweep workers=16:48:4 --plot sweep.png
      abcsim plan week.parquet --sweep scale=0.5:3:0.25
      abcsim plan week.parquet -w 'Tue 13:00..Tue 14:00' --speed 60 --scale 0.0167  # as replayed
    """
    from abcsim.errors import PlanError
    from abcsim.plan import parse_sweep, plan_capacity, plan_sweep, prepare_plan, run_plan
    from abcsim.report import report, terminal_name_width
    from abcsim.report.output import check_file
    from abcsim.report.planner import capacity_lines, sweep_lines

    if find_capacity and replicas is not None and workers is not None:
        raise PlanError("--find-capacity: give --replicas or --workers, not both (one is searched)")
    if plot and not sweep_spec:
        raise PlanError("--plot: draws a sweep; give --sweep too")
    if speed != 1.0 and (find_capacity or sweep_spec):
        raise PlanError("--speed: models a compressed replay; --find-capacity and --sweep judge "
                        "the busiest hour in real time")  # fmt: skip
    if plot:
        check_file(plot)  # before the sweep's trials, not minutes later
    spec = parse_sweep(sweep_spec) if sweep_spec else None
    prepared = prepare_plan(
        schedule,
        scenario=scenario,
        system_file=system_file,
        window=window,
        replicas=replicas,
        workers=workers,
        queue_limit=queue_limit,
        balancer=balancer,
        timeout_s=timeout,
        scale=scale,
        seed=seed,
        speed=speed,
    )
    if find_capacity:
        searched = "replicas" if workers is not None else "workers"
        for line in capacity_lines(plan_capacity(prepared, dimension=searched)):
            click.echo(line)
    if spec:
        from abcsim.report.sweep_plot import sweep_plot

        sweep = plan_sweep(prepared, spec)
        for line in sweep_lines(sweep):
            click.echo(line)
        if plot:
            click.echo(f"plot: {sweep_plot(sweep, plot)}", err=True)
        ctx.exit(0 if sweep.met else 1)
    if find_capacity:
        return
    results = out or str(Path(schedule).with_suffix("")) + ".plan.parquet"
    run = run_plan(prepared, results)
    summary = report(results, prepared.scenario, name_width=terminal_name_width(), planned=run)
    for line in (*summary.lines, *summary.breaches):
        click.echo(line)
    rate = run.events / max(run.elapsed_s, 1e-9)
    size = Path(results).stat().st_size / 1e6
    click.echo(
        f"planned {run.events:,} requests in {run.elapsed_s:.1f} s ({rate:,.0f}/s): "
        f"results in {results} ({size:,.0f} MB)",
        err=True,
    )
    ctx.exit(summary.exit_status)


@main.command()
@click.argument("results", type=click.Path(dir_okay=False))
@click.option(
    "--schedule",
    type=click.Path(dir_okay=False),
    help="The replayed schedule: its sizes give the per-item cost.",
)
@click.option(
    "--out", "-o", type=click.Path(dir_okay=False), help="[system] TOML [RESULTS.system.toml]."
)
@click.option(
    "--min-samples",
    type=click.IntRange(min=2),
    default=30,
    show_default=True,
    help="Fewer answered requests of a type and it keeps the scenario's time.",
)
@click.option(
    "--overhead-ms",
    type=float,
    default=0.0,
    show_default=True,
    help="Time outside the workers (a no-op request's), taken off each time.",
)
def calibrate(
    results: str, schedule: str | None, out: str | None, min_samples: int, overhead_ms: float
) -> None:
    """Fit service times from a low-load replay's RESULTS; write the [system] plan reads.

    Per request type, a lognormal and a gamma are fitted to the answered
    requests' service times by maximum likelihood; the lower AIC is kept.
    --overhead-ms is taken off each time first (it holds no worker) and written
    as the system's overhead_ms, which plan adds to every latency.

    \b
    Examples:
      abcsim replay week.parquet -t http://127.0.0.1:8080 -w 'Sun 23:00..Mon 00:00'
      abcsim calibrate week.results.parquet --schedule week.parquet --overhead-ms 1.5 \
          --out staging.toml
      abcsim plan week.parquet --system staging.toml --find-capacity
    """
    from abcsim.plan import calibrate_file, system_toml
    from abcsim.report.output import write_whole
    from abcsim.report.planner import calibration_lines

    calibration = calibrate_file(
        results, schedule=schedule, min_samples=min_samples, overhead_ms=overhead_ms
    )
    target = Path(out or str(Path(results).with_suffix("")) + ".system.toml")
    for line in calibration_lines(calibration):
        click.echo(line)
    write_whole(target, system_toml(calibration).encode("utf-8"))  # whole or not at all
    click.echo(f"wrote {target}", err=True)

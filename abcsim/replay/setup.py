"""From a replay's settings to a checked :class:`ReplayPlan`, before anything is sent.

``prepare_replay`` reads the schedule's metadata (its scenario gives the
endpoint table, the SLOs and the request timeout unless ``scenario`` names
another), resolves the window, refuses a non-loopback target that is not
allowed, and computes the busiest wall-clock second of the slice to refuse a
rate over the ceiling, and refuses to send orders to a system that is not in
performance mode. ``ABC_MAX_CONCURRENT_REQUESTS`` gives the in-flight bound
when no ``max_in_flight`` does, as in the performance suite's configuration.
Extra headers (``${VAR}`` from ``env``) and TLS files are resolved and checked
here; last, unless ``preflight=False``, one request to the system's health
endpoint (:mod:`abcsim.replay.preflight`) proves it up, reachable with those
settings, and in performance mode if orders are to be sent.

A bad argument is an error naming it as :class:`~abcsim.errors.Setting`
(``speed``); ``abcsim replay`` shows it as its flag, a Locust process as its
``ABC_*`` variable.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from abcsim.errors import ReplayError, Setting
from abcsim.replay.headers import resolve_headers
from abcsim.replay.http import Origin
from abcsim.replay.preflight import Health, preflight
from abcsim.replay.runner import ReplayPlan
from abcsim.replay.safety import (
    check_orders,
    check_orders_health,
    check_rate,
    check_target,
    order_requests,
)
from abcsim.replay.tls import DEFAULT_TLS, TlsSettings, check_tls
from abcsim.scenario import Scenario, load_scenario, parse_scenario
from abcsim.scenario.environment import env_value, whole_number
from abcsim.schedule.parquet import ScheduleMeta, read_meta
from abcsim.schedule.slicing import Window, parse_window, slice_rate_peak

DEFAULT_MAX_IN_FLIGHT = 256


@dataclass(frozen=True)
class PreparedReplay:
    """A plan that passed every check, with what the report needs to know."""

    plan: ReplayPlan
    scenario: Scenario
    meta: ScheduleMeta
    events: int
    peak_per_second: float
    max_rate: float  # the ceiling the peak was checked against
    health: Health | None = None  # the preflight's answer; None if there was none
    orders_unguarded: bool = False  # allow_orders_without_performance_mode was given
    header_lines: tuple[str, ...] = ()  # --header as given, ${VAR} not taken (for Locust's)

    @property
    def settings_record(self) -> tuple[tuple[str, str], ...]:
        """What the results metadata records of the replay's own settings: header
        *names* (never values), whether TLS verified the server, the orders override."""
        plan = self.plan
        record = []
        if plan.headers:
            record.append(("header_names", ",".join(plan.headers.names)))
        if plan.target.startswith("https://"):
            record.append(("tls_verify", "false" if plan.tls.insecure else "true"))
        if self.orders_unguarded:
            record.append(("orders_without_performance_mode", "true"))
        return tuple(record)


def prepare_replay(
    schedule: str | Path,
    target: str,
    *,
    env: Mapping[str, str],
    window: str | None = None,
    speed: float = 1.0,
    scale: float = 1.0,
    max_in_flight: int | None = None,
    timeout_s: float | None = None,
    lateness_s: float = 1.0,
    max_rate: float | None = None,
    allow_hosts: Sequence[str] = (),
    scenario: str | None = None,
    csv_prefix: str | None = None,
    headers: Sequence[str] = (),
    tls: TlsSettings = DEFAULT_TLS,
    health_path: str | None = None,
    allow_orders_without_performance_mode: bool = False,
    preflight: bool = True,
) -> PreparedReplay:
    """Check everything that can be checked before the first request.

    ``timeout_s``: seconds a request may take; by default the scenario's
    ``[system] timeout_s``, the one the planner's clients give up at.
    ``headers``: ``Name: value`` lines over the scenario's ``[replay.headers]``.
    ``health_path``: the preflight's path, by default the scenario's
    ``health_check`` endpoint's. ``preflight=False`` sends nothing (then only
    the environment guards orders: :func:`~abcsim.replay.safety.check_orders`).
    """
    if csv_prefix is not None:
        _writable_folder("csv_prefix", Path(csv_prefix).parent)
    _positive("speed", speed)
    _positive("scale", scale)  # 0 would send nothing and still judge the SLOs: refused
    if timeout_s is not None:
        _positive("timeout_s", timeout_s)
    _positive("lateness_s", lateness_s)  # 0 would drop every request that waits at all
    if max_in_flight is not None and max_in_flight < 1:
        raise ReplayError(Setting("max_in_flight"), f": must be >= 1, got {max_in_flight}")
    meta = read_meta(schedule)
    spec = (
        load_scenario(scenario) if scenario else parse_scenario(meta.scenario_text, str(schedule))
    )
    check_target(target, (*allow_hosts, *spec.replay.allow_hosts))
    if not allow_orders_without_performance_mode:
        check_orders(target, spec.requests_sent, env)
    extra = resolve_headers(headers, spec.replay.headers, env)
    check_tls(tls, Origin.parse(target).scheme)
    path = health_path if health_path is not None else dict(spec.endpoints)["health_check"].path
    _url_path("health_path", path)
    slice_ = (
        parse_window(window, meta.start, meta.duration_s)
        if window
        else Window(0.0, meta.duration_s)
    )
    in_flight = max_in_flight if max_in_flight is not None else env_in_flight(env)
    events, peak = slice_rate_peak(schedule, slice_, speed=speed, scale=scale)
    ceiling = max_rate if max_rate is not None else spec.replay.max_rate
    _positive("max_rate", ceiling)
    check_rate(peak, ceiling, speed, scale)
    plan = ReplayPlan(
        schedule=Path(schedule),
        target=target.rstrip("/"),
        window=slice_,
        endpoints=spec.endpoints,
        agent_types=meta.agent_types,
        speed=speed,
        scale=scale,
        max_in_flight=in_flight,
        timeout_s=spec.system.timeout_s if timeout_s is None else timeout_s,
        lateness_s=lateness_s,
        headers=extra,
        tls=tls,
        seed=meta.seed,
        schedule_start=meta.start,
        payloads=spec.payloads,
        releases=spec.market.releases,
    )
    plan.templates()  # a template that cannot render is refused now, not mid-run
    unguarded = allow_orders_without_performance_mode
    health = _preflight(plan, path, spec.requests_sent, unguarded) if preflight else None
    return PreparedReplay(
        plan,
        spec,
        meta,
        events,
        peak,
        ceiling,
        health,
        allow_orders_without_performance_mode,
        tuple(headers),
    )


def _preflight(plan: ReplayPlan, path: str, requests: Sequence[str], unguarded: bool) -> Health:
    """The health request, then the order guard on its answer (unless overridden)."""
    health = preflight(plan.target, path, headers=plan.headers, tls=plan.tls)
    if not unguarded and order_requests(requests):
        check_orders_health(plan.target, requests, health.performance_mode, path)
    return health


def _url_path(setting: str, path: str) -> None:
    if not path.startswith("/") or any(c.isspace() or ord(c) < 32 for c in path):
        raise ReplayError(Setting(setting), f": must be a URL path like /health, got {path!r}")


def env_in_flight(env: Mapping[str, str]) -> int:
    """``ABC_MAX_CONCURRENT_REQUESTS``, or 256 when it is not set."""
    return env_value(env, "ABC_MAX_CONCURRENT_REQUESTS", whole_number(1), DEFAULT_MAX_IN_FLIGHT)


def _positive(setting: str, value: float) -> None:
    if not (value > 0 and math.isfinite(value)):
        raise ReplayError(Setting(setting), f": must be a finite number > 0, got {value:g}")


def _writable_folder(setting: str, folder: Path) -> None:
    """Make ``folder`` (as Locust does) and check it takes files, before any load is sent."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        problem = f": cannot create {str(folder)!r}: {exc.strerror}"
        raise ReplayError(Setting(setting), problem) from None
    if not os.access(folder, os.W_OK):
        raise ReplayError(Setting(setting), f": cannot write in {str(folder)!r}")

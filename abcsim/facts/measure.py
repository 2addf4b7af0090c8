"""The stylized facts of a schedule (or of production counts), measured in one go.

:func:`measure_facts` takes counts and, when it knows it, the market (the scenario
the schedule carries), and returns :class:`Facts`: the week's shape
(:mod:`~abcsim.facts.shape`), the memory in flat hours
(:mod:`~abcsim.facts.memory`), releases, quiet 08:30s and holidays
(:mod:`~abcsim.facts.events`), and a Hawkes fit of high-frequency users
(:mod:`~abcsim.facts.hawkes`). :func:`source_facts` does it for a schedule file
or a ``time,count`` CSV, :func:`compare` for ``abcsim inspect --facts``; the
tests assert on the same functions.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from abcsim.facts.counts import Counts, IntArray, read_counts_csv, schedule_counts
from abcsim.facts.events import (
    HolidayEffect,
    QuietMinute,
    ReleaseResponse,
    holiday_effects,
    quiet_minutes,
    release_responses,
)
from abcsim.facts.hawkes import HawkesFit, Window, fit_hawkes
from abcsim.facts.memory import (
    ACF_LAGS,
    FLAT_HOURS,
    FloatArray,
    autocorrelation,
    dispersion,
    flat_windows,
    hurst_dfa,
    relative,
    wander,
)
from abcsim.facts.shape import Shape, shape
from abcsim.market.calendar import TradingCalendar
from abcsim.scenario.spec import Scenario

BUSY_HOURS = 6
"""A high-frequency user's Hawkes fit uses its busiest hours, at most this many."""
MARKET_SMOOTHING_S = 5
"""The market's activity behind a Hawkes fit: everybody else's requests, averaged over 5 s
(on abc_week's users configured at 0.8, 5 s fits 0.77-0.84; 60 s, 0.69-0.83: a longer
average blurs the bursts every user shares into the user's own memory) ..."""
MARKET_COUNT = 500
"""... or over as long as it takes them to send this many, in a thin market."""


@dataclass(frozen=True)
class Memory:
    """Over-dispersion, autocorrelation, Hurst exponent and wander in flat hours."""

    hours: tuple[int, int]
    windows: int
    dispersion_1s: float | None  # None when the counts are coarser than a second
    dispersion_60s: float
    acf: tuple[tuple[int, float], ...]  # (lag in minutes, autocorrelation)
    hurst: float
    wander: float


@dataclass(frozen=True)
class AgentFit:
    """A Hawkes fit of one high-frequency user's busy hours."""

    agent_type: str
    agent_id: int
    hours: int
    configured: float | None
    fit: HawkesFit


@dataclass(frozen=True)
class Facts:
    """Everything ``abcsim inspect --facts`` reports about one source of traffic."""

    label: str
    start: dt.datetime
    days: float
    events: int
    shape: Shape
    memory: Memory
    releases: tuple[ReleaseResponse, ...] = ()
    quiet: tuple[QuietMinute, ...] = ()
    holidays: tuple[HolidayEffect, ...] = ()
    hawkes: tuple[AgentFit, ...] = ()


def measure_facts(
    counts: Counts,
    scenario: Scenario | None = None,
    *,
    flat_hours: tuple[int, int] = FLAT_HOURS,
    hawkes: tuple[AgentFit, ...] = (),
) -> Facts:
    """The facts of ``counts``; the calendar's (releases, holidays) if ``scenario`` is given."""
    minutes = counts.per(60) if counts.step_s < 60 else counts
    memory = measure_memory(counts, flat_hours)
    releases: tuple[ReleaseResponse, ...] = ()
    quiet: tuple[QuietMinute, ...] = ()
    holidays: tuple[HolidayEffect, ...] = ()
    if scenario is not None and minutes.step_s == 60:
        calendar = TradingCalendar(scenario.market, counts.start, counts.duration_s)
        releases = tuple(release_responses(minutes, scenario.market.releases))
        quiet = tuple(quiet_minutes(minutes, scenario.market.releases))
        holidays = tuple(holiday_effects(minutes, calendar))
    return Facts(
        label=counts.label,
        start=counts.start,
        days=counts.duration_s / 86400.0,
        events=counts.total,
        shape=shape(counts),
        memory=memory,
        releases=releases,
        quiet=quiet,
        holidays=holidays,
        hawkes=hawkes,
    )


def measure_memory(counts: Counts, hours: tuple[int, int] = FLAT_HOURS) -> Memory:
    """The memory facts of ``counts`` in the flat ``hours`` (UTC) of its weekdays."""
    minutes = counts.per(60) if counts.step_s < 60 else counts
    windows = flat_windows(minutes, hours)
    per_minute = relative(windows)
    seconds = flat_windows(counts, hours) if counts.step_s == 1 else None
    return Memory(
        hours=hours,
        windows=len(windows),
        dispersion_1s=dispersion(seconds) if seconds is not None else None,
        dispersion_60s=dispersion(windows),
        acf=tuple(autocorrelation(per_minute, ACF_LAGS).items()),
        hurst=hurst_dfa(per_minute),
        wander=wander(per_minute),
    )


def source_facts(
    path: str | Path,
    scenario: Scenario | None = None,
    *,
    flat_hours: tuple[int, int] = FLAT_HOURS,
    fit_users: int = 1,
) -> tuple[Facts, Counts, Scenario | None]:
    """The facts of a schedule file or of a ``time,count`` CSV, and the counts behind them.

    A schedule is read against its own scenario (releases, holidays, a Hawkes fit
    of its first ``fit_users`` high-frequency users of each type); a CSV against
    ``scenario``, if given. Returns the scenario used.
    """
    if str(path).lower().endswith(".csv"):
        counts = read_counts_csv(path)
        return measure_facts(counts, scenario, flat_hours=flat_hours), counts, scenario
    from abcsim.scenario import parse_scenario
    from abcsim.schedule.parquet import read_meta

    meta = read_meta(path)
    own = parse_scenario(meta.scenario_text, f"{path} (its scenario)", Path(path).parent)
    counts = schedule_counts(path)
    fits = tuple(_hawkes_fits(path, own, fit_users, counts))
    return measure_facts(counts, own, flat_hours=flat_hours, hawkes=fits), counts, own


def compare(
    schedule: str | Path,
    *,
    against: str | Path | None = None,
    plot: str | Path | None = None,
    flat_hours: tuple[int, int] = FLAT_HOURS,
) -> str:
    """``abcsim inspect --facts``: the facts of ``schedule`` (beside ``against``), as text;
    with ``plot``, also as a PNG."""
    first, counts, scenario = source_facts(schedule, flat_hours=flat_hours)
    sources = [(first, counts)]
    if against is not None:
        other, other_counts, _ = source_facts(against, scenario, flat_hours=flat_hours)
        sources.append((other, other_counts))
    if plot is not None:
        from abcsim.facts.plot import plot_facts

        plot_facts(sources, plot)
    from abcsim.facts.report import format_facts

    return format_facts([facts for facts, _ in sources])


def _hawkes_fits(
    path: str | Path, scenario: Scenario, users: int, counts: Counts
) -> list[AgentFit]:
    from abcsim.scenario.spec import HftBehaviour

    fits = []
    first = 0
    for spec in scenario.agents:
        if isinstance(spec.behaviour, HftBehaviour):
            for agent_id in range(first, first + min(users, spec.count)):
                fit = fit_user(path, agent_id, counts)
                if fit is not None:
                    hours, result = fit
                    fits.append(
                        AgentFit(spec.name, agent_id, hours, spec.behaviour.branching, result)
                    )
        first += spec.count
    return fits


def fit_user(
    path: str | Path, agent_id: int, counts: Counts, busy_hours: int = BUSY_HOURS
) -> tuple[int, HawkesFit] | None:
    """A Hawkes fit of one user's ``busy_hours`` busiest whole hours (hours, fit); None if idle.

    ``counts``, the schedule's requests per second, give the market's activity.
    """
    import pyarrow.parquet as pq

    table = pq.read_table(path, columns=["t"], filters=[("agent_id", "=", agent_id)])
    times = np.sort(table.column("t").to_numpy())
    return fit_busy_hours(times, counts.values, busy_hours)


def fit_busy_hours(
    times: FloatArray, per_second: IntArray, busy_hours: int = BUSY_HOURS
) -> tuple[int, HawkesFit] | None:
    """Fit the busiest whole hours of one user's sorted request times (``t``, seconds).

    The background's shape is everybody else's requests per second (``per_second``,
    all requests, minus the user's own), averaged over :data:`MARKET_SMOOTHING_S`.
    """
    if times.size < 100:
        return None
    per_hour = np.bincount((times // 3600).astype(np.int64))
    chosen = np.sort(np.argsort(per_hour, kind="stable")[::-1][:busy_hours])
    own = np.bincount(times.astype(np.int64), minlength=per_second.size)[: per_second.size]
    rest = (per_second - own).astype(np.float64)
    busy = np.concatenate([rest[h * 3600 : (h + 1) * 3600] for h in chosen])
    # Average over enough of the others' requests that their own bursts blur (a thin
    # market, e.g. smoke's dozen users, needs tens of seconds; abc_week's, 5 s).
    smoothing = max(MARKET_SMOOTHING_S, math.ceil(MARKET_COUNT / max(busy.mean(), 1e-9)))
    others = np.convolve(rest, np.ones(smoothing) / smoothing, mode="same")
    windows = []
    for h in chosen:
        market = np.maximum(others[h * 3600 : (h + 1) * 3600], 1e-3)
        if market.size < 3600:
            continue
        lo, hi = np.searchsorted(times, [h * 3600.0, (h + 1) * 3600.0])
        windows.append(Window(times[lo:hi], h * 3600.0, (h + 1) * 3600.0, market))
    if not windows:
        return None
    return len(windows), fit_hawkes(windows)

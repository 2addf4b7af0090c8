"""Scheduled releases and recurring news as moments on the run's clock, and their shape.

A release multiplies activity by ``peak`` at its first moment and decays like
Omori's law of aftershocks, ``(1 + u/c)^-1.5`` with ``c = decay_minutes`` —
steep in the first minutes, a long shallow tail — tapered with a 30-minute
time constant, so even the biggest is back to normal within the hour (as
volume after US payrolls is). Payrolls with ``peak = 5, decay_minutes = 4``
carry about 4.3x in their first minute, 1.44x ten minutes on, 1.06x at 30
minutes and 1.01x at 60.

Releases come from the scenario's calendar (:mod:`abcsim.scenario.releases`,
real dates); recurring ``[[market.news]]`` come every listed weekday at a
local time, except on their exchange's holidays.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np

from abcsim.market.calendar import FloatArray, TradingCalendar
from abcsim.scenario.spec import Release

OMORI_POWER = 1.5
TAPER_MINUTES = 30.0
SPAN_MINUTES = 240.0
"""A release's effect is cut after four hours (by then the taper has it under 1e-3)."""


@dataclass(frozen=True)
class Shocks:
    """Releases on the horizon: when (``t``), how big (``peak``) and how fast they decay."""

    t: FloatArray
    peak: FloatArray
    decay_minutes: FloatArray


def coverage_note(releases: Sequence[Release], start: dt.datetime, end: dt.datetime) -> str:
    """A warning when a run reaches past the release calendar ('' when it does not).

    The calendar lists real dates; a run beyond them has no releases there, which a
    user should know rather than discover in a flat 08:30.
    """
    if not releases:
        return ""
    first, last = releases[0].at, releases[-1].at
    margin = dt.timedelta(days=7)  # a week without a release is normal, not uncovered
    if start >= first - margin and end <= last + margin:
        return ""
    return (
        f"note: the release calendar covers {first:%Y-%m-%d} to {last:%Y-%m-%d}; "
        "this run has no releases outside it"
    )


def release_shape(minutes_after: FloatArray, decay_minutes: float) -> FloatArray:
    """A release's excess activity at ``minutes_after`` it, as a share of its peak excess."""
    u = np.maximum(minutes_after, 0.0)
    shape = (1.0 + u / decay_minutes) ** -OMORI_POWER * np.exp(-u / TAPER_MINUTES)
    return np.asarray(np.where(minutes_after >= 0, shape, 0.0), dtype=np.float64)


def shocks(calendar: TradingCalendar) -> Shocks:
    """Every release and recurring news item that touches the calendar's horizon."""
    market = calendar.market
    t, peak, decay = [], [], []
    margin = SPAN_MINUTES * 60.0
    for release in market.releases:
        at = calendar.to_t(release.at)
        if -margin <= at < calendar.duration_s:
            t.append(at)
            peak.append(release.peak)
            decay.append(release.decay_minutes)
    for news in market.news:
        closed = set(calendar.holidays(news.exchange)) if news.exchange else set()
        for at in calendar.local_times(news.tz, news.at, news.weekdays):
            if -margin <= at < calendar.duration_s:
                day = calendar.to_datetime(at).astimezone(ZoneInfo(news.tz)).date()
                if day in closed:
                    continue
                t.append(float(at))
                peak.append(news.multiplier)
                decay.append(news.decay_minutes)
    order = np.argsort(np.asarray(t), kind="stable")
    return Shocks(
        t=np.asarray(t, dtype=np.float64)[order],
        peak=np.asarray(peak, dtype=np.float64)[order],
        decay_minutes=np.asarray(decay, dtype=np.float64)[order],
    )

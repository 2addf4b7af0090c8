"""What the calendar does to traffic: releases, the same minute without one, holidays.

* **Releases**: for each scheduled release in the counts, its *jump* — the
  1-minute count from its moment over the mean minute from 30 to 5 minutes
  before (US payrolls: 08:30 against 08:00–08:25 New York) — and how many
  minutes until a 5-minute mean is back within 1.3x of that level.
* **Quiet days**: on weekdays with no release at 08:30 New York, that minute
  over the mean of the ten minutes on either side: no release, no spike.
* **Holidays**: on an exchange's holiday, the UTC day's total over the last
  weekday before it that the exchange traded, and the same for the session's
  own hours (Thanksgiving: the day, and 13:00–22:00 UTC, against Wednesday).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np

from abcsim.facts.counts import Counts
from abcsim.market.calendar import TradingCalendar
from abcsim.scenario.spec import Release

BEFORE = (30, 5)  # the level before a release: minutes 30 to 5 before it
BACK_WITHIN = 1.3
AFTER_MINUTES = 60
QUIET_SLOT = (dt.time(8, 30), "America/New_York")
NEIGHBOURS = 10


@dataclass(frozen=True)
class ReleaseResponse:
    """One moment with releases (names joined) and how the counts answered."""

    at: dt.datetime
    names: str
    peak: float
    jump: float
    back_minutes: int | None


@dataclass(frozen=True)
class QuietMinute:
    day: dt.date
    ratio: float


@dataclass(frozen=True)
class HolidayEffect:
    """An exchange holiday: its UTC day and its session's hours against the last trading day."""

    session: str
    exchange: str
    day: dt.date
    against: dt.date
    day_ratio: float
    hours_ratio: float


def release_responses(minutes: Counts, releases: Sequence[Release]) -> list[ReleaseResponse]:
    """The response to every moment with releases that the counts cover with margin."""
    moments: dict[dt.datetime, list[Release]] = {}
    for release in releases:
        moments.setdefault(release.at, []).append(release)
    out = []
    for at, group in sorted(moments.items()):
        before = minutes.window(
            at - dt.timedelta(minutes=BEFORE[0]), at - dt.timedelta(minutes=BEFORE[1])
        )
        after = minutes.window(at, at + dt.timedelta(minutes=AFTER_MINUTES + 5))
        if before is None or after is None or before.mean() == 0:
            continue
        level = float(before.mean())
        smoothed = np.convolve(after.astype(np.float64), np.ones(5) / 5, mode="valid")
        back = np.nonzero(smoothed[1 : AFTER_MINUTES + 1] <= BACK_WITHIN * level)[0]
        out.append(
            ReleaseResponse(
                at=at,
                names=" + ".join(r.name for r in sorted(group, key=lambda r: -r.peak)),
                peak=max(r.peak for r in group),
                jump=float(after[0]) / level,
                back_minutes=int(back[0]) + 1 if back.size else None,
            )
        )
    return out


def quiet_minutes(minutes: Counts, releases: Sequence[Release]) -> list[QuietMinute]:
    """On weekdays without a release near 08:30 New York, that minute against its neighbours."""
    clock, tz = QUIET_SLOT
    zone = ZoneInfo(tz)
    busy = {r.at.astimezone(zone).date() for r in releases if _near(r.at.astimezone(zone), clock)}
    out = []
    for day in _local_weekdays(minutes, zone):
        if day in busy:
            continue
        at = dt.datetime.combine(day, clock, zone).astimezone(dt.UTC)
        span = dt.timedelta(minutes=NEIGHBOURS)
        around = minutes.window(at - span, at + span + dt.timedelta(minutes=1))
        if around is None:
            continue
        neighbours = np.delete(around, NEIGHBOURS).astype(np.float64)
        if neighbours.mean() > 0:
            out.append(QuietMinute(day, float(around[NEIGHBOURS]) / float(neighbours.mean())))
    return out


def holiday_effects(minutes: Counts, calendar: TradingCalendar) -> list[HolidayEffect]:
    """Every exchange holiday of the market's sessions that the counts cover, with a day before."""
    days = set(minutes.full_days())
    out = []
    for session in calendar.market.sessions:
        if session.exchange is None:
            continue
        closed = set(calendar.holidays(session.exchange))
        for day in sorted(closed & days):
            against = day - dt.timedelta(days=1)
            while against.weekday() > 4 or against in closed:
                against -= dt.timedelta(days=1)
            if against not in days:
                continue
            out.append(
                HolidayEffect(
                    session=session.name,
                    exchange=session.exchange,
                    day=day,
                    against=against,
                    day_ratio=_ratio(minutes, day, against, dt.time(0), dt.time(0), days=1),
                    hours_ratio=_ratio(
                        minutes, day, against, session.open, session.close, tz=session.tz
                    ),
                )
            )
    return out


def _ratio(
    minutes: Counts,
    day: dt.date,
    against: dt.date,
    begin: dt.time,
    end: dt.time,
    *,
    days: int = 0,
    tz: str = "UTC",
) -> float:
    """Counts of ``day`` from ``begin`` to ``end`` (+ ``days``) over the same of ``against``."""
    zone = ZoneInfo(tz)

    def total(date: dt.date) -> int:
        first = dt.datetime.combine(date, begin, zone).astimezone(dt.UTC)
        last = dt.datetime.combine(date + dt.timedelta(days=days), end, zone).astimezone(dt.UTC)
        window = minutes.window(first, last)
        return -1 if window is None else int(window.sum())

    here, there = total(day), total(against)
    return here / there if here >= 0 and there > 0 else float("nan")


def _near(when: dt.datetime, clock: dt.time) -> bool:
    minutes = when.hour * 60 + when.minute - (clock.hour * 60 + clock.minute)
    return abs(minutes) <= 30


def _local_weekdays(minutes: Counts, zone: ZoneInfo) -> list[dt.date]:
    first = minutes.start.astimezone(zone).date()
    last = (minutes.start + dt.timedelta(seconds=minutes.duration_s)).astimezone(zone).date()
    return [
        first + dt.timedelta(days=n)
        for n in range((last - first).days + 1)
        if (first + dt.timedelta(days=n)).weekday() < 5
    ]

"""The trading calendar: the week's open and closed hours, sessions and exchange opens.

Every time here is ``t``, seconds since the run's start (UTC), the schedule's
own clock. The calendar turns the scenario's wall-clock rules into intervals
and instants on that clock: "London desks 07:00–17:00 Europe/London on
weekdays" becomes one ``(open, close)`` pair per day, each right across
daylight-saving changes; "the XNYS open" becomes the real opens that
``exchange_calendars`` lists, so an exchange holiday simply has none. The same
calendar thins a session on its exchange's holidays (New York desks on
Thanksgiving keep only the session's ``holiday_factor``) and ends it at an
early close (13:00 New York on the day after).
"""

from __future__ import annotations

import datetime as dt
import warnings
from dataclasses import dataclass
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from abcsim.errors import ScenarioError
from abcsim.scenario.spec import Market

FloatArray = npt.NDArray[np.float64]
DAY = 86400.0
WEEK = 7 * DAY
_EPOCH_WEEKDAY = 3  # 1970-01-01 was a Thursday


@dataclass(frozen=True)
class SessionDays:
    """One session's days on the horizon: ``bounds`` rows ``(open, close)`` in ``t``, and
    ``factor``, 1 on a normal day and the session's ``holiday_factor`` on its exchange's
    holidays (an early close already cut ``close``)."""

    bounds: FloatArray
    factor: FloatArray

    @property
    def holiday(self) -> npt.NDArray[np.bool_]:
        return np.asarray(self.factor < 1.0)


class TradingCalendar:
    """The market's calendar over one horizon ``[0, duration_s)`` from ``start``."""

    def __init__(self, market: Market, start: dt.datetime, duration_s: float) -> None:
        self.market = market
        self.start = start.astimezone(dt.UTC)
        self.duration_s = duration_s
        self._epoch = self.start.timestamp()

    # -- clock conversions ------------------------------------------------
    def to_datetime(self, t: float) -> dt.datetime:
        return self.start + dt.timedelta(seconds=float(t))

    def to_t(self, when: dt.datetime) -> float:
        return when.timestamp() - self._epoch

    def week_seconds(self, t: FloatArray) -> FloatArray:
        """Seconds since the last Monday 00:00 UTC, for each ``t``."""
        absolute = self._epoch + np.asarray(t, dtype=np.float64)
        return np.mod(absolute + _EPOCH_WEEKDAY * DAY, WEEK)

    # -- the week ---------------------------------------------------------
    def closed(self, t: FloatArray) -> npt.NDArray[np.bool_]:
        """True where ``t`` falls in the weekly maintenance window (close → open)."""
        week = self.market.week
        since_close = np.mod(self.week_seconds(t) - week.close.seconds, WEEK)
        closed: npt.NDArray[np.bool_] = since_close < np.mod(
            week.open.seconds - week.close.seconds, WEEK
        )
        return closed

    def saturday(self, t: FloatArray) -> npt.NDArray[np.bool_]:
        return np.asarray((self.week_seconds(t) // DAY) == 5, dtype=np.bool_)

    def in_roll(self, t: FloatArray) -> npt.NDArray[np.bool_]:
        roll = self.market.roll
        tod = np.mod(self.week_seconds(t), DAY)
        return (tod >= _clock_seconds(roll.start)) & (tod < _clock_seconds(roll.end))

    # -- wall-clock rules -------------------------------------------------
    def _local_days(self, tz: str, weekdays: tuple[int, ...]) -> list[dt.date]:
        """Local dates whose events may touch the horizon (one day margin each side)."""
        zone = ZoneInfo(tz)
        first = self.start.astimezone(zone).date() - dt.timedelta(days=1)
        last = self.to_datetime(self.duration_s).astimezone(zone).date() + dt.timedelta(days=1)
        days = []
        day = first
        while day <= last:
            if day.weekday() in weekdays:
                days.append(day)
            day += dt.timedelta(days=1)
        return days

    def local_times(self, tz: str, at: dt.time, weekdays: tuple[int, ...]) -> FloatArray:
        """``t`` of a local time of day on the given weekdays, e.g. 08:30 New York."""
        zone = ZoneInfo(tz)
        times = [
            self.to_t(dt.datetime.combine(day, at, tzinfo=zone))
            for day in self._local_days(tz, weekdays)
        ]
        return np.asarray(times, dtype=np.float64)

    def session_windows(self, name: str, weekdays: tuple[int, ...] | None = None) -> FloatArray:
        """``(open, close)`` rows of a session's hours, holidays included, early closes cut."""
        return self.session_days(name, weekdays).bounds

    def session_days(self, name: str, weekdays: tuple[int, ...] | None = None) -> SessionDays:
        """A session's hours on the given weekdays (its own by default) and how full each day is.

        A weekday its exchange does not trade is a holiday (``holiday_factor``);
        a day it closes early ends at that close, if that is before the session's.
        """
        session = self.market.session(name)
        days = self._local_days(session.tz, session.weekdays if weekdays is None else weekdays)
        zone = ZoneInfo(session.tz)
        bounds = np.array(
            [
                [
                    self.to_t(dt.datetime.combine(day, session.open, tzinfo=zone)),
                    self.to_t(dt.datetime.combine(day, session.close, tzinfo=zone)),
                ]
                for day in days
            ],
            dtype=np.float64,
        ).reshape(-1, 2)
        factor = np.ones(len(days))
        if session.exchange is not None and days:
            trading, early = _exchange_days(session.exchange, *self._near())
            for i, day in enumerate(days):
                if day.weekday() < 5 and day not in trading:  # a weekend is no holiday
                    factor[i] = session.holiday_factor
                elif day in early:
                    bounds[i, 1] = min(bounds[i, 1], early[day] - self._epoch)
        return SessionDays(bounds, factor)

    def holidays(self, code: str) -> list[dt.date]:
        """Weekdays near the horizon on which exchange ``code`` does not trade."""
        first, last = self._near()
        trading, _ = _exchange_days(code, first, last)
        days = (first + dt.timedelta(days=n) for n in range((last - first).days + 1))
        return [d for d in days if d.weekday() < 5 and d not in trading]

    def exchange_opens(self, code: str) -> FloatArray:
        """``t`` of every real open of an exchange near the horizon, per ``exchange_calendars``."""
        return _exchange_opens(code, *self._near()) - self._epoch

    def _near(self) -> tuple[dt.date, dt.date]:
        """The dates looked up in exchange calendars: the horizon and two days either side
        (one lookup per exchange and horizon, whoever asks)."""
        first = (self.start - dt.timedelta(days=2)).date()
        return first, (self.to_datetime(self.duration_s) + dt.timedelta(days=2)).date()

    def every(self, minutes: float) -> FloatArray:
        """``t`` of the UTC clock's multiples of ``minutes`` (e.g. every full hour)."""
        step = minutes * 60.0
        first = np.ceil(self._epoch / step) * step - self._epoch
        return np.arange(first, self.duration_s, step)


def _clock_seconds(at: dt.time) -> float:
    return at.hour * 3600.0 + at.minute * 60.0 + at.second


@cache
def _exchange_opens(code: str, first: dt.date, last: dt.date) -> FloatArray:
    opens = _exchange(code, first, last).opens.loc[str(first) : str(last)]
    return np.asarray([o.timestamp() for o in opens], dtype=np.float64)


@cache
def _exchange_days(
    code: str, first: dt.date, last: dt.date
) -> tuple[frozenset[dt.date], dict[dt.date, float]]:
    """The exchange's trading days from ``first`` to ``last``, and its early closes (Unix time)."""
    calendar = _exchange(code, first, last)
    sessions = calendar.sessions[
        (calendar.sessions >= str(first)) & (calendar.sessions <= str(last))
    ]
    trading = frozenset(s.date() for s in sessions)
    early = {
        s.date(): calendar.closes.loc[s].timestamp()
        for s in calendar.early_closes
        if first <= s.date() <= last
    }
    return trading, early


@cache
def _exchange(code: str, first: dt.date, last: dt.date) -> Any:
    """``exchange_calendars``' calendar of ``code`` around ``first``..``last``."""
    import exchange_calendars
    import pandas as pd

    with warnings.catch_warnings():
        # exchange_calendars still reads Series.values, which pandas 3.1 deprecates
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            return exchange_calendars.get_calendar(
                code,
                start=pd.Timestamp(first) - pd.Timedelta(days=7),
                end=pd.Timestamp(last),
            )
        except ValueError as exc:  # dates the calendar does not cover
            raise ScenarioError(f"exchange {code}", "", f"{first}..{last}: {exc}") from None

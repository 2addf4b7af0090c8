"""What the market did during a run: the moments the report marks on its time axis.

Traffic jumps for a reason, and the arrival chart says which: the weekly
maintenance window (Saturday 22:00 → Sunday 22:00 UTC, shaded), each real
exchange open that ``exchange_calendars`` lists (the New York open at 14:30
UTC in winter, 13:30 in summer) and each release or recurring news item of
the scenario's calendar (US CPI at 13:30 UTC on 13 January 2026), all clipped
to the run's window. The calendar is the simulator's own
(:class:`~abcsim.market.calendar.TradingCalendar`), so a mark sits exactly
where the model put its burst.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np

from abcsim.market.calendar import WEEK, TradingCalendar
from abcsim.scenario.spec import Scenario

CLOSED, OPEN, RELEASE = "closed", "open", "release"


@dataclass(frozen=True)
class Mark:
    """A moment (``end_s`` None) or an interval on the run's clock, in Unix seconds (UTC)."""

    kind: str  # CLOSED, OPEN or RELEASE
    label: str
    start_s: float
    end_s: float | None = None


def market_marks(
    scenario: Scenario, schedule_start: dt.datetime, window: tuple[float, float]
) -> tuple[Mark, ...]:
    """Closed windows, exchange opens and releases within ``window`` (schedule seconds)."""
    calendar = TradingCalendar(scenario.market, schedule_start, window[1])
    epoch = calendar.start.timestamp()
    marks = _closed(calendar, window) + _opens(calendar, window) + _releases(calendar, window)
    return tuple(
        Mark(m.kind, m.label, epoch + m.start_s, None if m.end_s is None else epoch + m.end_s)
        for m in sorted(marks, key=lambda m: m.start_s)
    )


def _inside(t: float, window: tuple[float, float]) -> bool:
    return window[0] <= t < window[1]


def _closed(calendar: TradingCalendar, window: tuple[float, float]) -> list[Mark]:
    """The week's close → open intervals overlapping the window (in schedule seconds)."""
    week = calendar.market.week
    length = float(np.mod(week.open.seconds - week.close.seconds, WEEK))
    if length == 0:
        return []
    monday = window[0] - float(calendar.week_seconds(np.array([window[0]]))[0])
    marks = []
    close = monday - WEEK + week.close.seconds
    while close < window[1]:
        if close + length > window[0]:
            start, end = max(close, window[0]), min(close + length, window[1])
            marks.append(Mark(CLOSED, "closed (maintenance)", start, end))
        close += WEEK
    return marks


def _opens(calendar: TradingCalendar, window: tuple[float, float]) -> list[Mark]:
    marks = []
    for session in calendar.market.sessions:
        if session.exchange is None:
            continue
        for t in calendar.exchange_opens(session.exchange):
            if _inside(float(t), window):
                marks.append(Mark(OPEN, f"{session.exchange} open", float(t)))
    return marks


def _releases(calendar: TradingCalendar, window: tuple[float, float]) -> list[Mark]:
    market = calendar.market
    marks = [
        Mark(RELEASE, release.name, calendar.to_t(release.at))
        for release in market.releases
        if _inside(calendar.to_t(release.at), window)
    ]
    for news in market.news:
        # As the simulator does (market.releases.shocks): no news on its exchange's holidays.
        closed = set(calendar.holidays(news.exchange)) if news.exchange else set()
        for t in calendar.local_times(news.tz, news.at, news.weekdays):
            day = calendar.to_datetime(float(t)).astimezone(ZoneInfo(news.tz)).date()
            if _inside(float(t), window) and day not in closed:
                marks.append(Mark(RELEASE, news.name, float(t)))
    return marks

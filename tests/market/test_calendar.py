"""The calendar: daylight saving, exchange holidays, the weekly closure."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from abcsim.market import Intensity, TradingCalendar
from abcsim.scenario import REQUEST_TYPES, load_scenario
from abcsim.scenario.spec import Profile
from tests.helpers import run_arrays, variant

MARKET = load_scenario("abc_week").market


def _calendar(start: str, days: float) -> TradingCalendar:
    return TradingCalendar(MARKET, dt.datetime.fromisoformat(start), days * 86400.0)


def _utc_hours(calendar: TradingCalendar, times: np.ndarray) -> set[str]:
    return {
        calendar.to_datetime(t).strftime("%H:%M") for t in times if 0 <= t < calendar.duration_s
    }


@pytest.mark.parametrize(
    ("start", "expected"),
    [("2026-01-12T00:00:00+00:00", "08:00"), ("2026-07-13T00:00:00+00:00", "07:00")],
    ids=["winter", "summer"],
)
def test_london_opens_at_0800_utc_in_winter_and_0700_in_summer(start: str, expected: str) -> None:
    calendar = _calendar(start, 5)
    assert _utc_hours(calendar, calendar.exchange_opens("XLON")) == {expected}


def test_desk_sessions_follow_local_daylight_saving() -> None:
    """New York desks at 07:00 local: 12:00 UTC in January, 11:00 UTC in July."""
    for start, expected in (
        ("2026-01-12T00:00:00+00:00", "12:00"),
        ("2026-07-13T00:00:00+00:00", "11:00"),
    ):
        calendar = _calendar(start, 5)
        assert _utc_hours(calendar, calendar.session_windows("new_york")[:, 0]) == {expected}


def test_an_exchange_holiday_has_no_open_burst() -> None:
    """XNYS is shut on Martin Luther King Day, Mon 2026-01-19, and open on Tue the 20th."""
    calendar = _calendar("2026-01-19T00:00:00+00:00", 2)
    opens = [calendar.to_datetime(t).date() for t in calendar.exchange_opens("XNYS")]
    assert dt.date(2026, 1, 19) not in opens
    assert dt.date(2026, 1, 20) in opens
    intensity = Intensity(calendar, Profile())
    for day, low, high in ((0, 0.95, 1.05), (1, 1.4, 1.8)):  # open_burst 0.6: x1.6 at once
        open_t = day * 86400 + 14.5 * 3600
        jump = intensity.at(np.array([open_t + 30]))[0] / intensity.at(np.array([open_t - 30]))[0]
        assert low < jump < high, f"day {day}: λ jumps x{jump:.2f} at 14:30"


def test_holiday_shows_in_the_schedule() -> None:
    """abc_week, seed 1: the 5 minutes after 14:30 UTC vs before; x<1.15 on the holiday,
    x>=1.3 the day after (open_burst 0.6: about x1.5)."""
    scenario = load_scenario("abc_week")
    t = run_arrays(scenario, start="2026-01-19T12:00:00Z", hours=30)["t"]
    for hours, low, high in ((2.5, 0.0, 1.15), (26.5, 1.3, np.inf)):
        at = hours * 3600
        before = ((t >= at - 300) & (t < at)).sum()
        after = ((t >= at) & (t < at + 300)).sum()
        assert low <= after / before < high, (hours, after, before)


def test_weekly_closure_is_saturday_2200_to_sunday_2200_utc() -> None:
    calendar = _calendar("2026-01-17T00:00:00+00:00", 2)  # a Saturday
    hours = np.arange(0, 48) * 3600.0 + 1800.0
    closed = calendar.closed(hours)
    assert not closed[:22].any()
    assert closed[22:46].all()
    assert not closed[46:].any()


def test_only_allowed_requests_fall_in_the_closure() -> None:
    """Sydney desks log in around 21:00 UTC Sunday, inside the closure: health checks only."""
    scenario = variant("smoke", {"trading": {"count": 20, "regions": (("sydney", 1.0),)}})
    columns = run_arrays(scenario, start="2026-01-17T12:00:00Z", hours=36)
    closed = _calendar("2026-01-17T12:00:00+00:00", 1.5).closed(columns["t"])
    assert scenario.market.week.closed_allow == ("health_check",)
    code = REQUEST_TYPES.index("health_check")
    assert closed.sum() > 50, "the test needs traffic inside the closure"
    assert (columns["request"][closed] == code).all()
    assert (columns["request"][~closed] != code).sum() > 1000

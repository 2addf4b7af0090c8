"""The week's shape: hour-of-day shares, the overnight share, day totals and the busiest hour.

A 24-hour market's busiest hour carries a few times its quietest, not a
hundred, and its night (22:00–06:00 UTC, Asia's day) about a quarter of the
day; weekday totals differ by about 10% from one day to the next. Hour shares
are over Monday–Thursday UTC days (Friday has payrolls and an early end in
Asia, so it is left out of the profile); day totals over Monday–Friday.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from abcsim.facts.counts import Counts

PROFILE_WEEKDAYS = (0, 1, 2, 3)
NIGHT_HOURS = (22, 23, 0, 1, 2, 3, 4, 5)


@dataclass(frozen=True)
class Shape:
    """Hour-of-day shares (Mon–Thu), their peak/trough, the night share, and day totals."""

    hour_shares: tuple[float, ...]
    weekday_totals: tuple[tuple[dt.date, int], ...]
    busiest_hour: tuple[dt.datetime, int] | None

    @property
    def peak_trough(self) -> float:
        shares = [s for s in self.hour_shares if s == s]
        if not shares or min(shares) <= 0:
            return float("inf") if shares else float("nan")
        return max(shares) / min(shares)

    @property
    def night_share(self) -> float:
        return float(sum(self.hour_shares[h] for h in NIGHT_HOURS))

    @property
    def weekday_cv(self) -> float:
        totals = np.array([n for _, n in self.weekday_totals], dtype=np.float64)
        if totals.size < 2 or totals.mean() == 0:
            return float("nan")
        return float(totals.std(ddof=1) / totals.mean())


def shape(counts: Counts) -> Shape:
    """The shape facts of ``counts`` (any bin width dividing an hour)."""
    hourly = counts.per(3600) if counts.step_s < 3600 else counts
    by_hour = np.zeros(24)
    weekday_totals, busiest = [], None
    for day in counts.full_days():
        begin = dt.datetime.combine(day, dt.time(), dt.UTC)
        hours = hourly.window(begin, begin + dt.timedelta(days=1))
        if hours is None or day.weekday() > 4:
            continue
        weekday_totals.append((day, int(hours.sum())))
        if day.weekday() in PROFILE_WEEKDAYS:
            by_hour += hours
        peak = int(np.argmax(hours))
        if busiest is None or hours[peak] > busiest[1]:
            busiest = (begin + dt.timedelta(hours=peak), int(hours[peak]))
    total = by_hour.sum()
    shares = tuple(float(x) for x in (by_hour / total if total else np.full(24, np.nan)))
    return Shape(shares, tuple(weekday_totals), busiest)

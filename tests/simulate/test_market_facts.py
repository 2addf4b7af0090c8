"""The simulated market against the stylized facts of real ones, measured with abcsim.facts.

Each test states the weeks it simulates, its seeds and its tolerance. Most use
``abc_weeks``: abc_week's default week (Sun 2026-01-11 22:00 to Sat 22:00 UTC)
with seeds 1 to 10. The facts are measured by the same functions as
``abcsim inspect --facts``; the tolerances are the ranges real markets show
(see issue 10 and the README's model section).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from abcsim.facts.counts import Counts
from abcsim.facts.events import holiday_effects, quiet_minutes, release_responses
from abcsim.facts.memory import autocorrelation, flat_windows, hurst_dfa, relative, wander
from abcsim.facts.shape import shape
from abcsim.market import TradingCalendar
from abcsim.scenario import load_scenario
from abcsim.scenario.spec import Scenario
from tests.helpers import clock_only, run_arrays

pytestmark = pytest.mark.slow  # a CI step of its own: make test-slow

WEEK = load_scenario("abc_week")


def _counts(scenario: Scenario, start: str, hours: float, seed: int = 1) -> Counts:
    """Requests per second of a simulated span, as the facts read them."""
    t = run_arrays(scenario, start=start, hours=hours, seed=seed)["t"]
    begin = dt.datetime.fromisoformat(start.replace("Z", "+00:00"))
    per_second = np.bincount(t.astype(np.int64), minlength=int(hours * 3600))
    return Counts("simulated", begin, 1, per_second[: int(hours * 3600)])


def _memory(windows: list[np.ndarray]) -> tuple[float, float, float]:
    per_minute = relative(windows)
    return hurst_dfa(per_minute), autocorrelation(per_minute, [30])[30], wander(per_minute)


# -- memory ----------------------------------------------------------------------------------


def test_flat_hours_have_long_memory(abc_weeks: dict[int, Counts]) -> None:
    """09:00-12:00 UTC (London in, New York not yet, no open or release), Mon-Fri of 10 seeds:
    50 windows of 1-min counts over their mean. Hurst (DFA-1, boxes of 4-45 min) >= 0.7;
    autocorrelation at 30 min in [0.1, 0.5]; 5-min counts wander >= 5% (sd) around their
    30-min mean. Real markets: H 0.75-0.95, ACF(30 min) ~0.3, wander ~12%."""
    windows = [w for c in abc_weeks.values() for w in flat_windows(c.per(60))]
    assert len(windows) == 50
    hurst, acf_30, wandering = _memory(windows)
    print(f"\nH {hurst:.3f}, ACF(30 min) {acf_30:.3f}, wander {wandering:.3f}")
    assert hurst >= 0.7
    assert 0.1 <= acf_30 <= 0.5
    assert wandering >= 0.05


def test_without_the_markets_activity_the_memory_is_gone() -> None:
    """The control: the same flat hours with the activity switched off (a clock-only market),
    Mon-Fri 2026-01-12/16, seed 1: near Poisson — Hurst < 0.7 and ACF(30 min) < 0.1 — so the
    test above measures the activity process, not the method."""
    windows = []
    for day in range(12, 17):
        counts = _counts(clock_only(WEEK), f"2026-01-{day}T09:00:00Z", 3)
        windows.append(counts.per(60).values.astype(np.float64))
    hurst, acf_30, _ = _memory(windows)
    print(f"\nclock-only: H {hurst:.3f}, ACF(30 min) {acf_30:.3f}")
    assert hurst < 0.7
    assert acf_30 < 0.1


# -- day to day and hour of day -----------------------------------------------------------


def test_weekday_totals_vary_from_day_to_day(abc_weeks: dict[int, Counts]) -> None:
    """Mon-Fri totals of 10 seeds (50 days): coefficient of variation between 4% and 20%
    (real: ~11%); and within each seed's week above 2% (no week of identical days)."""
    totals = []
    for counts in abc_weeks.values():
        week = shape(counts)
        assert week.weekday_cv > 0.02, week.weekday_totals
        totals += [n for _, n in week.weekday_totals]
    cv = float(np.std(totals, ddof=1) / np.mean(totals))
    print(f"\nweekday totals CV {cv:.3f}")
    assert 0.04 <= cv <= 0.20


def test_the_busiest_hour_is_drawn_but_always_in_the_overlap(
    abc_weeks: dict[int, Counts],
) -> None:
    """The busiest hour of Mon-Fri in each of 10 seeds: always between 11:00 and 17:00 UTC
    (the London-New York overlap), and not the same hour of the week in all 10."""
    busiest = [shape(counts).busiest_hour for counts in abc_weeks.values()]
    hours = [when for when, _ in busiest if when is not None]
    assert len(hours) == 10
    print("\nbusiest hours:", ", ".join(f"{h:%a %H:00}" for h in hours))
    assert all(11 <= h.hour < 17 for h in hours)
    assert len({(h.weekday(), h.hour) for h in hours}) > 1


def test_a_24_hour_market_has_no_empty_hour(abc_weeks: dict[int, Counts]) -> None:
    """Mon-Thu hour of day, each of 10 seeds: the busiest hour carries 2.5x to 12x the quietest
    (real: ~4x), and 22:00-06:00 UTC carries 12% to 32% of the traffic (real: ~24%)."""
    for seed, counts in abc_weeks.items():
        week = shape(counts)
        assert 2.5 <= week.peak_trough <= 12, (seed, week.peak_trough)
        assert 0.12 <= week.night_share <= 0.32, (seed, week.night_share)


# -- releases --------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_payrolls_spike_and_decay_within_the_hour(seed: int) -> None:
    """US payrolls, Fri 2026-03-06 08:30 New York (13:30 UTC), abc_week from 10:00 to 16:00 UTC:
    the first minute >= 3x the mean minute of 08:00-08:25, and a 5-min mean back within 1.3x
    of it inside 60 minutes."""
    counts = _counts(WEEK, "2026-03-06T10:00:00Z", 6, seed)
    payrolls = [r for r in WEEK.market.releases if r.kind == "payrolls"]
    (response,) = release_responses(counts.per(60), payrolls)
    assert response.at == dt.datetime(2026, 3, 6, 13, 30, tzinfo=dt.UTC)
    assert response.jump >= 3.0, response
    assert response.back_minutes is not None and response.back_minutes <= 60, response


def test_no_release_no_spike(abc_weeks: dict[int, Counts]) -> None:
    """Mon 12, Wed 14 and Fri 16 January 2026 have no release near 08:30 New York: in each of
    10 seeds that minute is within 1.3x of the 10 minutes either side (30 checks), while
    Tuesday's CPI (13:30 UTC) jumps at least 1.5x in every seed."""
    cpi = [r for r in WEEK.market.releases if r.kind == "cpi"]
    for seed, counts in abc_weeks.items():
        minutes = counts.per(60)
        quiet = quiet_minutes(minutes, WEEK.market.releases)
        assert [q.day.day for q in quiet] == [12, 14, 16]
        assert all(1 / 1.3 <= q.ratio <= 1.3 for q in quiet), (seed, quiet)
        (response,) = release_responses(minutes, cpi)
        assert response.jump >= 1.5, (seed, response)


def test_the_shipped_calendar_has_no_release_on_a_us_holiday() -> None:
    """Every US release of the shipped calendar (2024-2026) falls on a day the NYSE trades,
    except payrolls on Good Friday 2026-04-03 (BLS published with the exchanges shut: real);
    and the weekly claims moved to the Wednesday of Thanksgiving week."""
    calendar = TradingCalendar(WEEK.market, dt.datetime(2024, 1, 1, tzinfo=dt.UTC), 3 * 365 * 86400)
    closed = set(calendar.holidays("XNYS"))
    new_york = ZoneInfo("America/New_York")
    us = [r for r in WEEK.market.releases if r.kind in ("payrolls", "cpi", "claims", "fomc")]
    on_holidays = {(r.kind, r.at.astimezone(new_york).date()) for r in us} & {
        (kind, day) for kind in ("payrolls", "cpi", "claims", "fomc") for day in closed
    }
    assert on_holidays == {("payrolls", dt.date(2026, 4, 3))}
    claims = {r.at.astimezone(new_york).date() for r in us if r.kind == "claims"}
    assert dt.date(2026, 11, 25) in claims and dt.date(2026, 11, 26) not in claims
    assert len([r for r in us if r.kind == "payrolls" and r.at.year == 2026]) == 12


# -- holidays --------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [1, 2])
def test_thanksgiving_thins_the_day(seed: int) -> None:
    """abc_week from Wed 2026-11-25 00:00 to Fri 00:00 UTC: Thanksgiving (Thu 26) carries
    between 0.4 and 0.85 of the Wednesday (real: -24% overall, -42% in New York hours); its
    08:30 New York minute shows no release."""
    counts = _counts(WEEK, "2026-11-25T00:00:00Z", 48, seed)
    calendar = TradingCalendar(WEEK.market, counts.start, counts.duration_s)
    (thanksgiving,) = [h for h in holiday_effects(counts.per(60), calendar) if h.exchange == "XNYS"]
    assert thanksgiving.day == dt.date(2026, 11, 26)
    assert 0.4 <= thanksgiving.day_ratio <= 0.85, thanksgiving
    assert thanksgiving.hours_ratio < thanksgiving.day_ratio  # New York's own hours thin most
    quiet = {q.day: q.ratio for q in quiet_minutes(counts.per(60), WEEK.market.releases)}
    assert 1 / 1.3 <= quiet[dt.date(2026, 11, 26)] <= 1.3

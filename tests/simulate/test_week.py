"""The simulated ABC week against the realism docs/architecture.md promises.

All on the real ``abc_week`` scenario, 6 days, seed 1 (fixture ``abc_week``).
Each test states its tolerance; they fail if the model loses the property.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
from scipy import stats

from abcsim.market import TradingCalendar
from abcsim.scenario import resolve_run
from abcsim.simulate.engine import apportion
from tests.conftest import WeekAggregate
from tests.helpers import run_arrays, variant


def run_start(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_week_is_large_and_every_type_sends(abc_week: WeekAggregate) -> None:
    assert abc_week.events > 10_000_000
    assert (abc_week.per_second.sum(axis=1) > 0).all()


def test_each_agent_type_mix_matches_its_weights(abc_week: WeekAggregate) -> None:
    """Chi-square goodness of fit p > 0.001; every share within 4 binomial standard errors."""
    for code, spec in enumerate(abc_week.scenario.agents):
        counts = abc_week.mix_open[code]
        weights = np.asarray(spec.mix) / sum(spec.mix)
        used = weights > 0
        assert counts[~used].sum() == 0, f"{spec.name} sent a request it never weights"
        if used.sum() == 1:  # a monitor: nothing to fit
            assert counts.sum() > 0
            continue
        expected = weights[used] * counts.sum()
        p = stats.chisquare(counts[used], expected).pvalue
        assert p > 1e-3, f"{spec.name}: mix differs from weights (p={p:.2g})"
        shares = counts / counts.sum()
        standard_error = np.sqrt(weights * (1 - weights) / counts.sum())
        assert (np.abs(shares - weights) <= 4 * standard_error).all(), spec.name


def test_busiest_hour_of_each_weekday_is_in_the_london_new_york_overlap(
    abc_week: WeekAggregate,
) -> None:
    """Overlap: 12:00-17:00 UTC in winter (London desks to 17:00 GMT, New York's from 07:00 EST)."""
    total = abc_week.per_second.sum(axis=0)
    start = abc_week.calendar.start
    assert start.hour == 22  # Sunday 22:00: day d's 00:00 UTC is 2 h + d days in
    for day in range(5):  # Mon..Fri
        first = 2 * 3600 + day * 86400
        hours = total[first : first + 86400].reshape(24, 3600).sum(axis=1)
        busiest = int(np.argmax(hours))
        assert 12 <= busiest < 17, f"day {day}: busiest hour {busiest}:00 UTC"


def test_five_minutes_after_the_new_york_open_are_busier_than_the_five_before(
    abc_week: WeekAggregate,
) -> None:
    """The XNYS open (14:30 UTC, Mon-Fri): after / before, averaged over the 5 opens, >= 1.2
    (open_burst 0.6 decaying over 10 minutes: about x1.5 in expectation)."""
    total = abc_week.per_second.sum(axis=0)
    opens = abc_week.calendar.exchange_opens("XNYS")
    opens = opens[(opens > 300) & (opens < total.size - 300)]
    assert opens.size == 5
    ratios = [total[t : t + 300].sum() / total[t - 300 : t].sum() for t in opens.astype(int)]
    assert np.mean(ratios) >= 1.2, ratios


def test_saturday_is_thin(abc_week: WeekAggregate) -> None:
    """Saturday (UTC, until the 22:00 close) carries under a fifth of a weekday's mean."""
    total = abc_week.per_second.sum(axis=0)
    days = [total[2 * 3600 + d * 86400 : 2 * 3600 + (d + 1) * 86400].sum() for d in range(5)]
    saturday = total[2 * 3600 + 5 * 86400 :].sum()
    assert 0 < saturday < 0.2 * np.mean(days)


def test_high_frequency_users_average_about_ten_a_second_at_their_desks() -> None:
    """abc_week's 20 users (rate 7/s at λ = 1), no login jitter, Tue-Wed 2026-01-13/14, seed 1:
    each one's requests inside its desk's hours (past the 30-minute ramps), averaged over the
    users, within 20% of the suite's 10/s; every user's own average between 5/s and 16/s (Sydney
    desks see a thinner market than London's)."""
    scenario = variant("abc_week", {"hft": {"login_jitter_minutes": 0.0}})
    start, hours = "2026-01-13T00:00:00Z", 48.0
    columns = run_arrays(scenario, start=start, hours=hours)
    run = resolve_run(scenario, {}, start=start, hours=hours)
    calendar = TradingCalendar(scenario.market, run.start, run.duration_s)
    spec = scenario.agents[0]
    rates = []
    for agent_id, region in enumerate(apportion(spec.regions, spec.count)):
        assert region is not None
        windows = calendar.session_windows(region, spec.weekdays) + np.array([1800.0, -1800.0])
        windows = windows[(windows[:, 0] >= 0) & (windows[:, 1] <= run.duration_s)]
        mine = columns["t"][columns["agent_id"] == agent_id]
        inside = sum(((mine >= a) & (mine < b)).sum() for a, b in windows)
        rates.append(inside / float((windows[:, 1] - windows[:, 0]).sum()))
    assert abs(np.mean(rates) / 10.0 - 1) < 0.2, rates
    assert min(rates) > 5 and max(rates) < 16, rates


def test_monitors_probe_at_their_rate_in_every_hour_even_in_maintenance(
    abc_week: WeekAggregate,
) -> None:
    """2 monitors every 10 s: 720 probes within 5% in each of the week's 144 hours, and in each
    of the 36 hours from Sat 12:00 to Mon 00:00 UTC (seed 1), the 24-hour closure included,
    where they are the only traffic."""
    code = [a.name for a in abc_week.scenario.agents].index("monitor")
    hourly = abc_week.per_second[code].reshape(-1, 3600).sum(axis=1)
    assert hourly.size == 144
    assert (np.abs(hourly / 720 - 1) <= 0.05).all(), hourly
    scenario = variant("abc_week", {"monitor": {}})
    columns = run_arrays(scenario, start="2026-01-17T12:00:00Z", hours=36)
    hourly = np.bincount((columns["t"] // 3600).astype(int), minlength=36)
    assert (np.abs(hourly / 720 - 1) <= 0.05).all(), hourly
    calendar = TradingCalendar(scenario.market, run_start("2026-01-17T12:00:00Z"), 36 * 3600.0)
    assert calendar.closed(columns["t"]).sum() > 24 * 700

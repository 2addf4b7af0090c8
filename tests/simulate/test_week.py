"""The simulated ABC week against the realism DESIGN.md promises.

All on the real ``abc_week`` scenario, 6 days, seed 1 (fixture ``abc_week``).
Each test states its tolerance; they fail if the model loses the property.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from tests.conftest import WeekAggregate


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
        expected = weights[used] * counts.sum()
        p = stats.chisquare(counts[used], expected).pvalue
        assert p > 1e-3, f"{spec.name}: mix differs from weights (p={p:.2g})"
        shares = counts / counts.sum()
        standard_error = np.sqrt(weights * (1 - weights) / counts.sum())
        assert (np.abs(shares - weights) <= 4 * standard_error).all(), spec.name


def test_busiest_hour_of_each_weekday_is_in_the_london_new_york_overlap(
    abc_week: WeekAggregate,
) -> None:
    """Overlap: 13:00-17:00 UTC in winter (London 08-17 GMT, New York from 08:00 EST)."""
    total = abc_week.per_second.sum(axis=0)
    start = abc_week.calendar.start
    assert start.hour == 22  # Sunday 22:00: day d's 00:00 UTC is 2 h + d days in
    for day in range(5):  # Mon..Fri
        first = 2 * 3600 + day * 86400
        hours = total[first : first + 86400].reshape(24, 3600).sum(axis=1)
        busiest = int(np.argmax(hours))
        assert 13 <= busiest < 17, f"day {day}: busiest hour {busiest}:00 UTC"


def test_five_minutes_after_the_new_york_open_carry_twice_the_five_before(
    abc_week: WeekAggregate,
) -> None:
    total = abc_week.per_second.sum(axis=0)
    opens = abc_week.calendar.exchange_opens("XNYS")
    opens = opens[(opens > 300) & (opens < total.size - 300)]
    assert opens.size == 5  # Mon-Fri, 14:30 UTC
    for t in opens.astype(int):
        before, after = total[t - 300 : t].sum(), total[t : t + 300].sum()
        assert after >= 2 * before, f"open at t={t}: {after} after vs {before} before"


def test_saturday_is_thin(abc_week: WeekAggregate) -> None:
    """Saturday (UTC, until the 22:00 close) carries under a fifth of a weekday's mean."""
    total = abc_week.per_second.sum(axis=0)
    days = [total[2 * 3600 + d * 86400 : 2 * 3600 + (d + 1) * 86400].sum() for d in range(5)]
    saturday = total[2 * 3600 + 5 * 86400 :].sum()
    assert 0 < saturday < 0.2 * np.mean(days)


def test_hft_users_average_their_rate_over_the_week(abc_week: WeekAggregate) -> None:
    """20 users at 10 req/s while active, London and New York hours: within 3%."""
    code = [a.name for a in abc_week.scenario.agents].index("hft")
    spec = abc_week.scenario.agents[code]
    active = 0.0
    for region, _ in spec.regions:
        windows = abc_week.calendar.session_windows(region, spec.weekdays)
        windows = np.clip(windows, 0, abc_week.calendar.duration_s)
        active += float((windows[:, 1] - windows[:, 0]).sum()) * (spec.count / 2)
    rate = abc_week.per_second[code].sum() / active
    assert abs(rate / 10.0 - 1) < 0.03, f"{rate:.3f} req/s per active user"

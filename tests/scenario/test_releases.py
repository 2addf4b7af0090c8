"""The release calendar: shipped as data, on real dates; a scenario can filter, scale, add,
replace or drop it; each release's shape decays within the hour."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from abcsim.errors import ScenarioError
from abcsim.market import TradingCalendar
from abcsim.market.releases import release_shape, shocks
from abcsim.scenario import load_scenario, parse_scenario
from abcsim.scenario.releases import builtin_calendar, parse_calendar, read_calendar
from tests.helpers import run_cli

SMOKE = load_scenario("smoke")
NEW_YORK_0830 = dt.time(8, 30)


def _smoke_with(releases: str, folder: Path | None = None) -> list[tuple[str, dt.datetime, float]]:
    section = '[market.releases]\ncalendar = "builtin"\n'
    assert SMOKE.text.count(section) == 1
    text = SMOKE.text.replace(section, releases)
    scenario = parse_scenario(text, "smoke-variant.toml", folder)
    return [(r.kind, r.at, r.peak) for r in scenario.market.releases]


def test_the_shipped_calendar_holds_the_real_dates() -> None:
    """Payrolls 2026 as released: Wed 11 Feb (moved by the funding lapse, not Fri 6 Feb) and
    Thu 2 Jul (3 Jul a holiday); September 2025's on 20 Nov; no October 2025 report;
    eight FOMC and eight ECB decisions a year."""
    releases = read_calendar(builtin_calendar())
    new_york = {(r.kind, r.at.astimezone(dt.UTC).date()) for r in releases}
    for day in ("2026-02-11", "2026-07-02", "2025-11-20", "2026-03-06"):
        assert ("payrolls", dt.date.fromisoformat(day)) in new_york
    for day in ("2026-02-06", "2026-07-03", "2025-11-07"):
        assert ("payrolls", dt.date.fromisoformat(day)) not in new_york
    for kind in ("fomc", "ecb"):
        assert sum(r.kind == kind and r.at.year == 2026 for r in releases) == 8
    fomc = next(r for r in releases if r.kind == "fomc" and r.at.date() == dt.date(2026, 1, 28))
    assert fomc.at.hour == 19  # 14:00 New York in January
    payrolls = next(r for r in releases if r.kind == "payrolls" and r.at.month == 7)
    assert payrolls.at.hour == 12  # 08:30 New York in July (daylight saving)


def test_a_scenario_can_filter_scale_add_replace_or_drop_releases(tmp_path: Path) -> None:
    every = _smoke_with('[market.releases]\ncalendar = "builtin"\n')
    assert {kind for kind, _, _ in every} >= {"payrolls", "cpi", "claims", "fomc", "ecb", "boe"}
    assert _smoke_with('[market.releases]\ncalendar = "none"\n') == []
    only = _smoke_with('[market.releases]\nkinds = ["payrolls"]\nscale = 0.5\n')
    assert {kind for kind, _, _ in only} == {"payrolls"}
    assert {peak for _, _, peak in only} == {3.0}  # 1 + (5 - 1) x 0.5
    added = _smoke_with(
        '[market.releases]\ncalendar = "none"\n[[market.releases.add]]\nname = "BoJ"\n'
        'date = "2026-01-23"\nat = "12:00"\ntz = "Asia/Tokyo"\npeak = 2.0\n'
    )
    assert added == [("custom", dt.datetime(2026, 1, 23, 3, 0, tzinfo=dt.UTC), 2.0)]
    (tmp_path / "mine.csv").write_text(
        "# our own\ndate,time,tz,kind,name,peak,decay_minutes\n"
        "2026-01-13,10:00,Europe/London,ours,Our fixing,1.5,2\n",
        encoding="utf-8",
    )
    replaced = _smoke_with('[market.releases]\ncalendar = "mine.csv"\n', tmp_path)
    assert replaced == [("ours", dt.datetime(2026, 1, 13, 10, 0, tzinfo=dt.UTC), 1.5)]


@pytest.mark.parametrize(
    ("row", "where"),
    [
        ("2026-13-01,08:30,UTC,x,y,2,3", "line 3: date"),
        ("2026-01-01,8h30,UTC,x,y,2,3", "line 3: time"),
        ("2026-01-01,08:30,Mars/Olympus,x,y,2,3", "line 3: tz"),
        ("2026-01-01,08:30,UTC,x,y,0.5,3", "line 3: peak"),
        ("2026-01-01,08:30,UTC,x,y,2,0", "line 3: decay_minutes"),
        ("2026-01-01,08:30,UTC,x,y,2", "line 3"),
        ('2026-01-01,08:30,UTC,x,"two\nlines",2', "line 4"),
    ],
)
def test_a_bad_calendar_row_names_the_file_line_and_column(row: str, where: str) -> None:
    text = "# comment\ndate,time,tz,kind,name,peak,decay_minutes\n" + row + "\n"
    with pytest.raises(ScenarioError) as caught:
        parse_calendar(text, "bad.csv")
    assert str(caught.value).startswith(f"bad.csv: {where}")


def test_a_release_peaks_at_once_and_is_gone_within_the_hour() -> None:
    """Payrolls' shape (decay 4 min, peak 5): 1 at the moment, 0 before; its first minute
    averages above 0.6 of the peak excess (≥ 3.4x); under 0.075 (1.3x) by 30 minutes and
    under 0.01 by 60."""
    assert release_shape(np.array([0.0]), 4.0)[0] == 1.0
    assert release_shape(np.array([-0.01]), 4.0)[0] == 0.0
    first_minute = release_shape(np.linspace(0, 1, 601), 4.0).mean()
    assert first_minute > 0.6
    assert release_shape(np.array([30.0]), 4.0)[0] * 4 < 0.3
    assert release_shape(np.array([60.0]), 4.0)[0] < 0.01


def test_recurring_news_skips_its_exchanges_holidays() -> None:
    """A daily 16:00 London fixing tied to XLON, 22-26 Dec 2025: Mon, Tue, Wed (24th: an
    early close, still trading) fire; Christmas and Boxing Day, XLON holidays, do not."""
    text = SMOKE.text.replace(
        "[[market.sessions]]",
        '[[market.news]]\nname = "london_fix"\ntz = "Europe/London"\nat = "16:00"\n'
        'multiplier = 2.0\ndecay_minutes = 2\nexchange = "XLON"\n\n[[market.sessions]]',
        1,
    ).replace('calendar = "builtin"', 'calendar = "none"')
    market = parse_scenario(text, "fix.toml").market
    start = dt.datetime(2025, 12, 22, tzinfo=dt.UTC)
    found = shocks(TradingCalendar(market, start, 5 * 86400.0))
    days = sorted({(start + dt.timedelta(seconds=float(t))).day for t in found.t})
    assert days == [22, 23, 24]


def test_a_run_past_the_calendar_says_so(tmp_path: Path) -> None:
    """A run in June 2027, past the shipped calendar, notes it on stderr and runs; a 2026 run does
    not."""
    late = run_cli(
        "simulate", "smoke", "--start", "2027-06-01T12:00", "--hours", "1", "-q", cwd=tmp_path
    )
    assert late.returncode == 0, late.stderr
    assert late.stderr.strip() == (
        "note: the release calendar covers 2024-01-04 to 2026-12-31; "
        "this run has no releases outside it"
    )
    covered = run_cli("simulate", "smoke", "--hours", "1", "-q", cwd=tmp_path)
    assert covered.returncode == 0 and covered.stderr == ""

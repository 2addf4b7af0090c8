"""``abcsim demo``: the README's main job, end to end, shortened (smoke's hour in 5 s).

The command runs in its own process (the replayer and, in a thread of it, the
reference target on 127.0.0.1), as a newcomer runs it. What is checked is
what it promises: every step, predicted and measured P95s side by side, the
files it names exist and are what they say. No latency is asserted: the
machine may be busy.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from abcsim.demo import demo_day
from abcsim.report import report
from abcsim.results import read_results, read_results_meta
from abcsim.scenario import load_scenario
from tests.helpers import run_cli


def test_demo_runs_the_whole_flow_and_says_where_everything_went(tmp_path: Path) -> None:
    result = run_cli(
        "demo", "--scenario", "smoke", "--seconds", "5", "--out", "out", "-q", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    for step in range(1, 6):
        assert f"{step}/5 " in result.stderr
    assert "--speed 720 --scale 0.001389" in result.stderr  # an hour in 5 s, at its own rate
    assert "predicted (plan) → measured (replay)" in result.stdout
    rows = [line for line in result.stdout.splitlines() if re.match(r"data_collection\s+\d", line)]
    assert len(rows) == 1 and rows[0].count("→") == 4  # P50, P95, P99 and errors, side by side
    folder = tmp_path / "out"
    for name in ("day.parquet", "busiest-hour.plan.parquet", "busiest-hour.results.parquet"):
        assert f"out/{name}" in result.stdout
    assert "out/report.html" in result.stdout
    plan, replay = folder / "busiest-hour.plan.parquet", folder / "busiest-hour.results.parquet"
    assert read_results_meta(plan).source == "plan"
    assert read_results_meta(replay).source == "replay"
    assert set(read_results(plan)["event_id"]) == set(read_results(replay)["event_id"])
    assert report(replay).events > 50  # smoke's busiest hour in 5 s at its own rate: ~90
    page = (folder / "report.html").read_text()
    assert page.startswith("<!DOCTYPE html>") or page.lower().startswith("<!doctype html>")


def test_the_demo_day_is_the_scenarios_first_tuesday() -> None:
    assert demo_day(load_scenario("abc_week")) == "2026-01-13T00:00:00+00:00"
    smoke = load_scenario("smoke")  # a Tuesday afternoon: no whole Tuesday in it
    assert dt.datetime.fromisoformat(demo_day(smoke)) == smoke.start.astimezone(dt.UTC)

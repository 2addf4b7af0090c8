"""``abcsim report RESULTS``: the summary and SLO gate of a results file that already exists.

A real replay (against a reference target on 127.0.0.1) and a real plan write the
files; the report on each must print what the run itself printed and exit as it did.
"""

from __future__ import annotations

from pathlib import Path

from tests.conftest import Serve, fixed_scenario
from tests.helpers import error_line, run_cli, uniform_schedule


def test_a_replays_file_reports_and_gates_as_the_replay_did(serve: Serve, tmp_path: Path) -> None:
    schedule = uniform_schedule(tmp_path / "s.parquet", rate=50, seconds=2)
    target = serve(fixed_scenario(600.0, workers=32))  # smoke's data_collection P95 is 500 ms
    replay = run_cli("replay", str(schedule), "-t", target.url, "-q", cwd=tmp_path)
    assert replay.returncode == 1, replay.stderr
    again = run_cli("report", "s.results.parquet", "--csv", "ci/again", cwd=tmp_path)
    assert again.returncode == 1, again.stderr
    assert again.stdout == replay.stdout  # the same tables, the same breach lines
    assert "SLO breached: data_collection P95" in again.stdout
    assert (tmp_path / "ci" / "again_stats.csv").exists()


def test_a_plans_file_reports_as_the_plan_did(tmp_path: Path) -> None:
    schedule = uniform_schedule(tmp_path / "s.parquet", rate=20, seconds=30)
    plan = run_cli("plan", str(schedule), "--out", "p.parquet", cwd=tmp_path)
    assert plan.returncode in (0, 1), plan.stderr
    again = run_cli("report", "p.parquet", cwd=tmp_path)
    assert again.returncode == plan.returncode, again.stderr
    assert again.stdout.strip() and again.stdout in plan.stdout  # plan adds its load figures


def test_not_a_results_file_is_one_line_and_exit_2(tmp_path: Path) -> None:
    schedule = uniform_schedule(tmp_path / "s.parquet", rate=10, seconds=1)
    assert "s.parquet" in error_line(run_cli("report", str(schedule), cwd=tmp_path))
    assert "nope.parquet" in error_line(run_cli("report", "nope.parquet", cwd=tmp_path))

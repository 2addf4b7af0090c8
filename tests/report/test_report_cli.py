"""``abcsim report RESULTS``: the summary and SLO gate of a results file that already exists.

A real replay (against a reference target on 127.0.0.1) and a real plan write the
files; the report on each must print what the run itself printed and exit as it did.
"""

from __future__ import annotations

from pathlib import Path

from abcsim.results import ResultsWriter
from tests.conftest import Serve, fixed_scenario
from tests.helpers import error_line, run_cli, uniform_schedule
from tests.results.frames import Req, batch, meta


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


def test_output_paths_under_a_file_are_one_line_and_exit_2(tmp_path: Path) -> None:
    """--csv, --plot and demo --out where a file stands in the way: one line, nothing written."""
    schedule = uniform_schedule(tmp_path / "s.parquet", rate=20, seconds=2)
    assert run_cli("plan", str(schedule), "--out", "p.parquet", cwd=tmp_path).returncode == 0
    (tmp_path / "afile").write_text("in the way")
    for args, named in (
        (["report", "p.parquet", "--csv", "afile/run"], "afile"),
        (["plan", str(schedule), "--sweep", "workers=1:2", "--plot", "afile/s.png"], "afile"),
        (["plan", str(schedule), "--plot", "s.png"], "--plot"),  # a plot needs a sweep
        (["plan", str(schedule), "--sweep", "workers=1:2", "--speed", "60"], "--speed"),
        (["demo", "--scenario", "smoke", "--out", "afile/demo"], "afile"),
    ):
        assert named in error_line(run_cli(*args, cwd=tmp_path)), args
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile", "p.parquet", "s.parquet"]


def test_a_run_stopped_before_its_first_request_still_reports_and_draws(tmp_path: Path) -> None:
    """Every event "stopped": no requests at all — the summary, the page and the PNGs say so."""
    rows = [Req(0.5 * i, "data_collection", None, "dropped", error="stopped") for i in range(4)]
    with ResultsWriter(tmp_path / "r.parquet", meta()) as out:
        out.write(batch(rows))
    result = run_cli(
        "report", "r.parquet", "--scenario", "smoke", "--html", "r.html", "--png", "charts",
        cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr  # unverified targets: no evidence, no pass
    assert "4 events not sent" in result.stdout and "Traceback" not in result.stderr
    assert (tmp_path / "r.html").exists() and (tmp_path / "charts" / "mix.png").exists()

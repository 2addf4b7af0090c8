"""``abcsim inspect --facts`` through the real CLI: a simulated day beside production counts."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from abcsim.facts.counts import read_counts_csv, schedule_counts
from abcsim.facts.shape import shape
from tests.helpers import error_line, run_cli

START = "2026-01-13T00:00"  # a Tuesday: US CPI at 08:30 New York


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """smoke's agents over Tue 2026-01-13, simulated by the CLI."""
    folder = tmp_path_factory.mktemp("day")
    simulate = ("simulate", "smoke", "--start", START, "--hours", "24", "-q", "-o", "day.parquet")
    result = run_cli(*simulate, cwd=folder)
    assert result.returncode == 0, result.stderr
    return folder / "day.parquet"


def test_facts_beside_a_counts_csv_and_a_picture(day: Path, tmp_path: Path) -> None:
    """The CSV is the same day's counts per minute, halved: both columns print, the shape facts
    agree (a halved day has the same shares); the PNG is written."""
    shutil.copy(day, tmp_path / "day.parquet")
    per_minute = schedule_counts(day).per(60)
    start = per_minute.start
    lines = ["time,count"] + [
        f"{(start + dt.timedelta(minutes=i)).isoformat()},{n // 2}"
        for i, n in enumerate(per_minute.values)
    ]
    (tmp_path / "prod.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run_cli(
        "inspect", "day.parquet", "--against", "prod.csv", "--plot", "facts.png", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.splitlines()[0].split() == ["stylized", "facts", "day.parquet", "prod.csv"]
    ours = shape(schedule_counts(day))
    theirs = shape(read_counts_csv(tmp_path / "prod.csv"))
    assert abs(ours.night_share - theirs.night_share) < 0.002
    assert f"{100 * ours.night_share:.1f}%" in out
    assert "US CPI (Dec 2025)" in out  # the release, from the schedule's own calendar
    assert "HFT branching (Hawkes fit)" in out
    png = (tmp_path / "facts.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000


def test_a_bad_counts_csv_is_one_line_naming_file_line_and_field(day: Path, tmp_path: Path) -> None:
    shutil.copy(day, tmp_path / "day.parquet")
    (tmp_path / "prod.csv").write_text(
        "time,count\n2026-01-13T00:00,5\n2026-01-13T00:01,lots\n", encoding="utf-8"
    )
    result = run_cli("inspect", "day.parquet", "--against", "prod.csv", cwd=tmp_path)
    assert error_line(result) == "error: prod.csv: line 3: count: not a whole number"
    (tmp_path / "odd.csv").write_text(
        "time,count\n2026-01-13T00:00:00,5\n2026-01-13T00:00:07,6\n", encoding="utf-8"
    )
    result = run_cli("inspect", "day.parquet", "--against", "odd.csv", cwd=tmp_path)
    assert error_line(result).startswith("error: odd.csv: time: rows 7 s apart; bins must")
    result = run_cli("inspect", "day.parquet", "--facts", "--flat-hours", "12-9", cwd=tmp_path)
    assert error_line(result) == "error: --flat-hours: must be two UTC hours like 9-12, got '12-9'"
    assert not (tmp_path / "facts.png").exists()

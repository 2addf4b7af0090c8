"""A full disk: every command ends with one line naming the file, exit 2, nothing half-written.

A tmpfs of 3 MiB is mounted for each test (as root, as CI runs; skipped where
mounting is not allowed) and filled so that the command's output overflows it:

* ``simulate``: a schedule is all or nothing — no file, no hidden temporary left;
* ``plan``: computed again from the same seed — nothing kept;
* ``replay``: measured — every row that reached the journal before the disk filled
  is kept there, and ``abcsim report`` finishes it into the results file once there
  is room, saying the run was cut short;
* ``calibrate``: no TOML at all rather than an empty or half one.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from abcsim.results import read_results
from tests.conftest import Serve, fixed_scenario
from tests.helpers import error_line, run_cli, uniform_schedule

pytestmark = pytest.mark.system  # a CI step of its own: make test-system

SIZE = 3 * 1024 * 1024


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 3 MiB tmpfs, unmounted after the test."""
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={SIZE}", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(disk: Path, leave: int) -> Path:
    """Fill ``disk`` but ``leave`` bytes."""
    filler = disk / "filler"
    filler.write_bytes(b"\0" * (SIZE - leave))
    return filler


def _others(disk: Path) -> list[str]:
    return sorted(p.name for p in disk.iterdir() if p.name != "filler")


def test_simulate_and_plan_on_a_full_disk_leave_nothing(small_disk: Path, tmp_path: Path) -> None:
    _fill(small_disk, leave=200_000)
    line = error_line(run_cli("simulate", "smoke", "--out", str(small_disk / "s.parquet"),
                              "-q", cwd=tmp_path))  # fmt: skip
    assert (
        line
        == f"error: {small_disk / 's.parquet'}: cannot write: no space left on device; nothing kept"
    )
    assert _others(small_disk) == []  # no schedule, no hidden .partial
    schedule = tmp_path / "s.parquet"
    assert run_cli("simulate", "smoke", "--out", str(schedule), "-q", cwd=tmp_path).returncode == 0
    line = error_line(run_cli("plan", str(schedule), "-o", str(small_disk / "p.parquet"),
                              cwd=tmp_path))  # fmt: skip
    assert "p.parquet: cannot write: no space left on device" in line
    assert _others(small_disk) == []


def test_a_replay_on_a_full_disk_keeps_its_rows_for_report(
    small_disk: Path, tmp_path: Path, serve: Serve
) -> None:
    """2,000/s for 8 s against a fast target, with room for a few thousand journal rows:
    exit 2, one line naming the file and the rows kept; after room is made, report
    finishes them (every kept row, all ok) and says the run was cut short."""
    target = serve(fixed_scenario(1.0, workers=64, queue_limit=1000))
    schedule = uniform_schedule(tmp_path / "u.parquet", rate=2000, seconds=8)
    filler = _fill(small_disk, leave=400_000)
    out = small_disk / "r.parquet"
    result = run_cli("replay", str(schedule), "-t", target.url, "-o", str(out), "-q",
                     cwd=tmp_path)  # fmt: skip
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    started, line = result.stderr.splitlines()  # the start line, then one error line
    assert started.startswith("replaying 16,000 requests")
    assert line.startswith(f"error: {out}: cannot write: no space left on device; the ")
    kept = int(line.split("; the ")[1].split(" rows")[0].replace(",", ""))
    assert kept > 1000
    assert _others(small_disk) == [".r.parquet.journal"]  # no Parquet file, no other file
    filler.unlink()
    report = run_cli("report", str(out), cwd=tmp_path)
    assert report.returncode in (0, 1), report.stderr
    assert "Run cut short" in report.stdout
    results = read_results(out)
    assert len(results) == kept and (results["outcome"] == "ok").all()
    ended = pq.read_metadata(out).metadata[b"abcsim.ended"]
    assert ended == b"recovered after the writer died"


def test_calibrate_on_a_full_disk_writes_no_toml(
    small_disk: Path, tmp_path: Path, serve: Serve
) -> None:
    target = serve(fixed_scenario(1.0, workers=8))
    schedule = uniform_schedule(tmp_path / "u.parquet", rate=100, seconds=1)
    replay = run_cli("replay", str(schedule), "-t", target.url, "-q", cwd=tmp_path)
    assert replay.returncode == 0, replay.stderr
    _fill(small_disk, leave=0)
    line = error_line(run_cli("calibrate", str(tmp_path / "u.results.parquet"), "--out",
                              str(small_disk / "system.toml"), cwd=tmp_path))  # fmt: skip
    assert "system.toml: cannot write: No space left on device" in line
    assert _others(small_disk) == []

"""A replay killed outright (``kill -9``) still leaves results that can be read and reported.

Each test replays a uniform schedule (100 requests/s for 40 s) in a subprocess
against a reference target on 127.0.0.1 that answers in 2 ms, kills it with
SIGKILL partway, then reports on what it left. How "every row that completed
more than 1 s before the kill" is checked: the recovered file's ``wall_start``
is the epoch second the replay's clock played the window's start, so event
``t`` was due at ``wall_start + (t - window start)``. Every event due more than
1 s (plus a 0.1 s allowance for its 2 ms answer and the scheduler) before the
moment the test sent SIGKILL must be in the results, ``ok``; no row may be of
an event due after the kill.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from abcsim.results import read_results, read_results_meta
from abcsim.results.columns import ENDED_RECOVERED
from abcsim.schedule import read_schedule
from tests.conftest import Serve, fixed_scenario
from tests.helpers import REPO, run_cli, uniform_schedule

pytestmark = pytest.mark.system  # a CI step of its own: make test-system

ANSWER_ALLOWANCE_S = 0.1
"""Room for a 2 ms answer and the event loop's scheduling, on top of the second allowed."""


@pytest.mark.parametrize(
    ("kill_after_s", "processes"),
    [(10.0, 1), (25.0, 1), (10.0, 2)],
    ids=["10s", "25s", "10s-2-processes"],
)
def test_kill_9_leaves_results_that_report_every_row_but_the_last_second(
    serve: Serve, tmp_path: Path, kill_after_s: float, processes: int
) -> None:
    """With ``--processes 2`` the workers hand their rows to the parent, whose journal
    holds them: the same promise as one process (their clock starts 3 s later)."""
    schedule = uniform_schedule(tmp_path / "s.parquet", rate=100, seconds=40)
    target = serve(fixed_scenario(2.0, workers=16))
    command = ["replay", str(schedule), "-t", target.url, "-q", "--processes", str(processes)]
    process = subprocess.Popen(
        [sys.executable, "-m", "abcsim", *command],
        cwd=tmp_path,
        env=dict(os.environ, PYTHONPATH=str(REPO)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(kill_after_s)
    killed_at = time.time()
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    out = tmp_path / "s.results.parquet"
    assert not out.exists()  # the writer never got to finish it: what it left is a journal

    report = run_cli("report", "s.results.parquet", cwd=tmp_path)
    assert report.returncode in (0, 1), report.stderr  # a verdict, not "bad input"
    assert "Run cut short" in report.stdout and "Aggregated" in report.stdout
    assert "recovered" in report.stderr
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []

    meta = read_results_meta(out)
    assert meta.ended == ENDED_RECOVERED
    results = read_results(out)
    due = meta.wall_start.timestamp() + (results["t"].to_numpy() - meta.window[0]) / meta.speed
    assert (due < killed_at).all()  # nothing recorded that was due after the kill
    events = read_schedule(schedule)
    all_due = meta.wall_start.timestamp() + (events["t"].to_numpy() - meta.window[0]) / meta.speed
    expected = events["event_id"].to_numpy()[all_due < killed_at - 1.0 - ANSWER_ALLOWANCE_S]
    assert len(expected) > (kill_after_s - 7.0) * 100  # the run had got going
    ok = results["event_id"].to_numpy()[(results["outcome"] == "ok").to_numpy()]
    missing = np.setdiff1d(expected, ok)
    assert missing.size == 0, f"{missing.size} events due before kill - 1 s have no ok row"
    assert results["event_id"].is_unique

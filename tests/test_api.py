"""The notebook API: the flow as frames gives what the file-based flow gives, in and out of a loop.

Real runs of the small ``smoke`` scenario (seed 3): a simulated hour, plans of it on the
queueing model, and replays of a few seconds against the reference target on 127.0.0.1 —
from plain code and from inside a running event loop, as a Jupyter cell runs. Nothing here
asserts on timing: replays are checked for one row per event and where their metadata says
they went.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

import abcsim
from abcsim import api
from abcsim.errors import ReplayError, ScheduleError
from abcsim.plan import prepare_plan, run_plan
from abcsim.report import report as report_file
from abcsim.results import RESULTS_COLUMNS
from abcsim.scenario import load_scenario, resolve_run
from abcsim.schedule import read_meta, read_schedule
from abcsim.simulate import write_schedule
from abcsim.target import RunningTarget, serve_in_thread

SEED = 3
START = "2026-01-13T13:00:00Z"
"""An hour of smoke's Tuesday from here: the CPI release at 13:30 UTC and New York's open."""
SLICE = "Tue 13:30..Tue 13:31"
SPEED = 30.0
"""A minute of the hour played in 5 s: a few hundred requests, well under smoke's 32 workers."""


@pytest.fixture(scope="module")
def hour() -> pd.DataFrame:
    return api.simulate_frame("smoke", hours=1.0, start=START, seed=SEED)


@pytest.fixture(scope="module")
def hour_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    scenario = load_scenario("smoke")
    run = resolve_run(scenario, {}, seed=SEED, start=START, hours=1.0)
    path = tmp_path_factory.mktemp("api") / "hour.parquet"
    write_schedule(scenario, run, path)
    return path


@pytest.fixture(scope="module")
def target() -> Iterator[RunningTarget]:
    with serve_in_thread("smoke") as running:
        yield running


def test_simulate_frame_is_the_schedule_file_read_back(hour: pd.DataFrame, hour_file: Path) -> None:
    pd.testing.assert_frame_equal(hour, read_schedule(hour_file))
    meta = read_meta(hour_file)
    assert hour.attrs["seed"] == str(SEED)
    assert hour.attrs["start"] == START
    assert hour.attrs["scenario"] == meta.scenario_text
    assert hour.attrs["agent_types"] == ",".join(meta.agent_types)


def test_the_package_exports_the_api() -> None:
    assert abcsim.simulate_frame is api.simulate_frame
    assert abcsim.plan_frame is api.plan_frame
    assert abcsim.replay_frame is api.replay_frame
    assert abcsim.api is api
    with pytest.raises(AttributeError):
        _ = abcsim.no_such_thing  # type: ignore[attr-defined]


def test_plan_of_a_frame_is_the_plan_of_its_file(hour: pd.DataFrame, hour_file: Path) -> None:
    from_frame = api.plan_frame(hour, workers=4, window=SLICE)
    from_file = api.plan_frame(hour_file, workers=4, window=SLICE)
    assert list(from_frame.columns) == list(RESULTS_COLUMNS)
    pd.testing.assert_frame_equal(from_frame, from_file)
    assert from_frame.attrs["source"] == "plan"
    assert "4 workers" in from_frame.attrs["target"]
    inside = hour[(hour.t >= 1800) & (hour.t < 1860)]
    assert sorted(from_frame.event_id) == sorted(inside.event_id)  # one row per event


def test_plan_of_a_frame_kept_by_to_parquet(hour: pd.DataFrame, tmp_path: Path) -> None:
    """attrs are strings, so pandas' own Parquet keeps them and the frame plans again."""
    hour.to_parquet(tmp_path / "hour.parquet")
    again = pd.read_parquet(tmp_path / "hour.parquet")
    plan = api.plan_frame(again, window=SLICE)
    pd.testing.assert_frame_equal(plan, api.plan_frame(hour, window=SLICE))


def test_a_frame_sorted_otherwise_is_planned_in_time_order(hour: pd.DataFrame) -> None:
    shuffled = hour.sample(frac=1.0, random_state=SEED)
    pd.testing.assert_frame_equal(
        api.plan_frame(shuffled, window=SLICE), api.plan_frame(hour, window=SLICE)
    )


def test_a_frame_without_metadata_is_refused(hour: pd.DataFrame) -> None:
    bare = pd.DataFrame(hour)
    bare.attrs = {}
    with pytest.raises(ScheduleError, match="not an abcsim schedule"):
        api.plan_frame(bare)


def test_report_of_a_frame_is_the_report_of_its_file(hour_file: Path, tmp_path: Path) -> None:
    plan = api.plan_frame(hour_file, workers=2)
    plan.to_parquet(tmp_path / "unused.parquet")  # attrs survive pandas' writer too
    from_frame = api.report(plan)
    path = tmp_path / "plan.results.parquet"
    run_plan(prepare_plan(hour_file, workers=2), path)
    from_file = report_file(path)
    assert from_frame.breaches == from_file.breaches
    assert from_frame.exit_status == from_file.exit_status
    assert len(from_frame.lines) == len(from_file.lines)
    # a name or a Scenario gives other SLOs than the results' own
    strict = load_scenario("smoke")
    assert api.report(plan, "smoke").exit_status == from_frame.exit_status
    assert api.report(api.read_results(path), strict).breaches == from_file.breaches


def test_sweep_and_capacity_agree(hour: pd.DataFrame) -> None:
    grid = api.sweep_frame(hour, workers=[1, 2, 3, 4, 6, 8], scales=[1.0, 2.0])
    assert len(grid) == 12
    assert {"workers", "scale", "utilisation", "p95_ms", "passed", "breaches"} <= set(grid)
    found = api.capacity(hour)
    passing = grid[(grid.scale == 1.0) & grid.passed].workers
    # more workers never make an FCFS system slower on the same requests and service times
    assert found.answer.workers == passing.min()
    assert found.smaller is not None and not found.smaller.passed
    at_one = grid[grid.scale == 1.0].sort_values("workers")
    assert at_one.utilisation.is_monotonic_decreasing


def _check_replay(measured: pd.DataFrame, hour: pd.DataFrame, target: RunningTarget) -> None:
    inside = hour[(hour.t >= 1800) & (hour.t < 1860)]
    assert list(measured.columns) == list(RESULTS_COLUMNS)
    assert sorted(measured.event_id) == sorted(inside.event_id)  # one row per event
    assert measured.attrs["source"] == "replay"
    assert measured.attrs["target"] == target.url
    assert (measured.outcome == "ok").any()
    assert api.report(measured).frame is measured


def test_replay_frame_from_plain_code(hour: pd.DataFrame, target: RunningTarget) -> None:
    measured = api.replay_frame(hour, target.url, window=SLICE, speed=SPEED)
    _check_replay(measured, hour, target)


def test_replay_frame_inside_a_running_loop(hour: pd.DataFrame, target: RunningTarget) -> None:
    """A Jupyter cell runs inside the kernel's loop: the replay cannot start its own there."""

    async def cell() -> pd.DataFrame:
        return api.replay_frame(hour, target.url, window=SLICE, speed=SPEED)

    _check_replay(asyncio.run(cell()), hour, target)


def test_replay_frame_refuses_what_the_cli_refuses(hour: pd.DataFrame) -> None:
    async def cell() -> pd.DataFrame:
        return api.replay_frame(hour, "http://staging.abc.example:8080", window=SLICE)

    with pytest.raises(ReplayError, match="allow"):
        asyncio.run(cell())

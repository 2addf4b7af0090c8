"""Schedule files: the architecture's columns and types, self-describing metadata, atomic."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from abcsim import load_scenario, read_meta, read_schedule, resolve_run, write_schedule
from abcsim.errors import ScheduleError
from abcsim.scenario import parse_scenario
from abcsim.schedule.stats import schedule_stats

SMOKE = load_scenario("smoke")


@pytest.fixture(scope="module")
def smoke_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("schedule") / "smoke.parquet"
    write_schedule(SMOKE, resolve_run(SMOKE, {}, seed=3, hours=2), path, chunk_s=600.0)
    return path


def test_columns_and_types_are_the_designed_ones(smoke_file: Path) -> None:
    frame = read_schedule(smoke_file)
    assert list(frame.columns) == ["event_id", "t", "agent_id", "agent_type", "request", "size"]
    assert frame["event_id"].dtype == np.int64
    assert frame["t"].dtype == np.float64
    assert frame["agent_id"].dtype == np.int32
    assert isinstance(frame["agent_type"].dtype, pd.CategoricalDtype)
    assert isinstance(frame["request"].dtype, pd.CategoricalDtype)
    assert frame["size"].dtype == np.int32
    assert set(frame["agent_type"].unique()) == {"trading", "hft", "batch", "monitor"}
    assert frame["t"].is_monotonic_increasing
    assert (frame["event_id"].to_numpy() == np.arange(len(frame))).all()
    assert (frame["size"] >= 1).all()
    batch = frame[frame["agent_type"] == "batch"]["size"]
    assert batch.median() > 100  # batch jobs are large


def test_metadata_reproduces_the_schedule(smoke_file: Path, tmp_path: Path) -> None:
    meta = read_meta(smoke_file)
    assert meta.seed == 3
    assert meta.start == SMOKE.start
    assert meta.duration_s == 2 * 3600
    assert meta.scenario_text == SMOKE.text
    scenario = parse_scenario(meta.scenario_text)
    again = tmp_path / "again.parquet"
    run = resolve_run(scenario, {}, seed=meta.seed, start=meta.start.isoformat(), hours=2)
    write_schedule(scenario, run, again)
    pd.testing.assert_frame_equal(read_schedule(again), read_schedule(smoke_file))


def test_stats_from_the_file_count_every_row(smoke_file: Path) -> None:
    stats = schedule_stats(smoke_file)
    frame = read_schedule(smoke_file)
    assert stats.events == len(frame)
    assert stats.per_second.sum() == len(frame)
    counts = frame["agent_type"].value_counts()
    for name, n in zip(stats.agent_types, stats.by_agent_type, strict=True):
        assert counts[name] == n
    peak = stats.peak(60)
    seconds = frame["t"].astype(int)
    assert peak.count == seconds[(seconds >= peak.start_t) & (seconds < peak.start_t + 60)].size


def test_an_interrupted_write_leaves_nothing(tmp_path: Path) -> None:
    def stop(t: float) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_schedule(
            SMOKE,
            resolve_run(SMOKE, {}, hours=2),
            tmp_path / "x.parquet",
            chunk_s=600.0,
            progress=stop,
        )
    assert list(tmp_path.iterdir()) == []


def test_reading_a_file_that_is_not_a_schedule_names_it(tmp_path: Path) -> None:
    path = tmp_path / "bad.parquet"
    path.write_text("nope")
    with pytest.raises(ScheduleError, match=r"bad\.parquet"):
        read_schedule(path)
    pd.DataFrame({"t": [1.0]}).to_parquet(tmp_path / "other.parquet")
    with pytest.raises(ScheduleError, match="column 'event_id'"):
        read_meta(tmp_path / "other.parquet")

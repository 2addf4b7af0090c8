"""Results files: the architecture's columns, self-describing metadata, kept when stopped."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from abcsim.errors import ResultsError
from abcsim.results import (
    RESULTS_COLUMNS,
    ResultsWriter,
    read_results,
    read_results_meta,
    results_stats,
)
from abcsim.scenario import load_scenario
from tests.results.frames import Req, batch, frame, meta

ROWS = [
    Req(0.5, "data_collection", 12.0, bytes=300),
    Req(1.5, "trade_execution", 80.0, "http_error", 20, "HTTP 503", agent="hft"),
    Req(2.5, "risk_analysis", None, "dropped", agent="batch"),
]


def test_round_trip_keeps_columns_types_and_metadata(tmp_path: Path) -> None:
    path = tmp_path / "run.parquet"
    with ResultsWriter(path, meta()) as out:
        out.write(batch(ROWS[:2]))
        out.write(batch(ROWS[2:], first_id=2))
    assert out.rows == 3
    got = read_results(path)
    assert list(got.columns) == list(RESULTS_COLUMNS)
    pd.testing.assert_frame_equal(got, frame(ROWS), check_categorical=False)
    for column in ("agent_type", "request", "outcome"):
        assert isinstance(got[column].dtype, pd.CategoricalDtype)
    assert got["status"].dtype == np.int16
    assert read_results_meta(path) == meta()
    stats = results_stats(got, load_scenario("smoke").endpoints)
    assert (stats.total.requests, stats.total.failures) == (3, 2)


def test_an_interrupted_write_keeps_every_row_written(tmp_path: Path) -> None:
    path = tmp_path / "stopped.parquet"
    with pytest.raises(KeyboardInterrupt), ResultsWriter(path, meta()) as out:
        out.write(batch(ROWS[:1]))
        out.flush()  # one row group on disk …
        out.write(batch(ROWS[1:], first_id=1))  # … and two rows still buffered
        raise KeyboardInterrupt
    got = read_results(path)
    assert got["event_id"].tolist() == [0, 1, 2]
    assert read_results_meta(path).target == meta().target
    assert [p.name for p in tmp_path.iterdir()] == ["stopped.parquet"]  # no temporary left


def test_an_error_before_any_row_still_leaves_a_valid_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.parquet"
    with pytest.raises(RuntimeError), ResultsWriter(path, meta()):
        raise RuntimeError("target refused")
    assert len(read_results(path)) == 0


def test_a_batch_of_another_shape_is_refused_at_once(tmp_path: Path) -> None:
    path = tmp_path / "x.parquet"
    with ResultsWriter(path, meta()) as out, pytest.raises(ResultsError, match="results schema"):
        out.write(pa.record_batch({"event_id": pa.array([1], pa.int64())}))


def test_a_missing_folder_is_named(tmp_path: Path) -> None:
    with pytest.raises(ResultsError, match="nowhere"):
        ResultsWriter(tmp_path / "nowhere" / "run.parquet", meta())


def test_read_errors_name_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "missing.parquet"
    with pytest.raises(ResultsError, match=f"^{re.escape(str(missing))}: no such file$"):
        read_results(missing)
    text = tmp_path / "notes.parquet"
    text.write_text("not parquet")
    with pytest.raises(ResultsError, match=f"^{re.escape(str(text))}: not a Parquet file"):
        read_results(text)
    other = tmp_path / "schedule.parquet"
    pq.write_table(pa.table({"event_id": [1], "t": [0.5]}), other)
    with pytest.raises(
        ResultsError, match=f"^{re.escape(str(other))}: column 'agent_type': missing"
    ):
        read_results(other)
    with pytest.raises(ResultsError, match=f"^{re.escape(str(other))}: column"):
        read_results_meta(other)
    with pytest.raises(ResultsError, match=f"^{re.escape(str(tmp_path))}: is a folder"):
        read_results(tmp_path)


def test_a_file_without_our_metadata_is_named(tmp_path: Path) -> None:
    path = tmp_path / "bare.parquet"
    pq.write_table(pa.Table.from_batches([batch(ROWS)]).replace_schema_metadata({}), path)
    assert len(read_results(path)) == 3  # the rows are still readable …
    with pytest.raises(
        ResultsError, match=f"^{re.escape(str(path))}: metadata: not an abcsim results file"
    ):
        read_results_meta(path)  # … but it cannot say where they came from

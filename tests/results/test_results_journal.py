"""Results that outlive their writer: the journal a replay writes as it goes, and its recovery."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from abcsim.errors import ResultsError
from abcsim.parquet_stream import journal_path
from abcsim.results import ResultsWriter, read_results, read_results_meta
from abcsim.results.columns import ENDED_COMPLETE, ENDED_RECOVERED, ENDED_STOPPED
from abcsim.results.digest import digest_file
from tests.helpers import REPO
from tests.results.frames import Req, batch, meta

ROWS = [Req(0.5 + i, "data_collection", 12.0) for i in range(5)]

# A writer that dies, as a replay under kill -9 does: no close, no exit handlers.
DIE_WHILE_WRITING = """
import os, sys
from abcsim.results import ResultsWriter
from tests.results.frames import Req, batch, meta
out = ResultsWriter(sys.argv[1], meta())
for i in range(3):
    out.write(batch([Req(0.5 + i, "data_collection", 12.0)], first_id=i))
os._exit(0)
"""


def _die_while_writing(path: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    subprocess.run([sys.executable, "-c", DIE_WHILE_WRITING, str(path)], env=env, check=True)


def test_a_dead_writers_rows_are_recovered_by_the_first_reader(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "run.parquet"
    _die_while_writing(path)
    assert not path.exists() and journal_path(path).exists()
    got = read_results_meta(path)  # the first reader finishes it
    assert got.ended == ENDED_RECOVERED and replace(got, ended=ENDED_COMPLETE) == meta()
    assert "recovered 3 rows" in capsys.readouterr().err
    assert list(read_results(path)["event_id"]) == [0, 1, 2]
    assert digest_file(path).rows == 3
    assert not journal_path(path).exists()


def test_a_batch_cut_short_by_the_death_is_left_out(tmp_path: Path) -> None:
    path = tmp_path / "run.parquet"
    _die_while_writing(path)
    journal = journal_path(path)
    journal.write_bytes(journal.read_bytes()[:-50])  # died inside its last write
    assert list(read_results(path)["event_id"]) == [0, 1]


def test_a_live_writers_journal_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "run.parquet"
    with ResultsWriter(path, meta()) as out:
        out.write(batch(ROWS))
        with pytest.raises(ResultsError, match="being written by another running process"):
            read_results(path)
        assert journal_path(path).exists()
    assert len(read_results(path)) == 5
    assert read_results_meta(path).ended == ENDED_COMPLETE


def test_the_file_says_how_the_run_ended(tmp_path: Path) -> None:
    stopped = tmp_path / "stopped.parquet"
    with ResultsWriter(stopped, meta()) as out:
        out.write(batch(ROWS))
        out.stopped()
    assert read_results_meta(stopped).ended == ENDED_STOPPED
    failed = tmp_path / "failed.parquet"
    with pytest.raises(KeyboardInterrupt), ResultsWriter(failed, meta()) as out:
        out.write(batch(ROWS))
        raise KeyboardInterrupt
    assert read_results_meta(failed).ended == ENDED_STOPPED
    assert len(read_results(failed)) == 5


def test_a_plan_is_written_straight_to_parquet_and_says_how_it_ended(tmp_path: Path) -> None:
    path = tmp_path / "plan.parquet"
    with (
        pytest.raises(KeyboardInterrupt),
        ResultsWriter(path, replace(meta(), source="plan")) as out,
    ):
        out.write(batch(ROWS))
        assert not journal_path(path).exists()
        raise KeyboardInterrupt
    assert read_results_meta(path).ended == ENDED_STOPPED

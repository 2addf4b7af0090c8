"""Results on disk: one Parquet file per run, kept whatever happens, even ``kill -9``.

A results file is evidence. A replay of Monday's London open that is stopped
with Ctrl-C after 10 of its 60 minutes still leaves a valid file of those 10
minutes — every order and risk request that finished, with its latency — so
the summary and the SLO check can still be run on it. That is the difference
from a schedule, which is all or nothing (both are a
:class:`~abcsim.parquet_stream.ParquetStream`; results pass ``keep_partial=True``).

A replay killed outright (``kill -9``, the OOM killer, a CI job's hard timeout)
cannot close anything, so measured results are journalled: every batch the
replay hands over (twice a second) goes at once to an Arrow IPC stream
beside the file, ``.NAME.journal`` (see :mod:`abcsim.parquet_stream` for the
format, its cost and what a reader sees), and the Parquet file is built from it
at the close. If the writer dies, the journal holds every row up to its last
write; the first reader of the results (:func:`open_results`, and so
``abcsim report``, :func:`read_results`, :func:`read_results_meta`,
:func:`~abcsim.results.digest.digest_file`, ``abcsim calibrate``) finds the
journal where the file should be, finishes it into the file — its ``ended``
metadata ``"recovered after the writer died"`` — and says so on stderr; the
report says so too. A plan is not journalled: it is computed, not measured (the
same seed gives it again), and at 50 million rows a journal would double its disk.

The file's key-value metadata (:class:`~abcsim.results.columns.ResultsMeta`)
says where the numbers come from — measured by ``replay`` or predicted by
``plan``, the target, the scenario text, the seed, the window and speed — and
how the run ended (:data:`~abcsim.results.columns.ENDINGS`).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from abcsim.errors import AbcsimError, ResultsError
from abcsim.parquet_stream import (
    ParquetStream,
    encode_metadata,
    finish_journal,
    journal_path,
    open_table,
)
from abcsim.results.columns import (
    ENDED_COMPLETE,
    ENDED_RECOVERED,
    ENDED_STOPPED,
    RESULTS_COLUMNS,
    RESULTS_SCHEMA,
    ResultsMeta,
)

RESULTS_ROW_GROUP_ROWS = 1 << 16
"""Rows per row group of a results file (a minute at 1,000 requests/s): a reader's
batches stay small. A plan's rows reach the disk at this pace; a replay's every write."""


class ResultsWriter(ParquetStream):
    """Streams :func:`~abcsim.results.columns.results_batch` batches into one Parquet file.

    On an exception or Ctrl-C inside the ``with`` block the file is still
    finished and moved into place, holding every row written so far, its
    ``ended`` metadata ``"stopped"`` (as after :meth:`stopped`). Measured
    results (``meta.source != "plan"``) survive even the death of the process:
    see the module docstring.

    >>> with ResultsWriter("monday.parquet", meta) as out:   # doctest: +SKIP
    ...     for batch in finished_requests():
    ...         out.write(batch)
    """

    def __init__(self, path: str | Path, meta: ResultsMeta) -> None:
        try:
            super().__init__(
                path,
                RESULTS_SCHEMA,
                meta.to_metadata(),
                keep_partial=True,
                row_group_rows=RESULTS_ROW_GROUP_ROWS,
                journal=meta.source != "plan",
            )
        except AbcsimError as exc:
            raise ResultsError(str(exc)) from None
        self._ended = ENDED_COMPLETE

    def write(self, batch: pa.RecordBatch) -> None:
        # Checked here, not when the row group is flushed minutes later, so a
        # wrong batch fails at the line that built it.
        if not batch.schema.equals(RESULTS_SCHEMA, check_metadata=False):
            raise ResultsError(
                f"{self.path}: batch does not have the results schema "
                f"(got {batch.schema.names}); build it with results_batch()"
            )
        try:
            super().write(batch)
        except AbcsimError as exc:
            raise ResultsError(str(exc)) from None

    def stopped(self) -> None:
        """The run was stopped before its end: the file will say ``ended = "stopped"``."""
        self._ended = ENDED_STOPPED

    def note(self, key: str, value: str) -> None:
        """One more ``key = value`` in the file's metadata, written at its close."""
        self.metadata.update(encode_metadata({key: value}))

    def close(self) -> None:
        self.metadata.update(encode_metadata({"ended": self._ended}))
        try:
            super().close()
        except AbcsimError as exc:
            raise ResultsError(str(exc)) from None

    def abort(self) -> None:
        self.stopped()
        super().abort()


def recover_results(path: str | Path) -> int | None:
    """Finish the results a dead writer left as a journal into ``path``; the rows recovered.

    None when there is nothing to recover (the file exists, or no journal does).
    A journal whose writer is still running is left alone (one clear error).
    """
    path = Path(path)
    journal = journal_path(path)
    if path.exists() or not journal.exists():
        return None
    metadata = _journal_metadata(journal)
    metadata.update(encode_metadata({"ended": ENDED_RECOVERED}))
    try:
        rows = finish_journal(journal, path, metadata, RESULTS_ROW_GROUP_ROWS)
    except AbcsimError as exc:
        raise ResultsError(f"{path}: cannot recover the results: {exc}") from None
    print(
        f"{path}: the run writing it was cut off (its process died, or its disk filled); "
        f"recovered {rows:,} rows from {journal.name}",
        file=sys.stderr,
    )
    return rows


def _journal_metadata(journal: Path) -> dict[bytes, bytes]:
    try:
        with pa.OSFile(str(journal)) as source:
            return dict(pa.ipc.open_stream(source).schema.metadata or {})
    except (pa.ArrowInvalid, OSError) as exc:
        raise ResultsError(f"{journal}: cannot recover the results: unreadable ({exc})") from None


def open_results(path: str | Path, *, pre_buffer: bool = True) -> pq.ParquetFile:
    """A results file opened for reading, its columns checked (one clear error if not).

    A file whose writer died is first recovered from its journal (:func:`recover_results`).
    """
    recover_results(path)
    return open_table(
        path, RESULTS_COLUMNS, "an abcsim results file", ResultsError, pre_buffer=pre_buffer
    )


def read_results_meta(path: str | Path) -> ResultsMeta:
    """The metadata of a results file: source, target, scenario, seed, window, speed, ending."""
    file = open_results(path)
    # what a writer settled at its close (how the run ended) is in the file's own
    # key-value metadata, after the copy the Arrow schema took at its start
    fields = {**(file.schema_arrow.metadata or {}), **(file.metadata.metadata or {})}
    return ResultsMeta.from_metadata(fields, str(path))


def read_results(path: str | Path) -> pd.DataFrame:
    """A whole results file as a DataFrame; ``agent_type``, ``request``, ``outcome`` categorical."""
    file = open_results(path)
    try:
        table = file.read(columns=list(RESULTS_COLUMNS))
    except (pa.ArrowInvalid, OSError) as exc:
        raise ResultsError(f"{path}: unreadable ({exc})") from None
    frame: pd.DataFrame = table.to_pandas()
    return frame

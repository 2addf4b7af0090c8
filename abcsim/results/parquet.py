"""Results on disk: Parquet streamed row group by row group, kept whatever happens.

A results file is evidence. A replay of Monday's London open that is stopped
with Ctrl-C after 10 of its 60 minutes still leaves a valid file of those 10
minutes — every order and risk request that finished, with its latency — so
the summary and the SLO check can still be run on it. That is the difference
from a schedule, which is all or nothing (both are a
:class:`~abcsim.parquet_stream.ParquetStream`; results pass ``keep_partial=True``).

The file's key-value metadata (:class:`~abcsim.results.columns.ResultsMeta`)
says where the numbers come from: measured by ``replay`` or predicted by
``plan``, the target, the scenario text, the seed, the window and speed.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from abcsim.errors import AbcsimError, ResultsError
from abcsim.parquet_stream import ParquetStream, open_table
from abcsim.results.columns import RESULTS_COLUMNS, RESULTS_SCHEMA, ResultsMeta

RESULTS_ROW_GROUP_ROWS = 1 << 16
"""Results reach the disk every 65,536 rows (a minute at 1,000 requests/s): memory
stays flat over a long replay, and a killed process loses at most that much."""


class ResultsWriter(ParquetStream):
    """Streams :func:`~abcsim.results.columns.results_batch` batches into one Parquet file.

    On an exception or Ctrl-C inside the ``with`` block the file is still
    finished and moved into place, holding every row written so far.

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
            )
        except AbcsimError as exc:
            raise ResultsError(str(exc)) from None

    def write(self, batch: pa.RecordBatch) -> None:
        # Checked here, not when the row group is flushed minutes later, so a
        # wrong batch fails at the line that built it.
        if not batch.schema.equals(RESULTS_SCHEMA, check_metadata=False):
            raise ResultsError(
                f"{self.path}: batch does not have the results schema "
                f"(got {batch.schema.names}); build it with results_batch()"
            )
        super().write(batch)


def open_results(path: str | Path, *, pre_buffer: bool = True) -> pq.ParquetFile:
    """A results file opened for reading, its columns checked (one clear error if not)."""
    return open_table(
        path, RESULTS_COLUMNS, "an abcsim results file", ResultsError, pre_buffer=pre_buffer
    )


def read_results_meta(path: str | Path) -> ResultsMeta:
    """The metadata of a results file: source, target, scenario, seed, window, speed."""
    file = open_results(path)
    return ResultsMeta.from_metadata(file.schema_arrow.metadata or {}, str(path))


def read_results(path: str | Path) -> pd.DataFrame:
    """A whole results file as a DataFrame; ``agent_type``, ``request``, ``outcome`` categorical."""
    file = open_results(path)
    try:
        table = file.read(columns=list(RESULTS_COLUMNS))
    except (pa.ArrowInvalid, OSError) as exc:
        raise ResultsError(f"{path}: unreadable ({exc})") from None
    frame: pd.DataFrame = table.to_pandas()
    return frame

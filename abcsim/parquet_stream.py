"""A Parquet file written batch by batch, finished cleanly whatever happens.

Schedules and results are both long tables produced over time. A
:class:`ParquetStream` buffers record batches into row groups and writes them
to a hidden temporary file beside the target. How it ends depends on what the
table is:

* a **schedule** is all or nothing (``keep_partial=False``): on error or
  Ctrl-C the temporary file is deleted, so no half schedule is ever mistaken
  for a whole one;
* **results** are evidence (``keep_partial=True``): on error or Ctrl-C the
  file is closed properly and moved into place, so a replay stopped after ten
  minutes of a one-hour run still leaves a valid file of those ten minutes.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Self

import pyarrow as pa
import pyarrow.parquet as pq

from abcsim.errors import AbcsimError

ROW_GROUP_ROWS = 1 << 20


class ParquetStream:
    """Append record batches of one schema to ``path``; see the module docstring."""

    def __init__(
        self,
        path: str | Path,
        schema: pa.Schema,
        metadata: dict[bytes, bytes],
        *,
        keep_partial: bool,
        row_group_rows: int = ROW_GROUP_ROWS,
    ) -> None:
        self.path = Path(path)
        self.rows = 0
        self._keep_partial = keep_partial
        self._row_group_rows = row_group_rows
        folder = self.path.parent
        if not folder.is_dir():
            raise AbcsimError(f"{self.path}: folder {str(folder)!r} does not exist")
        try:
            handle, temp = tempfile.mkstemp(
                prefix=f".{self.path.name}.", suffix=".partial", dir=folder
            )
        except OSError as exc:
            raise AbcsimError(f"{self.path}: cannot write: {exc.strerror}") from None
        os.close(handle)
        self._temp = Path(temp)
        try:
            self._writer = pq.ParquetWriter(
                self._temp, schema.with_metadata(metadata), compression="zstd"
            )
        except OSError as exc:
            self._temp.unlink(missing_ok=True)
            raise AbcsimError(f"{self.path}: cannot write: {exc}") from None
        self._pending: list[pa.RecordBatch] = []
        self._pending_rows = 0
        self._closed = False

    def write(self, batch: pa.RecordBatch) -> None:
        if not batch.num_rows:
            return
        self._pending.append(batch)
        self._pending_rows += batch.num_rows
        self.rows += batch.num_rows
        if self._pending_rows >= self._row_group_rows:
            self.flush()

    def flush(self) -> None:
        """Write what is buffered as a row group now."""
        if self._pending:
            self._writer.write_table(pa.Table.from_batches(self._pending), self._row_group_rows)
        self._pending, self._pending_rows = [], 0

    def close(self) -> None:
        """Finish the file and move it into place."""
        if self._closed:
            return
        self._closed = True
        self.flush()
        self._writer.close()
        publish(self._temp, self.path)

    def abort(self) -> None:
        """Stop after a failure: keep what was written (results) or nothing (schedules)."""
        if self._keep_partial:
            self.close()
            return
        if not self._closed:
            self._closed = True
            self._writer.close()
            self._temp.unlink(missing_ok=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if kind is None:
            self.close()
        else:
            self.abort()


def publish(temp: Path | str, path: Path | str) -> None:
    """Move a finished temporary file into place, with the permissions a new file gets."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(temp, 0o666 & ~umask)  # mkstemp made it private
    os.replace(temp, path)


_PREFIX = "abcsim."


def encode_metadata(fields: dict[str, str]) -> dict[bytes, bytes]:
    """Key-value file metadata under the ``abcsim.`` prefix."""
    return {(_PREFIX + k).encode(): v.encode() for k, v in fields.items()}


def decode_metadata(metadata: dict[bytes, bytes] | None) -> dict[str, str]:
    """The ``abcsim.`` fields of a file's key-value metadata."""
    prefix = _PREFIX.encode()
    return {
        k[len(prefix) :].decode(): v.decode()
        for k, v in (metadata or {}).items()
        if k.startswith(prefix)
    }


def open_table(
    path: str | Path,
    columns: Sequence[str],
    kind: str,
    error: type[AbcsimError],
    *,
    pre_buffer: bool = True,
) -> pq.ParquetFile:
    """Open a Parquet file that must hold ``columns``; ``error`` names the file and the fault.

    ``pre_buffer=False`` for a file read batch by batch to the end: Arrow's
    read-ahead would otherwise keep gigabytes of a large file in memory.
    """
    if Path(path).is_dir():
        raise error(f"{path}: is a folder, not {kind}")
    try:
        file = pq.ParquetFile(path, pre_buffer=pre_buffer)
    except FileNotFoundError:
        raise error(f"{path}: no such file") from None
    except (pa.ArrowInvalid, OSError) as exc:
        raise error(f"{path}: not a Parquet file ({exc})") from None
    for column in columns:
        if column not in file.schema_arrow.names:
            raise error(f"{path}: column {column!r}: missing (not {kind})")
    return file

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

Closing needs a living process, so evidence that must outlive a ``kill -9``
(the OOM killer, a CI job's hard timeout) is written with ``journal=True``:
each :meth:`ParquetStream.write` goes at once, as one record batch, to an
**Arrow IPC stream** beside the target (``.NAME.journal``), and the Parquet
file is built from the journal only when the stream is closed.

* **Why a stream.** An IPC stream is readable up to its last complete batch
  with no footer to write, so a process that dies between two writes loses
  nothing it wrote, and one that dies inside a write loses that batch only.
  Finished Parquet parts would survive too, but each needs its own footer and
  compression on the hot path, and many small files merged at the end.
* **Cost.** A write is a copy of the batch's buffers into the page cache (a few
  syscalls per batch, no compression): writers hand over batches once or twice a
  second, never row by row. The Parquet encoding moves from the run to its
  close, so the sending process spends less CPU while it sends. No ``fsync``:
  the page cache survives the death of a process, which is what this is for;
  it does not claim to survive the machine's.
* **Disk.** The journal holds the rows uncompressed (about 55 bytes a results
  row) until the close, then is removed.
* **A reader** never sees a half file: the target appears only when finished.
  While the writer lives it holds an exclusive ``flock`` on the journal (the
  kernel drops it when the process dies, however it dies), so
  :func:`finish_journal` can tell a dead writer's journal, which it turns into
  the target, from a live one, which it leaves alone.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
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
        journal: bool = False,
    ) -> None:
        self.path = Path(path)
        self.rows = 0
        self.metadata = dict(metadata)
        """The file's key-value metadata; what is in it at :meth:`close` is what the file gets."""
        self._opening_metadata = dict(metadata)
        self._keep_partial = keep_partial
        self._row_group_rows = row_group_rows
        self._schema = schema
        self._pending: list[pa.RecordBatch] = []
        self._pending_rows = 0
        self._closed = False
        self._failed = False  # a write failed (a full disk): what is on disk is all there is
        folder = self.path.parent
        if not folder.is_dir():
            raise AbcsimError(f"{self.path}: folder {str(folder)!r} does not exist")
        self._journal = _Journal(journal_path(self.path), schema, metadata) if journal else None
        if self._journal is not None:
            return
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

    def write(self, batch: pa.RecordBatch) -> None:
        if not batch.num_rows:
            return
        if self._journal is not None:
            try:
                self._journal.write(batch)  # on disk now: see the module docstring
            except OSError as exc:
                raise self._cannot_write(exc) from None
            self.rows += batch.num_rows
            return
        self._pending.append(batch)
        self._pending_rows += batch.num_rows
        self.rows += batch.num_rows
        if self._pending_rows >= self._row_group_rows:
            self.flush()

    def flush(self) -> None:
        """Write what is buffered as a row group now (a journal buffers nothing)."""
        if self._pending:
            try:
                self._writer.write_table(pa.Table.from_batches(self._pending), self._row_group_rows)
            except OSError as exc:
                raise self._cannot_write(exc) from None
        self._pending, self._pending_rows = [], 0

    def close(self) -> None:
        """Finish the file and move it into place."""
        if self._closed:
            return
        self._closed = True
        if self._journal is not None:
            try:
                self._journal.close()
                finish_journal(
                    self._journal.path, self.path, self.metadata, self._row_group_rows, held=True
                )
            except OSError as exc:
                raise self._cannot_write(exc) from None
            except AbcsimError as exc:  # the Parquet file could not be written: keep the journal
                self._failed = True
                raise AbcsimError(f"{exc}{self._kept()}") from None
            finally:
                self._journal.release()
            return
        try:
            self.flush()
            if self.metadata != self._opening_metadata:
                self._writer.add_key_value_metadata(self.metadata)  # as it stands now
            self._writer.close()
        except OSError as exc:
            raise self._cannot_write(exc) from None
        except AbcsimError:
            self._discard()
            raise
        publish(self._temp, self.path)

    def _cannot_write(self, exc: OSError) -> AbcsimError:
        """A write failed (most often a full disk): one line naming the file and what is kept."""
        self._failed = True
        if self._journal is None:
            self._discard()
        why = "no space left on device" if exc.errno == errno.ENOSPC else str(exc)
        if "No space left on device" in str(exc):  # Arrow's own OSError carries no errno
            why = "no space left on device"
        return AbcsimError(f"{self.path}: cannot write: {why}{self._kept()}")

    def _kept(self) -> str:
        if self._journal is not None:
            return (
                f"; the {self.rows:,} rows written so far are kept in {self._journal.path.name}, "
                f"finished into {self.path.name} by the next abcsim report once there is room"
            )
        return "; nothing kept"

    def _discard(self) -> None:
        """Drop the temporary file after a failed write (its footer cannot be written)."""
        self._closed = True
        with contextlib.suppress(OSError):
            self._writer.close()
        self._temp.unlink(missing_ok=True)

    def abort(self) -> None:
        """Stop after a failure: keep what was written (results) or nothing (schedules)."""
        if self._failed:  # the disk refused a write: keep what is there, try nothing more
            if not self._closed and self._journal is not None:
                self._closed = True
                with contextlib.suppress(OSError):
                    self._journal.close()
                self._journal.release()  # a reader finishes it once there is room
            return
        if self._keep_partial:
            self.close()
            return
        if not self._closed:
            self._closed = True
            if self._journal is not None:
                self._journal.close()
                self._journal.path.unlink(missing_ok=True)
                self._journal.release()
                return
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


def journal_path(path: Path) -> Path:
    """Where the journal of a ``journal=True`` stream to ``path`` lives until its close."""
    return path.with_name(f".{path.name}.journal")


class _Journal:
    """An Arrow IPC stream appended batch by batch, locked for as long as its writer lives."""

    def __init__(self, path: Path, schema: pa.Schema, metadata: dict[bytes, bytes]) -> None:
        self.path = path
        try:
            # locked before it is emptied: a journal another live writer holds is never touched
            self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            raise AbcsimError(f"{path}: cannot write: {exc.strerror}") from None
        try:
            _lock(self._fd, path)
            os.ftruncate(self._fd, 0)
            self._sink = pa.OSFile(str(path), "w")
            self._writer = pa.ipc.new_stream(self._sink, schema.with_metadata(metadata))
        except BaseException as exc:
            os.close(self._fd)
            if isinstance(exc, OSError):
                raise AbcsimError(f"{path}: cannot write: {exc}") from None
            raise

    def write(self, batch: pa.RecordBatch) -> None:
        self._writer.write_batch(batch)

    def close(self) -> None:
        """Stop writing; the lock is kept until :meth:`release`, once the journal is finished."""
        self._writer.close()
        self._sink.close()

    def release(self) -> None:
        os.close(self._fd)


def _lock(fd: int, path: Path) -> None:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise AbcsimError(
            f"{path}: being written by another running process (or finished by one)"
        ) from None


def finish_journal(
    journal: Path,
    path: Path,
    metadata: dict[bytes, bytes] | None = None,
    row_group_rows: int = ROW_GROUP_ROWS,
    *,
    held: bool = False,
) -> int:
    """Turn ``journal`` into the Parquet file ``path`` and remove it; the rows it held.

    Reads every complete batch (a batch cut short by the writer's death is left
    out). ``metadata`` replaces the journal's own key-value metadata; the file
    appears whole or not at all, and the journal stays until it has. ``held``:
    the caller is the journal's writer and holds its lock already.
    """
    try:
        fd = os.open(journal, os.O_RDONLY | os.O_CLOEXEC)
    except OSError as exc:
        raise AbcsimError(f"{journal}: cannot read: {exc.strerror}") from None
    try:
        if not held:
            _lock(fd, journal)  # held until it is removed: two readers never both finish it
        with pa.OSFile(str(journal)) as source:
            try:
                reader = pa.ipc.open_stream(source)
            except (pa.ArrowInvalid, OSError) as exc:
                raise AbcsimError(f"{journal}: unreadable ({exc})") from None
            schema = reader.schema
            fields = (schema.metadata or {}) if metadata is None else metadata
            with ParquetStream(
                path, schema, fields, keep_partial=False, row_group_rows=row_group_rows
            ) as out:
                while True:
                    try:
                        batch = reader.read_next_batch()
                    except StopIteration:
                        break
                    except (pa.ArrowInvalid, OSError):
                        break  # the batch the writer was in when it died
                    out.write(batch)
            rows = out.rows
        journal.unlink()
    finally:
        os.close(fd)
    return rows


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

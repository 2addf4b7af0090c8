"""Schedules on disk: Parquet written chunk by chunk, read back whole or in batches.

The file's key-value metadata carries what reproduces and explains it: the
scenario text, the seed, the start (ISO 8601, UTC) and the horizon. Writing
goes to a hidden temporary file beside the target, renamed into place only
when complete, so a failure or Ctrl-C never leaves a half-written schedule.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from abcsim.errors import ScheduleError
from abcsim.schedule.columns import SCHEDULE_COLUMNS, SCHEDULE_SCHEMA, ScheduleChunk

ROW_GROUP_ROWS = 1 << 20
_PREFIX = "abcsim."


@dataclass(frozen=True)
class ScheduleMeta:
    """What a schedule file says about itself."""

    scenario_name: str
    scenario_text: str
    seed: int
    start: dt.datetime
    duration_s: float
    agent_types: tuple[str, ...]
    version: str = ""

    def to_metadata(self) -> dict[bytes, bytes]:
        fields = {
            "scenario_name": self.scenario_name,
            "scenario": self.scenario_text,
            "seed": str(self.seed),
            "start": self.start.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
            "duration_s": repr(self.duration_s),
            "agent_types": ",".join(self.agent_types),
            "version": self.version,
        }
        return {(_PREFIX + k).encode(): v.encode() for k, v in fields.items()}

    @classmethod
    def from_metadata(cls, metadata: dict[bytes, bytes], source: str) -> ScheduleMeta:
        fields = {
            k.decode()[len(_PREFIX) :]: v.decode()
            for k, v in metadata.items()
            if k.startswith(_PREFIX.encode())
        }
        try:
            return cls(
                scenario_name=fields["scenario_name"],
                scenario_text=fields["scenario"],
                seed=int(fields["seed"]),
                start=dt.datetime.fromisoformat(fields["start"].replace("Z", "+00:00")),
                duration_s=float(fields["duration_s"]),
                agent_types=tuple(fields["agent_types"].split(",")),
                version=fields.get("version", ""),
            )
        except (KeyError, ValueError) as exc:
            raise ScheduleError(f"{source}: metadata: not an abcsim schedule ({exc})") from None


class ScheduleWriter:
    """Streams :class:`ScheduleChunk` s into one Parquet file, atomically.

    >>> with ScheduleWriter("week.parquet", meta) as out:   # doctest: +SKIP
    ...     for chunk in simulate(scenario, run):
    ...         out.write(chunk)
    """

    def __init__(self, path: str | Path, meta: ScheduleMeta) -> None:
        self.path = Path(path)
        self.rows = 0
        schema = SCHEDULE_SCHEMA.with_metadata(meta.to_metadata())
        folder = self.path.parent
        if not folder.is_dir():
            raise ScheduleError(f"{self.path}: folder {str(folder)!r} does not exist")
        handle, temp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".partial", dir=folder)
        os.close(handle)
        self._temp = Path(temp)
        self._writer = pq.ParquetWriter(self._temp, schema, compression="zstd")
        self._pending: list[pa.RecordBatch] = []
        self._pending_rows = 0

    def write(self, chunk: ScheduleChunk) -> None:
        if not len(chunk):
            return
        self._pending.append(chunk.to_arrow())
        self._pending_rows += len(chunk)
        self.rows += len(chunk)
        if self._pending_rows >= ROW_GROUP_ROWS:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            self._writer.write_table(pa.Table.from_batches(self._pending), ROW_GROUP_ROWS)
        self._pending, self._pending_rows = [], 0

    def close(self) -> None:
        """Finish the file and move it into place."""
        self._flush()
        self._writer.close()
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(self._temp, 0o666 & ~umask)  # mkstemp made it private
        os.replace(self._temp, self.path)

    def abort(self) -> None:
        """Drop the partial file."""
        self._writer.close()
        self._temp.unlink(missing_ok=True)

    def __enter__(self) -> ScheduleWriter:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if kind is None:
            self.close()
        else:
            self.abort()


def _open(path: str | Path) -> pq.ParquetFile:
    try:
        return pq.ParquetFile(path)
    except FileNotFoundError:
        raise ScheduleError(f"{path}: no such file") from None
    except (pa.ArrowInvalid, OSError) as exc:
        raise ScheduleError(f"{path}: not a Parquet file ({exc})") from None


def _check_columns(path: str | Path, names: list[str]) -> None:
    for column in SCHEDULE_COLUMNS:
        if column not in names:
            raise ScheduleError(f"{path}: column {column!r}: missing (not an abcsim schedule)")


def read_meta(path: str | Path) -> ScheduleMeta:
    """The metadata of a schedule file."""
    file = _open(path)
    _check_columns(path, file.schema_arrow.names)
    return ScheduleMeta.from_metadata(file.schema_arrow.metadata or {}, str(path))


def read_schedule(path: str | Path) -> pd.DataFrame:
    """A whole schedule as a DataFrame (categories as ``category`` dtype)."""
    file = _open(path)
    _check_columns(path, file.schema_arrow.names)
    frame: pd.DataFrame = file.read(columns=list(SCHEDULE_COLUMNS)).to_pandas()
    return frame


def iter_batches(
    path: str | Path, columns: tuple[str, ...] = SCHEDULE_COLUMNS, batch_rows: int = 1 << 20
) -> Iterator[pa.RecordBatch]:
    """A schedule in record batches, for memory bounded by ``batch_rows``."""
    file = _open(path)
    _check_columns(path, file.schema_arrow.names)
    yield from file.iter_batches(batch_size=batch_rows, columns=list(columns))

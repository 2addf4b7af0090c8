"""Schedules on disk: Parquet written chunk by chunk, read back whole or in batches.

The file's key-value metadata carries what reproduces and explains it: the
scenario text, the seed, the start (ISO 8601, UTC) and the horizon. Writing is
all or nothing (:class:`~abcsim.parquet_stream.ParquetStream`): a failure or
Ctrl-C never leaves a half-written schedule.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from abcsim.errors import AbcsimError, ScheduleError
from abcsim.parquet_stream import ParquetStream, decode_metadata, encode_metadata, open_table
from abcsim.schedule.columns import SCHEDULE_COLUMNS, SCHEDULE_SCHEMA, ScheduleChunk


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
        return encode_metadata(fields)

    @classmethod
    def from_metadata(cls, metadata: dict[bytes, bytes], source: str) -> ScheduleMeta:
        fields = decode_metadata(metadata)
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


class ScheduleWriter(ParquetStream):
    """Streams :class:`ScheduleChunk` s into one Parquet file, all or nothing.

    >>> with ScheduleWriter("week.parquet", meta) as out:   # doctest: +SKIP
    ...     for chunk in simulate(scenario, run):
    ...         out.write_chunk(chunk)
    """

    def __init__(self, path: str | Path, meta: ScheduleMeta) -> None:
        try:
            super().__init__(path, SCHEDULE_SCHEMA, meta.to_metadata(), keep_partial=False)
        except AbcsimError as exc:
            raise ScheduleError(str(exc)) from None

    def write_chunk(self, chunk: ScheduleChunk) -> None:
        if len(chunk):
            self.write(chunk.to_arrow())


def _open(path: str | Path) -> pq.ParquetFile:
    return open_table(path, SCHEDULE_COLUMNS, "an abcsim schedule", ScheduleError)


def read_meta(path: str | Path) -> ScheduleMeta:
    """The metadata of a schedule file."""
    file = _open(path)
    return ScheduleMeta.from_metadata(file.schema_arrow.metadata or {}, str(path))


def read_schedule(path: str | Path) -> pd.DataFrame:
    """A whole schedule as a DataFrame (categories as ``category`` dtype)."""
    file = _open(path)
    frame: pd.DataFrame = file.read(columns=list(SCHEDULE_COLUMNS)).to_pandas()
    return frame


def iter_batches(
    path: str | Path, columns: tuple[str, ...] = SCHEDULE_COLUMNS, batch_rows: int = 1 << 20
) -> Iterator[pa.RecordBatch]:
    """A schedule in record batches, for memory bounded by ``batch_rows``."""
    file = _open(path)
    yield from file.iter_batches(batch_size=batch_rows, columns=list(columns))

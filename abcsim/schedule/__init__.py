"""Schedules: the table of timed requests, its Parquet files and its statistics."""

from __future__ import annotations

from abcsim.schedule.columns import SCHEDULE_COLUMNS, ScheduleChunk
from abcsim.schedule.parquet import (
    ScheduleMeta,
    ScheduleWriter,
    iter_batches,
    read_meta,
    read_schedule,
)

__all__ = [
    "SCHEDULE_COLUMNS",
    "ScheduleChunk",
    "ScheduleMeta",
    "ScheduleWriter",
    "iter_batches",
    "read_meta",
    "read_schedule",
]

"""Slices of a schedule: a window of the week, thinned or multiplied, one shard of agents.

``--window "Tue 13:00..Tue 14:00"`` picks the London–New York overlap of
the schedule's first Tuesday; ``--scale 0.5`` keeps half the requests and
``--scale 2`` sends each twice (the copy a fraction of a second later), so
the shape of the day is kept while the volume changes; a shard keeps the
agents with ``agent_id % n == k``, so N replay processes split the load by
agent.

Every random choice here (keep or drop, how many copies, the copies' offsets)
is a hash of the event id, not a draw from a stream: the same event gets the
same fate however the schedule is split into batches or shards.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow.parquet as pq

from abcsim.errors import ScheduleError, Setting
from abcsim.scenario.spec import REQUEST_TYPES, WEEKDAYS
from abcsim.schedule.columns import category_codes
from abcsim.schedule.parquet import read_meta

COPY_STRIDE = 10**12
"""Copy ``j`` of event ``e`` under ``--scale`` > 1 gets id ``e + j * COPY_STRIDE``."""

COPY_SPREAD_S = 1.0
"""Copies are spread uniformly over this many seconds after the original."""


@dataclass(frozen=True)
class Window:
    """``[start, end)`` in schedule seconds."""

    start: float
    end: float

    @property
    def length(self) -> float:
        return self.end - self.start


@dataclass(frozen=True)
class EventBlock:
    """Consecutive schedule rows, sorted by ``t``; categories as codes."""

    event_id: npt.NDArray[np.int64]
    t: npt.NDArray[np.float64]
    agent_id: npt.NDArray[np.int32]
    agent_type: npt.NDArray[np.int8]  # index into the schedule's agent types
    request: npt.NDArray[np.int8]  # index into REQUEST_TYPES
    size: npt.NDArray[np.int32]

    def __len__(self) -> int:
        return int(self.t.size)

    def take(self, mask: npt.NDArray[np.bool_] | npt.NDArray[np.int64]) -> EventBlock:
        return EventBlock(
            self.event_id[mask],
            self.t[mask],
            self.agent_id[mask],
            self.agent_type[mask],
            self.request[mask],
            self.size[mask],
        )


_FIELDS = ("event_id", "t", "agent_id", "agent_type", "request", "size")


# -- windows -------------------------------------------------------------------

WINDOW = Setting("window")
"""What a bad window's error names: ``--window`` on the command line, ``ABC_WINDOW`` in Locust."""

_WEEKLY = re.compile(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun)\s+(\d{1,2}):(\d{2})$")


def parse_window(text: str, start: dt.datetime, duration_s: float) -> Window:
    """``"A..B"`` → a :class:`Window` of a schedule starting at ``start``.

    Each end is seconds (``3600``), a weekday and UTC time (``Tue 13:00``: the
    first such moment at or after the schedule's start, and for the end the
    first at or after the window's start) or an ISO date-time.
    """
    parts = text.split("..")
    if len(parts) != 2:
        raise ScheduleError(WINDOW, f": expected START..END, got {text!r}")
    low = _moment(parts[0].strip(), start, 0.0, text)
    high = _moment(parts[1].strip(), start, low, text)
    if high <= low:
        raise ScheduleError(WINDOW, f": {text!r} ends before it starts")
    if low >= duration_s or high <= 0:
        raise ScheduleError(
            WINDOW,
            f": {text!r} is outside the schedule "
            f"(0..{duration_s:g} s from {start:%a %F %H:%M} UTC)",
        )
    return Window(max(low, 0.0), min(high, duration_s))


def _moment(text: str, start: dt.datetime, after: float, whole: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        if not math.isfinite(seconds):
            raise ScheduleError(WINDOW, f": {text!r} in {whole!r} is not a finite number")
        return seconds
    weekly = _WEEKLY.match(text)
    if weekly:
        day, hour, minute = weekly.groups()
        if int(hour) > 23 or int(minute) > 59:
            raise ScheduleError(WINDOW, f": {text!r} in {whole!r} is not a time of day")
        at = start + dt.timedelta(seconds=after)
        target = at.replace(hour=int(hour), minute=int(minute), second=0, microsecond=0)
        target += dt.timedelta(days=(WEEKDAYS.index(day) - at.weekday()) % 7)
        if target < at:
            target += dt.timedelta(days=7)
        return (target - start).total_seconds()
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ScheduleError(
            WINDOW,
            f": cannot read {text!r} in {whole!r} (seconds, 'Tue 13:00' or ISO date-time)",
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return (when - start).total_seconds()


# -- scale ---------------------------------------------------------------------


def _unit_hash(event_id: npt.NDArray[np.int64], salt: int) -> npt.NDArray[np.float64]:
    """A uniform [0, 1) number per event id (splitmix64), the same on every call."""
    with np.errstate(over="ignore"):
        z = event_id.astype(np.uint64) + np.uint64(salt) * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return np.asarray((z >> np.uint64(11)).astype(np.float64) / float(1 << 53), np.float64)


def scale_block(block: EventBlock, scale: float) -> EventBlock:
    """Thin (``scale`` < 1) or multiply (``scale`` > 1) a block's requests.

    Each event is sent ``floor(scale)`` or ``ceil(scale)`` times, the extra
    copy with probability ``scale - floor(scale)``; copies land up to
    :data:`COPY_SPREAD_S` after the original and the block is re-sorted.
    """
    if scale == 1.0 or not len(block):
        return block
    whole = int(np.floor(scale))
    copies = whole + (_unit_hash(block.event_id, 1) < scale - whole)
    index = np.repeat(np.arange(len(block)), copies)
    out = block.take(index)
    # j = 0 for the first copy of each event, 1 for the second, ...
    starts = np.repeat(np.cumsum(copies) - copies, copies)
    j = np.arange(index.size) - starts
    if j.any():
        event_id = out.event_id + j * COPY_STRIDE
        offset = np.where(j > 0, _unit_hash(event_id, 2) * COPY_SPREAD_S, 0.0)
        out = EventBlock(
            event_id, out.t + offset, out.agent_id, out.agent_type, out.request, out.size
        )
        out = out.take(np.argsort(out.t, kind="stable"))
    return out


# -- reading a slice -----------------------------------------------------------


def iter_slice(
    path: str | Path,
    window: Window | None = None,
    *,
    scale: float = 1.0,
    shard: tuple[int, int] = (0, 1),
    batch_rows: int = 1 << 16,
) -> Iterator[EventBlock]:
    """The schedule's events in ``window``, scaled and sharded, in ``t`` order, batch by batch.

    Row groups wholly outside the window are skipped using their ``t`` statistics.
    """
    meta = read_meta(path)
    window = window or Window(0.0, meta.duration_s)
    file = pq.ParquetFile(path)
    groups = _row_groups_overlapping(file, window)
    blocks = _blocks_in(file, meta.agent_types, path, window, shard, batch_rows, groups)
    yield from scaled_in_order(blocks, scale)


def _blocks_in(
    file: pq.ParquetFile,
    agent_types: tuple[str, ...],
    path: str | Path,
    window: Window,
    shard: tuple[int, int],
    batch_rows: int,
    groups: list[int],
) -> Iterator[EventBlock]:
    index, count = shard
    columns = ["event_id", "t", "agent_id", "agent_type", "request", "size"]
    for batch in file.iter_batches(batch_size=batch_rows, row_groups=groups, columns=columns):
        t = batch.column("t").to_numpy()
        inside = (t >= window.start) & (t < window.end)
        if count > 1:
            inside &= batch.column("agent_id").to_numpy() % count == index
        if not inside.any():
            if t.size and t[0] >= window.end:
                return
            continue
        yield EventBlock(
            batch.column("event_id").to_numpy(),
            t,
            batch.column("agent_id").to_numpy(),
            category_codes(batch.column("agent_type"), agent_types, path),
            category_codes(batch.column("request"), REQUEST_TYPES, path),
            batch.column("size").to_numpy(),
        ).take(inside)


def scaled_in_order(blocks: Iterable[EventBlock], scale: float) -> Iterator[EventBlock]:
    """``blocks`` (in time order) thinned or multiplied by ``scale``, still in time order.

    A copy lands up to :data:`COPY_SPREAD_S` after its original, so copies made
    from the end of one block can be later than the start of the next: each
    block keeps back its events after its last original's time and merges them
    into the next, whose originals all come at or after that time.
    """
    carry: EventBlock | None = None
    for block in blocks:
        if not len(block):
            continue
        horizon = float(block.t[-1])
        scaled = scale_block(block, scale)
        if carry is not None and len(carry):
            scaled = _merge(carry, scaled)
        ready = scaled.t <= horizon
        carry = scaled.take(~ready)
        yield scaled.take(ready)
    if carry is not None and len(carry):
        yield carry


def _merge(first: EventBlock, second: EventBlock) -> EventBlock:
    """Two sorted blocks as one sorted block."""
    both = EventBlock(*(np.concatenate([getattr(first, f), getattr(second, f)]) for f in _FIELDS))
    return both.take(np.argsort(both.t, kind="stable"))


def slice_rate_peak(
    path: str | Path, window: Window, *, speed: float, scale: float
) -> tuple[int, float]:
    """Events in the slice after scaling, and its peak rate (requests/s) at ``speed``.

    The peak is the busiest one-second window of wall-clock time — or, for a
    slice that plays in under a second, its count over its length: ten
    seconds at ``--speed 600`` is 1,000 requests in 17 ms, 60,000/s.
    """
    wall = window.length / speed
    width = min(1.0, wall)
    bins = max(1, int(np.ceil(wall / width)))
    per_bin = np.zeros(bins + 1, dtype=np.int64)
    total = 0
    for block in iter_slice(path, window, scale=scale):
        at = ((block.t - window.start) / speed / width).astype(np.int64)
        per_bin += np.bincount(np.clip(at, 0, bins), minlength=bins + 1)
        total += len(block)
    return total, float(per_bin.max()) / width if total else 0.0


def _row_groups_overlapping(file: pq.ParquetFile, window: Window) -> list[int]:
    column = file.schema_arrow.get_field_index("t")
    groups = []
    for i in range(file.metadata.num_row_groups):
        stats = file.metadata.row_group(i).column(column).statistics
        if (
            stats is None
            or not stats.has_min_max
            or (stats.max >= window.start and stats.min < window.end)
        ):
            groups.append(i)
    return groups

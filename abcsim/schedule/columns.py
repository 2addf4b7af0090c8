"""The schedule table: one row per request an agent will send, sorted by ``t``.

A :class:`ScheduleChunk` is a slice of it in memory — plain numpy columns,
categories as small integer codes — which is how the simulation produces it
and the Parquet writer consumes it. ``agent_type`` codes index the chunk's
``agent_types``; ``request`` codes index :data:`REQUEST_TYPES`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from abcsim.errors import ScheduleError
from abcsim.scenario.spec import REQUEST_TYPES

SCHEDULE_COLUMNS: tuple[str, ...] = ("event_id", "t", "agent_id", "agent_type", "request", "size")


_CATEGORY = pa.dictionary(pa.int8(), pa.string())

SCHEDULE_SCHEMA = pa.schema(
    [
        ("event_id", pa.int64()),
        ("t", pa.float64()),
        ("agent_id", pa.int32()),
        ("agent_type", _CATEGORY),
        ("request", _CATEGORY),
        ("size", pa.int32()),
    ]
)
"""Arrow types of :data:`SCHEDULE_COLUMNS`; categories are dictionary-encoded."""


def category_codes(
    column: pa.DictionaryArray, names: Sequence[str], source: str | Path
) -> npt.NDArray[np.int8]:
    """A dictionary column's values as positions in ``names``.

    Parquet readers may hand back a different dictionary per batch, so codes
    are re-mapped by value rather than trusted.
    """
    try:
        lookup = np.array([names.index(n) for n in column.dictionary.to_pylist()], dtype=np.int8)
    except ValueError as exc:
        raise ScheduleError(f"{source}: category not in the file's metadata ({exc})") from None
    codes: npt.NDArray[np.int8] = lookup[column.indices.to_numpy()]
    return codes


@dataclass(frozen=True)
class ScheduleChunk:
    """Rows of the schedule up to schedule time ``end`` (exclusive), in ``t`` order."""

    event_id: npt.NDArray[np.int64]
    t: npt.NDArray[np.float64]
    agent_id: npt.NDArray[np.int32]
    agent_type: npt.NDArray[np.int8]
    request: npt.NDArray[np.int8]
    size: npt.NDArray[np.int32]
    agent_types: tuple[str, ...]
    end: float

    def __len__(self) -> int:
        return int(self.t.size)

    def to_arrow(self) -> pa.RecordBatch:
        names = pa.array(self.agent_types, pa.string())
        requests = pa.array(REQUEST_TYPES, pa.string())
        return pa.record_batch(
            [
                pa.array(self.event_id),
                pa.array(self.t),
                pa.array(self.agent_id),
                pa.DictionaryArray.from_arrays(pa.array(self.agent_type), names),
                pa.DictionaryArray.from_arrays(pa.array(self.request), requests),
                pa.array(self.size),
            ],
            schema=SCHEDULE_SCHEMA,
        )

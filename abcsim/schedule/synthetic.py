"""Synthetic schedules: evenly spaced requests at a fixed rate, for probes and benchmarks.

A simulated week answers "what will Tuesday's overlap do to us?"; a steady
schedule answers "does the system hold 1,000 data requests a second?" —
``uniform_schedule("probe.parquet", scenario, rate=1000, seconds=60)``
writes one in the schedule format, so it replays and plans like any other.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from abcsim.scenario.spec import REQUEST_TYPES, Scenario
from abcsim.schedule.columns import ScheduleChunk
from abcsim.schedule.parquet import ScheduleMeta, ScheduleWriter


def uniform_schedule(
    path: str | Path,
    scenario: Scenario,
    *,
    rate: float,
    seconds: float,
    request: str = "data_collection",
    agents: int = 4,
    scenario_text: str | None = None,
) -> Path:
    """``rate`` evenly spaced ``request`` s per second for ``seconds``, from ``agents`` agents.

    The file carries ``scenario_text`` (default: the scenario's own), whose
    endpoints and SLOs a replay of it uses.
    """
    n = int(rate * seconds)
    chunk = ScheduleChunk(
        event_id=np.arange(n, dtype=np.int64),
        t=np.arange(n) / rate,
        agent_id=(np.arange(n) % agents).astype(np.int32),
        agent_type=np.zeros(n, np.int8),
        request=np.full(n, REQUEST_TYPES.index(request), np.int8),
        size=np.ones(n, np.int32),
        agent_types=("trading",),
        end=seconds,
    )
    meta = ScheduleMeta(
        scenario_name=scenario.name,
        scenario_text=scenario.text if scenario_text is None else scenario_text,
        seed=0,
        start=scenario.start,
        duration_s=seconds,
        agent_types=("trading",),
    )
    with ScheduleWriter(path, meta) as writer:
        writer.write_chunk(chunk)
    return Path(path)

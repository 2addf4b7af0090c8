"""Results frames built by hand, through the same ``results_batch`` the replayer uses."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from abcsim.results import OUTCOMES, ResultsMeta, results_batch
from abcsim.scenario.spec import REQUEST_TYPES

AGENT_TYPES = ("trading", "hft", "batch")
START = dt.datetime(2025, 3, 10, 13, 0, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Req:
    """One results row: scheduled at ``t``, answered ``latency_ms`` later (None: never sent)."""

    t: float
    request: str
    latency_ms: float | None
    outcome: str = "ok"
    bytes: int = 0
    error: str = ""
    agent: str = "trading"
    lag_ms: float = 0.0  # sent this late; service = latency - lag


def batch(rows: Sequence[Req], first_id: int = 0) -> pa.RecordBatch:
    latency = np.array([np.nan if r.latency_ms is None else r.latency_ms / 1000 for r in rows])
    lag = np.array([r.lag_ms / 1000 for r in rows])
    t = np.array([r.t for r in rows], dtype=np.float64)
    return results_batch(
        event_id=np.arange(first_id, first_id + len(rows), dtype=np.int64),
        t=t,
        agent_type=np.array([AGENT_TYPES.index(r.agent) for r in rows], dtype=np.int8),
        agent_types=AGENT_TYPES,
        request=np.array([REQUEST_TYPES.index(r.request) for r in rows], dtype=np.int8),
        sent=np.where(np.isnan(latency), np.nan, t + lag),
        latency=latency,
        service=latency - lag,
        status=np.array([200 if r.outcome == "ok" else 0 for r in rows], dtype=np.int16),
        outcome=np.array([OUTCOMES.index(r.outcome) for r in rows], dtype=np.int8),
        bytes_=np.array([r.bytes for r in rows], dtype=np.int32),
        error=[r.error for r in rows],
    )


def frame(rows: Sequence[Req]) -> pd.DataFrame:
    """The DataFrame ``read_results`` would give for these rows."""
    out: pd.DataFrame = pa.Table.from_batches([batch(rows)]).to_pandas()
    return out


def meta(window: tuple[float, float] = (0.0, 60.0), speed: float = 1.0) -> ResultsMeta:
    return ResultsMeta(
        source="replay",
        target="http://127.0.0.1:8080",
        scenario_name="smoke",
        scenario_text="# smoke\n",
        seed=7,
        schedule_start=START,
        wall_start=START + dt.timedelta(minutes=5),
        window=window,
        speed=speed,
    )

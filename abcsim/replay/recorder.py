"""The replay's logbook: one results row per scheduled event, however it ended.

Requests report here as they end — answered, failed, timed out, or never
sent — and the recorder turns the rows into results batches for the
:class:`~abcsim.results.parquet.ResultsWriter`. It also keeps the live figures
the progress line shows (requests done, errors, recent P95 and send lag), so
nobody has to scan the results while the replay runs.

Clock conventions: ``due`` and the other arguments are ``time.monotonic()``
seconds; ``sent`` is written in *schedule* seconds (``window.start +
(send − t0) × speed``), comparable with ``t``; ``latency`` (from due) and
``service`` (from send) are real seconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from abcsim.results.columns import OUTCOMES, results_batch
from abcsim.schedule.slicing import EventBlock

OK, HTTP_ERROR, TIMEOUT, CONNECTION_ERROR, DROPPED = (
    OUTCOMES.index(o) for o in ("ok", "http_error", "timeout", "connection_error", "dropped")
)
_RECENT = 4096  # completions the live P95 and send lag look at


@dataclass(frozen=True)
class LiveFigures:
    """What the progress line shows."""

    done: int
    errors: int
    dropped: int
    p95_s: float
    lag_p99_s: float


class Recorder:
    """Collects rows as requests end; see the module docstring."""

    def __init__(
        self, agent_types: Sequence[str], window_start: float, speed: float, t0: float
    ) -> None:
        self.agent_types = tuple(agent_types)
        self.window_start = window_start
        self.speed = speed
        self.t0 = t0  # the monotonic time at which window_start plays
        self._rows: list[tuple[int, float, int, int, float, float, float, int, int, int, str]] = []
        self._dropped: list[tuple[EventBlock, str]] = []
        self._recent_latency = np.full(_RECENT, np.nan)
        self._recent_lag = np.full(_RECENT, np.nan)
        self._cursor = 0
        self.done = self.errors = self.dropped = 0

    def schedule_time(self, monotonic: float) -> float:
        return self.window_start + (monotonic - self.t0) * self.speed

    def ended(
        self,
        *,
        event_id: int,
        t: float,
        agent_type: int,
        request: int,
        due: float,
        sent: float,
        end: float,
        status: int,
        outcome: int,
        nbytes: int,
        error: str,
    ) -> None:
        """A request that was sent has ended (answered, failed or timed out)."""
        self._rows.append(
            (
                event_id,
                t,
                agent_type,
                request,
                self.schedule_time(sent),
                end - due,
                end - sent,
                status,
                outcome,
                nbytes,
                error,
            )
        )
        slot = self._cursor % _RECENT
        self._recent_latency[slot] = end - due
        self._recent_lag[slot] = sent - due
        self._cursor += 1
        self.done += 1
        self.errors += outcome != OK

    def never_sent(self, block: EventBlock, reason: str) -> None:
        """Events that were never sent (a limit or a stop): outcome ``dropped``."""
        if len(block):
            self._dropped.append((block, reason))
            self.done += len(block)
            self.errors += len(block)
            self.dropped += len(block)

    def never_sent_one(
        self, event_id: int, t: float, agent_type: int, request: int, why: str
    ) -> None:
        """One event that was never sent (late, or no free slot in time)."""
        nan = float("nan")
        self._rows.append((event_id, t, agent_type, request, nan, nan, nan, 0, DROPPED, 0, why))
        self.done += 1
        self.errors += 1
        self.dropped += 1

    def live(self) -> LiveFigures:
        latency = self._recent_latency[~np.isnan(self._recent_latency)]
        lag = self._recent_lag[~np.isnan(self._recent_lag)]
        return LiveFigures(
            done=self.done,
            errors=self.errors,
            dropped=self.dropped,
            p95_s=float(np.percentile(latency, 95)) if latency.size else float("nan"),
            lag_p99_s=float(np.percentile(lag, 99)) if lag.size else float("nan"),
        )

    def take(self) -> list[pa.RecordBatch]:
        """Everything recorded since the last call, as results batches."""
        batches = []
        if self._rows:
            columns = list(zip(*self._rows, strict=True))
            self._rows = []
            batches.append(
                results_batch(
                    event_id=np.asarray(columns[0], np.int64),
                    t=np.asarray(columns[1], np.float64),
                    agent_type=np.asarray(columns[2], np.int8),
                    agent_types=self.agent_types,
                    request=np.asarray(columns[3], np.int8),
                    sent=np.asarray(columns[4], np.float64),
                    latency=np.asarray(columns[5], np.float64),
                    service=np.asarray(columns[6], np.float64),
                    status=np.asarray(columns[7], np.int16),
                    outcome=np.asarray(columns[8], np.int8),
                    bytes_=np.asarray(columns[9], np.int32),
                    error=columns[10],
                )
            )
        for block, reason in self._dropped:
            n = len(block)
            nan = np.full(n, np.nan)
            batches.append(
                results_batch(
                    event_id=block.event_id,
                    t=block.t,
                    agent_type=block.agent_type,
                    agent_types=self.agent_types,
                    request=block.request,
                    sent=nan,
                    latency=nan,
                    service=nan,
                    status=np.zeros(n, np.int16),
                    outcome=np.full(n, DROPPED, np.int8),
                    bytes_=np.zeros(n, np.int32),
                    error=[reason] * n,
                )
            )
        self._dropped = []
        return batches

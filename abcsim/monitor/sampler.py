"""Sampling the watched sources every interval during a replay, into the monitor file.

A :class:`Sampler` is a thread started before the replay's clock and stopped
after its last answer. Every ``interval_s`` (1 s by default, on an absolute
clock: a slow scrape does not shift the next) it reads each source once and
writes one row per series, its ``t`` on the replay's schedule clock —
``window start + (wall − clock start) × speed``, exactly how the results place
an event — so the queue length at the London open sits beside the requests
sent at the London open. A source that cannot be read gets ``up = 0`` and
nothing else that time: a gap, and the replay goes on.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from abcsim.monitor.columns import CPU_CORES, MONITOR_SCHEMA, UP
from abcsim.monitor.sources import Series, SourceError, process_cores, sample_process, scrape
from abcsim.parquet_stream import ParquetStream


@dataclass(frozen=True)
class MonitorSettings:
    """What to watch: ``/metrics`` URLs and local process ids, and how often."""

    urls: tuple[str, ...] = ()
    pids: tuple[int, ...] = ()
    interval_s: float = 1.0

    def __bool__(self) -> bool:
        return bool(self.urls or self.pids)

    @property
    def sources(self) -> tuple[str, ...]:
        return (*self.urls, *(f"pid:{pid}" for pid in self.pids))


class Sampler:
    """Samples ``settings`` into ``path`` on the clock of a replay; see the module doc."""

    def __init__(
        self,
        settings: MonitorSettings,
        path: str | Path,
        *,
        clock_start: float,
        window_start: float,
        speed: float,
    ) -> None:
        self.settings = settings
        self.path = Path(path)
        self._clock_start = clock_start
        self._window_start = window_start
        self._speed = speed
        self._stop = threading.Event()
        self._writer = ParquetStream(self.path, MONITOR_SCHEMA, {}, keep_partial=True)
        self._thread = threading.Thread(target=self._run, name="monitor", daemon=True)
        self._cores = {pid: float(process_cores(pid)) for pid in settings.pids}
        self.samples = 0
        self.gaps = 0

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._writer.close()

    def _run(self) -> None:
        next_at = time.monotonic()
        while not self._stop.is_set():
            self.sample_once()
            next_at += self.settings.interval_s
            self._stop.wait(max(0.0, next_at - time.monotonic()))
        self.sample_once()  # the state at the end

    def sample_once(self) -> None:
        """One row per series of every source, and ``up`` for each."""
        timeout = min(2.0, self.settings.interval_s)
        columns: dict[str, list[object]] = {name: [] for name in MONITOR_SCHEMA.names}
        for source in self.settings.sources:
            wall = time.time()
            try:
                if source.startswith("pid:"):
                    pid = int(source[4:])
                    series = [*sample_process(pid), Series(CPU_CORES, "", self._cores[pid])]
                else:
                    series = scrape(source, timeout)
                up = 1.0
            except SourceError:
                series, up = [], 0.0
                self.gaps += 1
            t = self._window_start + (wall - self._clock_start) * self._speed
            for item in (Series(UP, "", up), *series):
                columns["t"].append(t)
                columns["wall"].append(wall)
                columns["source"].append(source)
                columns["metric"].append(item.metric)
                columns["labels"].append(item.labels)
                columns["value"].append(item.value)
        self.samples += 1
        arrays = [pa.array(columns[f.name]).cast(f.type) for f in MONITOR_SCHEMA]
        self._writer.write(pa.RecordBatch.from_arrays(arrays, schema=MONITOR_SCHEMA))

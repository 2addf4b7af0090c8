"""A run reduced, batch by batch, to what its statistics and SLO checks need: memory by the answer.

A whole week's plan is fifty million results rows; read as one DataFrame and
tabulated, it took 9 GB. Every figure of the end-of-run report — Locust's
table by endpoint and by agent type, the error report, the SLO verdict — is a
function of a few sums per **cell** (a request type sent by an agent type:
requests, failures, response bytes), the answered requests' response times
per cell, the failures' reasons, and the run's last response. A
:class:`Digest` keeps exactly those, fed one batch at a time
(:func:`digest_file` reads a file twice in batches: once to count each cell's
times, once to fill buffers of exactly that size), so memory is the answered
times (8 bytes each) and one batch: the week's 50 million times take 0.4 GB,
and ``abcsim report`` of the week peaks at 0.68 GB (``bench/plan_memory.py``).

Percentiles stay exact (Locust's rank rule, :func:`~abcsim.results.stats.percentile_ranks`):
each cell's times are sorted once, and the k-th smallest of an endpoint, an
agent type or the whole run is selected across its cells' sorted arrays
without merging them (:func:`select`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa

from abcsim.errors import ResultsError
from abcsim.results.parquet import open_results
from abcsim.results.stats import (
    AGGREGATED,
    PERCENTILES,
    BoolArray,
    Endpoints,
    EntryStats,
    ErrorStats,
    FloatArray,
    GroupBy,
    IntArray,
    ResponseTime,
    RunClock,
    RunStats,
    endpoint_key,
    endpoint_table,
    failure_reasons,
    percentile_ranks,
    to_ms,
)

CODES = 256
"""Agent types a cell code has room for (``request × CODES + agent type``)."""

NEEDED = ("t", "agent_type", "request", "sent", "latency", "service", "outcome", "bytes", "error")

LAG_EDGES = np.logspace(-6, 4, 201)
"""Send-lag histogram edges, 1 µs to 10,000 s, 20 a decade: a P99 to within 12%, in a few
kilobytes however long the run (the verdict on the generator needs no more)."""
BATCH_ROWS = 1 << 18
"""Rows read at a time from a file: about 15 MB in flight."""

STOP_REASONS = ("stopped", "stopped before the response")
"""The replayer's reasons for events that a stop (Ctrl-C, SIGTERM, the web UI) cut off."""


def not_sent(frame: pd.DataFrame) -> npt.NDArray[np.bool_]:
    """Rows a stopped run never sent, or stopped waiting for: not the system's failures.

    A replay stopped halfway records the rest of its window as ``dropped``
    ("stopped") and what was in flight as ``timeout`` ("stopped before the
    response"), so the file still holds a row per event; counted as errors they
    would read as "SLO breached: error rate 97%" for a healthy system.
    """
    if "error" not in frame.columns:  # a frame of a few columns (a test's, a notebook's)
        return np.zeros(len(frame), bool)
    return frame["error"].isin(STOP_REASONS).to_numpy()


@dataclass
class Cell:
    """One request type from one agent type: counts, bytes and the answered times (ms).

    Times go into a buffer reserved at their exact count when a first pass has
    counted them (a file), else into chunks gathered at the end (a frame).
    """

    requests: int = 0
    failures: int = 0
    bytes: float = 0.0
    expected: int = 0  # answered times counted by a first pass
    chunks: list[FloatArray] = field(default_factory=list)
    filled: int = 0
    ms: FloatArray = field(default_factory=lambda: np.zeros(0))  # sorted after finish()

    def reserve(self) -> None:
        self.ms = np.empty(self.expected)

    def put(self, ms: FloatArray) -> None:
        if self.filled + ms.size <= self.ms.size:
            self.ms[self.filled : self.filled + ms.size] = ms
            self.filled += ms.size
        else:
            self.chunks.append(ms)

    def finish(self) -> None:
        """Sort the times in place (gathering chunks first, freeing each as it is copied)."""
        times = self.ms[: self.filled]
        if self.chunks:
            times = np.empty(self.filled + sum(c.size for c in self.chunks))
            times[: self.filled] = self.ms[: self.filled]
            at = self.filled
            while self.chunks:
                chunk = self.chunks.pop(0)
                times[at : at + chunk.size] = chunk
                at += chunk.size
        times.sort()
        self.ms, self.filled = times, times.size


@dataclass(frozen=True)
class Rows:
    """A batch's rows that count, with what :class:`Digest` needs of each."""

    frame: pd.DataFrame
    cell: IntArray  # request code × CODES + agent type code
    failed: BoolArray
    ms: FloatArray  # the response time, ms
    timed: BoolArray  # answered, with a time
    cut: int  # rows left out: not sent because the run was stopped


@dataclass
class ErrorTally:
    """One error of one request type: how often, first and last (run seconds), first row."""

    occurrences: int
    first_s: float
    last_s: float
    order: int


class Digest:
    """A run's cells, errors and length; fed frames with :meth:`add`, read after :meth:`finish`."""

    def __init__(
        self,
        clock: RunClock | None = None,
        *,
        response_time: ResponseTime = "latency",
        leave_out_not_sent: bool = False,
    ) -> None:
        if response_time not in ("latency", "service"):
            raise ValueError(f"response_time must be 'latency' or 'service', got {response_time!r}")
        self.clock = clock or RunClock()
        self.response_time = response_time
        self.leave_out_not_sent = leave_out_not_sent
        self.requests: list[str] = []
        self.agent_types: list[str] = []
        self.cells: dict[tuple[int, int], Cell] = {}
        self.errors: dict[tuple[int, str], ErrorTally] = {}
        self.last_end = 0.0
        self.rows = 0
        self.not_sent = 0  # left out: events a stopped run never got to
        self.client_drops = 0  # never sent, by the generator's own limits (not a stop)
        self.lag_counts = np.zeros(LAG_EDGES.size + 1, np.int64)  # wall seconds, sent rows

    def add(self, frame: pd.DataFrame) -> None:
        """Fold a results frame (or a batch of one) into the digest."""
        rows = self._rows(frame)
        self.not_sent += rows.cut
        if rows.frame.empty:
            return
        frame, cell, failed, ms, timed = rows.frame, rows.cell, rows.failed, rows.ms, rows.timed
        latency = frame["latency"].to_numpy(np.float64)
        self.rows += len(frame)
        self._add_lags(frame)
        end = self.clock.run_seconds(frame["t"].to_numpy(np.float64)) + np.nan_to_num(latency)
        self.last_end = max(self.last_end, float(np.nanmax(end)))
        size = frame["bytes"].to_numpy(np.float64)
        for code in np.unique(cell):
            mine = cell == code
            tally = self._cell(int(code))
            tally.requests += int(mine.sum())
            tally.failures += int((mine & failed).sum())
            tally.bytes += float(size[mine].sum())
            tally.put(ms[mine & timed])
        if failed.any():
            self._add_errors(frame, failed, cell // CODES, end)

    def _add_lags(self, frame: pd.DataFrame) -> None:
        """How late each request went out (wall seconds), and the drops that were the
        generator's: the evidence on whether the load was delivered as scheduled."""
        sent = frame["sent"].to_numpy(np.float64)
        lag = (sent - frame["t"].to_numpy(np.float64)) / self.clock.speed
        lag = np.maximum(lag[~np.isnan(lag)], 0.0)
        bins = np.searchsorted(LAG_EDGES, lag)
        self.lag_counts += np.bincount(bins, minlength=self.lag_counts.size)
        dropped = (frame["outcome"] == "dropped").to_numpy() & ~not_sent(frame)
        self.client_drops += int(dropped.sum())

    def lag_percentile(self, fraction: float) -> float:
        """The send lag (wall seconds) at ``fraction``, from above (a bin's upper edge)."""
        total = int(self.lag_counts.sum())
        if not total:
            return math.nan
        at = int(np.searchsorted(np.cumsum(self.lag_counts), fraction * total))
        return float(LAG_EDGES[min(at, LAG_EDGES.size - 1)])

    def count(self, frame: pd.DataFrame) -> None:
        """A first pass: count each cell's answered times, to :meth:`reserve` exactly that."""
        rows = self._rows(frame)
        codes, counts = np.unique(rows.cell[rows.timed], return_counts=True)
        for code, n in zip(codes, counts, strict=True):
            self._cell(int(code)).expected += int(n)

    def reserve(self) -> None:
        """After the first pass: one buffer per cell, of the size counted (no copies later)."""
        for cell in self.cells.values():
            cell.reserve()

    def _cell(self, code: int) -> Cell:
        return self.cells.setdefault((code // CODES, code % CODES), Cell())

    def _rows(self, frame: pd.DataFrame) -> Rows:
        """The rows to count, each with its cell, failure, time (ms) and answered-ness."""
        missing = [c for c in NEEDED if c not in frame.columns]
        if missing:
            raise ResultsError(
                f"results: column {missing[0]!r}: missing (not an abcsim results frame)"
            )
        cut = not_sent(frame) if self.leave_out_not_sent else np.zeros(len(frame), bool)
        if cut.any():
            frame = frame[~cut]
        request = _codes(frame["request"], self.requests)
        agent_type = _codes(frame["agent_type"], self.agent_types)
        failed = (frame["outcome"] != "ok").to_numpy()
        chosen = frame["latency" if self.response_time == "latency" else "service"]
        ms = to_ms(chosen.to_numpy(np.float64))
        timed = ~failed & ~np.isnan(ms)
        return Rows(frame, request * CODES + agent_type, failed, ms, timed, int(cut.sum()))

    def _add_errors(
        self, frame: pd.DataFrame, failed: np.ndarray, request: np.ndarray, end: FloatArray
    ) -> None:
        rows = pd.DataFrame(
            {
                "request": request[failed],
                "error": failure_reasons(frame, failed),
                "end": end[failed],
            }
        )
        grouped = rows.groupby(["request", "error"], sort=False)["end"].agg(["size", "min", "max"])
        for (code, error), count, first, last in zip(
            grouped.index, grouped["size"], grouped["min"], grouped["max"], strict=True
        ):
            key = (int(code), str(error))
            seen = self.errors.get(key)
            if seen is None:
                self.errors[key] = ErrorTally(int(count), first, last, len(self.errors))
            else:
                seen.occurrences += int(count)
                seen.first_s, seen.last_s = min(seen.first_s, first), max(seen.last_s, last)

    def finish(self) -> Digest:
        """Sort every cell's times; the digest is then ready to be read."""
        for cell in self.cells.values():
            cell.finish()
        return self

    def request_cells(self, request: str) -> list[Cell]:
        """The cells of one request type (every agent type that sent it)."""
        if request not in self.requests:
            return []
        code = self.requests.index(request)
        return [c for (r, _), c in self.cells.items() if r == code]


def _codes(column: pd.Series, names: list[str]) -> np.ndarray:
    """The column's values as indices into ``names``, extended with any new value."""
    values = column.astype("category")
    categories = [str(c) for c in values.cat.categories]
    for name in categories:
        if name not in names:
            names.append(name)
    lookup = np.array([names.index(n) for n in categories] or [0], np.int64)
    return lookup[values.cat.codes.to_numpy(np.int64)]


def select(arrays: Sequence[FloatArray], k: int) -> float:
    """The ``k``-th smallest (0-based) of the values of sorted ``arrays``, without merging them.

    The answer is some array's element ``v`` with fewer than ``k + 1`` values
    below it and more than ``k`` at or below it; in each array those counts
    rise with the index, so a binary search per array finds it.
    """
    arrays = [a for a in arrays if a.size]
    if len(arrays) == 1:
        return float(arrays[0][k])
    for values in arrays:
        low, high = 0, values.size - 1
        while low <= high:
            middle = (low + high) // 2
            v = values[middle]
            at_or_below = sum(int(np.searchsorted(a, v, "right")) for a in arrays)
            below = sum(int(np.searchsorted(a, v, "left")) for a in arrays)
            if at_or_below <= k:
                low = middle + 1
            elif below > k:
                high = middle - 1
            else:
                return float(v)
    raise ValueError(f"rank {k} is beyond the {sum(a.size for a in arrays)} values")


def percentiles_of(cells: Sequence[Cell], fractions: Sequence[float] = PERCENTILES) -> FloatArray:
    """Exact percentiles of the cells' answered times together; NaN if there are none."""
    arrays = [c.ms for c in cells]
    n = sum(a.size for a in arrays)
    if not n:
        return np.full(len(fractions), np.nan)
    return np.array([select(arrays, int(k)) for k in percentile_ranks(n, fractions)])


def entry_stats(method: str, name: str, cells: Sequence[Cell], duration_s: float) -> EntryStats:
    """One row of Locust's table from the cells it covers."""
    arrays = [c.ms for c in cells if c.ms.size]
    timed = sum(a.size for a in arrays)
    requests = sum(c.requests for c in cells)
    failures = sum(c.failures for c in cells)
    percentiles = percentiles_of(cells)
    rate = 1.0 / duration_s if duration_s > 0 else 0.0
    return EntryStats(
        method=method,
        name=name,
        requests=requests,
        failures=failures,
        timed=timed,
        avg_ms=sum(float(a.sum()) for a in arrays) / timed if timed else math.nan,
        min_ms=min(float(a[0]) for a in arrays) if timed else math.nan,
        max_ms=max(float(a[-1]) for a in arrays) if timed else math.nan,
        median_ms=float(percentiles[0]),
        # Locust divides the bytes by every request, timed or not.
        avg_bytes=sum(c.bytes for c in cells) / requests if requests else 0.0,
        rps=requests * rate,
        fail_per_s=failures * rate,
        percentiles_ms=tuple(float(p) for p in percentiles),
    )


def digest_stats(
    digest: Digest,
    endpoints: Endpoints,
    *,
    duration_s: float | None = None,
    by: GroupBy = "endpoint",
) -> RunStats:
    """Locust's statistics of a finished digest, by endpoint or by agent type."""
    table = endpoint_table(endpoints)
    keys = [endpoint_key(request, table) for request in digest.requests]
    groups: dict[tuple[str, str], list[Cell]] = {}
    for (request, agent_type), cell in digest.cells.items():
        key = keys[request] if by == "endpoint" else ("", digest.agent_types[agent_type])
        groups.setdefault(key, []).append(cell)
    duration = digest.last_end if duration_s is None else float(duration_s)
    entries = tuple(
        entry_stats(*key, groups[key], duration)
        for key in sorted(groups, key=lambda k: (k[1], k[0]))
    )
    return RunStats(
        entries=entries,
        total=entry_stats("", AGGREGATED, list(digest.cells.values()), duration),
        errors=_errors(digest, keys),
        duration_s=duration,
        response_time=digest.response_time,
        clock=digest.clock,
    )


def _errors(digest: Digest, keys: list[tuple[str, str]]) -> tuple[ErrorStats, ...]:
    """Locust's error report: per endpoint and error, in order of first occurrence."""
    merged: dict[tuple[tuple[str, str], str], ErrorTally] = {}
    for (request, error), tally in digest.errors.items():
        key = (keys[request], error)
        seen = merged.get(key)
        if seen is None:
            merged[key] = ErrorTally(tally.occurrences, tally.first_s, tally.last_s, tally.order)
        else:
            seen.occurrences += tally.occurrences
            seen.first_s, seen.last_s = (
                min(seen.first_s, tally.first_s),
                max(seen.last_s, tally.last_s),
            )
            seen.order = min(seen.order, tally.order)
    ordered = sorted(merged.items(), key=lambda item: (item[1].first_s, item[1].order))
    return tuple(
        ErrorStats(method, name, error, t.occurrences, float(t.first_s), float(t.last_s))
        for ((method, name), error), t in ordered
    )


def digest_frame(
    frame: pd.DataFrame,
    *,
    clock: RunClock | None = None,
    response_time: ResponseTime = "latency",
    leave_out_not_sent: bool = False,
) -> Digest:
    """The digest of a results frame held in memory."""
    digest = Digest(clock, response_time=response_time, leave_out_not_sent=leave_out_not_sent)
    digest.add(frame)
    return digest.finish()


def digest_file(
    path: str | Path,
    *,
    clock: RunClock | None = None,
    response_time: ResponseTime = "latency",
    leave_out_not_sent: bool = False,
    batch_rows: int = BATCH_ROWS,
) -> Digest:
    """The digest of a results file, read ``batch_rows`` at a time."""
    digest = Digest(clock, response_time=response_time, leave_out_not_sent=leave_out_not_sent)
    file = open_results(path, pre_buffer=False)
    try:
        # two passes: count each cell's times, then fill buffers of exactly that size —
        # a second read of the file costs less than holding the times twice to gather them
        for batch in file.iter_batches(batch_size=batch_rows, columns=list(NEEDED)):
            digest.count(_frame(batch))
        digest.reserve()
        for batch in file.iter_batches(batch_size=batch_rows, columns=list(NEEDED)):
            digest.add(_frame(batch))
    except (pa.ArrowInvalid, OSError) as exc:
        raise ResultsError(f"{path}: unreadable ({exc})") from None
    return digest.finish()


def _frame(batch: pa.RecordBatch) -> pd.DataFrame:
    """A batch as a frame, its error texts left in Arrow (only failures' are ever read)."""
    frame: pd.DataFrame = batch.to_pandas(
        types_mapper=lambda t: pd.ArrowDtype(t) if pa.types.is_string(t) else None
    )
    return frame


def results_stats(
    frame: pd.DataFrame,
    endpoints: Endpoints,
    *,
    clock: RunClock | None = None,
    duration_s: float | None = None,
    response_time: ResponseTime = "latency",
    by: GroupBy = "endpoint",
) -> RunStats:
    """Locust's statistics of a results frame, exact; see :mod:`abcsim.results.stats`.

    ``by="agent_type"`` makes one row per agent type (Type empty, Name the
    agent type) instead of one per endpoint; the error report stays per endpoint.
    """
    digest = digest_frame(frame, clock=clock, response_time=response_time)
    return digest_stats(digest, endpoints, duration_s=duration_s, by=by)


def stats_by_agent_type(
    frame: pd.DataFrame,
    endpoints: Endpoints,
    *,
    clock: RunClock | None = None,
    duration_s: float | None = None,
    response_time: ResponseTime = "latency",
) -> dict[str, RunStats]:
    """:func:`results_stats` of each agent type's rows, all over the whole run's duration.

    One duration for all, so the batch users' req/s and the high-frequency
    users' req/s add up to the Aggregated req/s.
    """
    if duration_s is None:
        duration_s = digest_frame(frame, clock=clock).last_end
    types = frame["agent_type"].astype("category")
    return {
        str(name): results_stats(
            frame[(types == name).to_numpy()],
            endpoints,
            clock=clock,
            duration_s=duration_s,
            response_time=response_time,
        )
        for name in types.cat.categories
        if (types == name).any()
    }

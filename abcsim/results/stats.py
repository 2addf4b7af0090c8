"""Per-endpoint request statistics, defined the way Locust defines them but exact.

The engineers who run the ABC trading system read load tests as Locust's
table: for each endpoint (Type = HTTP method, Name = path) and for all of them
together (``Aggregated``), the number of requests and failures, the average,
minimum, maximum and median response time, the average response size, the
request and failure rates over the run, and the percentiles 50 … 100 %.
This module defines that table's rows (:class:`EntryStats`, :class:`RunStats`)
and the exact percentiles; :mod:`~abcsim.results.digest` computes the table
from a results file or frame (:func:`~abcsim.results.digest.results_stats`).
Four deliberate choices:

* **Every scheduled event is a request.** An order that the replayer could not
  send in time (outcome ``dropped``) counts in ``# reqs`` and in ``# fails``;
  its error is ``dropped``, or e.g. ``dropped: lateness`` with the replayer's
  reason. Every outcome other than ``ok`` is a failure. (Events a stopped run
  never got to are not requests at all: the report stage leaves them out,
  :func:`abcsim.results.digest.not_sent`.)
* **Times are of answered requests** (outcome ``ok``), measured and predicted
  alike. Failures count in ``# fails`` and the failure rate, never in Avg,
  Min, Max, Med or the percentiles — where Locust keeps a failed request's
  time. An overloaded system refuses at once (a 503 in 1 ms); counted as
  times, refusals would make the percentiles *fall* as the system fails.
* **Response time is** ``latency`` **by default**: from the *scheduled* time to
  the end of the response. If the London open makes the API stall for 2 s, an
  order scheduled during the stall and sent late still counts those 2 s, as
  the trader felt them; measuring from the send (``service``, the other
  option) hides exactly the queueing a load test is there to find
  (coordinated omission — what wrk2 fixed and Locust still has).
* **Percentiles are exact**, from every recorded value, not from Locust's
  histogram rounded to two significant digits (where 147 ms is kept as 150 ms).
  The rank rule is Locust's: the p-quantile of n values is the value at
  0-based position ``int(n * p)`` of the sorted values, capped at ``n - 1``
  (``int(n * p)`` in float64 as Locust computes it). That is numpy's
  ``inverted_cdf`` when ``n * p`` is not a whole number and one position
  higher when it is — the median of 1 … 10 ms is 6 ms, as Locust prints it.
  So on values Locust stores exactly (whole milliseconds under 100) the two
  tables agree digit for digit; above that ours are the true values.

Rates are per second of the run: ``duration_s`` if the caller knows how long
the replay ran, else Locust's own definition, from the run's start to the end
of its last response. Schedule time ``t`` becomes run time through
:class:`RunClock` (``(t - window start) / speed``); ``latency`` and ``service``
are wall-clock seconds.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from abcsim.errors import ResultsError
from abcsim.results.columns import ResultsMeta
from abcsim.scenario.spec import Endpoint

PERCENTILES: tuple[float, ...] = (0.5, 0.66, 0.75, 0.8, 0.9, 0.95, 0.98, 0.99, 0.999, 0.9999, 1.0)
"""The percentiles Locust reports, as fractions, in its order."""

AGGREGATED = "Aggregated"
"""Locust's name for the all-requests row (its Type is empty)."""

ResponseTime = Literal["latency", "service"]
GroupBy = Literal["endpoint", "agent_type"]
Endpoints = Mapping[str, Endpoint] | Iterable[tuple[str, Endpoint]]
"""``Scenario.endpoints`` (pairs) or a mapping: request type → method and path."""

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_NEEDED = ("t", "agent_type", "request", "latency", "service", "outcome", "bytes", "error")


# -- exact percentiles -----------------------------------------------------------


def percentile_ranks(n: int, fractions: Sequence[float] = PERCENTILES) -> IntArray:
    """0-based positions in the sorted values of each percentile (Locust's rule, exact)."""
    ranks = np.array([int(n * p) for p in fractions], dtype=np.int64)
    return np.minimum(ranks, max(n - 1, 0))


def exact_percentiles(
    values: npt.ArrayLike, fractions: Sequence[float] = PERCENTILES
) -> FloatArray:
    """Percentiles of the non-NaN ``values`` by :func:`percentile_ranks`; NaN if there are none."""
    data = np.asarray(values, dtype=np.float64)
    data = data[~np.isnan(data)]
    if data.size == 0:
        return np.full(len(fractions), np.nan)
    ranks = percentile_ranks(data.size, fractions)
    # A partial sort around the wanted ranks only: O(n) rather than O(n log n).
    picked: FloatArray = np.partition(data, np.unique(ranks))[ranks]
    return picked


def to_ms(seconds: FloatArray) -> FloatArray:
    """Seconds to milliseconds, to the nanosecond.

    A latency taken as a clock difference carries binary error
    ((1.029 - 1.0) s × 1000 is 28.999999999999915 ms) that Locust's
    truncating format would print as 28, and an SLO check would see as more
    than a target it met; rounding to 1 ns (finer than any clock here) removes it.
    """
    ms: FloatArray = np.round(seconds * 1000.0, 6)
    return ms


# -- run time ------------------------------------------------------------------


@dataclass(frozen=True)
class RunClock:
    """How schedule time maps to the run's own seconds, and when the run began.

    A replay of ``Mon 13:00..Mon 14:00`` at ``--speed 60`` runs for a minute:
    the order scheduled at Mon 13:30 went out 30 s into the run.
    """

    window_start: float = 0.0  # schedule seconds at the run's start
    speed: float = 1.0
    wall_start: dt.datetime = _EPOCH  # UTC; stamps the CSVs' times

    @classmethod
    def from_meta(cls, meta: ResultsMeta) -> RunClock:
        return cls(meta.window[0], meta.speed, meta.wall_start)

    def run_seconds(self, t: FloatArray) -> FloatArray:
        seconds: FloatArray = (t - self.window_start) / self.speed
        return seconds


# -- the results reduced to what the statistics need -----------------------------


@dataclass(frozen=True)
class RequestTable:
    """One entry per results row: its group, response time, failure and run times."""

    keys: tuple[tuple[str, str], ...]  # (method, name) of each group
    group: IntArray  # index into keys
    endpoint_keys: tuple[tuple[str, str], ...]  # (method, path) of each endpoint
    endpoint: IntArray  # index into endpoint_keys
    ms: FloatArray  # response time in ms; NaN when there is none (failed, never sent)
    failed: BoolArray
    reason: npt.NDArray[np.object_]  # error text of each failed row, in row order
    bytes: FloatArray
    end: FloatArray  # run seconds when the response ended (the scheduled time if never sent)
    start: FloatArray  # run seconds when it was sent; NaN if never sent

    def __len__(self) -> int:
        return int(self.ms.size)

    def last_end(self) -> float:
        """Locust's run length: from the start to the end of the last response."""
        return max(float(np.nanmax(self.end)), 0.0) if len(self) else 0.0


def failure_reasons(frame: pd.DataFrame, failed: BoolArray) -> npt.NDArray[np.object_]:
    """The error text of each failed row, in row order.

    The replayer's short reason if it gave one, else the outcome itself; a
    dropped request says so ("dropped: lateness"), as "lateness" alone would not.
    Only the failed rows' texts are read (a results file's error column is
    mostly empty, and a week holds fifty million of them).
    """
    rows = np.flatnonzero(failed)
    given = pd.Series(frame["error"].iloc[rows].to_numpy(dtype=object), dtype=object).fillna("")
    outcome = pd.Series(frame["outcome"].iloc[rows].astype(str).to_numpy(dtype=object))
    reason = given.where(given != "", outcome)
    unsaid = (outcome == "dropped") & (given != "") & ~given.str.startswith("dropped")
    reason[unsaid] = "dropped: " + given[unsaid]
    return reason.to_numpy(dtype=object)


def _category(frame: pd.DataFrame, column: str) -> tuple[IntArray, list[str]]:
    values = frame[column].astype("category")
    codes = np.asarray(values.cat.codes, dtype=np.int64)
    return codes, [str(c) for c in values.cat.categories]


def endpoint_table(endpoints: Endpoints) -> dict[str, Endpoint]:
    """Request type → endpoint, from the scenario's pairs or a mapping."""
    return dict(endpoints.items() if isinstance(endpoints, Mapping) else endpoints)


def endpoint_key(request: str, table: Mapping[str, Endpoint]) -> tuple[str, str]:
    """Locust's key of a request type's row: ``(method, path)``, or ``("", request)``.

    Locust keys its entries by (name, method): two request types on one
    endpoint are one row, as Locust would show them.
    """
    spec = table.get(request)
    return (spec.method, spec.path) if spec else ("", request)


def request_table(
    frame: pd.DataFrame,
    endpoints: Endpoints,
    *,
    clock: RunClock | None = None,
    response_time: ResponseTime = "latency",
    by: GroupBy = "endpoint",
) -> RequestTable:
    """Reduce a results frame to a :class:`RequestTable`, grouped by endpoint or agent type."""
    missing = [c for c in _NEEDED if c not in frame.columns]
    if missing:
        raise ResultsError(f"results: column {missing[0]!r}: missing (not an abcsim results frame)")
    if response_time not in ("latency", "service"):
        raise ValueError(f"response_time must be 'latency' or 'service', got {response_time!r}")
    clock = clock or RunClock()
    table = endpoint_table(endpoints)

    request_codes, requests = _category(frame, "request")
    endpoint_keys: list[tuple[str, str]] = []
    lookup = np.zeros(len(requests), dtype=np.int64)
    for i, request in enumerate(requests):
        key = endpoint_key(request, table)
        if key not in endpoint_keys:
            endpoint_keys.append(key)
        lookup[i] = endpoint_keys.index(key)
    endpoint = lookup[request_codes] if len(requests) else np.zeros(len(frame), np.int64)

    if by == "endpoint":
        keys, group = tuple(endpoint_keys), endpoint
    else:
        group, names = _category(frame, "agent_type")
        keys = tuple(("", name) for name in names)

    failed = (frame["outcome"] != "ok").to_numpy()
    reason = failure_reasons(frame, failed)

    latency = frame["latency"].to_numpy(dtype=np.float64)
    service = frame["service"].to_numpy(dtype=np.float64)
    scheduled = clock.run_seconds(frame["t"].to_numpy(dtype=np.float64))
    end = scheduled + np.nan_to_num(latency, nan=0.0)
    start = end - service  # NaN where never sent
    chosen = to_ms(latency if response_time == "latency" else service)
    chosen[failed] = np.nan  # answered requests only: see the module docstring
    return RequestTable(
        keys=keys,
        group=np.asarray(group, dtype=np.int64),
        endpoint_keys=tuple(endpoint_keys),
        endpoint=np.asarray(endpoint, dtype=np.int64),
        ms=chosen,
        failed=failed,
        reason=reason,
        bytes=frame["bytes"].to_numpy(dtype=np.float64),
        end=end,
        start=start,
    )


# -- the statistics ------------------------------------------------------------


@dataclass(frozen=True)
class EntryStats:
    """One row of Locust's table: an endpoint, an agent type or ``Aggregated``.

    Response times are exact milliseconds, NaN when no request of the row has
    one (all dropped); the formatters print those as 0, as Locust does.
    """

    method: str  # "" for Aggregated and agent-type rows
    name: str
    requests: int
    failures: int
    timed: int  # requests with a response time
    avg_ms: float
    min_ms: float
    max_ms: float
    median_ms: float
    avg_bytes: float
    rps: float
    fail_per_s: float
    percentiles_ms: tuple[float, ...]  # in PERCENTILES order

    @property
    def fail_ratio(self) -> float:
        if self.requests:
            return self.failures / self.requests
        return 1.0 if self.failures else 0.0

    def percentile(self, fraction: float) -> float:
        """One of :data:`PERCENTILES`, e.g. ``percentile(0.95)``."""
        return self.percentiles_ms[PERCENTILES.index(fraction)]


@dataclass(frozen=True)
class ErrorStats:
    """One line of Locust's error report: an error on an endpoint, how often, first and last."""

    method: str
    name: str
    error: str
    occurrences: int
    first_seen_s: float  # run seconds
    last_seen_s: float

    @property
    def label(self) -> str:
        return f"{self.method} {self.name}: {self.error}"


@dataclass(frozen=True)
class RunStats:
    """Locust's statistics of a run: rows sorted as Locust sorts them, the total, the errors."""

    entries: tuple[EntryStats, ...]
    total: EntryStats
    errors: tuple[ErrorStats, ...]  # in order of first occurrence
    duration_s: float
    response_time: ResponseTime
    clock: RunClock

"""The SLO gate: the scenario's targets checked against a run, for CI's exit status.

The ABC suite's CI step fails a release when the API gets slow or starts
failing. A scenario's ``[slo]`` says how slow is too slow — a P95 per request
type (``data_collection = 500`` ms), a P95 over all requests, an error rate
(``0.01``) — and :func:`check_slos` returns one :class:`Breach` for each target
the run missed, e.g.::

    SLO breached: data_collection P95 612 ms > 500 ms
    SLO breached: error rate 2.35% > 1.00%

A target that cannot be checked is not passed in silence: if a window
scheduled ``risk_analysis`` requests but none got a response time, its P95
target is reported as unverified and counts as a breach, so a CI job never
goes green on no evidence. A request type the run never scheduled at all (a
replay of the high-frequency users alone sends no strategy analysis) has
nothing to answer for: its target does not apply to that run.

P95s are the exact percentiles of :mod:`abcsim.results.stats` (Locust's rank
rule on every recorded value) of ``latency`` by default — from the scheduled
time, so queueing in the replayer or the target counts. The error rate counts
every outcome but ``ok`` over every scheduled event: timeouts, refused
connections, HTTP errors and requests dropped before they could be sent.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from abcsim.errors import ResultsError
from abcsim.results.stats import ResponseTime, exact_percentiles, to_ms
from abcsim.scenario.spec import Slo

EXIT_OK = 0
EXIT_BREACHED = 1


@dataclass(frozen=True)
class Breach:
    """One target missed: what, the run's figure, the target and their unit.

    ``figure`` is NaN when the run had nothing to measure it on.
    """

    what: str  # "data_collection P95", "overall P95", "error rate"
    figure: float
    threshold: float
    unit: str  # "ms" or "%"

    @property
    def unverified(self) -> bool:
        return math.isnan(self.figure)


def _p95_ms(seconds: npt.NDArray[np.float64]) -> float:
    return float(exact_percentiles(to_ms(seconds), (0.95,))[0])


def _over(what: str, figure: float, threshold: float, unit: str) -> list[Breach]:
    if math.isnan(figure) or figure > threshold:
        return [Breach(what, figure, threshold, unit)]
    return []


def check_slos(
    slo: Slo, frame: pd.DataFrame, *, response_time: ResponseTime = "latency"
) -> list[Breach]:
    """Every breached or unverifiable target of ``slo`` in a results frame; empty if all hold."""
    for column in ("request", "outcome", response_time):
        if column not in frame.columns:
            raise ResultsError(f"results: column {column!r}: missing (not an abcsim results frame)")
    seconds = frame[response_time].to_numpy(dtype=np.float64)
    requests = frame["request"]
    breaches: list[Breach] = []
    for request, target in slo.p95_ms:
        mine = (requests == request).to_numpy()
        if not mine.any():
            continue  # not in this run: the target does not apply
        breaches += _over(f"{request} P95", _p95_ms(seconds[mine]), target, "ms")
    if slo.overall_p95_ms is not None:
        breaches += _over("overall P95", _p95_ms(seconds), slo.overall_p95_ms, "ms")
    if slo.error_rate is not None:
        failed = int((frame["outcome"] != "ok").sum())
        rate = 100.0 * failed / len(frame) if len(frame) else math.nan
        breaches += _over("error rate", rate, 100.0 * slo.error_rate, "%")
    return breaches


def _pair(figure: float, threshold: float, least: int) -> tuple[str, str]:
    """The two numbers with the fewest decimals (from ``least``) that tell them apart."""
    for digits in range(least, least + 3):
        a, b = f"{figure:.{digits}f}", f"{threshold:.{digits}f}"
        if a != b:
            return a, b
    return f"{figure:.{least + 3}f}", f"{threshold:.{least + 3}f}"


def format_breaches(breaches: Sequence[Breach]) -> list[str]:
    """One line per breach, e.g. ``SLO breached: data_collection P95 612 ms > 500 ms``."""
    lines = []
    for b in breaches:
        unit = "%" if b.unit == "%" else f" {b.unit}"
        least = 2 if b.unit == "%" else 0
        if b.unverified:
            target = f"{b.threshold:.{least}f}"
            lines.append(f"SLO unverified: {b.what}: no samples (target {target}{unit})")
        else:
            figure, threshold = _pair(b.figure, b.threshold, least)
            lines.append(f"SLO breached: {b.what} {figure}{unit} > {threshold}{unit}")
    return lines


def slo_exit_status(breaches: Sequence[Breach]) -> int:
    """The process exit status CI gates on: 0 when every target holds, 1 otherwise."""
    return EXIT_BREACHED if breaches else EXIT_OK

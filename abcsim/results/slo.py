"""The SLO gate: the scenario's targets checked against a run, for CI's exit status.

The ABC suite's CI step fails a release when the API gets slow or starts
failing. A scenario's ``[slo]`` says how slow is too slow — a P95 per request
type (``data_collection = 500`` ms), a P95 over all requests, an error rate
(``0.01``) — and :func:`check_slos` returns one :class:`Breach` for each target
the run missed (:mod:`abcsim.report.breaches` prints them), e.g. a
``data_collection`` P95 of 612 ms against 500, or an error rate of 2.35%
against 1%.

A target that cannot be checked is not passed in silence: if a window
scheduled ``risk_analysis`` requests but none got a response time, its P95
target is reported as unverified and counts as a breach, so a CI job never
goes green on no evidence. A request type the run never scheduled at all (a
replay of the high-frequency users alone sends no strategy analysis) has
nothing to answer for: its target does not apply to that run.

P95s are the exact percentiles of :mod:`abcsim.results.stats` (Locust's rank
rule on every recorded value) of ``latency`` by default — from the scheduled
time, so queueing in the replayer or the target counts — over the answered
requests (outcome ``ok``), as every report counts them. The error rate counts
every outcome but ``ok`` over every scheduled event: timeouts, refused
connections, HTTP errors and requests dropped before they could be sent.
Events that a stopped run never got to are not part of the run: the report
stage leaves them out before it checks (:class:`~abcsim.results.digest.Digest`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from abcsim.errors import ResultsError
from abcsim.results.digest import Digest, percentiles_of
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


@dataclass(frozen=True)
class Verdict:
    """One target that applies to the run: its figure (NaN: nothing to measure) and the target."""

    what: str
    figure: float
    threshold: float
    unit: str

    @property
    def breached(self) -> bool:
        return math.isnan(self.figure) or self.figure > self.threshold

    @property
    def word(self) -> str:
        """``pass``, ``breach`` or ``unverified`` (nothing to measure it on)."""
        if math.isnan(self.figure):
            return "unverified"
        return "breach" if self.breached else "pass"

    @property
    def breach(self) -> Breach:
        return Breach(self.what, self.figure, self.threshold, self.unit)


def _judge(
    slo: Slo,
    p95_ms: Callable[[str | None], float],
    sent: Callable[[str], bool],
    failed: int,
    requests: int,
) -> list[Verdict]:
    """The targets of ``slo`` against a run's P95 per request type (None: all) and error count."""
    verdicts: list[Verdict] = []
    for request, target in slo.p95_ms:
        if sent(request):  # a request type not in this run: the target does not apply
            verdicts.append(Verdict(f"{request} P95", p95_ms(request), target, "ms"))
    if slo.overall_p95_ms is not None:
        verdicts.append(Verdict("overall P95", p95_ms(None), slo.overall_p95_ms, "ms"))
    if slo.error_rate is not None:
        rate = 100.0 * failed / requests if requests else math.nan
        verdicts.append(Verdict("error rate", rate, 100.0 * slo.error_rate, "%"))
    return verdicts


def slo_verdicts(
    slo: Slo, frame: pd.DataFrame, *, response_time: ResponseTime = "latency"
) -> list[Verdict]:
    """Every target of ``slo`` that applies to a results frame, with the run's figure."""
    for column in ("request", "outcome", response_time):
        if column not in frame.columns:
            raise ResultsError(f"results: column {column!r}: missing (not an abcsim results frame)")
    failed = (frame["outcome"] != "ok").to_numpy()
    ms = to_ms(frame[response_time].to_numpy(dtype=np.float64))
    ms[failed] = np.nan  # answered requests only
    requests = frame["request"].astype(str).to_numpy()

    def p95_ms(request: str | None) -> float:
        mine = ms if request is None else ms[requests == request]
        return float(exact_percentiles(mine, (0.95,))[0])

    return _judge(slo, p95_ms, lambda r: bool((requests == r).any()), int(failed.sum()), len(frame))


def digest_verdicts(slo: Slo, digest: Digest) -> list[Verdict]:
    """:func:`slo_verdicts` of a run's :class:`~abcsim.results.digest.Digest` (a file, streamed)."""
    cells = list(digest.cells.values())

    def p95_ms(request: str | None) -> float:
        chosen = cells if request is None else digest.request_cells(request)
        return float(percentiles_of(chosen, (0.95,))[0])

    def sent(request: str) -> bool:
        return any(c.requests for c in digest.request_cells(request))

    failed = sum(c.failures for c in cells)
    return _judge(slo, p95_ms, sent, failed, sum(c.requests for c in cells))


def check_slos(
    slo: Slo, frame: pd.DataFrame, *, response_time: ResponseTime = "latency"
) -> list[Breach]:
    """Every breached or unverifiable target of ``slo`` in a results frame; empty if all hold."""
    return [v.breach for v in slo_verdicts(slo, frame, response_time=response_time) if v.breached]


def check_digest(slo: Slo, digest: Digest) -> list[Breach]:
    """:func:`check_slos` on a run's :class:`~abcsim.results.digest.Digest`."""
    return [v.breach for v in digest_verdicts(slo, digest) if v.breached]


def slo_exit_status(breaches: Sequence[Breach]) -> int:
    """The process exit status CI gates on: 0 when every target holds, 1 otherwise."""
    return EXIT_BREACHED if breaches else EXIT_OK

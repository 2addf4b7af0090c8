"""Predicted results: what the model decided, written as the rows a replay would have logged.

A plan's output is a results file like a replay's (``source = plan``), so
the console summary, the Locust CSVs and the SLO gate read it unchanged and
"predicted vs measured" is a join on ``event_id``. For each scheduled request:

* ``sent`` is its scheduled time ``t`` (a model sends on time);
* ``latency`` runs from ``t`` to the end of its last spell on a worker: time
  queued plus time served, what the trader would feel — plus the system's
  ``overhead_ms`` (network and HTTP time outside the workers: a constant
  delay, so it moves every request alike and changes no queue);
* ``service`` is its time on workers alone (the sum of a workflow's four
  spells), so ``latency - service`` is what it spent queueing;
* refused at a full queue: status 503, outcome ``http_error``, error
  ``HTTP 503`` (as the replay client words it), latency the overhead alone
  and service 0 — the target answers at once;
* answered after more than the client's ``timeout_s``: outcome ``timeout``,
  status 0, latency ``timeout_s`` (when the client gave up); ``service`` is
  still its full time on workers, since the server, never told, serves it;
* otherwise status 200, outcome ``ok``. ``bytes`` is 0: the model knows no
  payloads.

An order scheduled at 13:30:00.000 that waits 12 ms and is served in 48 ms
gets latency 0.060 and service 0.048.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa

from abcsim.plan.fcfs import Served
from abcsim.plan.workload import Workload
from abcsim.results.columns import OUTCOMES, results_batch
from abcsim.scenario.spec import REQUEST_TYPES

FloatArray = npt.NDArray[np.float64]

OK, HTTP_ERROR, TIMEOUT = (OUTCOMES.index(o) for o in ("ok", "http_error", "timeout"))
REFUSED_STATUS = 503
REFUSED_ERROR = "HTTP 503"
TIMEOUT_ERROR = "timeout"


@dataclass(frozen=True)
class PlanRows:
    """The results columns the model decides, for one workload."""

    latency: FloatArray
    service: FloatArray
    status: npt.NDArray[np.int16]
    outcome: npt.NDArray[np.int8]
    wait: FloatArray  # queueing (latency before any timeout, less service); 0 if refused

    def take(self, mask: npt.NDArray[np.bool_]) -> PlanRows:
        """The rows where ``mask`` is true."""
        return PlanRows(
            self.latency[mask],
            self.service[mask],
            self.status[mask],
            self.outcome[mask],
            self.wait[mask],
        )

    @property
    def error(self) -> npt.NDArray[np.str_]:
        errors: npt.NDArray[np.str_] = np.where(
            self.outcome == HTTP_ERROR,
            REFUSED_ERROR,
            np.where(self.outcome == TIMEOUT, TIMEOUT_ERROR, ""),
        )
        return errors


def plan_rows(
    work: Workload, served: Served, timeout_s: float, overhead_s: float = 0.0
) -> PlanRows:
    """Latency, service, status and outcome of each request from what the model decided."""
    refused = served.refused
    busy = work.busy
    response = served.end - work.t
    felt = response + overhead_s
    timed_out = ~refused & (felt > timeout_s)
    latency = np.where(refused, overhead_s, np.where(timed_out, timeout_s, felt))
    service = np.where(refused, 0.0, busy)
    # Rounding can leave a waitless request a hair below zero; there is no negative queueing.
    wait = np.where(refused, 0.0, np.maximum(response - busy, 0.0))
    outcome = np.where(refused, HTTP_ERROR, np.where(timed_out, TIMEOUT, OK)).astype(np.int8)
    status = np.where(refused, REFUSED_STATUS, np.where(timed_out, 0, 200)).astype(np.int16)
    return PlanRows(latency, service, status, outcome, wait)


def plan_batch(
    work: Workload,
    rows: PlanRows,
    agent_types: Sequence[str],
    *,
    origin: float = 0.0,
    speed: float = 1.0,
) -> pa.RecordBatch:
    """One results batch (the results schema) for a decided workload.

    A workload modelled at ``speed`` arrived at ``origin + (t - origin) / speed``;
    its rows say ``t`` and ``sent`` in schedule seconds, as a replay's do.
    """
    t = work.t if speed == 1.0 else origin + (work.t - origin) * speed
    return results_batch(
        event_id=work.event_id,
        t=t,
        agent_type=work.agent_type,
        agent_types=agent_types,
        request=work.request,
        sent=t,
        latency=rows.latency,
        service=rows.service,
        status=rows.status,
        outcome=rows.outcome,
        bytes_=np.zeros(len(work), np.int32),
        error=rows.error.tolist(),
    )


def plan_frame(parts: Iterable[tuple[Workload, PlanRows]]) -> pd.DataFrame:
    """The columns the SLO check reads (request, outcome, latency, t), in memory, no file.

    For the capacity search, which judges dozens of sizes and keeps none.
    """
    items = list(parts)
    request: npt.NDArray[np.int8] = np.concatenate([w.request for w, _ in items] or [_NO_CODES])
    outcome: npt.NDArray[np.int8] = np.concatenate([r.outcome for _, r in items] or [_NO_CODES])
    return pd.DataFrame(
        {
            "t": np.concatenate([w.t for w, _ in items] or [np.zeros(0)]),
            "request": pd.Categorical.from_codes(request, dtype=_REQUEST_DTYPE),
            "outcome": pd.Categorical.from_codes(outcome, dtype=_OUTCOME_DTYPE),
            "latency": np.concatenate([r.latency for _, r in items] or [np.zeros(0)]),
        }
    )


_NO_CODES = np.zeros(0, np.int8)
_REQUEST_DTYPE = pd.CategoricalDtype(list(REQUEST_TYPES))
_OUTCOME_DTYPE = pd.CategoricalDtype(list(OUTCOMES))

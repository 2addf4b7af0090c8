"""Two results files side by side: predicted vs measured, or before vs after a change.

``abcsim report tue.results.parquet --against tue.plan.parquet`` joins the two
on ``event_id`` (the events both hold: a plan and a replay of the same slice,
or two replays of it) and, per request type, sets the P50, P95 and P99 of
``latency`` (answered requests) and the error rate of one beside the other.

Is a difference larger than run-to-run noise? A percentile of n samples has a
distribution-free 95% confidence interval between two order statistics (the
ranks n·p ± 1.96·√(n·p·(1−p)), the binomial's normal approximation): two
percentiles whose intervals do not overlap differ by more than their noise,
and are marked ``*``. Error rates use the two-proportion z-test at 95%. A
P99 of 40 requests has no upper order statistic in reach: no verdict (``?``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from abcsim.results.digest import not_sent
from abcsim.results.stats import exact_percentiles
from abcsim.scenario.spec import REQUEST_TYPES

Z_TWO_SIDED_95 = 1.959963984540054  # the normal quantile 0.975 (spec.Z_95 is 0.95)
PERCENTILES = (50.0, 95.0, 99.0)

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Percentile:
    """One percentile of each run (ms), and whether they differ beyond noise (None: can't say)."""

    p: float
    first_ms: float
    second_ms: float
    beyond_noise: bool | None

    @property
    def change(self) -> float:
        return self.second_ms / self.first_ms - 1.0 if self.first_ms > 0 else math.nan


@dataclass(frozen=True)
class Difference:
    """One request type in both runs."""

    request: str
    events: int
    percentiles: tuple[Percentile, ...]
    first_errors: float
    second_errors: float
    errors_beyond_noise: bool


def order_interval(sorted_values: FloatArray, p: float) -> tuple[float, float] | None:
    """The distribution-free 95% interval of the ``p``-th percentile, or None if out of reach."""
    n = sorted_values.size
    q = p / 100.0
    half = Z_TWO_SIDED_95 * math.sqrt(n * q * (1.0 - q))
    low, high = math.floor(n * q - half), math.ceil(n * q + half)
    if low < 0 or high > n - 1:
        return None
    return float(sorted_values[low]), float(sorted_values[high])


def compare(first: pd.DataFrame, second: pd.DataFrame) -> tuple[Difference, ...]:
    """Per request type, the events both frames hold; see the module docstring."""
    # events a stopped run never sent are in neither run (as in every report)
    first, second = first[~not_sent(first)], second[~not_sent(second)]
    joined = first.merge(second, on="event_id", suffixes=("_1", "_2"))
    differences = []
    for request in REQUEST_TYPES:
        rows = joined[joined["request_1"].astype(str) == request]
        if rows.empty:
            continue
        ok_1 = np.sort(rows.loc[rows.outcome_1 == "ok", "latency_1"].to_numpy(np.float64))
        ok_2 = np.sort(rows.loc[rows.outcome_2 == "ok", "latency_2"].to_numpy(np.float64))
        percentiles = tuple(_percentile(ok_1, ok_2, p) for p in PERCENTILES)
        errors_1 = float((rows.outcome_1 != "ok").mean())
        errors_2 = float((rows.outcome_2 != "ok").mean())
        differences.append(
            Difference(
                request,
                len(rows),
                percentiles,
                errors_1,
                errors_2,
                _proportions_differ(errors_1, errors_2, len(rows)),
            )
        )
    return tuple(differences)


def _percentile(first: FloatArray, second: FloatArray, p: float) -> Percentile:
    if not first.size or not second.size:
        return Percentile(p, math.nan, math.nan, None)
    a, b = order_interval(first, p), order_interval(second, p)
    beyond = None if a is None or b is None else (a[1] < b[0] or b[1] < a[0])
    a_ms, b_ms = (1000 * float(exact_percentiles(v, (p / 100.0,))[0]) for v in (first, second))
    return Percentile(p, a_ms, b_ms, beyond)


def _proportions_differ(first: float, second: float, n: int) -> bool:
    pooled = (first + second) / 2.0
    spread = math.sqrt(pooled * (1.0 - pooled) * 2.0 / n) if n else 0.0
    return abs(first - second) > Z_TWO_SIDED_95 * spread if spread > 0 else first != second


def comparison_lines(
    differences: tuple[Difference, ...], first_name: str, second_name: str
) -> list[str]:
    """The comparison as a console table: each figure first → second, ``*`` beyond noise."""
    head = (
        f"{'request':<22}{'events':>9}"
        + "".join(f"{f'P{p:g} ms':>24}" for p in PERCENTILES)
        + f"{'errors':>22}"
    )
    lines = [f"{first_name} → {second_name}, joined on event_id", head, "-" * len(head)]
    for d in differences:
        cells = "".join(
            f"{_pair(q.first_ms, q.second_ms, q.beyond_noise):>24}" for q in d.percentiles
        )
        errors = _pair(100 * d.first_errors, 100 * d.second_errors, d.errors_beyond_noise, "%")
        lines.append(f"{d.request:<22}{d.events:>9,}{cells}{errors:>22}")
    lines.append(
        "* beyond run-to-run noise (95%: order-statistic intervals of each percentile apart; "
        "errors: two-proportion z-test); ? too few requests to say"
    )
    return lines


def _pair(first: float, second: float, beyond: bool | None, unit: str = "") -> str:
    if math.isnan(first) or math.isnan(second):
        return "—"
    mark = "?" if beyond is None else ("*" if beyond else " ")
    return f"{first:,.1f}{unit} → {second:,.1f}{unit} {mark}"

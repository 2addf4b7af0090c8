"""The sweep as a picture: every SLO it is judged on, against the swept size or traffic.

A sweep passes or fails on each of the scenario's targets, so the plot shows
each of them: the overall P50/P95/P99 (log axis; percentiles of answered
requests, so they never fall as the system fails) with the overall P95
target; the P95 of each request type that has its own target, dashed at its
target in the same colour; and below, the error rate against its target and
the utilisation. Values that miss any SLO are marked with a red cross.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import numpy.typing as npt

from abcsim.errors import AbcsimError
from abcsim.plan.sweep import Sweep


def sweep_plot(sweep: Sweep, path: str | Path) -> Path:
    """Draw ``sweep`` to the PNG ``path`` (written whole or not at all)."""
    import matplotlib

    matplotlib.use("Agg")  # files only: no display on a CI machine
    import matplotlib.pyplot as plt

    trials, slo, spec = sweep.trials, sweep.slo, sweep.spec
    x = np.array(spec.values)
    figure, (overall, by_type, bottom) = plt.subplots(
        3, 1, figsize=(8, 9), sharex=True, height_ratios=(2, 2, 1.4), layout="constrained"
    )
    for name, values in (
        ("P50", [t.p50_ms for t in trials]),
        ("P95", [t.p95_ms for t in trials]),
        ("P99", [t.p99_ms for t in trials]),
    ):
        overall.plot(x, _positive(values), marker="o", label=name)
    if slo.overall_p95_ms is not None:
        overall.axhline(slo.overall_p95_ms, color="red", linestyle="--", label="P95 target")
    missed = np.array([not t.passed for t in trials])
    if missed.any():
        overall.scatter(x[missed], _positive([t.p95_ms for t in trials])[missed], marker="x",
                        color="red", s=80, zorder=3, label="misses an SLO")  # fmt: skip
    overall.set_yscale("log")
    overall.set_ylabel("latency, answered (ms)")
    overall.set_title(f"{sweep.window.label}: sweep of {spec.name}")
    overall.legend(fontsize="small")
    overall.grid(True, which="both", alpha=0.3)

    for i, (request, target) in enumerate(slo.p95_ms):
        p95 = _positive([t.request_p95_ms.get(request, math.nan) for t in trials])
        if np.isnan(p95).all():
            continue
        colour = f"C{i}"
        by_type.plot(x, p95, marker="o", color=colour, label=f"{request} P95")
        by_type.axhline(target, color=colour, linestyle="--", alpha=0.7)
    by_type.set_yscale("log")
    by_type.set_ylabel("P95 by request (ms)\n(dashed: its target)")
    by_type.legend(fontsize="x-small", ncol=2)
    by_type.grid(True, which="both", alpha=0.3)

    bottom.plot(x, [100 * t.error_rate for t in trials], marker="o", color="tab:red",
                label="error rate")  # fmt: skip
    if slo.error_rate is not None:
        bottom.axhline(100 * slo.error_rate, color="tab:red", linestyle="--", label="its target")
    bottom.set_ylabel("errors (%)")
    twin = bottom.twinx()
    twin.plot(x, [100 * min(t.utilisation, 1.0) for t in trials], marker=".", color="tab:green",
              label="utilisation")  # fmt: skip
    twin.set_ylabel("utilisation (%)", color="tab:green")
    twin.set_ylim(0, 105)
    bottom.legend(fontsize="small", loc="upper left")
    bottom.set_xlabel(spec.name if spec.name != "workers" else "workers per replica")
    bottom.grid(True, alpha=0.3)
    out = Path(path)
    partial = out.with_name(f".{out.name}.partial")
    try:
        figure.savefig(partial, dpi=100, format="png")
        partial.replace(out)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise AbcsimError(f"{out}: cannot write the plot ({exc.strerror or exc})") from None
    finally:
        plt.close(figure)
    return out


def _positive(values: list[float]) -> npt.NDArray[np.float64]:
    """Values for a log axis: 0 ms (nothing answered that fast) and NaN are not drawn."""
    array = np.array(values, dtype=np.float64)
    array[~(array > 0)] = np.nan
    return array

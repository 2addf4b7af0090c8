"""Calibration: service-time distributions fitted from a light replay, written as ``[system]``.

The usual loop: replay a quiet hour against staging (the workers mostly
idle, so each request's ``service`` — send to answer — is its time on a
worker plus the network), fit each request type's service time, then plan
the peak on the fitted system::

    abcsim replay week.parquet -t https://staging.abc.internal -w 'Sun 23:00..Mon 00:00'
    abcsim calibrate week.results.parquet --schedule week.parquet --out staging.toml
    abcsim plan week.parquet --system staging.toml --find-capacity

For each request type (a workflow is served as its stages, so it is not
fitted itself) two families are fitted to the answered requests' service
times by maximum likelihood with :mod:`scipy.stats`, both through the origin
(two parameters each): a lognormal and a gamma. The one with the lower AIC
(``2k − 2 ln L``; with k = 2 for both, simply the higher likelihood) is kept,
and written as the median and P95 that ``[system.service]`` reads, plus
``distribution = "gamma"`` when the gamma won. With ``--schedule`` the
requests' sizes are joined on ``event_id`` and the cost per item beyond the
first is fitted first, by least squares (a batch job's 1,000-position risk
run is slower by ``999 × per_item_ms``); the distribution is then fitted to
the times less that cost. Without sizes, ``per_item_ms`` is 0.

A replay measures from the client, so each time includes the network round
trip and HTTP handling, which hold no worker. Counted as worker time they
would make the planner see a busier system than there is — at 85%
utilisation a 2 ms overhead on 36 ms requests reads as 90%, and the wait
it predicts is a third too long. ``overhead_ms`` (measure it as the time of
a request that does no work: replay lightly against a no-op endpoint) is
taken off every time before fitting and written as the system's
``overhead_ms``, which the planner adds to each latency without holding a
worker.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from abcsim.errors import PlanError, Setting
from abcsim.results import read_results, read_results_meta
from abcsim.scenario import parse_scenario
from abcsim.scenario.service import WORKFLOW
from abcsim.scenario.spec import Z_95, ServiceTime, SystemSpec
from abcsim.schedule.parquet import read_schedule
from abcsim.schedule.slicing import COPY_STRIDE

MIN_SAMPLES = 30
"""Fewer answered requests of a type than this and it keeps the scenario's service time."""

BUSY_WARNING = 0.3
"""Above this estimated utilisation, queueing inflates the measured service times."""

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Fit:
    """One request type's fitted service time and how the two families compared."""

    request: str
    samples: int
    service: ServiceTime
    lognormal_aic: float
    gamma_aic: float

    @property
    def chosen(self) -> str:
        return self.service.distribution if not self.service.fixed else "fixed"


@dataclass(frozen=True)
class Calibration:
    """The fitted system and what the user should know about the fit."""

    system: SystemSpec
    fits: tuple[Fit, ...]
    kept: tuple[tuple[str, str], ...]  # (request type, why its time was not fitted)
    notes: tuple[str, ...]
    source: str


def fit_service(ms: FloatArray, per_item_ms: float = 0.0) -> tuple[ServiceTime, float, float]:
    """The better of a lognormal and a gamma fitted to ``ms`` (> 0), and both AICs."""
    if ms.size < 2 or float(np.ptp(ms)) == 0.0:
        value = float(ms[0])
        return ServiceTime(value, value, per_item_ms), math.nan, math.nan
    from scipy import stats  # type: ignore[import-untyped]  # slow to import; only needed here

    shape, _, scale = stats.lognorm.fit(ms, floc=0.0)
    lognormal_ll = float(stats.lognorm.logpdf(ms, shape, 0.0, scale).sum())
    a, _, theta = stats.gamma.fit(ms, floc=0.0)
    gamma_ll = float(stats.gamma.logpdf(ms, a, 0.0, theta).sum())
    lognormal_aic, gamma_aic = 4.0 - 2.0 * lognormal_ll, 4.0 - 2.0 * gamma_ll
    lognormal = ServiceTime(
        _round(scale), _round(scale * math.exp(Z_95 * shape)), per_item_ms, "lognormal"
    )
    if gamma_aic < lognormal_aic:
        median, p95 = stats.gamma.ppf([0.5, 0.95], a, 0.0, theta)
        gamma = ServiceTime(_round(float(median)), _round(float(p95)), per_item_ms, "gamma")
        try:
            gamma.gamma  # noqa: B018 - a shape the scenario format can hold?
            return gamma, lognormal_aic, gamma_aic
        except ValueError:
            pass  # a nearly fixed time: the lognormal says it as well
    return lognormal, lognormal_aic, gamma_aic


def _round(value: float) -> float:
    """Six significant digits: finer than any measurement, short in the TOML."""
    return float(f"{value:.6g}")


def _per_item(ms: FloatArray, extra: FloatArray) -> float:
    """Least-squares cost per extra item (0 if sizes do not vary or the slope is negative)."""
    if extra.size < 3 or float(np.ptp(extra)) == 0.0:
        return 0.0
    slope = float(np.cov(extra, ms, bias=True)[0, 1] / np.var(extra))
    return _round(max(slope, 0.0))


def calibrate(
    frame: pd.DataFrame,
    base: SystemSpec,
    *,
    sizes: FloatArray | None = None,
    min_samples: int = MIN_SAMPLES,
    source: str = "<results>",
    overhead_ms: float = 0.0,
) -> Calibration:
    """Fit every request type with enough answered requests; keep ``base`` for the others.

    ``sizes`` (one per row of ``frame``, NaN where unknown) lets the per-item
    cost be fitted; ``overhead_ms`` is taken off every time first.
    """
    answered = (frame["outcome"] == "ok").to_numpy() & np.isfinite(
        frame["service"].to_numpy(dtype=np.float64)
    )
    measured_ms = frame["service"].to_numpy(dtype=np.float64) * 1000.0
    # Floored at a tenth of the overhead: a time shorter than the round trip is noise.
    service_ms = np.maximum(measured_ms - overhead_ms, 0.1 * overhead_ms)
    requests = frame["request"].astype(str).to_numpy()
    fits: list[Fit] = []
    kept: list[tuple[str, str]] = []
    fitted = dict(base.service)
    for request, _ in base.service:
        mine = answered & (requests == request) & (measured_ms > 0)
        ms = service_ms[mine]
        if ms.size < min_samples:
            kept.append((request, f"{ms.size} answered requests (< {min_samples})"))
            continue
        per_item = 0.0
        if sizes is not None:
            extra = np.maximum(sizes[mine] - 1.0, 0.0)
            known = np.isfinite(extra)
            per_item = _per_item(ms[known], extra[known])
            if per_item:
                # Less the per-item part; floored so a request never gets a time <= 0.
                ms = np.maximum(ms - per_item * np.nan_to_num(extra), 0.01 * float(np.median(ms)))
        service, lognormal_aic, gamma_aic = fit_service(ms, per_item)
        fitted[request] = service
        fits.append(Fit(request, int(ms.size), service, lognormal_aic, gamma_aic))
    system = replace(
        base,
        service=tuple((r, fitted[r]) for r, _ in base.service),
        overhead_ms=_round(overhead_ms),
    )
    notes = _notes(frame, base, sizes)
    if overhead_ms and float(np.mean(measured_ms[answered] <= overhead_ms)) > 0.01:
        notes += ("over 1% of the times are below overhead_ms: is the overhead too large?",)
    return Calibration(system, tuple(fits), tuple(kept), notes, source)


def _notes(frame: pd.DataFrame, base: SystemSpec, sizes: FloatArray | None) -> tuple[str, ...]:
    notes = []
    if sizes is None:
        notes.append("no schedule given: sizes unknown, so per_item_ms is 0 (not separated)")
    if WORKFLOW in set(frame["request"].astype(str)):
        notes.append(f"{WORKFLOW} is served as its four stages: not fitted itself")
    t = frame["t"].to_numpy(dtype=np.float64)
    service = frame["service"].to_numpy(dtype=np.float64)
    if t.size > 1 and np.ptp(t) > 0:
        busy = float(np.nansum(service)) / float(np.ptp(t)) / (base.workers * base.replicas)
        if busy > BUSY_WARNING:
            notes.append(
                f"the replay kept ~{100 * busy:.0f}% of {base.workers} workers busy: queueing "
                "inflates the service times; calibrate from a lighter replay"
            )
    return tuple(notes)


def calibrate_file(
    results: str | Path,
    *,
    schedule: str | Path | None = None,
    min_samples: int = MIN_SAMPLES,
    overhead_ms: float = 0.0,
) -> Calibration:
    """Calibrate from a results file; the base system is its scenario's ``[system]``."""
    meta = read_results_meta(results)
    if meta.source != "replay":
        raise PlanError(f"{results}: a {meta.source} results file; calibrate from a replay's")
    frame = read_results(results)
    if not len(frame):
        raise PlanError(f"{results}: no requests to calibrate from")
    base = parse_scenario(meta.scenario_text, f"{results} (its scenario)").system
    if not (overhead_ms >= 0 and math.isfinite(overhead_ms)):
        raise PlanError(
            Setting("overhead_ms"), f": must be a finite number >= 0, got {overhead_ms}"
        )
    sizes = _sizes(frame, schedule) if schedule is not None else None
    calibration = calibrate(
        frame,
        base,
        sizes=sizes,
        min_samples=min_samples,
        source=str(results),
        overhead_ms=overhead_ms,
    )
    if not calibration.fits:
        reasons = "; ".join(f"{r}: {why}" for r, why in calibration.kept)
        raise PlanError(f"{results}: no request type has enough answered requests ({reasons})")
    return calibration


def _sizes(frame: pd.DataFrame, schedule: str | Path) -> FloatArray:
    """Each results row's size from the schedule (scaled copies take their original's)."""
    table = read_schedule(schedule)
    lookup = pd.Series(table["size"].to_numpy(np.float64), index=table["event_id"].to_numpy())
    original = frame["event_id"].to_numpy(np.int64) % COPY_STRIDE
    sizes: FloatArray = lookup.reindex(original).to_numpy(np.float64)
    if np.isnan(sizes).all():
        raise PlanError(f"{schedule}: none of the results' event ids are in this schedule")
    return sizes


def system_toml(calibration: Calibration) -> str:
    """The ``[system]`` section ``abcsim plan --system FILE`` reads, with comments."""
    system = calibration.system
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"# Written by abcsim calibrate from {calibration.source} on {when}.",
        "# Service times: per request type the better (lower AIC) of a lognormal and a gamma",
        "# fitted by maximum likelihood; sizes and queue come from the replay's scenario —",
        "# set them to what the system you replayed against runs.",
        *(f"# note: {note}" for note in calibration.notes),
        "[system]",
        f"workers = {system.workers}",
        f"queue_limit = {system.queue_limit}",
        f"replicas = {system.replicas}",
        f"memory_limit_mb = {system.memory_limit_mb:g}",
        f'balancer = "{system.balancer}"',
        f"timeout_s = {system.timeout_s:g}",
        f"overhead_ms = {system.overhead_ms:g}  # outside the workers: added to each latency",
        "",
        "[system.service]",
    ]
    fits = {f.request: f for f in calibration.fits}
    kept = dict(calibration.kept)
    for request, service in system.service:
        fields = f"median_ms = {service.median_ms:g}, p95_ms = {service.p95_ms:g}"
        if service.per_item_ms:
            fields += f", per_item_ms = {service.per_item_ms:g}"
        if service.distribution != "lognormal":
            fields += f', distribution = "{service.distribution}"'
        fit = fits.get(request)
        if fit is not None:
            why = f"{fit.chosen}, {fit.samples:,} requests"
            if math.isfinite(fit.lognormal_aic):
                why += f"; AIC lognormal {fit.lognormal_aic:,.1f}, gamma {fit.gamma_aic:,.1f}"
        else:
            why = f"not fitted ({kept.get(request, 'no data')}): the scenario's"
        lines.append(f"{request} = {{ {fields} }}  # {why}")
    return "\n".join(lines) + "\n"

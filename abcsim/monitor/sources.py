"""One sample of what is watched: a Prometheus ``/metrics`` endpoint, or a local process.

``scrape("http://127.0.0.1:8080/metrics")`` reads every series the system
exposes — its CPU seconds and resident memory, requests and errors by type,
in flight, queue length, workers busy — parsed by ``prometheus_client``'s own
text parser. ``sample_process(4242)`` reads a process and its children with
``psutil``: CPU seconds (user + system) and resident memory, named as a
Prometheus client names its own. Either raises :class:`SourceError` when the
source cannot be read; the sampler records that as a gap.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import dataclass

import psutil
from prometheus_client.parser import text_string_to_metric_families

from abcsim.monitor.columns import CPU_SECONDS, RESIDENT_BYTES

_MAX_BYTES = 16 << 20  # a /metrics page larger than this is not one


class SourceError(Exception):
    """The source could not be read this time (down, restarting, gone)."""


@dataclass(frozen=True)
class Series:
    """One value of one series: ``abc_target_in_flight`` ``""`` 12.0."""

    metric: str
    labels: str
    value: float


def scrape(url: str, timeout_s: float) -> list[Series]:
    """Every sample of a Prometheus text page (histogram buckets included)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as answer:
            text = answer.read(_MAX_BYTES).decode("utf-8", "replace")
    except (OSError, urllib.error.URLError, ValueError) as exc:
        raise SourceError(str(exc)) from None
    try:
        families = list(text_string_to_metric_families(text))
    except ValueError as exc:
        raise SourceError(f"not Prometheus text: {exc}") from None
    return [
        Series(sample.name, _labels(sample.labels), float(sample.value))
        for family in families
        for sample in family.samples
    ]


def _labels(labels: dict[str, str]) -> str:
    return ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))


def sample_process(pid: int) -> list[Series]:
    """CPU seconds and resident bytes of ``pid`` and its children, now."""
    try:
        process = psutil.Process(pid)
        family = [process, *process.children(recursive=True)]
        cpu = rss = 0.0
        for member in family:
            try:
                times = member.cpu_times()
                cpu += times.user + times.system
                rss += member.memory_info().rss
            except psutil.NoSuchProcess:
                continue  # a child that just ended
    except (psutil.NoSuchProcess, psutil.AccessDenied) as exc:
        raise SourceError(str(exc)) from None
    return [Series(CPU_SECONDS, "", cpu), Series(RESIDENT_BYTES, "", rss)]


def process_cores(pid: int) -> int:
    """The cores ``pid`` may run on (its CPU affinity), 1 if that cannot be read."""
    try:
        return len(psutil.Process(pid).cpu_affinity() or [0])
    except (psutil.Error, AttributeError):
        return 1

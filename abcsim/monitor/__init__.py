"""Watching the system under test during a replay: its resources, and what they say.

:mod:`~abcsim.monitor.sources` reads one sample of a Prometheus ``/metrics``
endpoint or of a local process; :mod:`~abcsim.monitor.sampler` takes them every
interval during a replay into a Parquet file beside the results, on the
results' schedule clock; :mod:`~abcsim.monitor.checks` judges the series at
the end — peak CPU, peak memory, and leaks — as the SLOs are judged.
"""

from __future__ import annotations

from abcsim.monitor.checks import (
    ResourceLimits,
    ResourceReport,
    ResourceVerdict,
    judge_monitor,
    resource_verdicts,
)
from abcsim.monitor.columns import MONITOR_COLUMNS, monitor_path, read_monitor
from abcsim.monitor.sampler import MonitorSettings, Sampler
from abcsim.monitor.setup import monitor_settings, resource_limits

__all__ = [
    "MONITOR_COLUMNS",
    "MonitorSettings",
    "ResourceLimits",
    "ResourceReport",
    "ResourceVerdict",
    "Sampler",
    "judge_monitor",
    "monitor_path",
    "monitor_settings",
    "read_monitor",
    "resource_limits",
    "resource_verdicts",
]

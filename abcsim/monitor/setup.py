"""From ``--monitor``, ``--watch-pid`` and the environment to checked settings and limits.

A URL must be ``http(s)://``; a pid must be a running process (its CPU
affinity gives the cores its CPU share is of). The memory limit is
``ABC_MEMORY_LIMIT`` (``2G``), else the scenario's ``[system]
memory_limit_mb``; the CPU share is its ``[slo] cpu_share`` (0.8). Scraping is
reading, not load: any host may be watched.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from urllib.parse import urlsplit

import psutil

from abcsim.errors import ReplayError, Setting
from abcsim.monitor.checks import ResourceLimits
from abcsim.monitor.sampler import MonitorSettings
from abcsim.scenario import Scenario
from abcsim.scenario.environment import env_value
from abcsim.scenario.units import parse_bytes


def monitor_settings(
    urls: Sequence[str], pids: Sequence[int], interval_s: float = 1.0
) -> MonitorSettings:
    """Checked settings; a bad URL, pid or interval is one :class:`ReplayError`."""
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ReplayError(
                Setting("monitor"), f": expected http(s)://HOST[:PORT]/PATH, got {url!r}"
            )
    for pid in pids:
        if pid <= 0 or not psutil.pid_exists(pid):
            raise ReplayError(Setting("watch_pid"), f": no process {pid}")
    if not interval_s > 0:
        raise ReplayError(Setting("monitor_interval"), f": must be > 0, got {interval_s:g}")
    return MonitorSettings(tuple(urls), tuple(pids), interval_s)


def resource_limits(scenario: Scenario, env: Mapping[str, str]) -> ResourceLimits:
    """The thresholds the checks use (see the module doc)."""
    memory = env_value(env, "ABC_MEMORY_LIMIT", parse_bytes, None)
    fallback = scenario.system.memory_limit_mb * 2**20
    return ResourceLimits(
        cpu_share=scenario.slo.cpu_share,
        memory_bytes=float(memory) if memory is not None else fallback,
    )

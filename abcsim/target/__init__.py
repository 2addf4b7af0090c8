"""The reference target: a stand-in for the ABC trading API, served from a scenario.

``abcsim target`` (or :func:`serve_in_thread` in a test) serves every endpoint
of the scenario's endpoint table as an M/G/c queue with the service times of
its ``[system]`` section, with faults to inject and Prometheus metrics, so the
replayer, the demo and the capacity planner's validation need no staging.
"""

from __future__ import annotations

from abcsim.target.app import build_app
from abcsim.target.faults import FAULT_NAMES, Faults, parse_faults
from abcsim.target.server import RunningTarget, run_target, serve_in_thread, start_target
from abcsim.target.settings import TargetSettings, resolve_target

__all__ = [
    "FAULT_NAMES",
    "Faults",
    "RunningTarget",
    "TargetSettings",
    "build_app",
    "parse_faults",
    "resolve_target",
    "run_target",
    "serve_in_thread",
    "start_target",
]

"""Replay a schedule against a live system at its scheduled times, logging every request.

``prepare_replay`` checks (target allowed, window, rate ceiling);
``run_replay`` sends, records to Parquet and reports as Locust does.
"""

from __future__ import annotations

from abcsim.replay.runner import Progress, ReplayPlan, ReplayRun, replay
from abcsim.replay.session import ReplayReport, run_replay
from abcsim.replay.setup import PreparedReplay, prepare_replay

__all__ = [
    "PreparedReplay",
    "Progress",
    "ReplayPlan",
    "ReplayReport",
    "ReplayRun",
    "prepare_replay",
    "replay",
    "run_replay",
]

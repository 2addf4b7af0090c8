"""Replay a schedule against a live system at its scheduled times, logging every request.

``prepare_replay`` checks (target allowed, window, rate ceiling);
``run_replay`` sends and records to Parquet; :func:`abcsim.report.report` says what it
measured.
"""

from __future__ import annotations

from abcsim.replay.runner import Progress, ReplayPlan, ReplayRun, replay
from abcsim.replay.session import run_replay
from abcsim.replay.setup import PreparedReplay, prepare_replay

__all__ = [
    "PreparedReplay",
    "Progress",
    "ReplayPlan",
    "ReplayRun",
    "prepare_replay",
    "replay",
    "run_replay",
]

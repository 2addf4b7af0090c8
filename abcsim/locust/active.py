"""Agents active in a schedule, per type and minute: what the week-shaped suite follows.

An agent is *active* in a minute of schedule time if it sends at least one
request in it: a London trading user from its login to its logout, a batch
user while a job runs. For ``Tue 13:00..Tue 14:00`` of abc_week this is about
70 of the 100 trading users, all 20 high-frequency users and a few batch
users in the minutes after 13:30 (the New York open's jobs).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from abcsim.schedule.slicing import Window, iter_slice


@dataclass(frozen=True)
class ActiveAgents:
    """``counts[i, k]``: agents of type ``agent_types[k]`` active in minute ``i`` of the window."""

    window: Window
    bin_s: float
    agent_types: tuple[str, ...]
    counts: npt.NDArray[np.int64]

    def at(self, schedule_elapsed: float) -> dict[str, int] | None:
        """The counts ``schedule_elapsed`` seconds into the window; None once it is over."""
        i = int(schedule_elapsed // self.bin_s)
        if not 0 <= i < len(self.counts):
            return None
        return {name: int(n) for name, n in zip(self.agent_types, self.counts[i], strict=True)}


def active_agents(
    schedule: str | Path, window: Window, agent_types: tuple[str, ...], bin_s: float = 60.0
) -> ActiveAgents:
    """Count distinct senders per type and ``bin_s`` of ``window`` (one pass over the slice)."""
    bins = max(1, math.ceil(window.length / bin_s))
    keys: list[npt.NDArray[np.int64]] = []
    for block in iter_slice(schedule, window):
        cell = ((block.t - window.start) // bin_s).astype(np.int64)
        # one key per (minute, agent); the type rides along in the low bits
        key = (cell * (1 << 32) + block.agent_id.astype(np.int64)) * 256 + block.agent_type
        keys.append(np.unique(key))
    counts = np.zeros((bins, len(agent_types)), dtype=np.int64)
    if keys:
        unique = np.unique(np.concatenate(keys))
        cell, kind = (unique // 256) >> 32, unique % 256
        np.add.at(counts, (np.minimum(cell, bins - 1), kind), 1)
    return ActiveAgents(window, bin_s, agent_types, counts)

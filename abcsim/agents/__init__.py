"""Agent behaviours, one module per kind: ``trading``, ``hft``, ``batch``, ``monitor``.

Each module exposes ``run(env, ctx)``, the SimPy process of one agent.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

import simpy

from abcsim.agents import batch, hft, monitor, trading
from abcsim.agents.base import AgentContext, RequestMix

Process = Callable[[simpy.Environment, AgentContext], Generator[simpy.Event, Any, None]]

PROCESSES: dict[str, Process] = {
    "trading": trading.run,
    "hft": hft.run,
    "batch": batch.run,
    "monitor": monitor.run,
}

__all__ = ["PROCESSES", "AgentContext", "RequestMix"]

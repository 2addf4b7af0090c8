"""The SimPy model of the trading week: :func:`simulate` turns a scenario into schedule chunks."""

from __future__ import annotations

from abcsim.simulate.engine import CHUNK_S, simulate
from abcsim.simulate.to_file import write_schedule

__all__ = ["CHUNK_S", "simulate", "write_schedule"]

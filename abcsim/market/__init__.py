"""The trading week: calendar (24/6, closures, sessions, exchange opens) and intensity λ(t)."""

from __future__ import annotations

from abcsim.market.calendar import TradingCalendar
from abcsim.market.intensity import Intensity, intensity_at

__all__ = ["Intensity", "TradingCalendar", "intensity_at"]

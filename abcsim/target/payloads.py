"""Response bodies: small JSON shaped like what each ABC agent returns.

A data-collection request for 20 symbols gets 20 quotes; a strategy analysis
gets a signal, a risk analysis a risk figure, a trade execution an order
acknowledgement, a multi-agent workflow the trace of its four stages, and a
health check the server's state. The numbers are random but plausible: the
replayer and the tests care about shape and size, not about prices.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Mapping
from typing import Any

import numpy as np

from abcsim.target.service import Stage

MAX_QUOTES = 1000
"""At most this many quotes in one answer (a batch request's 1,000 rows fit);
``count`` always says how many were asked for."""

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

_INSTRUMENTS: tuple[tuple[str, float], ...] = (
    ("EURUSD", 1.085),
    ("GBPUSD", 1.27),
    ("USDJPY", 148.5),
    ("AAPL", 190.0),
    ("MSFT", 410.0),
    ("NVDA", 880.0),
    ("ES", 5200.0),
    ("NQ", 18200.0),
    ("XAUUSD", 2330.0),
    ("BTCUSD", 64000.0),
    ("7203.T", 3500.0),
    ("VOD.L", 70.0),
)


class Payloads:
    """Builds the JSON body for each request type."""

    def __init__(self, rng: np.random.Generator) -> None:
        self._rng = rng
        self._orders = 0
        self._stamped_ms = -1  # the millisecond ``_stamp`` shows
        self._stamp = ""

    def body(
        self,
        request: str,
        size: int,
        stages: tuple[Stage, ...],
        status: Mapping[str, Any],
    ) -> dict[str, Any]:
        """The answer to one ``request`` of ``size`` items served as ``stages``."""
        body: dict[str, Any] = {"request": request, "size": size, "ts": self.now()}
        if request == "data_collection":
            body.update(self.quotes(size))
        elif request == "strategy_analysis":
            body["signal"] = self.signal(size)
        elif request == "risk_analysis":
            body["risk"] = self.risk(size)
        elif request == "trade_execution":
            body["order"] = self.order()
        elif request == "multi_agent_workflow":
            body["workflow"] = self.workflow(size, stages)
        else:
            body.update(status)
        return body

    def now(self) -> str:
        """The time now in ISO 8601 to the millisecond: ``2026-01-12T14:30:00.123+00:00``.

        Formatted once per millisecond: at thousands of answers a second most
        share their millisecond with the one before, and formatting a datetime
        costs more than the rest of a small body.
        """
        ms = time.time_ns() // 1_000_000
        if ms != self._stamped_ms:
            stamp = _EPOCH + dt.timedelta(milliseconds=ms)
            self._stamp = stamp.isoformat(timespec="milliseconds")
            self._stamped_ms = ms
        return self._stamp

    def quotes(self, size: int) -> dict[str, Any]:
        """``size`` quotes (at most :data:`MAX_QUOTES`), cycling through the instruments.

        Plain Python after the draw: most requests ask for a few quotes, where
        numpy's per-call set-up costs more than the arithmetic (Python floats
        are IEEE doubles like numpy's, so the figures are the same). One quote,
        the usual case, takes a scalar draw: the same number from the stream
        as an array of one, without making the array.
        """
        n = min(size, MAX_QUOTES)
        shifts = [self._rng.normal(0, 1e-3)] if n == 1 else self._rng.normal(0, 1e-3, n).tolist()
        quotes = []
        for i, shift in enumerate(shifts):
            symbol, price = _INSTRUMENTS[i % len(_INSTRUMENTS)]
            mid = price * (1 + shift)
            half_spread = mid * 5e-5
            quotes.append(
                {
                    "symbol": symbol,
                    "bid": round(mid - half_spread, 5),
                    "ask": round(mid + half_spread, 5),
                }
            )
        return {"count": size, "truncated": size > n, "quotes": quotes}

    def signal(self, size: int) -> dict[str, Any]:
        symbol = _INSTRUMENTS[int(self._rng.integers(len(_INSTRUMENTS)))][0]
        score = float(self._rng.normal())
        action = "buy" if score > 0.5 else "sell" if score < -0.5 else "hold"
        return {
            "symbol": symbol,
            "action": action,
            "confidence": round(min(abs(score) / 3.0, 1.0), 3),
            "horizon_s": 300,
            "symbols_analysed": size,
        }

    def risk(self, size: int) -> dict[str, Any]:
        exposure = float(self._rng.lognormal(13.0, 1.0)) * size
        return {
            "positions": size,
            "exposure_usd": round(exposure, 2),
            "var_95_usd": round(exposure * float(self._rng.uniform(0.01, 0.04)), 2),
            "limit_breached": False,
        }

    def order(self) -> dict[str, Any]:
        self._orders += 1
        symbol, price = _INSTRUMENTS[int(self._rng.integers(len(_INSTRUMENTS)))]
        return {
            "order_id": f"ABC-{self._orders:09d}",
            "status": "accepted",
            "symbol": symbol,
            "side": "buy" if self._rng.random() < 0.5 else "sell",
            "quantity": int(self._rng.integers(1, 100)) * 100,
            "limit_price": round(price * (1 + float(self._rng.normal(0, 1e-3))), 5),
        }

    def workflow(self, size: int, stages: tuple[Stage, ...]) -> dict[str, Any]:
        return {
            "status": "completed",
            "stages": [
                {"stage": s.request, "service_ms": round(s.seconds * 1000.0, 3)} for s in stages
            ],
            "order": self.order(),
            "items": size,
        }

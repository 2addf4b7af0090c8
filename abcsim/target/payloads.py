"""Response bodies: small JSON shaped like what each ABC agent returns.

A data-collection request for 20 symbols gets 20 quotes; a strategy analysis
gets a signal, a risk analysis a risk figure, a trade execution an order
acknowledgement, a multi-agent workflow the trace of its four stages, and a
health check the server's state. The numbers are random but plausible: the
replayer and the tests care about shape and size, not about prices.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import numpy as np

from abcsim.target.service import Stage

MAX_QUOTES = 1000
"""At most this many quotes in one answer (a batch request's 1,000 rows fit);
``count`` always says how many were asked for."""

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

    def body(
        self,
        request: str,
        size: int,
        stages: tuple[Stage, ...],
        status: Mapping[str, Any],
    ) -> dict[str, Any]:
        """The answer to one ``request`` of ``size`` items served as ``stages``."""
        now = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")
        body: dict[str, Any] = {"request": request, "size": size, "ts": now}
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

    def quotes(self, size: int) -> dict[str, Any]:
        n = min(size, MAX_QUOTES)
        picks = np.arange(n) % len(_INSTRUMENTS)
        mids = np.array([p for _, p in _INSTRUMENTS])[picks] * (1 + self._rng.normal(0, 1e-3, n))
        half_spread = mids * 5e-5
        quotes = [
            {"symbol": _INSTRUMENTS[i][0], "bid": round(bid, 5), "ask": round(ask, 5)}
            for i, bid, ask in zip(
                picks.tolist(),
                (mids - half_spread).tolist(),
                (mids + half_spread).tolist(),
                strict=True,
            )
        ]
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

"""What every agent shares: its context, desk sessions, request draws and emission.

An agent is a SimPy process that wakes at the moments that change its
behaviour — a login, the next block of a session, a job start — and emits the
requests of the coming block all at once, sampled with numpy. ``emit`` is the
one way out: it draws each request's type and size from the agent type's mix,
drops what the weekly maintenance window does not allow, and hands the block to
the simulation's sink.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from abcsim.market.calendar import FloatArray, TradingCalendar
from abcsim.market.intensity import Intensity
from abcsim.scenario.spec import REQUEST_TYPES, AgentType, Market

IntArray = npt.NDArray[np.int64]
Sink = Callable[[int, FloatArray, npt.NDArray[np.int8], npt.NDArray[np.int32]], None]
"""``sink(agent_id, t, request_codes, sizes)``: receives one sorted block of requests."""

BLOCK_S = 600.0
"""Requests are sampled in blocks of at most this many seconds: one SimPy event each."""


@dataclass(frozen=True)
class RequestMix:
    """An agent type's request weights and size ranges, ready for vectorised draws."""

    cumulative: FloatArray
    allowed_when_closed: npt.NDArray[np.bool_]
    closed_fraction: float
    size_low: npt.NDArray[np.int32]
    size_span: npt.NDArray[np.int32]

    @classmethod
    def of(cls, spec: AgentType, market: Market) -> RequestMix:
        weights = np.asarray(spec.mix, dtype=np.float64)
        sizes = np.asarray(spec.sizes, dtype=np.int32)
        return cls(
            cumulative=np.cumsum(weights) / weights.sum(),
            allowed_when_closed=np.isin(REQUEST_TYPES, market.week.closed_allow),
            closed_fraction=market.week.closed_fraction,
            size_low=sizes[:, 0],
            size_span=sizes[:, 1] - sizes[:, 0] + 1,
        )

    def draw(self, rng: np.random.Generator, n: int) -> npt.NDArray[np.int8]:
        codes = np.searchsorted(self.cumulative, rng.random(n), side="right")
        return np.minimum(codes, len(REQUEST_TYPES) - 1).astype(np.int8)

    def sizes(self, rng: np.random.Generator, codes: npt.NDArray[np.int8]) -> npt.NDArray[np.int32]:
        span = self.size_span[codes]
        draws = (rng.random(codes.size) * span).astype(np.int32)
        return np.asarray(self.size_low[codes] + draws, dtype=np.int32)


@dataclass
class AgentContext:
    """Everything one agent's process needs; ``rng`` is the agent's own stream."""

    agent_id: int
    spec: AgentType
    region: str | None
    rng: np.random.Generator
    calendar: TradingCalendar
    intensity: Intensity
    mix: RequestMix
    sink: Sink

    def emit(
        self,
        t: FloatArray,
        codes: npt.NDArray[np.int8] | None = None,
        sizes: npt.NDArray[np.int32] | None = None,
    ) -> None:
        """Hand requests at times ``t`` to the sink; draw types and sizes if not given."""
        if t.size == 0:
            return
        order = np.argsort(t, kind="stable")
        t = t[order]
        codes = self.mix.draw(self.rng, t.size) if codes is None else codes[order]
        sizes = self.mix.sizes(self.rng, codes) if sizes is None else sizes[order]
        keep = (t >= 0) & (t < self.calendar.duration_s)
        closed = self.calendar.closed(t)
        if closed.any():
            allowed = self.mix.allowed_when_closed[codes]
            if self.mix.closed_fraction < 1.0:
                allowed &= self.rng.random(t.size) < self.mix.closed_fraction
            keep &= ~closed | allowed
        if not keep.all():
            t, codes, sizes = t[keep], codes[keep], sizes[keep]
        if t.size:
            self.sink(self.agent_id, t, codes, sizes)


def desk_sessions(ctx: AgentContext) -> FloatArray:
    """This agent's ``(login, logout)`` rows: its region's hours on its weekdays, jittered.

    A London user logs in around 07:00 London time, give or take
    ``login_jitter_minutes`` (normal), and out around 17:00.
    """
    assert ctx.region is not None, "desk sessions need a region"
    windows = ctx.calendar.session_windows(ctx.region, ctx.spec.weekdays)
    jitter = ctx.spec.login_jitter_minutes * 60.0
    sessions = windows + ctx.rng.normal(0.0, jitter, windows.shape) if jitter else windows
    sessions[1:, 0] = np.maximum(sessions[1:, 0], sessions[:-1, 1])  # never two at once
    sessions = sessions[sessions[:, 1] > sessions[:, 0]]
    return np.clip(sessions, 0.0, ctx.calendar.duration_s)


def renewal_points(
    start: float, end: float, draw_gaps: Callable[[int], FloatArray], mean_gap: float
) -> tuple[FloatArray, float]:
    """Points of a renewal process from ``start`` (the next point) up to ``end``.

    Returns the points in ``[start, end)`` and the first point at or after
    ``end``, which the caller carries into its next block, so a process sampled
    block by block is the same process as one sampled in one go.
    """
    chunks = []
    point = start
    while point < end:
        expected = (end - point) / mean_gap
        gaps = draw_gaps(int(expected * 1.1) + 16)
        points = point + np.concatenate([[0.0], np.cumsum(gaps)])
        chunks.append(points[:-1])
        point = float(points[-1])
    if not chunks:
        return np.zeros(0), point
    points = np.concatenate(chunks)
    cut = int(np.searchsorted(points, end))
    following = float(points[cut]) if cut < points.size else point
    return points[:cut], following

"""What every agent shares: its context, desk sessions, request draws and emission.

An agent is a SimPy process that wakes at the moments that change its
behaviour — a login, the next block of a session, a job start — and emits the
requests of the coming block all at once, sampled with numpy. ``emit`` is the
one way out: it draws each request's type and size from the agent type's mix
(sizes heavy-tailed where the scenario says so), drops what the weekly
maintenance window does not allow, and hands the block to the simulation's sink.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from abcsim.market.calendar import FloatArray, SessionDays, TradingCalendar
from abcsim.market.intensity import Intensity
from abcsim.scenario.spec import REQUEST_TYPES, AgentType, Market, SizeSpec

IntArray = npt.NDArray[np.int64]
Sink = Callable[[int, FloatArray, npt.NDArray[np.int8], npt.NDArray[np.int32]], None]
"""``sink(agent_id, t, request_codes, sizes)``: receives one sorted block of requests."""

BLOCK_S = 600.0
"""Requests are sampled in blocks of at most this many seconds: one SimPy event each."""


@dataclass(frozen=True)
class RequestMix:
    """An agent type's request weights and sizes, ready for vectorised draws.

    The size columns hold each request type's :class:`SizeSpec` as numbers
    (indexed by request code), so one draw serves a block of mixed types.
    """

    cumulative: FloatArray
    allowed_when_closed: npt.NDArray[np.bool_]
    closed_fraction: float
    size_low: FloatArray
    size_high: FloatArray
    size_scale: FloatArray  # the Lomax's scale (heavy) or the uniform's span
    size_power: FloatArray  # -1/tail for heavy tails, 0 for uniform
    size_round: FloatArray

    @classmethod
    def of(cls, spec: AgentType, market: Market) -> RequestMix:
        weights = np.asarray(spec.mix, dtype=np.float64)
        monitor = spec.kind == "monitor"  # probes go on through maintenance, whatever else stops
        sizes = spec.sizes

        def column(value: Callable[[SizeSpec], float]) -> FloatArray:
            return np.array([value(size) for size in sizes], dtype=np.float64)

        return cls(
            cumulative=np.cumsum(weights) / weights.sum(),
            allowed_when_closed=np.isin(REQUEST_TYPES, market.week.closed_allow) | monitor,
            closed_fraction=1.0 if monitor else market.week.closed_fraction,
            size_low=column(lambda z: z.low),
            size_high=column(lambda z: z.high),
            size_scale=column(_scale),
            size_power=column(lambda z: -1.0 / z.tail if z.heavy else 0.0),
            size_round=column(lambda z: z.round),
        )

    def draw(self, rng: np.random.Generator, n: int) -> npt.NDArray[np.int8]:
        codes = np.searchsorted(self.cumulative, rng.random(n), side="right")
        return np.minimum(codes, len(REQUEST_TYPES) - 1).astype(np.int8)

    def sizes(self, rng: np.random.Generator, codes: npt.NDArray[np.int8]) -> npt.NDArray[np.int32]:
        """One size per request from its type's :class:`SizeSpec`: uniform, or ``low`` plus a
        Lomax draw (P(X > x) = (1 + x/scale)^-tail), rounded as people round."""
        low, high = self.size_low[codes], self.size_high[codes]
        power = self.size_power[codes]
        u = rng.random(codes.size)
        heavy = self.size_scale[codes] * ((1.0 - u) ** power - 1.0)
        uniform = u * self.size_scale[codes]
        sizes = np.minimum(np.floor(low + np.where(power < 0, heavy, uniform)), high)
        if self.size_round.any():
            sizes = round_numbers(sizes, rng.random(codes.size) < self.size_round[codes])
        return np.asarray(np.clip(sizes, low, high), dtype=np.int32)


def _scale(size: SizeSpec) -> float:
    """The Lomax scale that puts the median at ``median - low`` (heavy), or the span (uniform)."""
    if size.heavy:
        return float((size.median - size.low) / (2.0 ** (1.0 / size.tail) - 1.0))
    return float(size.high - size.low + 1)


def round_numbers(sizes: FloatArray, chosen: npt.NDArray[np.bool_]) -> FloatArray:
    """The ``chosen`` sizes from 10 up rounded to one significant digit (37 → 40, 1,234 → 1,000)."""
    chosen = chosen & (sizes >= 10)
    magnitude = 10.0 ** np.floor(np.log10(np.maximum(sizes, 1.0)))
    rounded = np.floor(sizes / magnitude + 0.5) * magnitude  # half up, as people round: 25 → 30
    return np.asarray(np.where(chosen, rounded, sizes))


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
    shared: FloatArray = field(default_factory=lambda: np.zeros(0))
    """Market events this agent's type reacts to together (high-frequency users)."""

    def emit(
        self,
        t: FloatArray,
        codes: npt.NDArray[np.int8] | None = None,
        sizes: npt.NDArray[np.int32] | None = None,
    ) -> None:
        """Hand requests at times ``t`` to the sink; draw types and sizes if not given."""
        if t.size == 0:
            return
        if codes is None:
            t = np.sort(t)  # types and sizes are drawn in time order: no permutation to apply
            codes = self.mix.draw(self.rng, t.size)
        else:
            order = np.argsort(t, kind="stable")
            t, codes = t[order], codes[order]
            sizes = None if sizes is None else sizes[order]
        if sizes is None:
            sizes = self.mix.sizes(self.rng, codes)
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


def desk_sessions(ctx: AgentContext) -> SessionDays:
    """This agent's ``(login, logout)`` rows: its region's hours on its weekdays, jittered.

    A London user logs in around 07:00 London time, give or take
    ``login_jitter_minutes`` (normal), and out around 17:00 (or at an early
    close). ``factor`` is the region's: below 1 on its exchange's holidays.
    Sessions may begin before the run (a user already at its desk) or end after.
    """
    assert ctx.region is not None, "desk sessions need a region"
    days = ctx.calendar.session_days(ctx.region, ctx.spec.weekdays)
    jitter = ctx.spec.login_jitter_minutes * 60.0
    windows = days.bounds
    sessions = windows + ctx.rng.normal(0.0, jitter, windows.shape) if jitter else windows.copy()
    sessions[1:, 0] = np.maximum(sessions[1:, 0], sessions[:-1, 1])  # never two at once
    kept = sessions[:, 1] > sessions[:, 0]
    return SessionDays(sessions[kept], days.factor[kept])


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

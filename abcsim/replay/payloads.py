"""The payload model: each event's instrument, side, quantity and price, drawn from its id.

A replayed order must look like one: ``BUY 300 AAPL @ 190.07``, mostly the
popular instruments (Zipf: EURUSD and ES far more than VOD.L), mostly small
(a Pareto tail of round lots), priced near the reference, and — in the
minutes after US CPI — mostly on what CPI moves. :class:`PayloadModel` draws
all of that for a block of events at once, with numpy.

The draws are *counter-based*: event ``i``'s numbers are a hash (splitmix64)
of the scenario's seed, ``i`` and which draw it is. They depend on nothing
else — not the window, the shard, the batch or what was drawn before — so
two replays of one schedule send byte-identical requests, however they are
sliced, and a request can be rebuilt from its ``event_id`` alone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from abcsim.scenario.spec import PayloadSpec, Release

_U64 = 0xFFFFFFFFFFFFFFFF
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)

# which draw of an event a uniform is for: each has its own hash key
_INSTRUMENT, _RELEASE, _SIDE, _LOTS, _PRICE, _PRICE_ANGLE = range(6)

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


def _mix(z: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """splitmix64's finaliser: every input bit moves every output bit."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def stream_key(seed: int, stream: int) -> np.uint64:
    """The hash key of one kind of draw under one seed."""
    base = np.array([(seed * 0xD1B54A32D192ED03 + stream) & _U64], dtype=np.uint64)
    return np.uint64(_mix(base)[0])


def uniforms(key: np.uint64, event_id: IntArray) -> FloatArray:
    """One uniform in [0, 1) per event, a pure function of ``key`` and the event's id."""
    z = _mix(event_id.astype(np.uint64) * _GOLDEN + key)  # uint64 arithmetic wraps, as meant
    return (z >> np.uint64(11)).astype(np.float64) * 2.0**-53


@dataclass(frozen=True)
class Draws:
    """A block's payloads, one entry per event."""

    instrument: npt.NDArray[np.intp]  # index into the spec's instruments
    buy: npt.NDArray[np.bool_]
    quantity: IntArray  # units: lots × the instrument's lot
    price: FloatArray  # on the instrument's tick


@dataclass(frozen=True)
class _ReleaseTimes:
    """The releases that move some instrument, as seconds since the schedule's start."""

    t: FloatArray
    decay_s: FloatArray
    movers: tuple[npt.NDArray[np.intp], ...]  # per release: the instruments it moves
    movers_cdf: tuple[FloatArray, ...]  # their popularity, cumulated


class PayloadModel:
    """Draws payloads for events of one schedule (see the module doc)."""

    def __init__(
        self,
        spec: PayloadSpec,
        seed: int,
        schedule_start: dt.datetime,
        releases: Sequence[Release] = (),
    ) -> None:
        self.spec = spec
        self._keys = [stream_key(seed, s) for s in range(6)]
        n = len(spec.instruments)
        weights = np.arange(1, n + 1, dtype=np.float64) ** -spec.zipf
        self._weights = weights
        self._cdf = np.cumsum(weights) / weights.sum()
        self._lot = np.array([i.lot for i in spec.instruments], dtype=np.int64)
        self._tick = np.array([i.tick for i in spec.instruments])
        self._reference = np.array([i.price for i in spec.instruments])
        self._releases = self._release_times(releases, schedule_start)

    def _release_times(self, releases: Sequence[Release], start: dt.datetime) -> _ReleaseTimes:
        moving = []
        for release in sorted(releases, key=lambda r: r.at):
            movers = [i for i, x in enumerate(self.spec.instruments) if release.kind in x.moves_on]
            if movers:
                moving.append((release, np.array(movers, dtype=np.intp)))
        return _ReleaseTimes(
            t=np.array([(r.at - start).total_seconds() for r, _ in moving]),
            decay_s=np.array([r.decay_minutes * 60.0 for r, _ in moving]),
            movers=tuple(m for _, m in moving),
            movers_cdf=tuple(
                np.cumsum(self._weights[m]) / self._weights[m].sum() for _, m in moving
            ),
        )

    def draw(self, event_id: IntArray, t: FloatArray) -> Draws:
        """Payloads of events ``event_id`` scheduled at ``t`` (seconds since the start)."""
        spec = self.spec
        u = [uniforms(key, event_id) for key in self._keys]
        instrument = self._instruments(u[_INSTRUMENT], u[_RELEASE], t)
        # whole lots with P(lots >= k) = k^-α: the floor of a Pareto from 1
        lots = np.floor((1.0 - u[_LOTS]) ** (-1.0 / spec.lots_tail))
        lots = np.minimum(lots, spec.max_lots).astype(np.int64)
        tick = self._tick[instrument]
        normal = np.sqrt(-2.0 * np.log1p(-u[_PRICE])) * np.cos(2.0 * np.pi * u[_PRICE_ANGLE])
        moved = self._reference[instrument] * (1.0 + spec.spread_bps * 1e-4 * normal)
        price = np.maximum(np.round(moved / tick), 1.0) * tick
        return Draws(instrument, u[_SIDE] < spec.buy_share, lots * self._lot[instrument], price)

    def _instruments(
        self, u: FloatArray, u_release: FloatArray, t: FloatArray
    ) -> npt.NDArray[np.intp]:
        """Zipf picks, except that a release's share goes to what it moves, decaying after it."""
        picks = np.minimum(np.searchsorted(self._cdf, u, side="right"), self._cdf.size - 1)
        releases = self._releases
        if releases.t.size == 0 or self.spec.release_share == 0.0:
            return np.asarray(picks, dtype=np.intp)
        latest = np.searchsorted(releases.t, t, side="right") - 1
        after = latest >= 0
        since = np.where(after, t - releases.t[np.maximum(latest, 0)], np.inf)
        share = self.spec.release_share * np.exp(-since / releases.decay_s[np.maximum(latest, 0)])
        concentrated = after & (u_release < share)
        for r in np.unique(latest[concentrated]):
            mask = concentrated & (latest == r)
            cdf = releases.movers_cdf[r]
            within = np.minimum(np.searchsorted(cdf, u[mask], side="right"), cdf.size - 1)
            picks[mask] = releases.movers[r][within]
        return np.asarray(picks, dtype=np.intp)

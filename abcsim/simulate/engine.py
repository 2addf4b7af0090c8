"""The discrete-event model of the trading week: a scenario in, schedule chunks out.

One SimPy :class:`~simpy.Environment` runs one process per agent (100
TradingSystemUsers are 100 processes). A process sleeps until something
changes its behaviour — a login, a job start, the next block of a session —
and then emits the requests of that block as numpy arrays. There is never a
SimPy event per request: a six-day week of ~38 million requests is some
tens of thousands of events.

The run advances in chunks of schedule time (an hour by default). A block is
emitted at its start and holds only requests at or after it, so once the
environment has run to a chunk's end every request before that end is known:
those are sorted and handed out, the rest wait. Memory is bounded by a chunk,
not by the horizon.

Before the agents start, the market is drawn whole for the horizon: its
activity A(t) (:mod:`abcsim.market.activity`) and, per high-frequency agent
type, the market events its users react to together. Every agent then reads
the same market.

Determinism: ``SeedSequence(seed)`` spawns one sequence for the agents and
one for the market; every agent draws from its own ``numpy.random.Generator``
spawned in scenario order, the market from its own, and block boundaries
depend only on the agent's own schedule. The same scenario and seed give the
same schedule whatever the chunk length (ties in ``t`` break by agent id),
and agents could be simulated in separate processes and merged.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import numpy.typing as npt
import simpy

from abcsim.agents import PROCESSES, AgentContext, RequestMix
from abcsim.agents.base import Sink
from abcsim.agents.hft import shared_events
from abcsim.market.activity import activity_path
from abcsim.market.calendar import FloatArray, TradingCalendar
from abcsim.market.intensity import Intensity, grid
from abcsim.scenario.overrides import RunSettings
from abcsim.scenario.spec import HftBehaviour, Scenario
from abcsim.schedule.columns import ScheduleChunk

CHUNK_S = 3600.0


class _Block:
    """Requests one agent emitted in one go, in ``t`` order."""

    __slots__ = ("agent_id", "request", "seq", "size", "t")

    def __init__(
        self,
        agent_id: int,
        seq: int,
        t: FloatArray,
        request: npt.NDArray[np.int8],
        size: npt.NDArray[np.int32],
    ) -> None:
        self.agent_id, self.seq = agent_id, seq
        self.t, self.request, self.size = t, request, size


class ScheduleBuffer:
    """Collects emitted blocks and releases them as sorted chunks."""

    def __init__(self, agent_type_of: npt.NDArray[np.int8], agent_types: tuple[str, ...]) -> None:
        self._type_of = agent_type_of
        self._agent_types = agent_types
        self._blocks: list[_Block] = []
        self._seq = 0
        self.next_event_id = 0

    def sink(
        self,
        agent_id: int,
        t: FloatArray,
        request: npt.NDArray[np.int8],
        size: npt.NDArray[np.int32],
    ) -> None:
        self._blocks.append(_Block(agent_id, self._seq, t, request, size))
        self._seq += 1

    def take_before(self, end: float) -> ScheduleChunk:
        """Every buffered request with ``t < end``, sorted, with event ids assigned."""
        # a canonical order (agent, then emission) makes ties in t break the same
        # way however the run was chunked
        self._blocks.sort(key=lambda b: (b.agent_id, b.seq))
        taken: list[tuple[int, FloatArray, npt.NDArray[np.int8], npt.NDArray[np.int32]]] = []
        kept = []
        for block in self._blocks:
            cut = int(np.searchsorted(block.t, end))
            if cut:
                taken.append((block.agent_id, block.t[:cut], block.request[:cut], block.size[:cut]))
            if cut < block.t.size:
                block.t, block.request = block.t[cut:], block.request[cut:]
                block.size = block.size[cut:]
                kept.append(block)
        self._blocks = kept
        return self._chunk(taken, end)

    def _chunk(
        self,
        taken: list[tuple[int, FloatArray, npt.NDArray[np.int8], npt.NDArray[np.int32]]],
        end: float,
    ) -> ScheduleChunk:
        if taken:
            agent_id = np.concatenate([np.full(t.size, a, dtype=np.int32) for a, t, _, _ in taken])
            t = np.concatenate([t for _, t, _, _ in taken])
            order = np.argsort(t, kind="stable")
            columns = (
                t[order],
                agent_id[order],
                np.concatenate([r for _, _, r, _ in taken])[order],
                np.concatenate([s for _, _, _, s in taken])[order],
            )
        else:
            columns = (
                np.zeros(0),
                np.zeros(0, np.int32),
                np.zeros(0, np.int8),
                np.zeros(0, np.int32),
            )
        n = columns[0].size
        event_id = np.arange(self.next_event_id, self.next_event_id + n, dtype=np.int64)
        self.next_event_id += n
        return ScheduleChunk(
            event_id=event_id,
            t=columns[0],
            agent_id=columns[1],
            agent_type=self._type_of[columns[1]],
            request=columns[2],
            size=columns[3],
            agent_types=self._agent_types,
            end=end,
        )


def apportion(weights: tuple[tuple[str, float], ...], count: int) -> list[str | None]:
    """Assign ``count`` agents to regions in proportion to ``weights`` (largest remainder)."""
    if not weights:
        return [None] * count
    total = sum(w for _, w in weights)
    quotas = [(name, count * w / total) for name, w in weights]
    seats = {name: int(q) for name, q in quotas}
    by_remainder = sorted(quotas, key=lambda nq: nq[1] - int(nq[1]), reverse=True)
    for name, _ in by_remainder[: count - sum(seats.values())]:
        seats[name] += 1
    return [name for name, _ in weights for _ in range(seats[name])]


def seed_sequences(
    seed: int, n_agents: int
) -> tuple[list[np.random.SeedSequence], np.random.SeedSequence]:
    """One seed sequence per agent (in id order), and one for the market: it spawns one for
    the activity and one per agent type for shared events."""
    agents, market = np.random.SeedSequence(seed).spawn(2)
    return agents.spawn(n_agents), market


def agent_contexts(
    scenario: Scenario, run: RunSettings, calendar: TradingCalendar, sink: Sink
) -> Iterator[AgentContext]:
    """Every agent of the scenario, in id order, with its region, market and own generator."""
    seeds, market = seed_sequences(run.seed, scenario.n_agents)
    activity_seed, *shared_seeds = market.spawn(1 + len(scenario.agents))
    rng = np.random.default_rng(activity_seed)
    activity = activity_path(scenario.market.activity, calendar, grid(calendar), rng)
    agent_id = 0
    for spec, shared_seed in zip(scenario.agents, shared_seeds, strict=True):
        intensity = Intensity(calendar, spec.profile, activity)
        mix = RequestMix.of(spec, scenario.market)
        shared = np.zeros(0)
        if isinstance(spec.behaviour, HftBehaviour):
            rng = np.random.default_rng(shared_seed)
            shared = shared_events(intensity, spec.behaviour, rng, calendar.duration_s)
        for region in apportion(spec.regions, spec.count):
            yield AgentContext(
                agent_id=agent_id,
                spec=spec,
                region=region,
                rng=np.random.default_rng(seeds[agent_id]),
                calendar=calendar,
                intensity=intensity,
                mix=mix,
                sink=sink,
                shared=shared,
            )
            agent_id += 1


def simulate(
    scenario: Scenario, run: RunSettings, chunk_s: float = CHUNK_S
) -> Iterator[ScheduleChunk]:
    """Run the trading-week model; yield the schedule in chunks of ``chunk_s`` seconds."""
    if chunk_s <= 0:
        raise ValueError("chunk_s must be > 0")
    calendar = TradingCalendar(scenario.market, run.start, run.duration_s)
    agent_types = tuple(a.name for a in scenario.agents)
    counts = [a.count for a in scenario.agents]
    type_of = np.repeat(np.arange(len(agent_types), dtype=np.int8), counts)
    buffer = ScheduleBuffer(type_of, agent_types)
    env = simpy.Environment()
    for ctx in agent_contexts(scenario, run, calendar, buffer.sink):
        env.process(PROCESSES[ctx.spec.kind](env, ctx))
    end = 0.0
    while end < run.duration_s:
        end = min(end + chunk_s, run.duration_s)
        env.run(until=end)
        yield buffer.take_before(end)

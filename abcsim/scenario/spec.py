"""The scenario: a frozen, validated description of one trading week's traffic.

A :class:`Scenario` is what ``scenarios/abc_week.toml`` says, checked and typed:
the market (week, sessions, exchange opens, roll hour, news), the agent types
(how many TradingSystemUsers, what each sends and when), the endpoint table and
the SLOs. Every later stage — simulate, replay, plan, report — reads only this
object, never the TOML, so a scenario means the same thing everywhere.

Times of day are local to a named time zone where the world defines them so
(London opens at 08:00 *London* time, whatever daylight saving says) and UTC
where the venue does (the weekly maintenance window, the roll hour).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

REQUEST_TYPES: tuple[str, ...] = (
    "data_collection",
    "strategy_analysis",
    "risk_analysis",
    "trade_execution",
    "multi_agent_workflow",
    "health_check",
)
"""Every request an agent can send; schedule codes index this tuple."""

AGENT_KINDS: tuple[str, ...] = ("trading", "hft", "batch")
"""The behaviour models in :mod:`abcsim.agents`."""

WEEKDAYS: tuple[str, ...] = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class WeeklyTime:
    """A moment of the UTC week, e.g. ``Sat 22:00``."""

    weekday: int  # Monday = 0
    time: dt.time

    @property
    def seconds(self) -> float:
        """Seconds since Monday 00:00 UTC."""
        return self.weekday * 86400.0 + self.time.hour * 3600.0 + self.time.minute * 60.0


@dataclass(frozen=True)
class Week:
    """The venue's week: open ``open`` → ``close``, closed in between for maintenance.

    During the closure only the request types in ``closed_allow`` go out (a
    fraction ``closed_fraction`` of them); Saturday's intensity is multiplied
    by ``saturday_factor``.
    """

    open: WeeklyTime
    close: WeeklyTime
    saturday_factor: float
    closed_allow: tuple[str, ...]
    closed_fraction: float


@dataclass(frozen=True)
class RollHour:
    """The quiet daily roll (UTC), when intensity drops to ``factor``."""

    start: dt.time
    end: dt.time
    factor: float


@dataclass(frozen=True)
class Session:
    """A regional trading session, e.g. London 08:00–17:00 Europe/London.

    It adds ``weight`` to the market's activity while open (with linear ramps
    of ``ramp_minutes``); if ``exchange`` names an ``exchange_calendars`` code,
    each real open of that exchange adds a burst of ``open_burst`` × baseline
    decaying with time constant ``burst_decay_minutes``.
    """

    name: str
    tz: str
    open: dt.time
    close: dt.time
    weekdays: tuple[int, ...]
    weight: float
    ramp_minutes: float
    exchange: str | None
    open_burst: float
    burst_decay_minutes: float


@dataclass(frozen=True)
class NewsSpike:
    """A scheduled release, e.g. US data at 08:30 New York: ``multiplier``× for ``minutes``."""

    name: str
    tz: str
    at: dt.time
    weekdays: tuple[int, ...]
    multiplier: float
    minutes: float


@dataclass(frozen=True)
class Market:
    """Everything about *when* the market is busy, shared by all agent types."""

    week: Week
    roll: RollHour
    baseline: float
    sessions: tuple[Session, ...]
    news: tuple[NewsSpike, ...]

    def session(self, name: str) -> Session:
        return next(s for s in self.sessions if s.name == name)


@dataclass(frozen=True)
class Profile:
    """How strongly an agent type follows each part of λ(t) (0 = ignores it, 1 = fully)."""

    sessions: float = 1.0
    open_bursts: float = 1.0
    news: float = 1.0


@dataclass(frozen=True)
class TradingBehaviour:
    """A desk user: think time (seconds at λ = 1) between requests while logged in."""

    think_min_s: float
    think_mean_s: float


@dataclass(frozen=True)
class HftBehaviour:
    """A high-frequency user: ``rate`` requests/s on average while active.

    ``1 - burst_share`` of it is near-periodic polling (gamma gaps of shape
    ``poll_shape``), the rest self-exciting Hawkes bursts with the given
    branching ratio and decay.
    """

    rate: float
    poll_shape: float
    burst_share: float
    branching: float
    burst_decay_s: float


@dataclass(frozen=True)
class JobTrigger:
    """When batch jobs start: at a session's open or close, a daily time, or every N minutes."""

    name: str
    at: str  # "open", "close", "daily" or "every"
    session: str | None
    time: dt.time | None
    tz: str
    weekdays: tuple[int, ...]
    every_minutes: float | None
    probability: float


@dataclass(frozen=True)
class BatchBehaviour:
    """A batch user: jobs of lognormal size, each a rate-limited burst of heavy requests."""

    triggers: tuple[JobTrigger, ...]
    start_jitter_s: float
    items_median: float
    items_sigma: float
    items_per_request: int
    request_rate: float


Behaviour = TradingBehaviour | HftBehaviour | BatchBehaviour


@dataclass(frozen=True)
class AgentType:
    """One population of agents, e.g. 100 TradingSystemUsers, and how each behaves."""

    name: str
    kind: str
    user_class: str
    count: int
    regions: tuple[tuple[str, float], ...]
    weekdays: tuple[int, ...]
    login_jitter_minutes: float
    mix: tuple[float, ...]  # weights in REQUEST_TYPES order
    sizes: tuple[tuple[int, int], ...]  # (low, high) per request type
    profile: Profile
    behaviour: Behaviour


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str


@dataclass(frozen=True)
class Slo:
    """Performance targets: P95 per request type, P95 overall, error rate."""

    p95_ms: tuple[tuple[str, float], ...]
    overall_p95_ms: float | None
    error_rate: float | None


@dataclass(frozen=True)
class Scenario:
    """A whole scenario: the market, the agents, the API and its targets."""

    name: str
    description: str
    start: dt.datetime  # UTC
    days: float
    seed: int
    market: Market
    agents: tuple[AgentType, ...]
    endpoints: tuple[tuple[str, Endpoint], ...]
    slo: Slo
    source: str = field(default="<memory>", compare=False)
    text: str = field(default="", compare=False, repr=False)

    @property
    def duration_s(self) -> float:
        return self.days * 86400.0

    @property
    def n_agents(self) -> int:
        return sum(a.count for a in self.agents)

    def agent_type(self, name: str) -> AgentType:
        return next(a for a in self.agents if a.name == name)

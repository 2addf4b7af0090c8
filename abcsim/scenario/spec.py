"""The scenario: a frozen, validated description of one trading week's traffic.

A :class:`Scenario` is what ``scenarios/abc_week.toml`` says, checked and typed:
the market (week, sessions, exchange opens, roll hour, news), the agent types
(how many TradingSystemUsers, what each sends and when), the endpoint table,
the SLOs and the system that serves it (workers, queue, service times). Every
later stage — simulate, replay, plan, report, the reference target — reads only
this object, never the TOML, so a scenario means the same thing everywhere.

Times of day are local to a named time zone where the world defines them so
(London opens at 08:00 *London* time, whatever daylight saving says) and UTC
where the venue does (the weekly maintenance window, the roll hour).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

from abcsim.scenario.gamma import gamma_parameters

REQUEST_TYPES: tuple[str, ...] = (
    "data_collection",
    "strategy_analysis",
    "risk_analysis",
    "trade_execution",
    "multi_agent_workflow",
    "health_check",
)
"""Every request an agent can send; schedule codes index this tuple."""

AGENT_KINDS: tuple[str, ...] = ("trading", "hft", "batch", "monitor")
"""The behaviour models in :mod:`abcsim.agents`."""

WEEKDAYS: tuple[str, ...] = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

WORKFLOW_STAGES: tuple[str, ...] = (
    "data_collection",
    "strategy_analysis",
    "risk_analysis",
    "trade_execution",
)
"""The stages a ``multi_agent_workflow`` runs in turn, each served like that request type."""

Z_95 = 1.6448536269514722
"""The standard normal's 95th percentile: a lognormal's P95 is ``median * exp(Z_95 * sigma)``."""


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
    decaying with time constant ``burst_decay_minutes``, and the exchange's
    calendar thins the session: on its holidays only ``holiday_factor`` of the
    session's weight remains, and only that share of its desks come in — the
    two multiply: a New York desk user's traffic on Thanksgiving is about
    0.3 × 0.7 of a normal day's — and on an early close its desks leave at the close.
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
    holiday_factor: float = 0.3


@dataclass(frozen=True)
class NewsSpike:
    """A recurring event at a local time, e.g. a daily fixing at 16:00 London.

    Like a :class:`Release`, it multiplies activity by ``multiplier`` at once and
    decays over ``decay_minutes``; unlike one, it comes every ``weekdays`` day
    (except the holidays of ``exchange``, if named).
    """

    name: str
    tz: str
    at: dt.time
    weekdays: tuple[int, ...]
    multiplier: float
    decay_minutes: float
    exchange: str | None = None


@dataclass(frozen=True)
class Release:
    """One scheduled release on its real date, e.g. US payrolls, Fri 2026-03-06 08:30 New York.

    At ``at`` activity jumps to ``peak`` times its level and decays back over
    tens of minutes (:func:`abcsim.market.releases.release_shape`); the
    ``decay_minutes`` set how fast — payrolls peak at about 5x and are back
    within the hour, weekly claims barely show.
    """

    kind: str
    name: str
    at: dt.datetime  # UTC
    peak: float
    decay_minutes: float


@dataclass(frozen=True)
class Activity:
    """The market's mood: a random, positive factor A(t) shared by every agent.

    ``log A(t)`` is a sum of Ornstein–Uhlenbeck components, one per
    ``timescales_s`` with standard deviation ``sigmas`` — a minute's flurry, a
    busy half-hour, a slow afternoon — plus a level drawn for each trading day
    (beginning at ``day_start`` UTC) with standard deviation ``daily_sigma``.
    A is scaled to mean 1, so it moves traffic around without adding any; on
    geometrically spaced time scales its counts have long memory (a Hurst
    exponent well above 1/2, as in real markets). No components: A = 1.
    """

    timescales_s: tuple[float, ...] = ()
    sigmas: tuple[float, ...] = ()
    daily_sigma: float = 0.0
    day_start: dt.time = dt.time(22, 0)

    @property
    def enabled(self) -> bool:
        return bool(self.sigmas and max(self.sigmas) > 0) or self.daily_sigma > 0

    @property
    def variance(self) -> float:
        """Var(log A): the sum of the components' variances and the daily level's."""
        return sum(s * s for s in self.sigmas) + self.daily_sigma**2


NO_ACTIVITY = Activity()

DEFAULT_ACTIVITY = Activity(
    timescales_s=(60.0, 240.0, 960.0, 3840.0, 15360.0, 86400.0),
    sigmas=(0.03, 0.05, 0.05, 0.04, 0.05, 0.04),
    daily_sigma=0.08,
)
"""A's components when a scenario does not say: a minute to a day (see ``abc_week.toml``)."""


@dataclass(frozen=True)
class Market:
    """Everything about *when* the market is busy, shared by all agent types."""

    week: Week
    roll: RollHour
    baseline: float
    sessions: tuple[Session, ...]
    news: tuple[NewsSpike, ...]
    releases: tuple[Release, ...] = ()
    activity: Activity = DEFAULT_ACTIVITY

    def session(self, name: str) -> Session:
        return next(s for s in self.sessions if s.name == name)


@dataclass(frozen=True)
class Profile:
    """How strongly an agent type follows each part of λ(t) (0 = ignores it, 1 = fully).

    ``news`` scales releases and recurring news; ``activity`` is the power of the
    market's activity A(t) the type feels (0: a clock, 1: the market's mood).
    """

    sessions: float = 1.0
    open_bursts: float = 1.0
    news: float = 1.0
    activity: float = 1.0


@dataclass(frozen=True)
class TradingBehaviour:
    """A desk user: think time (seconds at λ = 1) between requests while logged in."""

    think_min_s: float
    think_mean_s: float


@dataclass(frozen=True)
class HawkesKernel:
    """How long a request keeps exciting more: a power law built from exponentials.

    ``terms`` exponentials with time constants spaced evenly in log from
    ``shortest_s`` to ``longest_s``, weighted ``τ^-exponent``, sum to a kernel
    that decays like ``t^-(1 + exponent)`` between them — memory from
    milliseconds to minutes, as fitted to real order flow — and integrates to 1.
    """

    shortest_s: float = 0.01
    longest_s: float = 300.0
    exponent: float = 0.3
    terms: int = 8


@dataclass(frozen=True)
class HftBehaviour:
    """A high-frequency user: ``rate`` requests/s at λ = 1 while its desk is in.

    A fraction ``branching`` of its requests are reactions to its own earlier
    ones (a Hawkes process with :class:`HawkesKernel` ``kernel``); the rest,
    the immigrants, are its own near-periodic polling (gamma gaps of shape
    ``poll_shape``) and, a fraction ``shared`` of them, market events that
    reach many high-frequency users at once. Outside its desk's hours the
    algorithm keeps running at ``off_desk`` of its rate.
    """

    rate: float
    poll_shape: float
    branching: float
    kernel: HawkesKernel
    shared: float
    off_desk: float


@dataclass(frozen=True)
class MonitorBehaviour:
    """A monitoring probe: one request every ``interval_s`` (± ``jitter_s``), 24/7."""

    interval_s: float
    jitter_s: float


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


Behaviour = TradingBehaviour | HftBehaviour | BatchBehaviour | MonitorBehaviour


@dataclass(frozen=True)
class SizeSpec:
    """How many items (symbols, rows, lots) one request of a type carries.

    Uniform from ``low`` to ``high`` when ``tail`` is 0; otherwise heavy-tailed:
    ``low`` plus a Lomax (Pareto II) draw with median ``median - low`` and tail
    index ``tail`` (P(size > x) falls like x^-tail), capped at ``high``; a
    fraction ``round`` of sizes from 10 up is rounded to a round number (37 → 40,
    1,234 → 1,000), as people and algorithms ask for.
    """

    low: int = 1
    high: int = 1
    median: float = 1.0
    tail: float = 0.0
    round: float = 0.0

    @property
    def heavy(self) -> bool:
        return self.tail > 0


FIXED_SIZE = SizeSpec()


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
    sizes: tuple[SizeSpec, ...]  # per request type, REQUEST_TYPES order
    profile: Profile
    behaviour: Behaviour


TEMPLATE_FIELDS: tuple[str, ...] = (
    "event_id",
    "agent_id",
    "agent_type",
    "request",
    "size",
    "t",
    "time",
    "instrument",
    "side",
    "quantity",
    "price",
    "client_order_id",
)
"""The ``${field}`` names a request template may use: the event's own (``t`` is
seconds since the schedule's start, ``time`` its scheduled UTC wall time), then
the payload model's (:class:`PayloadSpec`)."""


@dataclass(frozen=True)
class Endpoint:
    """Where one request type goes and what it carries.

    ``body`` is a JSON template (compact JSON text, as the scenario's table was
    written) whose strings may hold ``${field}`` (:data:`TEMPLATE_FIELDS`); a
    string that is exactly one field becomes that field's JSON value (a number
    stays a number). ``query`` and ``headers`` are name/template pairs. With no
    template at all, a POST carries ``{"size": N, "event_id": ID}`` and a GET
    ``?size=N``, as the reference target reads them.
    """

    method: str
    path: str
    body: str | None = None
    query: tuple[tuple[str, str], ...] = ()
    headers: tuple[tuple[str, str], ...] = ()

    @property
    def templated(self) -> bool:
        return self.body is not None or bool(self.query) or bool(self.headers)


@dataclass(frozen=True)
class Instrument:
    """One instrument the payload model trades: ``AAPL`` near 190.00, in ticks of 0.01 and
    lots of 100; ``moves_on`` names the release kinds (``cpi``, ``payrolls``) that move it."""

    symbol: str
    price: float
    tick: float = 0.01
    lot: int = 1
    moves_on: tuple[str, ...] = ()

    @property
    def decimals(self) -> int:
        """Digits after the point that show a whole tick (0.0001 → 4, 0.25 → 2, 5 → 0)."""
        for digits in range(10):
            if abs(round(self.tick, digits) - self.tick) < 1e-12:
                return digits
        return 10


DEFAULT_INSTRUMENTS: tuple[Instrument, ...] = (
    Instrument("EURUSD", 1.085, 0.00001, 1000, ("cpi", "payrolls", "fomc", "ecb", "ecb_press")),
    Instrument("ES", 5200.0, 0.25, 1, ("cpi", "payrolls", "fomc", "fomc_press")),
    Instrument("AAPL", 190.0, 0.01, 100),
    Instrument("USDJPY", 148.5, 0.001, 1000, ("cpi", "payrolls", "fomc", "fomc_press")),
    Instrument("NVDA", 880.0, 0.01, 100),
    Instrument("NQ", 18200.0, 0.25, 1, ("cpi", "payrolls", "fomc", "fomc_press")),
    Instrument("MSFT", 410.0, 0.01, 100),
    Instrument("GBPUSD", 1.27, 0.00001, 1000, ("boe", "cpi")),
    Instrument("XAUUSD", 2330.0, 0.01, 1, ("cpi", "fomc", "fomc_press")),
    Instrument("ZN", 110.5, 0.015625, 1, ("cpi", "payrolls", "fomc", "fomc_press")),
    Instrument("BTCUSD", 64000.0, 0.5, 1),
    Instrument("7203.T", 3500.0, 1.0, 100),
    Instrument("VOD.L", 70.0, 0.02, 1000, ("boe",)),
    Instrument("SAP.DE", 180.0, 0.02, 10, ("ecb", "ecb_press")),
)
"""The instruments when a scenario does not list its own, most traded first."""


@dataclass(frozen=True)
class PayloadSpec:
    """What the requests' instruments, sides, quantities and prices look like (``[payloads]``).

    Instrument ``k`` (0 = most traded) is picked with weight ``(k + 1) ** -zipf``.
    In the minutes after a release, ``release_share`` of the picks go to the
    instruments it moves, decaying with the release's own ``decay_minutes``
    (payrolls move EURUSD and ES, not VOD.L; kinds as the release calendar names
    them: ``payrolls``, ``cpi``, ``fomc``, ``fomc_press``, ...). A side is ``buy`` with
    probability ``buy_share``. A quantity is whole lots with a power-law tail,
    as real order sizes have: P(at least k lots) = k^-``lots_tail`` (at 1.5, 65%
    of orders are one lot and 1 in 1,000 is 100 lots or more), at most ``max_lots``.
    A price is the reference moved by a normal of ``spread_bps`` basis points,
    rounded to the tick. Each event's draws depend only on the scenario's seed
    and its ``event_id``.
    """

    instruments: tuple[Instrument, ...] = DEFAULT_INSTRUMENTS
    zipf: float = 1.1
    release_share: float = 0.6
    buy_share: float = 0.5
    lots_tail: float = 1.5
    max_lots: int = 1000
    spread_bps: float = 5.0


DEFAULT_PAYLOADS = PayloadSpec()


@dataclass(frozen=True)
class Slo:
    """Performance targets: P95 per request type, P95 overall, error rate, and the peak CPU
    of a watched process as a share of its cores (``replay --monitor``/``--watch-pid``)."""

    p95_ms: tuple[tuple[str, float], ...]
    overall_p95_ms: float | None
    error_rate: float | None
    cpu_share: float = 0.8


SERVICE_DISTRIBUTIONS: tuple[str, ...] = ("lognormal", "gamma")
"""The shapes a service time can have; both are given by their median and P95."""


@dataclass(frozen=True)
class ServiceTime:
    """How long one request of a type holds a worker: by its median and P95.

    A ``risk_analysis`` of one position takes 200 ms at the median and 600 ms at
    P95; each item beyond the first adds ``per_item_ms`` (a batch job's
    1,000-position risk run takes about 300 ms more). ``p95_ms == median_ms``
    makes the time fixed. The shape in between is a lognormal unless
    ``distribution`` is ``"gamma"`` (what a calibration may find fits better:
    the same median and P95, a lighter far tail).
    """

    median_ms: float
    p95_ms: float
    per_item_ms: float = 0.0
    distribution: str = "lognormal"

    @property
    def fixed(self) -> bool:
        """True when every request takes exactly the median."""
        return self.p95_ms == self.median_ms

    @property
    def sigma(self) -> float:
        """The lognormal's shape (the standard deviation of the log service time)."""
        return math.log(self.p95_ms / self.median_ms) / Z_95

    @property
    def gamma(self) -> tuple[float, float]:
        """The gamma's (shape, scale in ms) with this median and P95 (not for a fixed time)."""
        return gamma_parameters(self.median_ms, self.p95_ms)

    @property
    def mean_ms(self) -> float:
        """Mean service time of a one-item request."""
        if self.fixed:
            return self.median_ms
        if self.distribution == "gamma":
            shape, scale = self.gamma
            return shape * scale
        return self.median_ms * math.exp(self.sigma**2 / 2.0)


DEFAULT_SERVICE: tuple[tuple[str, ServiceTime], ...] = (
    ("data_collection", ServiceTime(40.0, 120.0, 0.02)),
    ("strategy_analysis", ServiceTime(300.0, 900.0, 0.5)),
    ("risk_analysis", ServiceTime(200.0, 600.0, 0.3)),
    ("trade_execution", ServiceTime(60.0, 180.0, 0.0)),
    ("health_check", ServiceTime(2.0, 5.0, 0.0)),
)
"""Service times when a scenario's ``[system.service]`` leaves a request type out."""


BALANCERS: tuple[str, ...] = ("round_robin", "shortest_queue")
"""How a load balancer spreads requests over replicas (the planner's; the target is one replica).

``round_robin`` sends request i to replica i mod N; ``shortest_queue`` sends
it to the replica with the fewest requests in it (waiting or being served),
the lowest-numbered among equals.
"""


@dataclass(frozen=True)
class SystemSpec:
    """The ABC API as a queueing system: what the reference target serves and the planner models.

    ``replicas`` copies behind a load balancer (``balancer``, one of
    :data:`BALANCERS`); each has ``workers`` workers behind one FIFO queue that
    holds at most ``queue_limit`` waiting requests (more are refused with 503).
    Every request type except ``multi_agent_workflow`` has a
    :class:`ServiceTime`; a workflow holds a worker for each of
    :data:`WORKFLOW_STAGES` in turn. A client gives up on a request after
    ``timeout_s`` (the server, not told, finishes it all the same).
    ``overhead_ms`` is what every request spends outside the workers — the
    network round trip, HTTP parsing — added to its latency, holding no
    worker (the planner's; the target's is whatever its host's is).
    """

    service: tuple[tuple[str, ServiceTime], ...] = DEFAULT_SERVICE
    workers: int = 32
    queue_limit: int = 256
    replicas: int = 1
    memory_limit_mb: float = 2048.0
    balancer: str = "round_robin"
    timeout_s: float = 10.0
    overhead_ms: float = 0.0

    def service_time(self, request: str) -> ServiceTime:
        """The service time of a request type (not ``multi_agent_workflow``: see its stages)."""
        return dict(self.service)[request]


DEFAULT_SYSTEM = SystemSpec()


@dataclass(frozen=True)
class ReplaySettings:
    """What a replay of this scenario may do: hosts beyond loopback, and its rate ceiling.

    ``allow_hosts = ["staging.abc.internal"]`` lets ``abcsim replay`` send to
    staging without ``--allow-host`` on every command line; ``max_rate`` caps
    requests per second (``--max-rate`` overrides it). ``[replay.headers]`` is
    a table of extra headers sent on every request, as written: a secret is
    ``Authorization = "Bearer ${ABC_TOKEN}"``, taken from the environment by
    replay (:mod:`abcsim.replay.headers`), never stored here.
    """

    allow_hosts: tuple[str, ...] = ()
    max_rate: float = 5000.0
    headers: tuple[tuple[str, str], ...] = ()


DEFAULT_REPLAY = ReplaySettings()


@dataclass(frozen=True)
class Scenario:
    """A whole scenario: the market, the agents, the API, its targets and its system."""

    name: str
    description: str
    start: dt.datetime  # UTC
    days: float
    seed: int
    market: Market
    agents: tuple[AgentType, ...]
    endpoints: tuple[tuple[str, Endpoint], ...]
    slo: Slo
    system: SystemSpec = DEFAULT_SYSTEM
    replay: ReplaySettings = DEFAULT_REPLAY
    payloads: PayloadSpec = DEFAULT_PAYLOADS
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

    @property
    def requests_sent(self) -> tuple[str, ...]:
        """The request types some agent sends (a positive weight in its mix)."""
        return tuple(
            r for i, r in enumerate(REQUEST_TYPES) if any(a.mix[i] > 0 for a in self.agents)
        )

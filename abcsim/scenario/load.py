"""Read a scenario TOML file into a validated, frozen :class:`Scenario`.

``load_scenario("scenarios/abc_week.toml")`` parses, checks every field (type,
range, cross-references such as a desk region naming a known session, an
exchange code ``exchange_calendars`` knows) and returns the scenario with its
source text attached, so a schedule file can carry it. Built-in scenarios can
also be named without a path: ``load_scenario("smoke")``.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from functools import cache
from importlib import resources
from pathlib import Path

from abcsim.errors import ScenarioError
from abcsim.scenario.fields import Fields, parse_clock
from abcsim.scenario.spec import (
    AGENT_KINDS,
    BALANCERS,
    DEFAULT_SYSTEM,
    REQUEST_TYPES,
    SERVICE_DISTRIBUTIONS,
    WEEKDAYS,
    WORKFLOW_STAGES,
    AgentType,
    BatchBehaviour,
    Behaviour,
    Endpoint,
    HftBehaviour,
    JobTrigger,
    Market,
    NewsSpike,
    Profile,
    ReplaySettings,
    RollHour,
    Scenario,
    ServiceTime,
    Session,
    Slo,
    SystemSpec,
    TradingBehaviour,
    Week,
    WeeklyTime,
)

WEEKDAYS_MON_FRI = (0, 1, 2, 3, 4)


def builtin_scenarios() -> tuple[str, ...]:
    """Names of the scenarios shipped with abcsim (``abc_week``, ``smoke``, ...)."""
    folder = resources.files("abcsim.scenario") / "builtin"
    return tuple(sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml")))


def resolve_scenario_path(name: str) -> Path:
    """A path as given, or the built-in scenario of that name."""
    path = Path(name)
    if path.exists() or name.endswith(".toml") or "/" in name:
        return path
    if name in builtin_scenarios():
        return Path(str(resources.files("abcsim.scenario") / "builtin" / f"{name}.toml"))
    return path


def load_scenario(name: str | Path) -> Scenario:
    """Load and validate a scenario file (or built-in scenario name)."""
    path = resolve_scenario_path(str(name))
    source = str(name)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        known = ", ".join(builtin_scenarios())
        raise ScenarioError(source, "", f"no such file (built-in scenarios: {known})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(source, "", f"cannot read: {exc}") from None
    return parse_scenario(text, source)


def parse_scenario(text: str, source: str = "<string>") -> Scenario:
    """Validate scenario TOML text; ``source`` names it in errors."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(source, "", f"TOML syntax error: {exc}") from None
    root = Fields(data, "", source)
    head = root.table("scenario")
    market = _market(root.table("market"))
    agents = _agents(root.table("agents"), market)
    endpoints = _endpoints(root.table("endpoints"))
    slo = _slo(root.table("slo", required=False))
    system = _system(root.table("system", required=False))
    replay = _replay(root.table("replay", required=False))
    scenario = Scenario(
        name=head.text("name"),
        description=head.text("description", ""),
        start=_start(head, "start"),
        days=head.number("days", 6.0, above=0.0),
        seed=head.whole("seed", 0, min=0),
        market=market,
        agents=agents,
        endpoints=endpoints,
        slo=slo,
        system=system,
        replay=replay,
        source=source,
        text=text,
    )
    head.done()
    root.done()
    return scenario


def parse_start(text: str, error: ScenarioError) -> dt.datetime:
    """An ISO 8601 date or date-time; naive means UTC."""
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        raise error from None
    if when.tzinfo is None:
        return when.replace(tzinfo=dt.UTC)
    return when.astimezone(dt.UTC)


def _start(fields: Fields, key: str) -> dt.datetime:
    text = fields.text(key)
    return parse_start(text, fields.error(key, f"must be an ISO 8601 date-time, got {text!r}"))


# -- market --------------------------------------------------------------------


def _market(f: Fields) -> Market:
    week = _week(f.table("week"))
    roll = _roll(f.table("roll", required=False))
    sessions = tuple(_session(s) for s in f.tables("sessions"))
    _unique([s.name for s in sessions], f, "sessions")
    news = tuple(_news(n) for n in f.tables("news"))
    market = Market(
        week=week,
        roll=roll,
        baseline=f.number("baseline", 0.2, min=0.0),
        sessions=sessions,
        news=news,
    )
    f.done()
    return market


def _weekly_time(f: Fields, key: str) -> WeeklyTime:
    text = f.text(key)
    error = f.error(key, f"must be a day and UTC time like 'Sat 22:00', got {text!r}")
    parts = text.split()
    if len(parts) != 2 or parts[0] not in WEEKDAYS:
        raise error
    return WeeklyTime(WEEKDAYS.index(parts[0]), parse_clock(parts[1], error))


def _week(f: Fields) -> Week:
    opens, closes = _weekly_time(f, "open"), _weekly_time(f, "close")
    if opens == closes:
        raise f.error("close", "must differ from open (the week would be empty)")
    allow = f.str_list("closed_allow", ())
    for request in allow:
        _check_request(f, "closed_allow", request)
    week = Week(
        open=opens,
        close=closes,
        saturday_factor=f.number("saturday_factor", 1.0, min=0.0),
        closed_allow=allow,
        closed_fraction=f.number("closed_fraction", 1.0, min=0.0, max=1.0),
    )
    f.done()
    return week


def _roll(f: Fields) -> RollHour:
    roll = RollHour(
        start=f.time("start", dt.time(21, 0)),
        end=f.time("end", dt.time(22, 0)),
        factor=f.number("factor", 1.0, min=0.0),
    )
    if roll.end <= roll.start:
        raise f.error("end", f"must be after start ({roll.start:%H:%M}), got {roll.end:%H:%M}")
    f.done()
    return roll


def _session(f: Fields) -> Session:
    session = Session(
        name=f.text("name"),
        tz=_tz(f, "tz"),
        open=f.time("open"),
        close=f.time("close"),
        weekdays=f.weekdays("weekdays", WEEKDAYS_MON_FRI),
        weight=f.number("weight", 1.0, min=0.0),
        ramp_minutes=f.number("ramp_minutes", 30.0, min=0.0),
        exchange=_exchange(f, "exchange"),
        open_burst=f.number("open_burst", 0.0, min=0.0),
        burst_decay_minutes=f.number("burst_decay_minutes", 10.0, above=0.0),
    )
    if session.close <= session.open:
        raise f.error(
            "close", f"must be after open ({session.open:%H:%M}), got {session.close:%H:%M}"
        )
    f.done()
    return session


def _news(f: Fields) -> NewsSpike:
    news = NewsSpike(
        name=f.text("name"),
        tz=_tz(f, "tz"),
        at=f.time("at"),
        weekdays=f.weekdays("weekdays", WEEKDAYS_MON_FRI),
        multiplier=f.number("multiplier", min=0.0),
        minutes=f.number("minutes", above=0.0),
    )
    f.done()
    return news


def _tz(f: Fields, key: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    name = f.text(key, "UTC")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise f.error(key, f"unknown time zone {name!r}") from None
    return str(name)


@cache
def _exchange_codes() -> frozenset[str]:
    import exchange_calendars

    return frozenset(exchange_calendars.get_calendar_names(include_aliases=True))


def _exchange(f: Fields, key: str) -> str | None:
    code = f.text(key, None)
    if code is not None and code not in _exchange_codes():
        raise f.error(key, f"unknown exchange code {code!r} (exchange_calendars names, e.g. XLON)")
    return code  # type: ignore[no-any-return]


# -- agents --------------------------------------------------------------------


def _agents(f: Fields, market: Market) -> tuple[AgentType, ...]:
    agents = tuple(_agent(f.table(name), name, market) for name in list(f.keys()))
    if not agents:
        raise f.error("", "must define at least one agent type")
    f.done()
    return agents


def _agent(f: Fields, name: str, market: Market) -> AgentType:
    kind = f.text("kind")
    if kind not in AGENT_KINDS:
        raise f.error("kind", f"unknown agent type {kind!r} (known: {', '.join(AGENT_KINDS)})")
    behaviour: Behaviour
    if kind == "trading":
        behaviour = _trading(f)
    elif kind == "hft":
        behaviour = _hft(f)
    else:
        behaviour = _batch(f, market)
    agent = AgentType(
        name=name,
        kind=kind,
        user_class=f.text("user_class", name),
        count=f.whole("count", min=0),
        regions=_regions(f, market, required=kind != "batch"),
        weekdays=f.weekdays("weekdays", WEEKDAYS_MON_FRI),
        login_jitter_minutes=f.number("login_jitter_minutes", 15.0, min=0.0),
        mix=_weights(f.table("mix")),
        sizes=_sizes(f.table("sizes", required=False)),
        profile=_profile(f.table("profile", required=False)),
        behaviour=behaviour,
    )
    f.done()
    return agent


def _regions(f: Fields, market: Market, *, required: bool) -> tuple[tuple[str, float], ...]:
    if not required and not f.has("regions"):
        return ()
    table = f.table("regions")
    sessions = {s.name for s in market.sessions}
    regions = []
    for region in list(table.keys()):
        if region not in sessions:
            raise table.error(region, f"unknown session (market sessions: {', '.join(sessions)})")
        regions.append((region, table.number(region, min=0.0)))
    if sum(w for _, w in regions) <= 0:
        raise table.error("", "weights must not all be zero")
    return tuple(regions)


def _weights(f: Fields) -> tuple[float, ...]:
    weights = []
    for key in list(f.keys()):
        _check_request(f, key, key)
    for request in REQUEST_TYPES:
        weights.append(f.number(request, 0.0, min=0.0))
    if sum(weights) <= 0:
        raise f.error("", "weights must not all be zero")
    f.done()
    return tuple(weights)


def _sizes(f: Fields) -> tuple[tuple[int, int], ...]:
    for key in list(f.keys()):
        _check_request(f, key, key)
    sizes = []
    for request in REQUEST_TYPES:
        low, high = 1, 1
        if f.has(request):
            sub = f.table(request)
            low, high = sub.whole("min", 1, min=1), sub.whole("max", 1, min=1)
            if high < low:
                raise sub.error("max", f"must be >= min ({low}), got {high}")
            sub.done()
        sizes.append((low, high))
    f.done()
    return tuple(sizes)


def _profile(f: Fields) -> Profile:
    profile = Profile(
        sessions=f.number("sessions", 1.0, min=0.0, max=1.0),
        open_bursts=f.number("open_bursts", 1.0, min=0.0),
        news=f.number("news", 1.0, min=0.0),
    )
    f.done()
    return profile


def _trading(f: Fields) -> TradingBehaviour:
    t = f.table("think_time")
    think_min = t.number("min_s", 1.0, min=0.0)
    think_mean = t.number("mean_s", above=0.0)
    if think_mean <= think_min:
        raise t.error("mean_s", f"must be > min_s ({think_min:g}), got {think_mean:g}")
    t.done()
    return TradingBehaviour(think_min_s=think_min, think_mean_s=think_mean)


def _hft(f: Fields) -> HftBehaviour:
    return HftBehaviour(
        rate=f.number("rate", min=0.0),
        poll_shape=f.number("poll_shape", 4.0, above=0.0),
        burst_share=f.number("burst_share", 0.25, min=0.0, max=1.0),
        branching=f.number("branching", 0.75, min=0.0, max=0.99),
        burst_decay_s=f.number("burst_decay_s", 0.3, above=0.0),
    )


def _batch(f: Fields, market: Market) -> BatchBehaviour:
    items = f.table("job_items")
    behaviour = BatchBehaviour(
        triggers=tuple(_trigger(t, market) for t in f.tables("jobs")),
        start_jitter_s=f.number("start_jitter_s", 60.0, min=0.0),
        items_median=items.number("median", above=0.0),
        items_sigma=items.number("sigma", min=0.0),
        items_per_request=f.whole("items_per_request", min=1),
        request_rate=f.number("request_rate", above=0.0),
    )
    items.done()
    if not behaviour.triggers:
        raise f.error("jobs", "must list at least one job trigger")
    return behaviour


def _trigger(f: Fields, market: Market) -> JobTrigger:
    at = f.text("at")
    session = every = clock = None
    if at in ("open", "close"):
        session = f.text("session")
        if session not in {s.name for s in market.sessions}:
            raise f.error("session", f"unknown session {session!r}")
    elif at == "every":
        every = f.number("every_minutes", above=0.0)
    else:
        clock = parse_clock(at, f.error("at", f"must be open, close, every or HH:MM, got {at!r}"))
    trigger = JobTrigger(
        name=f.text("name", at),
        at="daily" if clock else at,
        session=session,
        time=clock,
        tz=_tz(f, "tz"),
        weekdays=f.weekdays("weekdays", WEEKDAYS_MON_FRI),
        every_minutes=every,
        probability=f.number("probability", 1.0, min=0.0, max=1.0),
    )
    f.done()
    return trigger


# -- API and targets -----------------------------------------------------------


def _endpoints(f: Fields) -> tuple[tuple[str, Endpoint], ...]:
    out = []
    for request in list(f.keys()):
        _check_request(f, request, request)
    for request in REQUEST_TYPES:
        e = f.table(request)
        method = e.text("method").upper()
        if method not in ("GET", "POST", "PUT", "DELETE", "PATCH"):
            raise e.error("method", f"must be an HTTP method, got {method!r}")
        path = e.text("path")
        if not path.startswith("/"):
            raise e.error("path", f"must start with '/', got {path!r}")
        e.done()
        out.append((request, Endpoint(method, path)))
    f.done()
    return tuple(out)


def _slo(f: Fields) -> Slo:
    per_type = f.table("p95_ms", required=False)
    for key in list(per_type.keys()):
        _check_request(per_type, key, key)
    p95 = tuple((r, per_type.number(r, above=0.0)) for r in REQUEST_TYPES if per_type.has(r))
    per_type.done()
    slo = Slo(
        p95_ms=p95,
        overall_p95_ms=f.number("overall_p95_ms", None, above=0.0),
        error_rate=f.number("error_rate", None, min=0.0, max=1.0),
    )
    f.done()
    return slo


# -- the system serving the API -------------------------------------------------


def load_system(path: str | Path, base: SystemSpec = DEFAULT_SYSTEM) -> SystemSpec:
    """The ``[system]`` section of a TOML file — a whole scenario or just that section.

    ``abcsim calibrate`` writes such a file; ``abcsim plan --system FILE`` reads
    it. Fields the section leaves out come from ``base`` (the scenario's system).
    """
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError(source, "", "no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(source, "", f"cannot read: {exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(source, "", f"TOML syntax error: {exc}") from None
    root = Fields(data, "", source)
    if not root.has("system"):
        raise root.error("system", "is required (the file has no [system] section)")
    return _system(root.table("system"), base)


def _system(f: Fields, base: SystemSpec = DEFAULT_SYSTEM) -> SystemSpec:
    """``[system]``: optional; what it leaves out comes from ``base``."""
    table = f.table("service", required=False)
    for key in list(table.keys()):
        _check_request(table, key, key)
        if key == "multi_agent_workflow":
            stages = ", ".join(WORKFLOW_STAGES)
            raise table.error(key, f"is served as its stages ({stages}); set theirs instead")
    defaults = dict(base.service)
    service = tuple(
        (request, _service_time(table.table(request)) if table.has(request) else defaults[request])
        for request in REQUEST_TYPES
        if request != "multi_agent_workflow"
    )
    table.done()
    balancer = f.text("balancer", base.balancer)
    if balancer not in BALANCERS:
        raise f.error("balancer", f"must be one of {', '.join(BALANCERS)}, got {balancer!r}")
    system = SystemSpec(
        service=service,
        workers=f.whole("workers", base.workers, min=1),
        queue_limit=f.whole("queue_limit", base.queue_limit, min=0),
        replicas=f.whole("replicas", base.replicas, min=1),
        memory_limit_mb=f.number("memory_limit_mb", base.memory_limit_mb, above=0.0),
        balancer=balancer,
        timeout_s=f.number("timeout_s", base.timeout_s, above=0.0),
        overhead_ms=f.number("overhead_ms", base.overhead_ms, min=0.0),
    )
    f.done()
    return system


def _service_time(f: Fields) -> ServiceTime:
    median = f.number("median_ms", above=0.0)
    p95 = f.number("p95_ms", above=0.0)
    if p95 < median:
        # P95 below the median is no distribution; equal means a fixed time.
        raise f.error("p95_ms", f"must be >= median_ms ({median:g}), got {p95:g}")
    distribution = f.text("distribution", "lognormal")
    if distribution not in SERVICE_DISTRIBUTIONS:
        known = ", ".join(SERVICE_DISTRIBUTIONS)
        raise f.error("distribution", f"must be one of {known}, got {distribution!r}")
    service = ServiceTime(
        median_ms=median,
        p95_ms=p95,
        per_item_ms=f.number("per_item_ms", 0.0, min=0.0),
        distribution=distribution,
    )
    if distribution == "gamma" and not service.fixed:
        try:
            service.gamma  # noqa: B018 - solved now so a bad pair fails at load, not mid-run
        except ValueError as exc:
            raise f.error("p95_ms", f"no gamma has this median and P95: {exc}") from None
    f.done()
    return service


def _check_request(f: Fields, key: str, request: str) -> None:
    if request not in REQUEST_TYPES:
        raise f.error(key, f"unknown request type {request!r} (known: {', '.join(REQUEST_TYPES)})")


def _unique(names: list[str], f: Fields, key: str) -> None:
    seen = set()
    for name in names:
        if name in seen:
            raise f.error(key, f"duplicate name {name!r}")
        seen.add(name)


def _replay(f: Fields) -> ReplaySettings:
    """``[replay]``: optional; hosts a replay may target besides loopback, and its rate ceiling."""
    settings = ReplaySettings(
        allow_hosts=f.str_list("allow_hosts", ()),
        max_rate=f.number("max_rate", 5000.0, above=0.0),
    )
    f.done()
    return settings

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
from dataclasses import replace
from functools import cache
from importlib import resources
from pathlib import Path

from abcsim.errors import ScenarioError
from abcsim.scenario import requests
from abcsim.scenario.fields import Fields, check_request, parse_clock
from abcsim.scenario.releases import BUILTIN, NONE, builtin_calendar, local_moment, read_calendar
from abcsim.scenario.spec import (
    AGENT_KINDS,
    BALANCERS,
    DEFAULT_ACTIVITY,
    DEFAULT_SYSTEM,
    FIXED_SIZE,
    NO_ACTIVITY,
    REQUEST_TYPES,
    SERVICE_DISTRIBUTIONS,
    WEEKDAYS,
    WORKFLOW_STAGES,
    Activity,
    AgentType,
    BatchBehaviour,
    Behaviour,
    HawkesKernel,
    HftBehaviour,
    JobTrigger,
    Market,
    MonitorBehaviour,
    NewsSpike,
    Profile,
    Release,
    ReplaySettings,
    RollHour,
    Scenario,
    ServiceTime,
    Session,
    SizeSpec,
    Slo,
    SystemSpec,
    TradingBehaviour,
    Week,
    WeeklyTime,
)

WEEKDAYS_MON_FRI = (0, 1, 2, 3, 4)
MAX_SIZE = 2**31 - 1  # the schedule's size column is int32


def builtin_scenarios() -> tuple[str, ...]:
    """Names of the scenarios shipped with abcsim (``abc_week``, ``smoke``, ...)."""
    folder = resources.files("abcsim.scenario") / "builtin"
    return tuple(sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml")))


"""A URL path as RFC 3986 spells one (percent-encoding allowed): no space, no control."""


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
    return parse_scenario(text, source, path.parent)


def parse_scenario(text: str, source: str = "<string>", folder: Path | None = None) -> Scenario:
    """Validate scenario TOML text; ``source`` names it in errors.

    ``folder`` is where relative paths in it (a release calendar) are found; the
    current directory if not given.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(source, "", f"TOML syntax error: {exc}") from None
    root = Fields(data, "", source)
    head = root.table("scenario")
    market = _market(root.table("market"), folder or Path("."))
    agents = _agents(root.table("agents"), market)
    endpoints = requests.endpoints(root.table("endpoints"))
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
        payloads=requests.payloads(root.table("payloads", required=False)),
        source=source,
        text=text,
    )
    head.done()
    root.done()
    return scenario


def parse_start(text: str, error: Exception) -> dt.datetime:
    """An ISO 8601 date or date-time; naive means UTC; ``error`` is raised if it is neither."""
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


def _market(f: Fields, folder: Path) -> Market:
    week = _week(f.table("week"))
    roll = _roll(f.table("roll", required=False))
    sessions = tuple(_session(s) for s in f.tables("sessions"))
    f.unique([s.name for s in sessions], "sessions")
    news = tuple(_news(n) for n in f.tables("news"))
    market = Market(
        week=week,
        roll=roll,
        baseline=f.number("baseline", 0.2, min=0.0),
        sessions=sessions,
        news=news,
        releases=_releases(f.table("releases", required=False), folder),
        activity=_activity(f.table("activity", required=False)),
    )
    f.done()
    return market


def _activity(f: Fields) -> Activity:
    """``[market.activity]``: A(t)'s components; abcsim's defaults if absent, none if disabled."""
    if not f.flag("enabled", True):
        f.done()
        return NO_ACTIVITY
    minutes = f.number_list("timescales_minutes", None, above=0.0)
    sigmas = f.number_list("sigmas", None, min=0.0)
    if (minutes is None) != (sigmas is None):
        given, missing = (
            ("timescales_minutes", "sigmas") if sigmas is None else ("sigmas", "timescales_minutes")
        )
        raise f.error(missing, f"is required with {given}")
    if minutes is not None and sigmas is not None and len(minutes) != len(sigmas):
        raise f.error("sigmas", f"needs one per time scale ({len(minutes)}), got {len(sigmas)}")
    activity = Activity(
        timescales_s=DEFAULT_ACTIVITY.timescales_s
        if minutes is None
        else tuple(m * 60.0 for m in minutes),
        sigmas=DEFAULT_ACTIVITY.sigmas if sigmas is None else tuple(sigmas),
        daily_sigma=f.number("daily_sigma", DEFAULT_ACTIVITY.daily_sigma, min=0.0, max=2.0),
        day_start=f.time("day_start", DEFAULT_ACTIVITY.day_start),
    )
    if activity.variance > 4.0:
        raise f.error("sigmas", "add up to a variance of log A over 4: A would be mostly spikes")
    f.done()
    return activity


def _releases(f: Fields, folder: Path) -> tuple[Release, ...]:
    """``[market.releases]``: the shipped calendar (or none, or a file), filtered, scaled, added."""
    source = f.text("calendar", BUILTIN)
    if source == BUILTIN:
        calendar = read_calendar(builtin_calendar())
    elif source == NONE:
        calendar = ()
    else:
        path = Path(source) if Path(source).is_absolute() else folder / source
        if not path.is_file():
            raise f.error("calendar", f"no such file {str(path)!r} (or use 'builtin' or 'none')")
        calendar = read_calendar(path)
    kinds = f.str_list("kinds", ())
    known = sorted({r.kind for r in calendar})
    for kind in kinds:
        if kind not in known:
            raise f.error(
                "kinds", f"no release of kind {kind!r} in the calendar ({', '.join(known)})"
            )
    scale = f.number("scale", 1.0, min=0.0)
    chosen = [r for r in calendar if not kinds or r.kind in kinds]
    chosen += [_added_release(t) for t in f.tables("add")]
    f.done()
    return tuple(
        sorted(
            (replace(r, peak=1.0 + (r.peak - 1.0) * scale) for r in chosen),
            key=lambda r: r.at,
        )
    )


def _added_release(f: Fields) -> Release:
    date_text = f.text("date")
    try:
        date = dt.date.fromisoformat(date_text)
    except ValueError:
        raise f.error("date", f"must be a date YYYY-MM-DD, got {date_text!r}") from None
    tz = _tz(f, "tz")
    release = Release(
        kind=f.text("kind", "custom"),
        name=f.text("name"),
        at=local_moment(date, f.time("at"), tz, f.error("tz", f"unknown time zone {tz!r}")),
        peak=f.number("peak", min=1.0),
        decay_minutes=f.number("decay_minutes", 5.0, above=0.0),
    )
    f.done()
    return release


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
        check_request(f, "closed_allow", request)
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
        holiday_factor=f.number("holiday_factor", 0.3, min=0.0, max=1.0),
    )
    if session.close <= session.open:
        raise f.error(
            "close", f"must be after open ({session.open:%H:%M}), got {session.close:%H:%M}"
        )
    f.done()
    return session


def _news(f: Fields) -> NewsSpike:
    if f.has("minutes"):
        raise f.error("minutes", "is no more: news now decays, set decay_minutes")
    news = NewsSpike(
        name=f.text("name"),
        tz=_tz(f, "tz"),
        at=f.time("at"),
        weekdays=f.weekdays("weekdays", WEEKDAYS_MON_FRI),
        multiplier=f.number("multiplier", min=1.0),
        decay_minutes=f.number("decay_minutes", 5.0, above=0.0),
        exchange=_exchange(f, "exchange"),
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
    elif kind == "monitor":
        behaviour = _monitor(f)
    else:
        behaviour = _batch(f, market)
    agent = AgentType(
        name=name,
        kind=kind,
        user_class=f.text("user_class", name),
        count=f.whole("count", min=0),
        regions=() if kind == "monitor" else _regions(f, market, required=kind != "batch"),
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
        check_request(f, key, key)
    for request in REQUEST_TYPES:
        weights.append(f.number(request, 0.0, min=0.0))
    if sum(weights) <= 0:
        raise f.error("", "weights must not all be zero")
    f.done()
    return tuple(weights)


def _sizes(f: Fields) -> tuple[SizeSpec, ...]:
    for key in list(f.keys()):
        check_request(f, key, key)
    sizes = tuple(_size(f.table(r)) if f.has(r) else FIXED_SIZE for r in REQUEST_TYPES)
    f.done()
    return sizes


def _size(f: Fields) -> SizeSpec:
    """``{ min, max }``: uniform; ``{ median, tail, max, round }``: heavy-tailed (from min, 1)."""
    low = f.whole("min", 1, min=1, max=MAX_SIZE)
    if f.has("tail") or f.has("median"):
        median = f.number("median", above=float(low))
        size = SizeSpec(
            low=low,
            high=f.whole("max", 1_000_000, min=1, max=MAX_SIZE),
            median=median,
            tail=f.number("tail", min=0.5, max=10.0),
            round=f.number("round", 0.0, min=0.0, max=1.0),
        )
        if size.high <= median:
            raise f.error("max", f"must be above the median ({median:g}), got {size.high}")
    else:
        size = SizeSpec(low=low, high=f.whole("max", low, min=1, max=MAX_SIZE))
        if size.high < low:
            raise f.error("max", f"must be >= min ({low}), got {size.high}")
    f.done()
    return size


def _profile(f: Fields) -> Profile:
    profile = Profile(
        sessions=f.number("sessions", 1.0, min=0.0, max=1.0),
        open_bursts=f.number("open_bursts", 1.0, min=0.0),
        news=f.number("news", 1.0, min=0.0),
        activity=f.number("activity", 1.0, min=0.0, max=2.0),
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
    for old in ("burst_share", "burst_decay_s"):
        if f.has(old):
            raise f.error(old, "is no more: set branching, kernel and shared (see the README)")
    return HftBehaviour(
        rate=f.number("rate", min=0.0),
        poll_shape=f.number("poll_shape", 4.0, above=0.0),
        branching=f.number("branching", 0.8, min=0.0, max=0.95),
        kernel=_kernel(f.table("kernel", required=False)),
        shared=f.number("shared", 0.0, min=0.0, max=1.0),
        off_desk=f.number("off_desk", 0.0, min=0.0, max=1.0),
    )


def _kernel(f: Fields) -> HawkesKernel:
    default = HawkesKernel()
    kernel = HawkesKernel(
        shortest_s=f.number("shortest_s", default.shortest_s, above=0.0),
        longest_s=f.number("longest_s", default.longest_s, above=0.0),
        exponent=f.number("exponent", default.exponent, min=0.0, max=3.0),
        terms=f.whole("terms", default.terms, min=1, max=64),
    )
    if kernel.longest_s < kernel.shortest_s:
        raise f.error("longest_s", f"must be >= shortest_s ({kernel.shortest_s:g})")
    f.done()
    return kernel


def _monitor(f: Fields) -> MonitorBehaviour:
    interval = f.number("interval_s", min=0.01)
    jitter = f.number("jitter_s", 0.0, min=0.0)
    if jitter >= interval / 2:
        raise f.error(
            "jitter_s", f"must be under half the interval ({interval / 2:g}), got {jitter:g}"
        )
    return MonitorBehaviour(interval_s=interval, jitter_s=jitter)


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


def _slo(f: Fields) -> Slo:
    per_type = f.table("p95_ms", required=False)
    for key in list(per_type.keys()):
        check_request(per_type, key, key)
    p95 = tuple((r, per_type.number(r, above=0.0)) for r in REQUEST_TYPES if per_type.has(r))
    per_type.done()
    slo = Slo(
        p95_ms=p95,
        overall_p95_ms=f.number("overall_p95_ms", None, above=0.0),
        error_rate=f.number("error_rate", None, min=0.0, max=1.0),
        cpu_share=f.number("cpu_share", 0.8, above=0.0, max=1.0),
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
        check_request(table, key, key)
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


def _replay(f: Fields) -> ReplaySettings:
    """``[replay]``: optional; hosts a replay may target besides loopback, and its rate ceiling."""
    settings = ReplaySettings(
        allow_hosts=f.str_list("allow_hosts", ()),
        max_rate=f.number("max_rate", 5000.0, above=0.0),
        headers=requests.replay_headers(f.table("headers", required=False)),
    )
    f.done()
    return settings

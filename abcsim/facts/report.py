"""Facts as text: one column per source, so a simulated week reads beside a real one."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from abcsim.facts.measure import Facts

Row = tuple[str, Callable[[Facts], str]]


def format_facts(sources: Sequence[Facts]) -> str:
    """The facts of one or more sources: scalar facts side by side, then each one's events."""
    width = max(30, *(len(f.label) + 2 for f in sources))
    lines = [_row("stylized facts", [f.label for f in sources], width)]
    for title, value in _ROWS:
        lines.append(_row(title, [value(f) for f in sources], width))
    lines.append("hour-of-day shares, Mon-Thu UTC (%):")
    for f in sources:
        cells = [f"{h:02d} {100 * s:4.1f}" for h, s in enumerate(f.shape.hour_shares)]
        lines.append(f"  {f.label}:")
        lines += ["    " + "   ".join(cells[i : i + 8]) for i in range(0, 24, 8)]
    for f in sources:
        lines += _events(f)
    return "\n".join(lines)


def _row(title: str, cells: Sequence[str], width: int) -> str:
    return f"{title:<34}" + "".join(f"{c:<{width}}" for c in cells).rstrip()


def _percent(x: float) -> str:
    return "n/a" if x != x else f"{100 * x:.1f}%"


def _number(x: float | None, digits: int = 2) -> str:
    return "n/a" if x is None or x != x else f"{x:,.{digits}f}"


def _times(x: float) -> str:
    return "n/a" if x != x else f"{x:,.1f}x"


def _plus_minus(x: float) -> str:
    return "n/a" if x != x else f"±{100 * x:.1f}%"


def _hour_share(f: Facts, busiest: bool) -> str:
    shares = f.shape.hour_shares
    if not shares or shares[0] != shares[0]:
        return "n/a"
    hour = (
        max(range(24), key=shares.__getitem__)
        if busiest
        else min(range(24), key=shares.__getitem__)
    )
    return f"{hour:02d}:00 {100 * shares[hour]:.1f}%"


def _busiest(f: Facts) -> str:
    if f.shape.busiest_hour is None:
        return "n/a"
    when, count = f.shape.busiest_hour
    return f"{when:%a %d %b %H:00} ({count:,})"


def _acf(f: Facts) -> str:
    return " ".join(_number(v) for _, v in f.memory.acf)


def _branching(f: Facts) -> str:
    if not f.hawkes:
        return "n/a"
    return ", ".join(
        f"{a.fit.branching:.2f}"
        + (f" (set {a.configured:.2f})" if a.configured is not None else "")
        for a in f.hawkes
    )


_ROWS: tuple[Row, ...] = (
    ("from", lambda f: f"{f.start:%a %Y-%m-%d %H:%M} UTC"),
    ("days / requests", lambda f: f"{f.days:g} / {f.events:,}"),
    ("busiest hour of day", lambda f: _hour_share(f, True)),
    ("quietest hour of day", lambda f: _hour_share(f, False)),
    ("busiest / quietest", lambda f: _times(f.shape.peak_trough)),
    ("22:00-06:00 UTC share", lambda f: _percent(f.shape.night_share)),
    ("weekday totals, CV (Mon-Fri)", lambda f: _percent(f.shape.weekday_cv)),
    ("busiest weekday hour", _busiest),
    (
        "flat hours (UTC), windows",
        lambda f: "{:02d}-{:02d}, {}".format(*f.memory.hours, f.memory.windows),
    ),
    ("  var/mean of 1 s counts", lambda f: _number(f.memory.dispersion_1s, 1)),
    ("  var/mean of 60 s counts", lambda f: _number(f.memory.dispersion_60s, 1)),
    ("  ACF of 1-min, lag 1/5/30/60", _acf),
    ("  Hurst exponent (DFA)", lambda f: _number(f.memory.hurst)),
    ("  5-min wander around 30-min", lambda f: _plus_minus(f.memory.wander)),
    ("HFT branching (Hawkes fit)", _branching),
)


def _events(f: Facts) -> list[str]:
    lines = []
    if f.releases:
        lines.append(
            f"{f.label}: releases (first minute over 30-5 min before; minutes to within 1.3x):"
        )
        for r in f.releases:
            back = f"{r.back_minutes} min" if r.back_minutes is not None else "not within 60 min"
            lines.append(f"  {_when(r.at)}  x{r.jump:4.2f}  {back:>17}  {r.names}")
    if f.quiet:
        ratios = [q.ratio for q in f.quiet]
        lines.append(
            f"{f.label}: 08:30 New York on {len(ratios)} weekdays without a release: "
            f"x{min(ratios):.2f} to x{max(ratios):.2f} its neighbours"
        )
    for h in f.holidays:
        lines.append(
            f"{f.label}: {h.exchange} holiday {h.day:%a %d %b %Y}: day x{h.day_ratio:.2f}, "
            f"{h.session} hours x{h.hours_ratio:.2f} of {h.against:%a %d %b}"
        )
    for a in f.hawkes:
        fit = a.fit
        lines.append(
            f"{f.label}: Hawkes fit of {a.agent_type} user {a.agent_id}, {a.hours} busiest hours, "
            f"{fit.events:,} requests: branching {fit.branching:.3f}"
            + (f" (configured {a.configured:.2f})" if a.configured is not None else "")
        )
    return lines


def _when(at: dt.datetime) -> str:
    return f"{at:%a %d %b %H:%M} UTC"

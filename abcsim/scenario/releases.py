"""The release calendar: scheduled announcements on their real dates, read from a CSV file.

US payrolls at 08:30 New York on Friday 6 March 2026, an FOMC decision at 14:00
New York on 18 March: markets move at these moments, and only on these days. The
calendar shipped with abcsim (``abcsim/scenario/data/releases.csv``) lists the
real dates of the major releases; a scenario can use it, filter it, scale it, add
its own entries or replace it with a file of the same columns::

    date,time,tz,kind,name,peak,decay_minutes
    2026-03-06,08:30,America/New_York,payrolls,US payrolls (Feb),5.0,4

Lines starting with ``#`` are comments. Each row is one :class:`Release`: how
many times the market's activity it causes at its first moment (``peak``) and
how fast that decays (``decay_minutes``). A bad row is one error naming the
file, the line and the column.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from functools import cache
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from abcsim.errors import ScenarioError
from abcsim.scenario.spec import Release

RELEASE_COLUMNS: tuple[str, ...] = ("date", "time", "tz", "kind", "name", "peak", "decay_minutes")
BUILTIN = "builtin"
NONE = "none"


def builtin_calendar() -> Path:
    """The calendar shipped with abcsim."""
    return Path(str(resources.files("abcsim.scenario") / "data" / "releases.csv"))


def read_calendar(path: str | Path) -> tuple[Release, ...]:
    """Every release in a calendar file, in time order."""
    path = Path(path)
    try:
        stamp = path.stat().st_mtime_ns
    except OSError as exc:
        raise ScenarioError(str(path), "", f"cannot read the release calendar: {exc}") from None
    return _read_calendar(str(path), stamp)


@cache
def _read_calendar(path: str, stamp: int) -> tuple[Release, ...]:
    try:
        text = Path(path).read_text(encoding="utf-8-sig")  # a spreadsheet's BOM is no column
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(path, "", f"cannot read the release calendar: {exc}") from None
    return parse_calendar(text, path)


def parse_calendar(text: str, source: str) -> tuple[Release, ...]:
    """Releases from calendar CSV text; ``source`` names it in errors."""
    rows = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    releases = []
    try:
        for row in rows:
            where = f"line {rows.line_num}"
            if not row or row[0].lstrip().startswith("#"):
                continue
            cells = [cell.strip() for cell in row]
            if header is None:
                header = cells
                if tuple(header) != RELEASE_COLUMNS:
                    raise ScenarioError(source, "header", f"must be {','.join(RELEASE_COLUMNS)}")
                continue
            if len(cells) != len(RELEASE_COLUMNS):
                raise ScenarioError(source, where, f"needs {len(RELEASE_COLUMNS)} columns")
            releases.append(_release(dict(zip(RELEASE_COLUMNS, cells, strict=True)), source, where))
    except csv.Error as exc:
        raise ScenarioError(source, f"line {rows.line_num}", f"not CSV: {exc}") from None
    if header is None:
        raise ScenarioError(source, "header", f"must be {','.join(RELEASE_COLUMNS)}")
    return tuple(sorted(releases, key=lambda r: r.at))


def _release(fields: dict[str, str], source: str, where: str) -> Release:
    def bad(column: str, problem: str) -> ScenarioError:
        return ScenarioError(source, f"{where}: {column}", problem)

    try:
        date = dt.date.fromisoformat(fields["date"])
    except ValueError:
        raise bad("date", f"must be a date YYYY-MM-DD, got {fields['date']!r}") from None
    try:
        hours, minutes = fields["time"].split(":")
        clock = dt.time(int(hours), int(minutes))
    except ValueError:
        raise bad("time", f"must be a time of day HH:MM, got {fields['time']!r}") from None
    return Release(
        kind=_text(fields["kind"], bad("kind", "must not be empty")),
        name=_text(fields["name"], bad("name", "must not be empty")),
        at=local_moment(
            date, clock, fields["tz"], bad("tz", f"unknown time zone {fields['tz']!r}")
        ),
        peak=_number(
            fields["peak"], 1.0, bad("peak", f"must be a number >= 1, got {fields['peak']!r}")
        ),
        decay_minutes=_number(
            fields["decay_minutes"],
            1e-9,
            bad("decay_minutes", f"must be a number > 0, got {fields['decay_minutes']!r}"),
        ),
    )


def local_moment(date: dt.date, clock: dt.time, tz: str, error: ScenarioError) -> dt.datetime:
    """A local date and time in ``tz`` as a UTC datetime."""
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise error from None
    return dt.datetime.combine(date, clock, tzinfo=zone).astimezone(dt.UTC)


def _text(value: str, error: ScenarioError) -> str:
    if not value:
        raise error
    return value


def _number(value: str, least: float, error: ScenarioError) -> float:
    try:
        number = float(value)
    except ValueError:
        raise error from None
    if not number >= least or number == float("inf"):
        raise error
    return number

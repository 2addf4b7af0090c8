"""Typed, checked access to one TOML table, with errors that name file and field.

:class:`Fields` wraps a parsed table and its dotted path. Every getter checks
type and range and raises :class:`~abcsim.errors.ScenarioError` naming, e.g.,
``agents.hft.rate``; :meth:`Fields.done` then rejects any key nobody asked
for, so a typo such as ``rat = 10`` is an error, not a silent default.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator, Mapping
from typing import Any, TypeVar

from abcsim.errors import ScenarioError
from abcsim.scenario.spec import REQUEST_TYPES, WEEKDAYS

T = TypeVar("T")
_MISSING: Any = object()


class Fields:
    """One table of a scenario file, read field by field."""

    def __init__(self, data: Mapping[str, Any], path: str, source: str) -> None:
        self._data = data
        self._path = path
        self._source = source
        self._used: set[str] = set()

    # -- errors -----------------------------------------------------------
    def name(self, key: str = "") -> str:
        if not key:
            return self._path
        return f"{self._path}.{key}" if self._path else key

    def error(self, key: str, problem: str) -> ScenarioError:
        return ScenarioError(self._source, self.name(key), problem)

    # -- raw access -------------------------------------------------------
    def has(self, key: str) -> bool:
        return key in self._data

    def keys(self) -> Iterator[str]:
        return iter(self._data)

    def _get(self, key: str, default: Any, kinds: type | tuple[type, ...], what: str) -> Any:
        self._used.add(key)
        if key not in self._data:
            if default is _MISSING:
                raise self.error(key, "is required")
            return default
        value = self._data[key]
        if isinstance(value, bool) or not isinstance(value, kinds):
            raise self.error(key, f"must be {what}, got {value!r}")
        return value

    # -- typed getters ----------------------------------------------------
    def text(self, key: str, default: Any = _MISSING) -> Any:
        return self._get(key, default, str, "a string")

    def number(
        self,
        key: str,
        default: Any = _MISSING,
        *,
        min: float | None = None,
        max: float | None = None,
        above: float | None = None,
    ) -> Any:
        value = self._get(key, default, (int, float), "a number")
        if value is None:
            return None
        value = float(value)
        if not math.isfinite(value):
            raise self.error(key, f"must be finite, got {value}")
        if min is not None and value < min:
            raise self.error(key, f"must be >= {min:g}, got {value:g}")
        if above is not None and value <= above:
            raise self.error(key, f"must be > {above:g}, got {value:g}")
        if max is not None and value > max:
            raise self.error(key, f"must be <= {max:g}, got {value:g}")
        return value

    def whole(
        self, key: str, default: Any = _MISSING, *, min: int | None = None, max: int | None = None
    ) -> Any:
        value = self._get(key, default, int, "a whole number")
        if value is not None and min is not None and value < min:
            raise self.error(key, f"must be >= {min}, got {value}")
        if value is not None and max is not None and value > max:
            raise self.error(key, f"must be <= {max:,}, got {value:,}")
        return value

    def time(self, key: str, default: Any = _MISSING) -> Any:
        text = self.text(key, default)
        if text is None or isinstance(text, dt.time):
            return text
        return parse_clock(text, self.error(key, f"must be a time of day HH:MM, got {text!r}"))

    def weekdays(self, key: str, default: tuple[int, ...]) -> tuple[int, ...]:
        names = self._get(key, _MISSING if default is _MISSING else None, list, "a list of days")
        if names is None:
            return default
        days = []
        for name in names:
            if name not in WEEKDAYS:
                raise self.error(key, f"unknown day {name!r} (use {', '.join(WEEKDAYS)})")
            days.append(WEEKDAYS.index(name))
        return tuple(sorted(set(days)))

    def flag(self, key: str, default: bool) -> bool:
        self._used.add(key)
        value = self._data.get(key, default)
        if not isinstance(value, bool):
            raise self.error(key, f"must be true or false, got {value!r}")
        return value

    def number_list(
        self,
        key: str,
        default: Any = _MISSING,
        *,
        min: float | None = None,
        above: float | None = None,
    ) -> Any:
        """A non-empty list of finite numbers, each checked like :meth:`number`."""
        values = self._get(key, default, list, "a list of numbers")
        if values is None or values is default:
            return values
        if not values:
            raise self.error(key, "must not be empty")
        checked = []
        for i, value in enumerate(values):
            item = Fields({f"{key}[{i}]": value}, self._path, self._source)
            checked.append(item.number(f"{key}[{i}]", min=min, above=above))
        return tuple(checked)

    def str_list(self, key: str, default: tuple[str, ...]) -> tuple[str, ...]:
        values = self._get(key, None, list, "a list of strings")
        if values is None:
            return default
        if not all(isinstance(v, str) for v in values):
            raise self.error(key, f"must be a list of strings, got {values!r}")
        return tuple(values)

    def mapping(self, key: str) -> dict[str, Any] | None:
        """A table as parsed (a request template), or None if it is not there."""
        value: dict[str, Any] | None = self._get(key, None, dict, "a table")
        return value

    def unique(self, names: list[str], key: str) -> None:
        """Reject a name listed twice under ``key``."""
        seen = set()
        for name in names:
            if name in seen:
                raise self.error(key, f"duplicate name {name!r}")
            seen.add(name)

    def table(self, key: str, *, required: bool = True) -> Fields:
        value = self._get(key, _MISSING if required else {}, dict, "a table")
        return Fields(value, self.name(key), self._source)

    def tables(self, key: str) -> list[Fields]:
        values = self._get(key, [], list, "an array of tables")
        out = []
        for i, value in enumerate(values):
            name = f"{self.name(key)}[{i}]"
            if not isinstance(value, dict):
                raise ScenarioError(self._source, name, f"must be a table, got {value!r}")
            out.append(Fields(value, name, self._source))
        return out

    def done(self) -> None:
        """Reject keys that no getter read: they are typos or unsupported."""
        unknown = [k for k in self._data if k not in self._used]
        if unknown:
            raise self.error(unknown[0], "unknown field")


def check_request(f: Fields, key: str, request: str) -> None:
    """``request`` must be a request type; the error names ``key`` of ``f``."""
    if request not in REQUEST_TYPES:
        raise f.error(key, f"unknown request type {request!r} (known: {', '.join(REQUEST_TYPES)})")


def parse_clock(text: str, error: Exception) -> dt.time:
    """``"08:30"`` → ``time(8, 30)``; anything else raises ``error``."""
    try:
        hours, minutes = text.split(":")
        return dt.time(int(hours), int(minutes))
    except ValueError:
        raise error from None

"""The ``ABC_*`` environment variables: one reader for all of them, one error naming the variable.

The ABC suite's deployment sets its configuration once, as environment
variables shared by the system and its load tests (``ABC_MAX_CONCURRENT_REQUESTS=64``,
``ABC_MEMORY_LIMIT=2G``, ``ABC_PERFORMANCE_MODE=true``), and a CI job overrides a
scenario's seed or length the same way (``ABC_SEED=7 ABC_DAYS=1``). The simulator,
the reference target, replay and the Locust users all read them with
:func:`env_value` and a parser below, so a variable means the same and fails the
same wherever it is read:

- unset, empty or blank: the default — a CI template that leaves
  ``ABC_SEED=`` empty has not asked for seed 0 or for an error;
- otherwise the parser's value, or one :class:`~abcsim.errors.ScenarioError`
  naming the variable and the value as given, e.g.
  ``ABC_MAX_CONCURRENT_REQUESTS: must be a whole number >= 1, got '0'``.

A parser takes the stripped text and raises :class:`ValueError` with the problem
(``must be ...``, the bad value included) for the error's text: the ones below,
:func:`~abcsim.scenario.units.parse_bytes` for sizes, ``str`` for names and paths.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import TypeVar

from abcsim.errors import ScenarioError

T = TypeVar("T")
D = TypeVar("D")

_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off")


def env_value(env: Mapping[str, str], name: str, parse: Callable[[str], T], default: D) -> T | D:
    """``env[name]`` read by ``parse``; ``default`` when unset or blank; see the module."""
    raw = env.get(name, "")
    if not raw.strip():
        return default
    try:
        return parse(raw.strip())
    except ValueError as exc:
        raise ScenarioError(name, "", str(exc)) from None


def whole_number(least: int | None = None) -> Callable[[str], int]:
    """A parser of whole numbers, ``least`` or more: ``whole_number(1)("64")`` → 64."""
    bound = "" if least is None else f" >= {least}"

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise ValueError(f"must be a whole number{bound}, got {text!r}") from None
        if least is not None and value < least:
            raise ValueError(f"must be a whole number{bound}, got {text!r}")
        return value

    return parse


def positive_number(text: str) -> float:
    """A finite number > 0: a speed, a number of days, seconds of timeout."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (value > 0 and math.isfinite(value)):
        raise ValueError(f"must be a finite number > 0, got {text!r}")
    return value


def switch(text: str) -> bool:
    """``true``/``false`` (or ``1``/``0``, ``yes``/``no``, ``on``/``off``)."""
    if text.lower() in _TRUE:
        return True
    if text.lower() in _FALSE:
        return False
    raise ValueError(f"must be true or false, got {text!r}")


def names(text: str) -> tuple[str, ...]:
    """A comma-separated list (``a.internal, b.internal``), blanks dropped."""
    return tuple(item.strip() for item in text.split(",") if item.strip())

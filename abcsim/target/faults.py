"""Faults the reference target can inject, for reliability tests.

Does the replay's SLO check fail a release when 2% of orders come back 500?
Does the report show coordinated omission when the API freezes for ten
seconds at the London open? Start the target with ``--fault error_rate=0.02``
or ``--fault stall=10:20`` and see. Each fault is ``NAME=VALUE``:

==============  ====================  ==============================================
name            value                 effect
==============  ====================  ==============================================
``error_rate``  fraction 0–1          that share of API requests is answered 500
                                      (after its normal service time)
``spike_rate``  fraction 0–1          that share holds its worker ``spike_ms`` longer
``spike_ms``    ms (default 1000)     how long a latency spike lasts
``stall``       ``A:B`` seconds       every API request in the window from A to B
                                      seconds after start waits until B, and none
                                      is answered inside it
``reset_rate``  fraction 0–1          that share has its connection reset, no answer
``leak_bytes``  size, e.g. ``64K``    memory each API request leaks (kept until the
                                      server stops, like a real leak)
``nested``      ``on``                a workflow's stages are nested calls (agents
                                      calling agents): each holds its worker while it
                                      waits for the next stage's, so enough workflows
                                      at once take every worker and none moves until
                                      a stage has waited ``[system] timeout_s``; then
                                      it answers 504 and gives its workers back
==============  ====================  ==============================================

``off`` (or ``0``) switches a fault off. A running server changes its faults
through ``POST /_admin/faults`` (see :mod:`abcsim.target.app`).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Iterable
from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np

from abcsim.errors import ScenarioError, Setting
from abcsim.scenario.units import parse_bytes

FAULT_NAMES: tuple[str, ...] = (
    "error_rate",
    "spike_rate",
    "spike_ms",
    "stall",
    "reset_rate",
    "leak_bytes",
    "nested",
)
FAULTS = Setting("faults")
"""The setting faults come from: ``resolve_target(faults=...)``, ``--fault`` on the command line."""

_RATES = ("error_rate", "spike_rate", "reset_rate")
_OFF = (None, False, "off", "")


@dataclass(frozen=True)
class Faults:
    """The faults in force; the defaults are a healthy server."""

    error_rate: float = 0.0
    spike_rate: float = 0.0
    spike_ms: float = 1000.0
    stall: tuple[float, float] | None = None  # seconds after start: (from, until)
    reset_rate: float = 0.0
    leak_bytes: int = 0
    nested: bool = False

    def with_fault(self, name: str, value: Any, source: str | Setting = FAULTS) -> Faults:
        """A copy with fault ``name`` set to ``value`` (a string as on the command line,
        a number, ``[A, B]`` for a stall, or ``off``/``None`` to switch it off)."""
        if name not in FAULT_NAMES:
            raise ScenarioError(source, name, f"unknown fault (known: {', '.join(FAULT_NAMES)})")
        if value in _OFF or (isinstance(value, str) and value.lower() == "off"):
            return replace(self, **{name: getattr(Faults(), name)})
        try:
            parsed = _parse(name, value)
        except (TypeError, ValueError) as exc:
            raise ScenarioError(source, name, str(exc)) from None
        return replace(self, **{name: parsed})

    def active(self) -> dict[str, Any]:
        """The faults switched on, as JSON-ready values (``stall`` as ``[A, B]``)."""
        on: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value != f.default and f.name != "spike_ms":
                on[f.name] = list(value) if f.name == "stall" else value
        if self.spike_rate > 0:
            on["spike_ms"] = self.spike_ms
        return on

    def describe(self) -> str:
        """``error_rate=0.02, stall=10:20``, or ``none``."""
        parts = []
        for name, value in self.active().items():
            if name == "stall":
                text = f"{value[0]:g}:{value[1]:g}"
            else:
                text = "on" if value is True else f"{value:g}"
            parts.append(f"{name}={text}")
        return ", ".join(parts) or "none"


def parse_faults(items: Iterable[str], base: Faults | None = None) -> Faults:
    """``["error_rate=0.02", "stall=10:20"]`` (repeatable ``--fault`` flags) → :class:`Faults`."""
    faults = base or Faults()
    for item in items:
        name, sep, value = item.partition("=")
        if not sep:
            raise ScenarioError(FAULTS, item, "must be NAME=VALUE, e.g. error_rate=0.02")
        faults = faults.with_fault(name.strip(), value.strip())
    return faults


def _parse(name: str, value: Any) -> Any:
    if name == "nested":
        if value is True or str(value).lower() in ("on", "true", "1"):
            return True
        raise ValueError(f"must be on or off, got {value!r}")
    if isinstance(value, bool):
        raise ValueError(f"must be a number, got {value!r}")
    if name in _RATES:
        rate = float(value)
        if not 0.0 <= rate <= 1.0:  # also rejects NaN
            raise ValueError(f"must be a fraction from 0 to 1, got {value!r}")
        return rate
    if name == "spike_ms":
        ms = float(value)
        if not (ms > 0.0 and math.isfinite(ms)):
            raise ValueError(f"must be a duration in ms > 0, got {value!r}")
        return ms
    if name == "stall":
        return _window(value)
    size = parse_bytes(value) if isinstance(value, str) else int(value)
    if size < 0:
        raise ValueError(f"must be a size >= 0, got {value!r}")
    return size


def _window(value: Any) -> tuple[float, float]:
    error = f"must be A:B, seconds after start with 0 <= A < B, got {value!r}"
    parts = value.split(":") if isinstance(value, str) else list(value)
    if len(parts) != 2:
        raise ValueError(error)
    start, end = float(parts[0]), float(parts[1])
    if not (0.0 <= start < end and math.isfinite(end)):
        raise ValueError(error)
    return (start, end)


@dataclass(frozen=True)
class Decision:
    """What the faults do to one request, drawn when it arrives."""

    reset: bool = False
    error: bool = False
    spike_s: float = 0.0


HEALTHY = Decision()


class FaultInjector:
    """The faults in force on a running server, with the randomness and memory they need.

    ``faults`` may be replaced at any time from the server's event loop (the
    admin endpoint does); each request draws its fate once when it arrives, and
    stalled requests recheck the window. ``started`` is the server's start on
    the ``time.monotonic()`` clock (asyncio's loop clock; uvloop's ``loop.time()``
    counts whole milliseconds), which a stall window counts from.
    """

    def __init__(self, faults: Faults, rng: np.random.Generator, started: float) -> None:
        self._faults = faults
        self._changed = asyncio.Event()
        self.started = started
        self._rng = rng
        self._leaked: list[bytearray] = []
        self.leaked_bytes = 0

    @property
    def faults(self) -> Faults:
        return self._faults

    @faults.setter
    def faults(self, faults: Faults) -> None:
        """Replace the faults (from the server's loop) and wake the stalled requests to recheck."""
        self._faults = faults
        self._changed.set()
        self._changed = asyncio.Event()

    async def stall(self) -> None:
        """Wait while now is in the stall window: until its end, or until it is switched off."""
        while (until := self.stall_until(time.monotonic())) is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), until - time.monotonic())

    def decide(self) -> Decision:
        """Draw this request's fate (only for the faults that are on)."""
        f = self.faults
        if not (f.reset_rate or f.error_rate or f.spike_rate):
            return HEALTHY
        spike = bool(f.spike_rate) and self._rng.random() < f.spike_rate
        return Decision(
            reset=bool(f.reset_rate) and self._rng.random() < f.reset_rate,
            error=bool(f.error_rate) and self._rng.random() < f.error_rate,
            spike_s=f.spike_ms / 1000.0 if spike else 0.0,
        )

    def stall_until(self, now: float) -> float | None:
        """The end of the stall window if ``now`` is inside it (``time.monotonic()``), else None."""
        window = self.faults.stall
        if window is None:
            return None
        start, end = self.started + window[0], self.started + window[1]
        return end if start <= now < end else None

    def leak(self) -> None:
        """Keep ``leak_bytes`` more memory for ever (the pages are written, so RSS grows)."""
        size = self.faults.leak_bytes
        if size:
            self._leaked.append(bytearray(b"\x5a") * size)
            self.leaked_bytes += size

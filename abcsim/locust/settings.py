"""What the ABC suite's environment variables mean in abcsim's Locust users.

The suite's deployment sets them once for the system and its load tests; they
mean the same wherever abcsim reads them:

``ABC_PERFORMANCE_MODE``
    ``true`` says the system under test runs in performance mode (orders are
    simulated, not placed). Without it, nothing that places orders
    (``trade_execution``, and ``multi_agent_workflow``, which ends in one) is
    sent to a host that is not loopback: replay and the Locust users refuse.
``ABC_MAX_CONCURRENT_REQUESTS``
    The most requests one process has in flight at once: the reference
    target's workers, replay's ``--max-in-flight``, and a cap shared by all the
    Locust users of one process (unset: as many as the users send).
``ABC_MEMORY_LIMIT``
    The memory limit of one agent process (``2G``): the target reports it,
    and the Locust suite checks the system's resident memory against it at
    the end of a run (from ``/metrics``, where the system has one).

Locust-only: ``ABC_SCENARIO`` (scenario file or built-in name; abc_week),
``ABC_SCHEDULE`` (a schedule: the week-shaped suite, or the replay user),
``ABC_WINDOW``, ``ABC_SPEED``, ``ABC_SCALE`` (the slice, as ``abcsim replay``
takes them), ``ABC_RESULTS`` (the replay's results file), ``ABC_TIMEOUT``
(unset: the scenario's ``[system] timeout_s``), ``ABC_LATENESS``, ``ABC_MAX_RATE``
and ``ABC_ALLOW_HOSTS`` (comma-separated): replay's ``--timeout``,
``--lateness``, ``--max-rate`` and ``--allow-host``; ``ABC_HEADERS`` (one
``Name: value`` a line, ``${VAR}`` taken from each process's environment, so a
secret never travels between them), ``ABC_CA_FILE``, ``ABC_CLIENT_CERT``,
``ABC_CLIENT_KEY``, ``ABC_INSECURE`` and ``ABC_ALLOW_ORDERS_WITHOUT_PERFORMANCE_MODE``
(``true``): replay's ``--header``, TLS options and orders override.

All are read by :mod:`~abcsim.scenario.environment` (unset or blank: the
default; a bad value: one error naming the variable). A replay check's error
names the library's setting (``speed``); :func:`in_locust_terms` names it as a
Locust user sets it (``ABC_SPEED``).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

from abcsim.errors import AbcsimError, ScenarioError
from abcsim.replay.tls import DEFAULT_TLS, TlsSettings
from abcsim.scenario.environment import env_value, names, positive_number, switch, whole_number
from abcsim.scenario.units import parse_bytes

DEFAULT_SCENARIO = "abc_week"


@dataclass(frozen=True)
class LocustSettings:
    """The ``ABC_*`` variables one Locust process runs with."""

    scenario: str = DEFAULT_SCENARIO
    max_concurrent: int | None = None
    memory_limit_bytes: int | None = None
    schedule: str | None = None
    window: str | None = None
    speed: float = 1.0
    scale: float = 1.0
    results: str | None = None
    timeout_s: float | None = None  # the scenario's [system] timeout_s
    lateness_s: float = 1.0
    max_rate: float | None = None
    allow_hosts: tuple[str, ...] = ()
    headers: tuple[str, ...] = ()  # "Name: value" lines, ${VAR} not yet taken
    tls: TlsSettings = DEFAULT_TLS
    allow_orders: bool = False

    @property
    def results_path(self) -> str:
        """``ABC_RESULTS``, or ``SCHEDULE.results.parquet`` as ``abcsim replay`` names it."""
        if self.results:
            return self.results
        if self.schedule is None:
            raise ScenarioError("ABC_RESULTS", "", "set it, or ABC_SCHEDULE")
        return str(Path(self.schedule).with_suffix("")) + ".results.parquet"


def locust_settings(env: Mapping[str, str]) -> LocustSettings:
    """Read and check the ``ABC_*`` variables; a bad one is one :class:`ScenarioError`."""
    return LocustSettings(
        scenario=env_value(env, "ABC_SCENARIO", str, DEFAULT_SCENARIO),
        max_concurrent=env_value(env, "ABC_MAX_CONCURRENT_REQUESTS", whole_number(1), None),
        memory_limit_bytes=env_value(env, "ABC_MEMORY_LIMIT", parse_bytes, None),
        schedule=env_value(env, "ABC_SCHEDULE", str, None),
        window=env_value(env, "ABC_WINDOW", str, None),
        speed=env_value(env, "ABC_SPEED", positive_number, 1.0),
        scale=env_value(env, "ABC_SCALE", positive_number, 1.0),
        results=env_value(env, "ABC_RESULTS", str, None),
        timeout_s=env_value(env, "ABC_TIMEOUT", positive_number, None),
        lateness_s=env_value(env, "ABC_LATENESS", positive_number, 1.0),
        max_rate=env_value(env, "ABC_MAX_RATE", positive_number, None),
        allow_hosts=env_value(env, "ABC_ALLOW_HOSTS", names, ()),
        headers=env_value(env, "ABC_HEADERS", _lines, ()),
        tls=TlsSettings(
            ca_file=env_value(env, "ABC_CA_FILE", str, None),
            client_cert=env_value(env, "ABC_CLIENT_CERT", str, None),
            client_key=env_value(env, "ABC_CLIENT_KEY", str, None),
            insecure=env_value(env, "ABC_INSECURE", switch, False),
        ),
        allow_orders=env_value(env, "ABC_ALLOW_ORDERS_WITHOUT_PERFORMANCE_MODE", switch, False),
    )


def _lines(text: str) -> tuple[str, ...]:
    return tuple(line for line in text.splitlines() if line.strip())


def fail(exc: AbcsimError) -> NoReturn:
    """A bad setting met while Locust loads a locustfile: one line and exit status 2, as
    abcsim's own commands give (Locust would print a traceback)."""
    print(f"error: {in_locust_terms(exc)}", file=sys.stderr)
    raise SystemExit(2)


VARIABLES = {
    "window": "ABC_WINDOW",
    "speed": "ABC_SPEED",
    "scale": "ABC_SCALE",
    "max_rate": "ABC_MAX_RATE",
    "max_in_flight": "ABC_MAX_CONCURRENT_REQUESTS",
    "timeout_s": "ABC_TIMEOUT",
    "lateness_s": "ABC_LATENESS",
    "allow_hosts": "ABC_ALLOW_HOSTS",
    "headers": "ABC_HEADERS",
    "ca_file": "ABC_CA_FILE",
    "client_cert": "ABC_CLIENT_CERT",
    "client_key": "ABC_CLIENT_KEY",
    "insecure": "ABC_INSECURE",
    "scenario": "ABC_SCENARIO",
    "target": "--host",
}
"""Replay's settings (:func:`~abcsim.replay.setup.prepare_replay`'s arguments) and what
sets each in a Locust process: its ``ABC_*`` variable, or Locust's own ``--host``."""


def variable(setting: str) -> str:
    """How a Locust user sets a replay setting: ``max_rate`` → ``ABC_MAX_RATE``."""
    return VARIABLES.get(setting, setting)


def in_locust_terms(exc: AbcsimError) -> str:
    """An error's message with its settings named as a Locust user sets them:
    ``speed 360: ...`` becomes ``ABC_SPEED 360: ...``."""
    return exc.render(variable)

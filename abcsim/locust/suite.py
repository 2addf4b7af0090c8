"""The ABC team's Locust suite, its users built from the scenario (imports Locust).

``tests/performance/locustfile.py`` imports ``TradingSystemUser``,
``HighFrequencyUser`` and ``BatchProcessingUser`` from here. Each is a
``FastHttpUser`` made from a :class:`~abcsim.locust.profiles.UserProfile` of
the scenario in ``ABC_SCENARIO`` (abc_week by default): one task per request
type with the type's mix as task weights, the agents' count as class weight,
the pace of an agent at its desk, and the endpoints and payloads ``abcsim
replay`` sends (``POST /api/v1/agents/data-collection`` with
``{"size": 20, "event_id": 7}`` and the ``X-ABC-*`` headers). Requests are named
by their type, so Locust's table reads ``data_collection``,
``strategy_analysis``, ... A class whose kind the scenario lacks is abstract
(Locust leaves it out).

Two run-level checks follow the suite's variables
(:mod:`~abcsim.locust.settings`): before anything is sent, a user class that
sends orders is refused a non-loopback host not in ``ABC_PERFORMANCE_MODE``
(exit 2); at the end, the system's resident memory (its ``/metrics``) is checked
against ``ABC_MEMORY_LIMIT``.
"""

from __future__ import annotations

import functools
import itertools
import logging
import os
import time
import urllib.request
from collections.abc import Callable
from contextlib import nullcontext
from typing import Any, ClassVar

import gevent
import gevent.lock
import numpy as np
from locust import FastHttpUser, constant_throughput, events
from locust.env import Environment
from locust.exception import StopUser
from locust.runners import WorkerRunner
from prometheus_client.parser import text_string_to_metric_families

from abcsim.errors import AbcsimError
from abcsim.locust.profiles import Jobs, Think, Throughput, UserProfile, suite_profiles
from abcsim.locust.settings import LocustSettings, fail, locust_settings
from abcsim.replay.safety import check_orders
from abcsim.replay.templates import Templates
from abcsim.scenario import Scenario, load_scenario
from abcsim.scenario.spec import REQUEST_TYPES

log = logging.getLogger("abcsim")
_event_ids = itertools.count()
_user_numbers = itertools.count()


class AbcUser(FastHttpUser):
    """One agent of the scenario at its desk; see the module docstring."""

    abstract = True
    profile: ClassVar[UserProfile]
    templates: ClassVar[Templates]
    agent_code: ClassVar[int]  # the profile's agent type, as templates number them
    started: ClassVar[float]  # the scenario's start, epoch seconds: a request's t is from it
    seed: ClassVar[int]
    limit: ClassVar[gevent.lock.BoundedSemaphore | None] = None

    def on_start(self) -> None:
        if (problem := order_check(self.environment)) is not None:
            log.error("%s", problem)
            self.environment.process_exit_code = 2
            if self.environment.runner is not None:
                gevent.spawn(self.environment.runner.quit)
            raise StopUser()
        worker = getattr(self.environment.runner, "worker_index", 0)
        self.number = next(_user_numbers)
        self.rng = np.random.default_rng([self.seed, worker, self.number])

    def send(self, code: int, size: int | None = None) -> None:
        """One request of type ``code`` (an index into REQUEST_TYPES), named by its type."""
        if size is None:
            size = int(self.profile.mix.sizes(self.rng, np.array([code], np.int8))[0])
        values = self.templates.row(
            next(_event_ids),
            code,
            size=size,
            agent_type=self.agent_code,
            agent_id=self.number,
            t=time.time() - self.started,
        )
        method, path, headers, body = self.templates.parts(code, values)
        with self.limit or nullcontext():
            name = REQUEST_TYPES[code]
            data = None if body is None else body.decode()
            self.client.request(method, path, name=name, data=data, headers=headers)


def _request_task(code: int) -> Callable[[AbcUser], None]:
    def task(user: AbcUser) -> None:
        user.send(code)

    task.__name__ = REQUEST_TYPES[code]
    return task


def _job_task(jobs: Jobs) -> Callable[[AbcUser], None]:
    def job(user: AbcUser) -> None:
        for i, size in enumerate(jobs.requests(user.rng)):
            if i:
                time.sleep(1.0 / jobs.request_rate)  # the job's rate limit (gevent-patched)
            user.send(int(user.profile.mix.draw(user.rng, 1)[0]), size)

    return job


def whole_weights(weights: tuple[float, ...]) -> tuple[int, ...]:
    """Locust's task weights are whole numbers: 30, 20, ... as written, or per mille."""
    if all(float(w).is_integer() for w in weights):
        return tuple(int(w) for w in weights)
    return tuple(round(1000 * w / sum(weights)) for w in weights)


def _wait_time(pace: Think | Throughput | Jobs) -> Callable[[Any], float]:
    if isinstance(pace, Throughput):
        wait: Callable[[Any], float] = constant_throughput(pace.per_s)
        return wait
    if isinstance(pace, Think):
        pause = pace.mean_s - pace.min_s
        return lambda user: pace.min_s + float(user.rng.exponential(pause))
    return lambda user: float(user.rng.uniform(0.0, pace.pause_max_s))


def user_class(
    name: str,
    profile: UserProfile | None,
    scenario: Scenario,
    limit: gevent.lock.BoundedSemaphore | None,
) -> type[AbcUser]:
    """The Locust class ``name`` for ``profile`` (abstract when there is none)."""
    attrs: dict[str, Any] = {"__module__": __name__, "__doc__": f"The suite's {name}."}
    if profile is None:
        return type(name, (AbcUser,), {**attrs, "abstract": True})
    if isinstance(profile.pace, Jobs):
        tasks: dict[Callable[[AbcUser], None], float] = {_job_task(profile.pace): 1}
    else:
        tasks = {
            _request_task(code): weight
            for code, weight in enumerate(whole_weights(profile.task_weights))
            if weight > 0
        }
    attrs.update(
        abstract=False,
        profile=profile,
        templates=_templates(scenario),
        agent_code=[a.name for a in scenario.agents].index(profile.agent_type.name),
        started=scenario.start.timestamp(),
        seed=scenario.seed,
        limit=limit,
        weight=profile.weight,
        tasks=tasks,
        wait_time=_wait_time(profile.pace),
    )
    return type(name, (AbcUser,), attrs)


@functools.cache
def _templates(scenario: Scenario) -> Templates:
    """The scenario's request templates, for events the suite's users make up as they go."""
    return Templates(
        scenario.endpoints,
        tuple(a.name for a in scenario.agents),
        seed=scenario.seed,
        schedule_start=scenario.start,
        payloads=scenario.payloads,
        releases=scenario.market.releases,
    )


def _load() -> tuple[LocustSettings, Scenario, dict[str, UserProfile]]:
    try:
        settings = locust_settings(os.environ)
        scenario = load_scenario(settings.scenario)
        return settings, scenario, suite_profiles(scenario)
    except AbcsimError as exc:
        fail(exc)


SETTINGS, SCENARIO, PROFILES = _load()
_LIMIT = gevent.lock.BoundedSemaphore(SETTINGS.max_concurrent) if SETTINGS.max_concurrent else None
TradingSystemUser = user_class(
    "TradingSystemUser", PROFILES.get("TradingSystemUser"), SCENARIO, _LIMIT
)
HighFrequencyUser = user_class(
    "HighFrequencyUser", PROFILES.get("HighFrequencyUser"), SCENARIO, _LIMIT
)
BatchProcessingUser = user_class(
    "BatchProcessingUser", PROFILES.get("BatchProcessingUser"), SCENARIO, _LIMIT
)


def order_check(environment: Environment) -> AbcsimError | None:
    """Why the users may not run against ``environment.host`` (orders to a non-loopback
    system not in performance mode), or None."""
    sent = {
        REQUEST_TYPES[code]
        for cls in environment.user_classes
        if issubclass(cls, AbcUser) and not cls.abstract
        for code, weight in enumerate(cls.profile.task_weights)
        if weight > 0
    }
    try:
        check_orders(environment.host or "http://127.0.0.1", sent, os.environ)
    except AbcsimError as exc:
        return exc
    return None


@events.init.add_listener
def _refuse_orders(environment: Environment, **_: Any) -> None:
    """A ``--host`` known at start that may not get orders: one line, exit 2, nothing sent.
    (A host typed into the web UI, or a worker's, is checked by each user as it starts.)"""
    if environment.host and (problem := order_check(environment)) is not None:
        fail(problem)


@events.test_stop.add_listener
def _check_memory(environment: Environment, **_: Any) -> None:
    """The system's resident memory at the end against ``ABC_MEMORY_LIMIT`` (or the
    scenario's ``[system] memory_limit_mb``), if it serves Prometheus ``/metrics``."""
    if isinstance(environment.runner, WorkerRunner) or not environment.host:
        return
    limit = SETTINGS.memory_limit_bytes or int(SCENARIO.system.memory_limit_mb * 2**20)
    resident = resident_memory(environment.host.rstrip("/") + "/metrics")
    if resident is None:
        log.info(
            "memory check skipped: %s/metrics has no process_resident_memory_bytes",
            environment.host,
        )
        return
    verdict = f"{resident / 2**20:,.0f} MB against ABC_MEMORY_LIMIT {limit / 2**20:,.0f} MB"
    if resident > limit:
        log.error("memory over the limit: the system's resident memory is %s", verdict)
        environment.process_exit_code = 1
    else:
        log.info("memory within the limit: %s", verdict)


def resident_memory(url: str, timeout_s: float = 2.0) -> float | None:
    """``process_resident_memory_bytes`` from a Prometheus text page, or None."""
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as answer:
            text = answer.read().decode("utf-8", "replace")
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == "process_resident_memory_bytes":
                    return float(sample.value)
    except (OSError, ValueError):
        return None
    return None

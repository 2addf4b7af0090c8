"""Fixtures for the reference target: real servers on free loopback ports.

``serve(...)`` starts a target in a background thread (``abcsim.target.serve_in_thread``)
on 127.0.0.1 with port 0 and stops it when the test ends; ``target`` is one
serving ``abc_week``. ``fixed_scenario(ms, workers)`` is smoke with every
service time fixed, so timing tests check queueing, not random draws.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import replace
from typing import Any

import pytest

from abcsim.scenario import Scenario, load_scenario
from abcsim.scenario.spec import DEFAULT_SERVICE, ServiceTime
from abcsim.target import RunningTarget, serve_in_thread

Serve = Callable[..., RunningTarget]


def fixed_scenario(ms: float, *, workers: int = 4, queue_limit: int = 100) -> Scenario:
    """smoke, with every request type taking exactly ``ms`` on a worker (per item too: 0)."""
    smoke = load_scenario("smoke")
    service = tuple((request, ServiceTime(ms, ms)) for request, _ in DEFAULT_SERVICE)
    system = replace(smoke.system, service=service, workers=workers, queue_limit=queue_limit)
    return replace(smoke, system=system)


@pytest.fixture
def serve() -> Iterator[Serve]:
    """``serve(scenario, **settings)`` → a running target on 127.0.0.1; all stop after the test."""
    with ExitStack() as stack:

        def start(scenario: Scenario | str = "abc_week", **settings: Any) -> RunningTarget:
            return stack.enter_context(
                serve_in_thread(scenario, host="127.0.0.1", port=0, **settings)
            )

        yield start


@pytest.fixture
def target(serve: Serve) -> RunningTarget:
    """``abc_week``'s API with its own ``[system]``, seed 1, no faults."""
    return serve("abc_week")

"""The week inside Locust: each user class follows its agents' activity in a schedule.

With ``ABC_SCHEDULE=week.parquet ABC_WINDOW='Tue 13:00..Tue 14:00' ABC_SPEED=60``
the suite's locustfile adds :class:`WeekShape`: every second of the run it
looks up the minute of the window that second plays (at speed 60, one
schedule minute a second) and sets each class's user count to the agents of
its kind active then (:mod:`~abcsim.locust.active`) — TradingSystemUser to
the trading agents, HighFrequencyUser to the hft ones, BatchProcessingUser to
the batch ones (monitors have no class). The run ends with the window.

Locust shapes set one total; the split between classes comes from the class
weights. So the shape hands each tick's per-class counts to
:class:`CompositionDispatcher` (installed as the environment's
``dispatcher_class``), which places exactly those users, spread round-robin
over the workers.
"""

from __future__ import annotations

import os
from collections.abc import Generator, Mapping
from typing import Any

from locust import LoadTestShape, User, events
from locust.dispatch import UsersDispatcher
from locust.env import Environment

from abcsim.errors import AbcsimError, ScenarioError
from abcsim.locust.active import ActiveAgents, active_agents
from abcsim.locust.profiles import SUITE_CLASSES
from abcsim.locust.settings import fail, locust_settings
from abcsim.scenario import parse_scenario
from abcsim.schedule.parquet import read_meta
from abcsim.schedule.slicing import Window, parse_window


class Composition(list[type[User]]):
    """The classes of a tick with their user counts: equal only when the counts are, so
    Locust's shape worker sees a new tick whenever the mix changes."""

    def __init__(self, counts: dict[type[User], int]) -> None:
        super().__init__(counts)
        self.counts = {cls.__name__: n for cls, n in counts.items()}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Composition) and self.counts == other.counts

    def __ne__(self, other: object) -> bool:
        return not self == other

    __hash__ = None


class CompositionDispatcher(UsersDispatcher):
    """Places the per-class counts of a :class:`Composition` (any other tick: Locust's way)."""

    _targets: dict[str, int] | None = None

    def new_dispatch(
        self,
        target_user_count: int,
        spawn_rate: float,
        user_classes: list[type[User]] | None = None,
    ) -> None:
        if isinstance(user_classes, Composition):
            self._targets = user_classes.counts
        if self._targets is None:
            super().new_dispatch(target_user_count, spawn_rate, user_classes)
            return
        self._target_user_count = sum(self._targets.values())
        self._spawn_rate = spawn_rate
        self._dispatcher_generator = self._place()

    def _spread(self) -> dict[str, dict[str, int]]:
        assert self._targets is not None
        names = [cls.__name__ for cls in self._original_user_classes]
        spread = {worker.id: dict.fromkeys(names, 0) for worker in self._worker_nodes}
        workers = [worker.id for worker in self._worker_nodes]
        slot = 0
        for name, count in sorted(self._targets.items()):
            for _ in range(count):
                spread[workers[slot % len(workers)]][name] += 1
                slot += 1
        return spread

    def _place(self) -> Generator[dict[str, dict[str, int]]]:
        self._dispatch_in_progress = True
        self._users_on_workers = self._spread()
        self._current_user_count = self.get_current_user_count()
        yield self._users_on_workers
        self._dispatch_in_progress = False

    def _prepare_rebalance(self) -> None:
        if self._targets is None:
            super()._prepare_rebalance()
            return
        self._users_on_workers = self._spread()
        self._rebalance = True


class WeekShape(LoadTestShape):
    """User counts per class from ``ABC_SCHEDULE``'s active agents; see the module docstring."""

    def __init__(self) -> None:
        super().__init__()
        try:
            self.speed, self.active, self.kinds = _load_active(os.environ)
        except AbcsimError as exc:
            fail(exc)

    def tick(self) -> tuple[int, float, list[type[User]]] | None:
        counts = self.active.at(self.get_run_time() * self.speed)
        if counts is None:
            return None
        assert self.runner is not None
        classes = {cls.__name__: cls for cls in self.runner.user_classes}
        per_class: dict[type[User], int] = {cls: 0 for cls in classes.values()}
        for agent_type, n in counts.items():
            cls = classes.get(SUITE_CLASSES.get(self.kinds[agent_type], ""))
            if cls is not None:
                per_class[cls] += n
        total = sum(per_class.values())
        return total, float(max(total, 1)), Composition(per_class)


def _load_active(env: Mapping[str, str]) -> tuple[float, ActiveAgents, dict[str, str]]:
    """The speed, the active agents of the window, and each agent type's kind."""
    settings = locust_settings(env)
    if settings.schedule is None:
        raise ScenarioError("ABC_SCHEDULE", "", "the week-shaped suite needs a schedule file")
    meta = read_meta(settings.schedule)
    window = (
        parse_window(settings.window, meta.start, meta.duration_s)
        if settings.window
        else Window(0.0, meta.duration_s)
    )
    scenario = parse_scenario(meta.scenario_text, settings.schedule)
    kinds = {name: scenario.agent_type(name).kind for name in meta.agent_types}
    return settings.speed, active_agents(settings.schedule, window, meta.agent_types), kinds


@events.init.add_listener
def _use_composition(environment: Environment, **_: Any) -> None:
    environment.dispatcher_class = CompositionDispatcher

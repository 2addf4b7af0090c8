"""The suite's Locust users as the scenario describes them: one profile per user class.

abcsim's agent models say when each agent type sends what; a closed-loop
Locust user is that agent *at its desk at an average moment*. So a profile
takes from the scenario's agent type:

* the **task weights**: its request mix (abc_week's TradingSystemUser: data 30,
  strategy 20, risk 15, execution 10, workflows 5, health 20);
* the **class weight**: how many agents of the type there are (100 : 20 : 10);
* the **pace**: a trading user thinks ``min_s`` plus an exponential pause, in
  the market's operational time, so at its desk — where λ averages about 1.5
  in abc_week — it waits ``think / λ̄`` on the wall clock; a high-frequency
  user sends ``rate × λ̄`` requests/s (7 × 1.42 ≈ 10/s in abc_week); a batch
  user runs one lognormal job at a time, ``items_per_request`` items per
  request at ``request_rate``, then waits up to ``start_jitter_s``;
* the **sizes**: each request's ``size`` drawn from the type's size model.

λ̄ is the smooth intensity (clock and calendar, no random activity) averaged
over the type's desk hours in the scenario's week, weighted by its regions
(a region with no desk hours in the scenario's horizon counts at λ = 1).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from abcsim.agents.base import RequestMix
from abcsim.market.calendar import TradingCalendar
from abcsim.market.intensity import intensity_at
from abcsim.scenario.spec import (
    AgentType,
    BatchBehaviour,
    HftBehaviour,
    Scenario,
    TradingBehaviour,
)

SUITE_CLASSES = {
    "trading": "TradingSystemUser",
    "hft": "HighFrequencyUser",
    "batch": "BatchProcessingUser",
}
"""The suite's Locust user class for each agent kind (monitors have none: Locust's
own health checks are the standard user's 20%)."""

_DESK_STEP_S = 60.0


@dataclass(frozen=True)
class Think:
    """Wait ``min_s`` plus an exponential pause of mean ``mean_s - min_s`` (wall seconds)."""

    min_s: float
    mean_s: float


@dataclass(frozen=True)
class Throughput:
    """Send ``per_s`` requests a second (Locust's ``constant_throughput``)."""

    per_s: float


@dataclass(frozen=True)
class Jobs:
    """One job per task: lognormal items, in requests of ``items_per_request`` at
    ``request_rate``/s; between jobs a uniform wait up to ``pause_max_s``."""

    items_median: float
    items_sigma: float
    items_per_request: int
    request_rate: float
    pause_max_s: float

    def requests(self, rng: np.random.Generator) -> Iterator[int]:
        """The sizes of one job's requests (the last one takes what is left)."""
        items = int(np.ceil(rng.lognormal(np.log(self.items_median), self.items_sigma)))
        while items > 0:
            size = min(items, self.items_per_request)
            items -= size
            yield size


Pace = Think | Throughput | Jobs


@dataclass(frozen=True)
class UserProfile:
    """One Locust user class, from one agent type of the scenario."""

    class_name: str
    agent_type: AgentType
    weight: int
    mix: RequestMix
    pace: Pace

    @property
    def task_weights(self) -> tuple[float, ...]:
        """Weights in REQUEST_TYPES order, as the scenario writes them."""
        return self.agent_type.mix


def suite_profiles(scenario: Scenario) -> dict[str, UserProfile]:
    """The suite's user classes the scenario has an agent type for, by class name.

    The first agent type of each kind gives the class; its count is the weight.
    """
    profiles: dict[str, UserProfile] = {}
    calendar: TradingCalendar | None = None
    for spec in scenario.agents:
        name = SUITE_CLASSES.get(spec.kind)
        if name is None or name in profiles:
            continue
        if spec.kind != "batch" and calendar is None:
            calendar = TradingCalendar(scenario.market, scenario.start, scenario.duration_s)
        pace = _pace(spec, calendar)
        profiles[name] = UserProfile(
            name, spec, spec.count, RequestMix.of(spec, scenario.market), pace
        )
    return profiles


def _pace(spec: AgentType, calendar: TradingCalendar | None) -> Pace:
    b = spec.behaviour
    if isinstance(b, BatchBehaviour):
        return Jobs(
            b.items_median, b.items_sigma, b.items_per_request, b.request_rate, b.start_jitter_s
        )
    assert calendar is not None
    activity = desk_activity(calendar, spec)
    if isinstance(b, TradingBehaviour):
        return Think(b.think_min_s / activity, b.think_mean_s / activity)
    assert isinstance(b, HftBehaviour)
    return Throughput(b.rate * activity)


def desk_activity(calendar: TradingCalendar, spec: AgentType) -> float:
    """λ̄: the type's smooth λ averaged over its regions' desk hours in the calendar."""
    total = 0.0
    for region, share in spec.regions:
        windows = calendar.session_windows(region, spec.weekdays)
        inside = [
            np.arange(max(lo, 0.0), min(hi, calendar.duration_s), _DESK_STEP_S)
            for lo, hi in windows
        ]
        t = np.concatenate(inside) if inside else np.empty(0)
        # a region with no desk hours in the horizon (a Saturday-only scenario) counts at λ = 1
        total += share * (float(intensity_at(calendar, spec.profile, t).mean()) if t.size else 1.0)
    return total / sum(share for _, share in spec.regions)

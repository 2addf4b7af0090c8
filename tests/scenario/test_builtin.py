"""The shipped scenarios load, and abc_week says what the performance suite says."""

from __future__ import annotations

import pytest

from abcsim.scenario import REQUEST_TYPES, builtin_scenarios, load_scenario
from abcsim.scenario.spec import HftBehaviour


def test_all_builtin_scenarios_load() -> None:
    names = builtin_scenarios()
    assert set(names) >= {"abc_week", "hft_stress", "batch_load", "smoke"}
    for name in names:
        assert load_scenario(name).name == name


def test_scenario_files_in_the_repo_are_the_builtin_ones() -> None:
    assert load_scenario("scenarios/abc_week.toml") == load_scenario("abc_week")


def test_abc_week_mirrors_the_performance_suite() -> None:
    week = load_scenario("abc_week")
    users = {a.user_class: a.count for a in week.agents}
    assert users == {
        "TradingSystemUser": 100,
        "HighFrequencyUser": 20,
        "BatchProcessingUser": 10,
        "HealthMonitor": 2,
    }
    mix = dict(zip(REQUEST_TYPES, week.agent_type("trading").mix, strict=True))
    assert mix == {
        "data_collection": 30,
        "strategy_analysis": 20,
        "risk_analysis": 15,
        "trade_execution": 10,
        "multi_agent_workflow": 5,
        "health_check": 20,
    }
    hft = week.agent_type("hft").behaviour
    assert isinstance(hft, HftBehaviour) and hft.branching == 0.8  # ~10 req/s: test_week.py
    assert dict(week.slo.p95_ms)["data_collection"] == 500
    assert dict(week.slo.p95_ms)["strategy_analysis"] == 2000
    assert week.slo.overall_p95_ms == 2000 and week.slo.error_rate == 0.01
    assert {name for name, _ in week.endpoints} == set(REQUEST_TYPES)
    assert week.days == 6 and week.start.strftime("%a %H:%M") == "Sun 22:00"


@pytest.mark.parametrize(
    ("name", "kind", "count"), [("hft_stress", "hft", 50), ("batch_load", "batch", 20)]
)
def test_advanced_runs_have_their_one_user_class(name: str, kind: str, count: int) -> None:
    scenario = load_scenario(name)
    assert [(a.kind, a.count) for a in scenario.agents] == [(kind, count)]

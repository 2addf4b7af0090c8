"""The scenario's ``[system]`` section: the API as a queueing system (target and planner)."""

from __future__ import annotations

import math

import pytest

from abcsim import ScenarioError, load_scenario, parse_scenario
from abcsim.scenario import builtin_scenarios
from abcsim.scenario.spec import DEFAULT_SYSTEM, Z_95, ServiceTime, SystemSpec

SYSTEM_HEADER = "\n[system]\n"


def smoke_text() -> str:
    return load_scenario("smoke").text


def without_system(text: str) -> str:
    """The scenario text with its ``[system]`` tables (the last thing in the file) removed."""
    assert text.count(SYSTEM_HEADER) == 1
    return text[: text.index(SYSTEM_HEADER) + 1]


def test_every_builtin_scenario_has_the_abc_system() -> None:
    for name in builtin_scenarios():
        scenario = load_scenario(name)
        assert SYSTEM_HEADER in scenario.text, name
        assert scenario.system == DEFAULT_SYSTEM, name
    system = load_scenario("abc_week").system
    assert (system.workers, system.queue_limit, system.replicas) == (32, 256, 1)
    assert system.memory_limit_mb == 2048
    medians = {r: (s.median_ms, s.p95_ms) for r, s in system.service}
    assert medians == {
        "data_collection": (40, 120),
        "strategy_analysis": (300, 900),
        "risk_analysis": (200, 600),
        "trade_execution": (60, 180),
        "health_check": (2, 5),
    }
    assert 0 < system.service_time("strategy_analysis").per_item_ms <= 1.0


def test_system_is_optional_and_partial_tables_keep_the_defaults() -> None:
    bare = parse_scenario(without_system(smoke_text()), "bare.toml")
    assert bare.system == DEFAULT_SYSTEM == SystemSpec()
    section = (
        "[system]\nworkers = 4\n[system.service]\nrisk_analysis = { median_ms = 10, p95_ms = 10 }\n"
    )
    partial = parse_scenario(without_system(smoke_text()) + section)
    assert partial.system.workers == 4 and partial.system.queue_limit == DEFAULT_SYSTEM.queue_limit
    assert partial.system.service_time("risk_analysis") == ServiceTime(10.0, 10.0, 0.0)
    assert partial.system.service_time("data_collection") == DEFAULT_SYSTEM.service_time(
        "data_collection"
    )


def test_lognormal_shape_from_median_and_p95() -> None:
    risk = ServiceTime(200.0, 600.0)
    assert math.isclose(200.0 * math.exp(Z_95 * risk.sigma), 600.0)
    assert math.isclose(risk.mean_ms, 200.0 * math.exp(risk.sigma**2 / 2))
    assert ServiceTime(100.0, 100.0).sigma == 0.0


@pytest.mark.parametrize(
    ("old", "new", "field", "hint"),
    [
        ("workers = 32 ", "workers = 0 ", "system.workers", ">= 1"),
        ("queue_limit = 256", "queue_limit = -1", "system.queue_limit", ">= 0"),
        ("replicas = 1", "replicas = 1.5", "system.replicas", "whole number"),
        ("memory_limit_mb = 2048", "memory_limit_mb = 0", "system.memory_limit_mb", "> 0"),
        ("replicas = 1", "replica = 1", "system.replica", "unknown field"),
        (
            "p95_ms = 600,",
            "p95_ms = 100,",
            "system.service.risk_analysis.p95_ms",
            "median_ms (200)",
        ),
        ("median_ms = 200,", "median_ms = 0,", "system.service.risk_analysis.median_ms", "> 0"),
        ("median_ms = 200,", "", "system.service.risk_analysis.median_ms", "required"),
        (
            "per_item_ms = 0.3",
            "per_item_ms = -1",
            "system.service.risk_analysis.per_item_ms",
            ">= 0",
        ),
        ("per_item_ms = 0.3", "per_item = 1", "system.service.risk_analysis.per_item", "unknown"),
        (
            "health_check = { median_ms = 2",
            "healthcheck = { median_ms = 2",
            "system.service.healthcheck",
            "unknown request type",
        ),
        (
            "[system.service]\n",
            "[system.service]\nmulti_agent_workflow = { median_ms = 1, p95_ms = 2 }\n",
            "system.service.multi_agent_workflow",
            "stages",
        ),
    ],
)
def test_bad_system_names_the_field(old: str, new: str, field: str, hint: str) -> None:
    text = smoke_text()
    assert text.count(old) == 1, f"smoke.toml no longer holds {old!r} exactly once"
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text.replace(old, new), "bad.toml")
    assert caught.value.source == "bad.toml"
    assert caught.value.field == field, str(caught.value)
    assert hint in caught.value.problem, str(caught.value)

"""Scenarios: TOML files → frozen, validated :class:`Scenario` objects."""

from __future__ import annotations

from abcsim.scenario.load import builtin_scenarios, load_scenario, parse_scenario
from abcsim.scenario.overrides import RunSettings, resolve_run
from abcsim.scenario.spec import AGENT_KINDS, REQUEST_TYPES, AgentType, Market, Scenario

__all__ = [
    "AGENT_KINDS",
    "REQUEST_TYPES",
    "AgentType",
    "Market",
    "RunSettings",
    "Scenario",
    "builtin_scenarios",
    "load_scenario",
    "parse_scenario",
    "resolve_run",
]

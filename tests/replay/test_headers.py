"""Extra headers: the scenario's ``[replay.headers]`` and ``--header``; no secret in files."""

from __future__ import annotations

import pytest

from abcsim.errors import ReplayError, ScenarioError
from abcsim.replay.headers import resolve_headers
from abcsim.scenario import load_scenario, parse_scenario


def _with_replay_headers(table: str) -> str:
    text = load_scenario("smoke").text
    assert "[replay.headers]" not in text
    return f"{text}\n[replay.headers]\n{table}\n"


def test_a_literal_credential_in_a_scenario_is_refused() -> None:
    """The scenario's text is copied into every schedule and results file: no secrets in it."""
    for table in ('Authorization = "Bearer abc123"', 'X-Api-Key = "k-1"', 'Cookie = "s=1"'):
        with pytest.raises(ScenarioError, match=r"replay\.headers\.[A-Za-z-]+: a credential"):
            parse_scenario(_with_replay_headers(table))
    templated = load_scenario("smoke").text.replace(
        'health_check = { method = "GET", path = "/api/v1/health" }',
        'health_check = { method = "GET", path = "/api/v1/health", '
        'headers = { Authorization = "Bearer x" } }',
    )
    with pytest.raises(ScenarioError, match=r"endpoints\.health_check\.headers\.Authorization"):
        parse_scenario(templated)


def test_scenario_headers_come_from_the_environment_and_the_command_line_wins() -> None:
    spec = parse_scenario(
        _with_replay_headers('Authorization = "Bearer ${ABC_TOKEN}"\nX-Desk = "emea"')
    )
    env = {"ABC_TOKEN": "t0ken"}
    headers = resolve_headers(("X-Desk: apac",), spec.replay.headers, env)
    assert headers.items == (("Authorization", "Bearer t0ken"), ("X-Desk", "apac"))
    assert "t0ken" not in repr(headers)
    with pytest.raises(ReplayError, match=r"ABC_TOKEN\}, which is not set"):
        resolve_headers((), spec.replay.headers, {})

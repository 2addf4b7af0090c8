"""The replay's checks before the first request: defaults from the scenario, errors by setting.

Nothing is sent: ``prepare_replay`` only reads the schedule and checks (``preflight=False``
where it would get that far; the preflight has its own tests, against real servers).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from abcsim.cli import flag
from abcsim.errors import AbcsimError, ReplayError, ScenarioError
from abcsim.locust.settings import in_locust_terms
from abcsim.replay import prepare_replay
from tests.helpers import REPO, uniform_schedule

TARGET = "http://127.0.0.1:9"


def _scenario_with_timeout(folder: Path, seconds: float) -> Path:
    """smoke.toml (the schedule's own scenario) with ``[system] timeout_s`` set."""
    text = (REPO / "scenarios" / "smoke.toml").read_text(encoding="utf-8")
    limit = "queue_limit = 256\n"
    assert text.count(limit) == 1
    path = folder / "slow_clients.toml"
    path.write_text(text.replace(limit, f"{limit}timeout_s = {seconds}\n"), encoding="utf-8")
    return path


def test_the_timeout_is_the_scenarios_unless_given(tmp_path: Path) -> None:
    schedule = uniform_schedule(tmp_path / "s.parquet", rate=10, seconds=1)
    scenario = str(_scenario_with_timeout(tmp_path, 2.5))
    plan = prepare_replay(schedule, TARGET, env={}, preflight=False).plan
    assert plan.timeout_s == 10.0  # smoke's [system]
    theirs = prepare_replay(schedule, TARGET, env={}, scenario=scenario, preflight=False)
    assert theirs.plan.timeout_s == 2.5
    given = prepare_replay(
        schedule, TARGET, env={}, scenario=scenario, timeout_s=4.0, preflight=False
    )
    assert given.plan.timeout_s == 4.0


@pytest.mark.parametrize(
    ("options", "setting"),
    [
        ({"speed": 0.0}, "speed"),
        ({"scale": -1.0}, "scale"),
        ({"timeout_s": float("inf")}, "timeout_s"),
        ({"lateness_s": float("nan")}, "lateness_s"),
        ({"max_in_flight": 0}, "max_in_flight"),
        ({"max_rate": -5.0}, "max_rate"),
        ({"window": "9..3"}, "window"),
        ({"scale": 0.0}, "scale"),  # would send nothing, then judge the SLOs on nothing
        ({"lateness_s": 0.0}, "lateness_s"),  # would drop every request that waited at all
    ],
)
def test_a_bad_argument_is_named_as_the_library_takes_it(
    tmp_path: Path, options: dict[str, Any], setting: str
) -> None:
    """The library's message names the argument; the CLI's names the flag."""
    schedule = uniform_schedule(tmp_path / "s.parquet", rate=10, seconds=10)
    with pytest.raises(AbcsimError) as caught:
        prepare_replay(schedule, TARGET, env={}, **options)
    assert caught.value.settings[0] == setting
    assert str(caught.value).startswith(f"{setting}: ")
    assert "--" not in str(caught.value)
    assert caught.value.render(flag).startswith(f"{flag(setting)}: ")


def test_the_in_flight_bound_from_the_environment_names_the_variable(tmp_path: Path) -> None:
    schedule = uniform_schedule(tmp_path / "s.parquet", rate=10, seconds=1)
    bad = {"ABC_MAX_CONCURRENT_REQUESTS": "0"}
    with pytest.raises(
        ScenarioError, match=r"^ABC_MAX_CONCURRENT_REQUESTS: must be a whole number"
    ):
        prepare_replay(schedule, TARGET, env=bad)
    unset = {"ABC_MAX_CONCURRENT_REQUESTS": " "}
    blank = prepare_replay(schedule, TARGET, env=unset, preflight=False)
    assert blank.plan.max_in_flight == 256  # blank is unset


def test_a_refused_target_names_its_settings_in_each_front_ends_terms(tmp_path: Path) -> None:
    schedule = uniform_schedule(tmp_path / "s.parquet", rate=10, seconds=1)
    with pytest.raises(ReplayError) as caught:
        prepare_replay(schedule, "http://192.0.2.10:8080", env={})
    assert caught.value.settings == ("target", "allow_hosts")
    cli, locust = caught.value.render(flag), in_locust_terms(caught.value)
    assert cli.startswith(
        "--target: 192.0.2.10 is not loopback; name it with --allow-host 192.0.2.10"
    )
    assert locust.startswith("--host: 192.0.2.10 is not loopback; name it with ABC_ALLOW_HOSTS")


@pytest.mark.parametrize(
    ("target", "problem"),
    [
        ("http://127.0.0.1:0", "port 0 is no port"),  # was sent to port 80
        ("http://127.0.0.1:8080/api?key=1", "no query or fragment"),  # the query was dropped
        ("http://127.0.0.1:8080/#top", "no query or fragment"),
    ],
)
def test_a_target_url_that_would_be_misread_is_refused(
    tmp_path: Path, target: str, problem: str
) -> None:
    schedule = uniform_schedule(tmp_path / "s.parquet", rate=10, seconds=1)
    with pytest.raises(ReplayError, match=problem) as caught:
        prepare_replay(schedule, target, env={})
    assert caught.value.render(flag).startswith("--target: ")

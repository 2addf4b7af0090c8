"""Run settings precedence: scenario file < ``ABC_*`` environment < CLI flags (``resolve_run``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

import abcsim
from abcsim import RunSettings, Scenario, ScenarioError
from abcsim.cli import flag
from abcsim.errors import Setting
from abcsim.scenario import resolve_run

DAY_S = 86400.0
HOUR_S = 3600.0

# Values that differ from smoke's own (checked in test_override_values_differ_from_smoke).
ENV = {"ABC_SEED": "7", "ABC_START": "2026-07-05T22:00:00Z", "ABC_DAYS": "2"}
ENV_START = dt.datetime(2026, 7, 5, 22, 0, tzinfo=dt.UTC)


def utc(*args: int) -> dt.datetime:
    """An aware UTC datetime."""
    return dt.datetime(*args, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def smoke() -> Scenario:
    return abcsim.load_scenario("smoke")


def test_override_values_differ_from_smoke(smoke: Scenario) -> None:
    """Otherwise the precedence tests below could pass by coincidence."""
    assert smoke.seed not in (3, 7)
    assert smoke.start not in (ENV_START, utc(2026, 3, 2, 8, 0))
    assert smoke.days not in (0.5, 2.0)


# -- scenario defaults ------------------------------------------------------------------


def test_defaults_come_from_the_scenario(smoke: Scenario) -> None:
    run = resolve_run(smoke, {})
    assert isinstance(run, RunSettings)
    assert run == RunSettings(seed=smoke.seed, start=smoke.start, duration_s=smoke.days * DAY_S)


def test_smoke_defaults_are_what_its_file_says(smoke: Scenario) -> None:
    run = resolve_run(smoke, {})
    assert run == RunSettings(seed=1, start=utc(2026, 1, 13, 12, 0), duration_s=0.25 * DAY_S)


def test_unrelated_environment_is_ignored(smoke: Scenario) -> None:
    env = {"HOME": "/nowhere", "ABC_SEEDS": "x", "abc_seed": "x", "ABC_MEMORY_LIMIT": "1G"}
    assert resolve_run(smoke, env) == resolve_run(smoke, {})


# -- environment over scenario ------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "attribute", "expected"),
    [
        ("ABC_SEED", "seed", 7),
        ("ABC_START", "start", ENV_START),
        ("ABC_DAYS", "duration_s", 2 * DAY_S),
    ],
    ids=["ABC_SEED", "ABC_START", "ABC_DAYS"],
)
def test_one_env_variable_overrides_only_its_setting(
    smoke: Scenario, name: str, attribute: str, expected: Any
) -> None:
    run = resolve_run(smoke, {name: ENV[name]})
    assert getattr(run, attribute) == expected
    defaults = resolve_run(smoke, {})
    for other in ("seed", "start", "duration_s"):
        if other != attribute:
            assert getattr(run, other) == getattr(defaults, other)


def test_all_env_variables_together(smoke: Scenario) -> None:
    run = resolve_run(smoke, ENV)
    assert run == RunSettings(seed=7, start=ENV_START, duration_s=2 * DAY_S)


def test_fractional_env_days(smoke: Scenario) -> None:
    assert resolve_run(smoke, {"ABC_DAYS": "0.125"}).duration_s == pytest.approx(3 * HOUR_S)


# -- flags over environment ------------------------------------------------------------------


def test_flags_override_env_and_scenario(smoke: Scenario) -> None:
    run = resolve_run(smoke, ENV, seed=3, start="2026-03-02T08:00:00Z", days=0.5)
    assert run == RunSettings(seed=3, start=utc(2026, 3, 2, 8, 0), duration_s=0.5 * DAY_S)


@pytest.mark.parametrize(
    ("flags", "attribute", "expected"),
    [
        ({"seed": 3}, "seed", 3),
        ({"seed": 0}, "seed", 0),
        ({"start": "2026-03-02T08:00:00Z"}, "start", utc(2026, 3, 2, 8, 0)),
        ({"days": 0.5}, "duration_s", 0.5 * DAY_S),
        ({"hours": 5}, "duration_s", 5 * HOUR_S),
    ],
    ids=["seed", "seed-zero", "start", "days", "hours"],
)
def test_one_flag_overrides_only_its_setting(
    smoke: Scenario, flags: dict[str, Any], attribute: str, expected: Any
) -> None:
    run = resolve_run(smoke, ENV, **flags)
    assert getattr(run, attribute) == expected
    from_env = resolve_run(smoke, ENV)
    for other in ("seed", "start", "duration_s"):
        if other != attribute:
            assert getattr(run, other) == getattr(from_env, other)


@pytest.mark.parametrize(
    ("env", "flags"),
    [
        ({"ABC_SEED": "abc"}, {"seed": 3}),
        ({"ABC_START": "next monday"}, {"start": "2026-03-02T08:00"}),
        ({"ABC_DAYS": "six"}, {"days": 1.0}),
        ({"ABC_DAYS": "six"}, {"hours": 1.0}),
    ],
    ids=["seed", "start", "days", "hours"],
)
def test_flag_wins_without_reading_a_bad_env_value(
    smoke: Scenario, env: dict[str, str], flags: dict[str, Any]
) -> None:
    resolve_run(smoke, env, **flags)  # no ScenarioError: the flag replaces the variable


# -- start: ISO 8601, naive means UTC -------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-07-05T22:00", utc(2026, 7, 5, 22, 0)),
        ("2026-07-05T22:00:30", utc(2026, 7, 5, 22, 0, 30)),
        ("2026-07-05", utc(2026, 7, 5)),
        ("2026-07-05T22:00Z", utc(2026, 7, 5, 22, 0)),
        ("2026-07-06T00:00+02:00", utc(2026, 7, 5, 22, 0)),
        ("2026-07-05T17:00-05:00", utc(2026, 7, 5, 22, 0)),
    ],
    ids=["naive", "naive-seconds", "date-only", "zulu", "east-offset", "west-offset"],
)
@pytest.mark.parametrize("via", ["flag", "env"])
def test_start_is_utc(smoke: Scenario, text: str, expected: dt.datetime, via: str) -> None:
    if via == "flag":
        run = resolve_run(smoke, {}, start=text)
    else:
        run = resolve_run(smoke, {"ABC_START": text})
    assert run.start == expected
    assert run.start.utcoffset() == dt.timedelta(0)


# -- duration -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hours", "expected_s"),
    [(1, HOUR_S), (0.5, 1800.0), (30, 30 * HOUR_S)],
    ids=["one-hour", "half-hour", "thirty-hours"],
)
def test_hours_sets_duration(smoke: Scenario, hours: float, expected_s: float) -> None:
    assert resolve_run(smoke, {}, hours=hours).duration_s == pytest.approx(expected_s)


def test_days_and_hours_together_is_an_error(smoke: Scenario) -> None:
    with pytest.raises(ScenarioError) as caught:
        resolve_run(smoke, {}, days=1, hours=2)
    assert caught.value.settings[:3] == ("days", "days", "hours")
    assert "--days" in caught.value.render(flag) and "--hours" in caught.value.render(flag)


# -- bad values name their variable or setting ---------------------------------------------------


BAD = {
    "ABC_SEED-not-a-number": ({"ABC_SEED": "abc"}, {}, "ABC_SEED"),
    "ABC_SEED-fraction": ({"ABC_SEED": "1.5"}, {}, "ABC_SEED"),
    "ABC_SEED-negative": ({"ABC_SEED": "-1"}, {}, "ABC_SEED"),
    "ABC_START-not-a-date": ({"ABC_START": "next monday"}, {}, "ABC_START"),
    "ABC_START-bad-month": ({"ABC_START": "2026-13-01"}, {}, "ABC_START"),
    "ABC_DAYS-not-a-number": ({"ABC_DAYS": "six"}, {}, "ABC_DAYS"),
    "ABC_DAYS-zero": ({"ABC_DAYS": "0"}, {}, "ABC_DAYS"),
    "ABC_DAYS-negative": ({"ABC_DAYS": "-2"}, {}, "ABC_DAYS"),
    "ABC_DAYS-nan": ({"ABC_DAYS": "nan"}, {}, "ABC_DAYS"),
    "ABC_DAYS-inf": ({"ABC_DAYS": "inf"}, {}, "ABC_DAYS"),
    "--seed-negative": ({}, {"seed": -1}, Setting("seed")),
    "--start-not-a-date": ({}, {"start": "yesterday"}, Setting("start")),
    "--start-named-not-ABC_START": ({"ABC_START": "2026-01-01"}, {"start": "x"}, Setting("start")),
    "--days-zero": ({}, {"days": 0.0}, Setting("days")),
    "--days-negative": ({}, {"days": -1.0}, Setting("days")),
    "--days-nan": ({}, {"days": float("nan")}, Setting("days")),
    "--days-inf": ({}, {"days": float("inf")}, Setting("days")),
    "--hours-zero": ({}, {"hours": 0.0}, Setting("hours")),
    "--hours-negative": ({}, {"hours": -1.0}, Setting("hours")),
}


@pytest.mark.parametrize(("env", "flags", "source"), BAD.values(), ids=BAD.keys())
def test_bad_value_names_its_variable_or_setting(
    smoke: Scenario, env: dict[str, str], flags: dict[str, Any], source: str | Setting
) -> None:
    """A variable is named as it is; an argument by its name, which the CLI shows as a flag."""
    with pytest.raises(ScenarioError) as caught:
        resolve_run(smoke, env, **flags)
    assert caught.value.source == source
    library = source.name if isinstance(source, Setting) else source
    cli = flag(source.name) if isinstance(source, Setting) else source
    assert str(caught.value).startswith(f"{library}: ")
    assert caught.value.render(flag).startswith(f"{cli}: ")
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("env", "flags", "shown"),
    [
        ({"ABC_SEED": "abc"}, {}, "'abc'"),
        ({"ABC_START": "next monday"}, {}, "'next monday'"),
        ({}, {"start": "yesterday"}, "'yesterday'"),
        ({"ABC_DAYS": "six"}, {}, "'six'"),
        ({}, {"days": -1.0}, "-1 days"),
        ({}, {"hours": -1.0}, "-1 hours"),
    ],
    ids=["seed", "start-env", "start-flag", "days-env", "days-flag", "hours"],
)
def test_bad_value_is_shown_as_given(
    smoke: Scenario, env: dict[str, str], flags: dict[str, Any], shown: str
) -> None:
    with pytest.raises(ScenarioError) as caught:
        resolve_run(smoke, env, **flags)
    assert shown in str(caught.value)

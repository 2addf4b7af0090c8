"""The ``ABC_*`` reader: unset or blank is the default, a bad value is an error naming it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from abcsim.errors import ScenarioError
from abcsim.scenario.environment import env_value, names, positive_number, switch, whole_number
from abcsim.scenario.units import parse_bytes


@pytest.mark.parametrize(
    ("parse", "text", "value"),
    [
        (whole_number(1), "64", 64),
        (whole_number(), "-3", -3),
        (positive_number, "0.25", 0.25),
        (parse_bytes, "2G", 2 * 2**30),
        (switch, "TRUE", True),
        (switch, "off", False),
        (names, "a.internal, ,b.internal", ("a.internal", "b.internal")),
        (str, " week.parquet ", "week.parquet"),
    ],
)
def test_a_set_variable_is_parsed(parse: Callable[[str], Any], text: str, value: Any) -> None:
    assert env_value({"ABC_X": text}, "ABC_X", parse, "default") == value


@pytest.mark.parametrize(
    "env", [{}, {"ABC_X": ""}, {"ABC_X": "  "}], ids=["unset", "empty", "blank"]
)
def test_unset_or_blank_is_the_default(env: dict[str, str]) -> None:
    assert env_value(env, "ABC_X", whole_number(1), None) is None


@pytest.mark.parametrize(
    ("parse", "text", "problem"),
    [
        (whole_number(1), "0", "must be a whole number >= 1, got '0'"),
        (whole_number(0), "1.5", "must be a whole number >= 0, got '1.5'"),
        (positive_number, "nan", "must be a finite number > 0, got 'nan'"),
        (positive_number, "soon", "must be a finite number > 0, got 'soon'"),
        (parse_bytes, "lots", "must be a size such as 2G, 512M or 65536, got 'lots'"),
        (switch, "maybe", "must be true or false, got 'maybe'"),
    ],
)
def test_a_bad_value_is_one_error_naming_the_variable(
    parse: Callable[[str], Any], text: str, problem: str
) -> None:
    with pytest.raises(ScenarioError) as caught:
        env_value({"ABC_X": text}, "ABC_X", parse, None)
    assert caught.value.source == "ABC_X"
    assert str(caught.value) == f"ABC_X: {problem}"
